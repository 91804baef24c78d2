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
    ("ticket", N_("File a ticket")),
    ("mytickets", N_("My tickets")),
    ("human", N_("Talk to a person")),
    ("cancel", N_("Cancel what you are doing")),
)

STAFF_COMMANDS = (
    ("checkin", N_("Start taking live chats (签入)")),
    ("checkout", N_("Stop taking live chats (签出)")),
    ("queue", N_("Users waiting for a person")),
    ("sessions", N_("Your live chats")),
    ("end", N_("End the current live chat")),
    ("tickets", N_("List tickets")),
    ("staff", N_("The staff list")),
    ("help", N_("What I can do")),
)


def _menu(entries: tuple[tuple[str, str], ...], lang: Lang) -> list[BotCommand]:
    _ = translator(lang).gettext
    return [BotCommand(name, _(description)) for name, description in entries]


async def set_public_menus(bot: Bot) -> None:
    """Everyone's menu in English (the default) and Chinese (language_code zh)."""
    await bot.set_my_commands(_menu(COMMANDS, "en"))
    await bot.set_my_commands(_menu(COMMANDS, "zh"), language_code="zh")


async def set_staff_menu(bot: Bot, chat_id: int, lang: Lang) -> None:
    """The staff commands first, in this staff member's chat only (best effort: the menu is a convenience)."""
    staff_names = {name for name, _description in STAFF_COMMANDS}
    entries = STAFF_COMMANDS + tuple(c for c in COMMANDS if c[0] not in staff_names)
    try:
        await bot.set_my_commands(_menu(entries, lang), scope=BotCommandScopeChat(chat_id))
    except TelegramError as exc:
        log.warning("could not set the staff menu: %s", type(exc).__name__)
