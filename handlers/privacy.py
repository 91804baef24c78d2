"""A user's personal data (PIPL): /mydata sends a copy, /deletemydata erases it after a confirmation, and the
daily retention job. The core is ``bot.privacy.rights`` and ``bot.privacy.retention``."""

from __future__ import annotations

import functools
import logging
from datetime import UTC, datetime

from telegram import InputFile, Update

from bot.answering.text import Lang
from bot.privacy.retention import Retention, RetentionPolicy
from bot.privacy.rights import Erasure, PersonalDataRights, confirmation_valid
from handlers import callback_data as cd
from handlers.callback_data import Button
from handlers.common import answer_query, drop_keyboard, expired, meet, reply_text, tr
from handlers.context import HelpdeskContext, core
from handlers.durable import sent
from handlers.render import keyboard

log = logging.getLogger(__name__)

JOB = "retention"
INTERVAL = 24 * 3600.0
"""Seconds between two runs of the retention job (daily; a run is idempotent)."""


def _rights(context: HelpdeskContext) -> PersonalDataRights:
    return PersonalDataRights(context.services.engine)


async def _send_document(context: HelpdeskContext, chat_id: int, content: bytes, name: str, caption: str) -> None:
    """Upload *content* as a document named *name* (a journaled send, as ``handlers.common.send_file``)."""
    call = functools.partial(context.bot.send_document, chat_id, InputFile(content, filename=name), caption=caption)
    await sent(context.bot, chat_id, call)


async def mydata_command(update: Update, context: HelpdeskContext) -> None:
    """/mydata: everything stored about the user, as a JSON file and a readable text file in their language."""
    user = await meet(update, context)
    t = tr(user.lang)
    _ = t.gettext
    data = await core(context, _rights(context).export, user.id, context.now())
    stamp = f"{data.made_at:%Y%m%d}"
    await _send_document(
        context,
        user.id,
        data.to_text(t).encode(),
        f"my-data-{stamp}.txt",
        _("Everything the helpdesk stores about you, readable. /deletemydata erases it."),
    )
    await _send_document(
        context,
        user.id,
        data.to_json().encode(),
        f"my-data-{stamp}.json",
        _("The same, complete and machine-readable (JSON)."),
    )


def erase_explained(lang: Lang) -> str:
    """What /deletemydata erases and what it keeps, before the user confirms."""
    _ = tr(lang).gettext
    return _(
        "Erase your personal data?\n"
        "Erased: your name, your questions, your tickets' texts, contacts and attachments, your live chats' "
        "messages, your rating comments and anything you were typing. Open tickets are closed, and you are "
        "unsubscribed from policy notices (none still waiting is sent to you).\n"
        "Kept, with nothing linking them to you: each ticket's number, type, status, dates and deadlines, and "
        "when live chats took place (the helpdesk's statistics and its record of meeting deadlines).\n"
        "This cannot be undone. /mydata first if you want a copy."
    )


async def deletemydata_command(update: Update, context: HelpdeskContext) -> None:
    """/deletemydata: say what is erased and what is kept, with Erase and Cancel buttons."""
    user = await meet(update, context)
    _ = tr(user.lang).gettext
    issued = int(context.now().timestamp() // 60)
    buttons = keyboard(
        [
            [
                (_("Erase my data"), cd.make(Button.DELETE_MY_DATA, issued)),
                (_("Cancel"), cd.make(Button.DELETE_MY_DATA_CANCEL)),
            ]
        ]
    )
    await reply_text(update, context, erase_explained(user.lang), buttons)


def erased_text(result: Erasure, lang: Lang) -> str:
    """What was done, and what was kept and why."""
    _ = tr(lang).gettext
    if result.refused == "live":
        return _(
            "You are talking to a person or waiting for one: leave the chat first (/cancel), then send "
            "/deletemydata again. Nothing was erased."
        )
    lines = [_("Your personal data has been erased."), "", _("What we kept, and why:")]
    lines += ["• " + _(reason) for reason in result.kept]
    lines += [
        "",
        _(
            "You are unsubscribed from policy notices, and those not yet sent to you are cancelled: nothing more is "
            "sent to you unless you /subscribe again."
        ),
        _("If you write to the bot again, it starts afresh."),
    ]
    return "\n".join(lines)


async def delete_button(update: Update, context: HelpdeskContext) -> None:
    """The confirmation of /deletemydata: Erase (within an hour) or Cancel."""
    user = await meet(update, context)
    _ = tr(user.lang).gettext
    query = update.callback_query
    data = cd.parse(query.data if query else None)
    if data is None:
        await expired(update, user.lang)
        return
    if data.action == Button.DELETE_MY_DATA_CANCEL:
        await answer_query(update)
        await drop_keyboard(update)
        await reply_text(update, context, _("Nothing was erased."))
        return
    issued = data.int_arg(0)
    now = context.now()
    if issued is None or not confirmation_valid(datetime.fromtimestamp(issued * 60, UTC), now):
        await answer_query(update, _("This confirmation has expired. Send /deletemydata again."), True)
        await drop_keyboard(update)
        return
    asked = datetime.fromtimestamp(issued * 60, UTC)
    result = await core(context, _rights(context).erase, user.id, now, None, asked)
    if result.refused == "done":  # a second tap on the same confirmation
        await answer_query(update, _("Your personal data has been erased."))
        return
    await answer_query(update)
    await drop_keyboard(update)
    await reply_text(update, context, erased_text(result, user.lang))


async def retention_job(context: HelpdeskContext) -> None:
    """Daily: erase or anonymise what has been kept its time (``bot.privacy.retention``); idempotent."""
    retention = Retention(context.services.engine, RetentionPolicy.from_settings(context.services.settings))
    counts = await core(context, retention.run, context.now())
    if any(counts.values()):
        log.info("retention: %s", ", ".join(f"{kind} {count}" for kind, count in counts.items()))
