"""Helpers shared by the handlers: who is writing, in which language, and safe sending."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence

from telegram import Bot, CallbackQuery, InlineKeyboardMarkup, LinkPreviewOptions, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.answering.helpdesk import UserView
from bot.answering.text import Lang
from bot.arrival import Arrival
from bot.error_texts import error_text
from bot.errors import HelpdeskError, NotFound
from bot.i18n import Translator, translator
from handlers.context import HelpdeskContext, core
from handlers.durable import CURRENT, sent
from handlers.render import html_chunks

log = logging.getLogger(__name__)

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
"""Answers carry source links; a preview card under each would crowd the chat. Every message the bot
sends goes out without one (``send_messages``)."""


async def meet(update: Update, context: HelpdeskContext) -> UserView:
    """The user behind this update, created on first contact (language from their client)."""
    tg_user = update.effective_user
    assert tg_user is not None
    return await core(
        context, context.helpdesk.meet, tg_user.id, tg_user.first_name or "", tg_user.language_code, context.now()
    )


async def arrive(update: Update, context: HelpdeskContext, text: str | None = None) -> Arrival:
    """The user behind this message, their flow and their part in a live chat (one database round trip);
    with *text*, also the answer when the text is a question (see ``bot.arrival``). A Telegram reply names
    the message it replies to, which may be about one of the user's tickets."""
    tg_user = update.effective_user
    assert tg_user is not None
    message = update.effective_message
    replied = message.reply_to_message if message is not None else None
    return await core(
        context,
        context.services.arrivals.arrive,
        tg_user.id,
        tg_user.first_name or "",
        tg_user.language_code,
        context.now(),
        text,
        replied.message_id if replied is not None else None,
    )


def tr(lang: Lang) -> Translator:
    """The translator for *lang*."""
    return translator(lang)


async def send_messages(
    bot: Bot, chat_id: int, chunks: Sequence[str] | str, markup: InlineKeyboardMarkup | None = None
) -> list[Message]:
    """The one way the bot sends text: each HTML chunk as a message (parse mode HTML, no link preview),
    the keyboard under the last. Telegram's refusals reach the caller, who knows what a failure means.

    Within a work each message is a journaled step (``handlers.durable.sent``): sent once, however often
    the work is handled; a failure for now defers the work (``DeliveryDeferred``)."""
    parts = [chunks] if isinstance(chunks, str) else list(chunks)
    sent_messages: list[Message] = []
    for index, part in enumerate(parts):
        message = await sent(
            bot,
            chat_id,
            functools.partial(
                bot.send_message,
                chat_id,
                part,
                parse_mode=ParseMode.HTML,
                reply_markup=markup if index == len(parts) - 1 else None,
                link_preview_options=NO_PREVIEW,
            ),
        )
        sent_messages.append(message)
    return sent_messages


async def send_file(bot: Bot, chat_id: int, file_id: str, file_kind: str | None, caption_html: str = "") -> Message:
    """Send a photo (*file_kind* ``photo``) or else a document, with an optional HTML caption; errors reach
    the caller as with ``send_messages``."""
    send = bot.send_photo if file_kind == "photo" else bot.send_document
    call = functools.partial(send, chat_id, file_id, caption=caption_html or None, parse_mode=ParseMode.HTML)
    message: Message = await sent(bot, chat_id, call)
    return message


async def edit_html(query: CallbackQuery, html: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace the text (HTML) and keyboard of the message whose button was pressed; Telegram's refusal
    (the message is too old, or unchanged) reaches the caller."""
    assert query.message is not None
    edit = functools.partial(query.edit_message_text, html, parse_mode=ParseMode.HTML, reply_markup=markup)
    await sent(query.get_bot(), query.message.chat.id, edit)


async def edit_message_html(
    bot: Bot, chat_id: int, message_id: int, html: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the text (HTML) and keyboard of a message the bot sent earlier and remembered (say an offer
    gone out of date), as ``edit_html`` does for the message whose button was pressed: a journaled step;
    Telegram's refusal (the message was deleted, or is unchanged) reaches the caller."""
    edit = functools.partial(
        bot.edit_message_text,
        html,
        chat_id=chat_id,
        message_id=message_id,
        parse_mode=ParseMode.HTML,
        reply_markup=markup,
        link_preview_options=NO_PREVIEW,
    )
    await sent(bot, chat_id, edit)


async def send_html(
    context: HelpdeskContext,
    chat_id: int,
    chunks: Sequence[str] | str,
    markup: InlineKeyboardMarkup | None = None,
) -> Message | None:
    """Send one or more HTML messages; the keyboard goes on the last. None if the user blocked us."""
    try:
        sent = await send_messages(context.bot, chat_id, chunks, markup)
    except Forbidden:
        log.info("user %s has blocked the bot", chat_id)
        await core(context, context.helpdesk.mark_blocked, chat_id, context.now())
        return None
    return sent[-1] if sent else None


async def reply_html(
    update: Update, context: HelpdeskContext, chunks: Sequence[str] | str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Send HTML to the chat the update came from."""
    chat = update.effective_chat
    assert chat is not None
    return await send_html(context, chat.id, chunks, markup)


async def reply_text(
    update: Update, context: HelpdeskContext, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Send plain *text* (escaped, split under the limit) to the chat the update came from."""
    return await reply_html(update, context, html_chunks(text), markup)


async def answer_query(update: Update, text: str | None = None, alert: bool = False) -> None:
    """Answer the callback query (stops the button's spinner); ignore a query that is too old."""
    query = update.callback_query
    work = CURRENT.get()
    if query is None or (work is not None and work.again):  # answered the first time (see WorkContext.again)
        return
    try:
        await query.answer(text, show_alert=alert)
    except TelegramError as exc:  # "query is too old" after a restart, or Telegram failing: the spinner stops
        log.debug("callback answer failed: %s", exc)  # by itself, and what was pressed is handled regardless


async def expired(update: Update, lang: Lang) -> None:
    """Tell the user that the button they pressed no longer works."""
    await answer_query(
        update, tr(lang).gettext("This button has expired. Send the command again, or type your question."), True
    )


async def refused(update: Update, lang: Lang, exc: HelpdeskError) -> None:
    """Tell whoever pressed a button that the core refused it: its target is gone or was never theirs
    (``NotFound``: the button has expired), or why not, as an alert (a conflict, bad input, a missing right)."""
    if isinstance(exc, NotFound):
        await expired(update, lang)
    else:
        await answer_query(update, error_text(exc, lang), alert=True)


async def drop_keyboard(update: Update) -> bool:
    """Remove the inline keyboard from the message whose button was pressed; False if it was gone already (a
    second tap on the same button: Telegram answers "message is not modified") or could not be removed."""
    query = update.callback_query
    if query is None or query.message is None or getattr(query.message, "reply_markup", None) is None:
        return False  # nothing to remove (Telegram would answer "message is not modified")
    try:
        await sent(query.get_bot(), query.message.chat.id, functools.partial(query.edit_message_reply_markup, None))
    except BadRequest as exc:  # already removed, or the message is too old to edit
        log.debug("could not remove keyboard: %s", exc)
        return False
    return True
