"""The command menus: everyone's in English and Chinese, and a fuller one in each staff member's chat."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.answering.text import Lang
from bot.i18n import N_, translator

log = logging.getLogger(__name__)

COMMANDS = (
    ("start", N_("Start and choose language")),
    ("topics", N_("Browse questions by theme")),
    ("help", N_("What I can do")),
    ("language", N_("English or Chinese")),
    ("subscribe", N_("Receive policy notices")),
    ("unsubscribe", N_("Stop policy notices")),
    ("privacy", N_("What we store about you")),
    ("mydata", N_("A copy of your data")),
    ("deletemydata", N_("Erase your data")),
    ("ticket", N_("File a ticket")),
    ("mytickets", N_("My tickets")),
    ("reminders", N_("Permit-expiry reminders")),
    ("checklist", N_("Materials checklist for an application")),
    ("human", N_("Talk to a person")),
    ("cancel", N_("Cancel what you are doing")),
)

STAFF_COMMANDS = (
    ("checkin", N_("Start taking live chats (签入)")),
    ("checkout", N_("Stop taking live chats (签出)")),
    ("queue", N_("Users waiting for a person")),
    ("sessions", N_("Your live chats")),
    ("end", N_("End the current live chat")),
    ("transfer", N_("Hand the current chat to a colleague")),
    ("toticket", N_("Turn the current chat into a ticket")),
    ("kb", N_("Send a knowledge-base answer: /kb ID")),
    ("canned", N_("Canned replies for the current chat")),
    ("tickets", N_("List tickets")),
    ("staff", N_("The staff list")),
    ("gaps", N_("Questions the bot answered badly, to learn from")),
    ("help", N_("What I can do")),
)
SUPERVISOR_COMMANDS = (
    ("deliveries", N_("Messages owed and those Telegram refused")),
    ("followups", N_("Call-backs after bad ratings (回访)")),
    ("notice", N_("Write a policy notice to subscribers")),
    ("notices", N_("Policy notices sent, with their counts")),
    ("stats", N_("Statistics: /stats [today|week|month|YYYY-MM]")),
)
"""Added to a supervisor's menu (each of these is refused to operators)."""


def _menu(entries: tuple[tuple[str, str], ...], lang: Lang) -> list[BotCommand]:
    _ = translator(lang).gettext
    return [BotCommand(name, _(description)) for name, description in entries]


async def set_public_menus(bot: Bot) -> None:
    """Everyone's menu in English (the default) and Chinese (language_code zh)."""
    await bot.set_my_commands(_menu(COMMANDS, "en"))
    await bot.set_my_commands(_menu(COMMANDS, "zh"), language_code="zh")


def staff_menu(lang: Lang, supervisor: bool = False) -> list[BotCommand]:
    """A member of staff's menu in *lang*: the staff commands (and a supervisor's), then everyone's."""
    own = STAFF_COMMANDS + (SUPERVISOR_COMMANDS if supervisor else ())
    names = {name for name, _description in own}
    return _menu(own + tuple(c for c in COMMANDS if c[0] not in names), lang)


async def set_staff_menu(bot: Bot, chat_id: int, lang: Lang, supervisor: bool = False) -> None:
    """The staff commands first, in this staff member's chat only (best effort: the menu is a convenience).

    Set when they /start, /checkin or change their language, so the menu follows the language they read."""
    try:
        await bot.set_my_commands(staff_menu(lang, supervisor), scope=BotCommandScopeChat(chat_id))
    except TelegramError as exc:
        log.warning("could not set the staff menu: %s", type(exc).__name__)
