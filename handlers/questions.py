"""Free-text questions and the buttons under answers: clarify choices, "see also" and 👍/👎 feedback."""

from __future__ import annotations

from collections.abc import Callable

from telegram import Update

from bot.answering.helpdesk import Answered, UserView
from bot.error_texts import error_text
from bot.errors import InvalidInput, NotFound
from bot.ops import metrics
from handlers import callback_data as cd
from handlers.common import answer_query, drop_keyboard, expired, meet, reply_html, reply_text, tr
from handlers.context import HelpdeskContext, core
from handlers.render import answer_messages, clarify_message, fallback_message, help_buttons, keyboard


async def question(update: Update, context: HelpdeskContext, user: UserView | None = None) -> None:
    """A free-text message: answer, clarify or fallback, and log it."""
    message = update.effective_message
    assert message is not None
    if user is None:
        user = await meet(update, context)
    await answer_text(update, context, user, message.text or "")


async def answer_text(update: Update, context: HelpdeskContext, user: UserView, text: str) -> None:
    """*text* as a question (the message's own, or one kept until the user said it was not for their
    ticket): answer, clarify or fallback, and log it."""
    try:
        answered = await core(
            context,
            context.helpdesk.ask,
            user.id,
            text,
            user.lang if user.lang_chosen else None,
            context.now(),
        )
    except InvalidInput as exc:
        await reply_text(update, context, error_text(exc, user.lang))
        return
    await send_reply(update, context, answered)


async def send_reply(update: Update, context: HelpdeskContext, answered: Answered) -> None:
    """The engine's reply to a question: the answer, the clarify choices or the honest fallback."""
    reply, qid = answered.reply, answered.question_id
    metrics.DECISIONS.labels(reply.match.decision).inc()
    if reply.match.decision == "answer":
        chunks, markup = answer_messages(reply, qid)
        await reply_html(update, context, chunks, markup)
    elif reply.match.decision == "clarify":
        text, markup = clarify_message(reply, qid)
        await reply_html(update, context, text, markup)
    else:
        text, markup = fallback_message(reply, qid)
        await reply_html(update, context, text, markup)


async def _entry_button(
    update: Update, context: HelpdeskContext, open_entry: Callable[[UserView, int, str], Answered]
) -> Answered | None:
    """A button naming (question id, entry id): *open_entry* answers with the entry, or None when the
    button is stale or forged (the user is told it expired)."""
    user = await meet(update, context)
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    qid = data.int_arg(0) if data else None
    if data is None or qid is None or len(data.args) != 2:
        await expired(update, user.lang)
        return None
    try:
        answered = await core(context, open_entry, user, qid, data.args[1])
    except NotFound:
        await expired(update, user.lang)
        return None
    await answer_query(update)
    return answered


async def pick(update: Update, context: HelpdeskContext) -> None:
    """A clarify choice: answer with that entry (the choices go)."""
    helpdesk = context.helpdesk
    answered = await _entry_button(
        update, context, lambda user, qid, entry: helpdesk.choose(user.id, qid, entry, user.lang)
    )
    if answered is not None:
        await drop_keyboard(update)
        chunks, markup = answer_messages(answered.reply, answered.question_id)
        await reply_html(update, context, chunks, markup)


async def see_also(update: Update, context: HelpdeskContext) -> None:
    """A "see also" button under an answer: answer with that entry (logged, so 👍/👎 works under it too)."""
    helpdesk, now = context.helpdesk, context.now()
    answered = await _entry_button(
        update, context, lambda user, qid, entry: helpdesk.see_also(user.id, qid, entry, user.lang, now)
    )
    if answered is not None:
        chunks, markup = answer_messages(answered.reply, answered.question_id)
        await reply_html(update, context, chunks, markup)


async def none_of_these(update: Update, context: HelpdeskContext) -> None:
    """ "None of these": say so honestly and offer a person or a ticket."""
    user = await meet(update, context)
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    qid = data.int_arg(0) if data else None
    if qid is None:
        await expired(update, user.lang)
        return
    try:
        await core(context, context.helpdesk.none_of_these, user.id, qid)
    except NotFound:
        await expired(update, user.lang)
        return
    _ = tr(user.lang).gettext
    await answer_query(update)
    await drop_keyboard(update)
    text = _("Sorry I couldn't find the right answer. Try asking in other words, or let a person help you.")
    await reply_text(update, context, text, keyboard([help_buttons(user.lang, qid)]))


async def feedback(update: Update, context: HelpdeskContext) -> None:
    """👍/👎 under an answer."""
    user = await meet(update, context)
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    qid = data.int_arg(0) if data else None
    if data is None or qid is None or len(data.args) != 2 or data.args[1] not in ("0", "1"):
        await expired(update, user.lang)
        return
    helpful = data.args[1] == "1"
    try:
        changed = await core(context, context.helpdesk.feedback, user.id, qid, helpful)
    except NotFound:
        await expired(update, user.lang)
        return
    _ = tr(user.lang).gettext
    await answer_query(update, _("Thank you for your feedback!"))
    if changed and not helpful:
        text = _("Sorry that didn't help. You can ask in other words, talk to a person or file a ticket.")
        await reply_text(update, context, text, keyboard([help_buttons(user.lang, qid)]))


async def unsupported(update: Update, context: HelpdeskContext) -> None:
    """Stickers, voice, photos… outside a ticket or a live chat: decline politely."""
    user = await meet(update, context)
    _ = tr(user.lang).gettext
    text = _(
        "Sorry, I can only read typed questions. To send documents or photos, file a ticket (/ticket) "
        "or talk to a person (/human)."
    )
    await reply_text(update, context, text)
