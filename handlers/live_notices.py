"""Rendering the live desk's notices (queue, sessions, timers) for their recipient, in their language.

One small function per notice type, collected in ``LIVE_RENDERERS``; ``handlers.notify.RENDERERS`` joins
it with the other notices' renderers into the one registry ``deliver`` uses. ``after_delivery`` does what
a live notice needs once its messages are out: a transfer's photos and documents follow the conversation,
and a "user waiting" card is remembered so that ``edit_cards`` can say what became of the user.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from html import escape
from typing import Any, TypeAlias

from telegram import InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden

from bot import notices as nt
from bot.answering.text import Lang
from bot.desk.live.queue import CardView
from bot.i18n import N_, translator
from bot.store.statuses import HelpRequestStatus
from handlers import callback_data as cd
from handlers.callback_data import Button
from handlers.common import edit_message_html, send_file
from handlers.context import HelpdeskContext, core
from handlers.render import html_chunks, keyboard, rating_keyboard, split_text

log = logging.getLogger(__name__)
CAPTION_TEXT = 900
"""Of a message repeated as a file's caption, at most this many characters (captions hold 1,024)."""

Rendered: TypeAlias = tuple[list[str], InlineKeyboardMarkup | None]
"""A notice as Telegram messages: HTML chunks, and the keyboard that goes under the last one."""
Renderer: TypeAlias = Callable[[Any, Lang], Rendered]
"""Renders one notice type (its first argument) in a language."""


def say(lang: Lang, message: str, **fields: object) -> Rendered:
    """A notice that is one sentence: *message* (marked with ``N_``) translated, filled in and escaped."""
    return html_chunks(translator(lang).gettext(message).format(**fields)), None


def user_line(name: str, user_lang: str | None, role: str | None, lang: Lang) -> str:
    """ "Name · language · role" of a user, for operators (plain text): the name is their first name as
    Telegram gives it."""
    _ = translator(lang).gettext
    language = _("Chinese") if user_lang == "zh" else _("English")
    roles = {"applicant": _("applicant"), "employer": _("employer HR contact")}
    role_label = roles.get(role or "", _("role not given"))
    shown = name or _("(no name)")
    return f"{shown} · {language} · {role_label}"


def history_lines(history: Sequence[nt.PastQuestion], lang: Lang) -> list[str]:
    """The user's recent questions and what the bot did with them (plain text)."""
    _ = translator(lang).gettext
    if not history:
        return [_("No questions asked before.")]
    decisions = {
        "answer": _("answered"),
        "clarify": _("offered choices"),
        "fallback": _("no answer"),
        "browse": _("opened from /topics"),
        "related": _("opened from “see also”"),
    }
    lines = [_("Recent questions:")]
    for text, decision, entry in history:
        result = decisions.get(decision, decision)
        lines.append(f"• {text} → {result}" + (f" ({entry})" if entry else ""))
    return lines


def relay_header(name: str, session_id: int | None = None) -> str:
    """The bold sender line above a relayed message (HTML)."""
    label = escape(name, quote=False)
    return f"<b>{label}</b>" + (f" · #{session_id}" if session_id is not None else "")


# ----- the queue ---------------------------------------------------------------------------------
def _card_text(
    head: str, name: str, user_lang: str | None, role: str | None, history: Sequence[nt.PastQuestion], lang: Lang
) -> str:
    """A "user waiting" card (plain text): *head*, who the user is, and what they asked the bot."""
    return "\n".join([head, user_line(name, user_lang, role, lang), "", *history_lines(history, lang)])


def _queue_new(notice: nt.QueueNew, lang: Lang) -> Rendered:
    _ = translator(lang).gettext
    head = "🙋 " + _("A user is waiting for a person (request #{id}).").format(id=notice.request_id)
    text = _card_text(head, notice.name, notice.lang, notice.role, notice.history, lang)
    return html_chunks(text), keyboard([[(_("Claim"), cd.make(Button.CLAIM, notice.request_id))]])


def card_html(card: CardView, lang: Lang) -> str:
    """A card whose user no longer waits, as it is edited to read: who took them, or that they left (HTML,
    one message, no Claim button)."""
    _ = translator(lang).gettext
    if card.status == HelpRequestStatus.CLAIMED:
        head = "✅ " + _("Request #{id}: taken by {operator}.").format(id=card.request_id, operator=card.operator)
    elif card.status == HelpRequestStatus.TICKET:
        head = "✉️ " + _("Request #{id}: the user left the queue and left a message instead (a ticket).").format(
            id=card.request_id
        )
    else:
        head = "↩️ " + _("Request #{id}: the user left the queue.").format(id=card.request_id)
    return html_chunks(_card_text(head, card.name, card.lang, card.role, card.history, lang))[0]


async def edit_cards(context: HelpdeskContext, cards: Iterable[CardView]) -> None:
    """Edit each card to say what became of its user (in the language of the chat it is in). A card deleted
    meanwhile, or a chat that blocked the bot, is skipped: there is nothing left to correct."""
    for card in cards:
        reader = await core(context, context.helpdesk.user, card.chat_id)
        lang: Lang = reader.lang if reader is not None else "en"
        try:
            await edit_message_html(context.bot, card.chat_id, card.message_id, card_html(card, lang))
        except (BadRequest, Forbidden) as exc:
            log.info("could not edit a queue card: %s", type(exc).__name__)


def _queue_position(notice: nt.QueuePosition, lang: Lang) -> Rendered:
    return say(
        lang,
        N_("Your place in the queue: {position}. Estimated wait: about {minutes} min."),
        position=notice.position,
        minutes=notice.minutes,
    )


def _queue_long_wait(notice: nt.QueueLongWait, lang: Lang) -> Rendered:
    _ = translator(lang).gettext
    text = _(
        "Sorry for the long wait: all our staff are busy. You can keep your place, or leave a message "
        "instead. It becomes a help-request ticket and we answer it here."
    )
    leave = (_("✉️ Leave a message"), cd.make(Button.LEAVE_MESSAGE, "q"))
    return html_chunks(text), keyboard([[leave, (_("Keep waiting"), cd.make(Button.KEEP_WAITING))]])


# ----- sessions, the user's side -----------------------------------------------------------------
def _session_started(notice: nt.SessionStarted, lang: Lang) -> Rendered:
    return say(
        lang,
        N_("You are now connected with {operator} from the helpdesk. Write your message here; /cancel ends the chat."),
        operator=notice.operator,
    )


def _session_unresolved(notice: nt.SessionUnresolved, lang: Lang) -> Rendered:
    _ = translator(lang).gettext
    text = _(
        "Sorry that we could not solve this in the chat. If you want us to follow it up, press the button: the "
        "conversation becomes a help-request ticket (you need not write it again), and we answer it here."
    )
    return html_chunks(text), keyboard(
        [[(_("📝 Follow up as a ticket"), cd.make(Button.FOLLOW_UP, notice.session_id))]]
    )


def _session_ended(notice: nt.SessionEnded, lang: Lang) -> Rendered:
    _ = translator(lang).gettext
    ended = {
        "no_reply": _("The chat was closed because there were no new messages."),
    }.get(notice.outcome, _("The chat with the helpdesk has ended."))
    text = ended + "\n\n" + _("How satisfied are you with this service? (one rating per chat)")
    return html_chunks(text), rating_keyboard(lang, "s", notice.session_id)


def _handed_back(notice: nt.HandedBack, lang: Lang) -> Rendered:
    if notice.unanswered:
        return say(
            lang,
            N_(
                "Sorry that nobody answered you. You are back at the front of the queue and the next available "
                "colleague will take over. You can also leave a message for the helpdesk with /ticket."
            ),
        )
    return say(
        lang,
        N_(
            "Your helpdesk colleague had to leave. You are back at the front of the queue and the next "
            "available colleague will continue."
        ),
    )


def _session_transferred(notice: nt.SessionTransferred, lang: Lang) -> Rendered:
    return say(
        lang, N_("You are now chatting with {operator}, who will continue to help you."), operator=notice.operator
    )


def _session_ticket(notice: nt.SessionTicket, lang: Lang) -> Rendered:
    return say(
        lang,
        N_(
            "Your conversation has been recorded as ticket {number}. We will answer it here; you can follow "
            "it with /mytickets."
        ),
        number=notice.number,
    )


def _session_idle(notice: nt.SessionIdle, lang: Lang) -> Rendered:
    return say(
        lang,
        N_("Are you still there? This chat will close in {minutes} min if there are no new messages."),
        minutes=notice.minutes,
    )


# ----- sessions, the operator's side -------------------------------------------------------------
def _file_label(line: nt.TranscriptLine, number: int, lang: Lang) -> str:
    """ "photo 2" / "document 3": a file of the conversation, numbered in order."""
    _ = translator(lang).gettext
    return (_("photo {number}") if line.file_kind == "photo" else _("document {number}")).format(number=number)


def _transcript_files(transcript: Sequence[nt.TranscriptLine]) -> list[tuple[int, nt.TranscriptLine]]:
    """The messages of a conversation that carry a file, numbered from 1."""
    return list(enumerate((line for line in transcript if line.file_id), start=1))


def _session_transferred_to_you(notice: nt.SessionTransferredToYou, lang: Lang) -> Rendered:
    """The colleague's briefing: who the user is, what they asked the bot, and the whole conversation (split
    into several messages at message, line or word breaks when long; its files follow, see ``after_delivery``)."""
    _ = translator(lang).gettext
    lines = [
        _("Chat #{id} has been transferred to you. Write here to reply.").format(id=notice.session_id),
        user_line(notice.name, notice.lang, notice.role, lang),
        "",
        *history_lines(notice.history, lang),
    ]
    if notice.transcript:
        names = {"user": _("User"), "operator": _("Staff")}
        lines += ["", _("The conversation so far:")]
        files = 0
        for line in notice.transcript:
            file = ""
            if line.file_id:
                files += 1
                file = _("[{file}, sent below]").format(file=_file_label(line, files, lang))
            text = " ".join(part for part in (file, line.text) if part)
            lines += ["", f"{names.get(line.sender, line.sender)}: {text}"]
    return html_chunks("\n".join(lines)), None


def _session_idle_operator(notice: nt.SessionIdleOperator, lang: Lang) -> Rendered:
    return say(
        lang,
        N_("No messages in chat #{id} for a while. It will close by itself unless someone writes."),
        id=notice.session_id,
    )


def _session_user_waiting(notice: nt.SessionUserWaiting, lang: Lang) -> Rendered:
    return say(
        lang,
        N_(
            "⏰ The user in chat #{id} has been waiting {minutes} min for your answer. Please reply now: without an "
            "answer within {requeue} min the chat goes back to the queue and your supervisor is told."
        ),
        id=notice.session_id,
        minutes=notice.minutes,
        requeue=notice.requeue_minutes,
    )


def _session_requeued(notice: nt.SessionRequeued, lang: Lang) -> Rendered:
    return say(
        lang,
        N_("Chat #{id} went back to the front of the queue: the user waited too long for an answer."),
        id=notice.session_id,
    )


def _operator_silent(notice: nt.OperatorSilent, lang: Lang) -> Rendered:
    return say(
        lang,
        N_(
            "⚠️ {operator} left the user of chat #{id} without an answer for {minutes} min. The user is back at "
            "the front of the queue (/queue)."
        ),
        operator=notice.operator,
        id=notice.session_id,
        minutes=notice.minutes,
    )


def _session_auto_closed(notice: nt.SessionAutoClosed, lang: Lang) -> Rendered:
    return say(lang, N_("Chat #{id} was closed after a period without messages."), id=notice.session_id)


def _session_left(notice: nt.SessionLeft, lang: Lang) -> Rendered:
    return say(lang, N_("The user ended chat #{id}."), id=notice.session_id)


LIVE_RENDERERS: Mapping[type[nt.Notice], Renderer] = {
    nt.QueueNew: _queue_new,
    nt.QueuePosition: _queue_position,
    nt.QueueLongWait: _queue_long_wait,
    nt.SessionStarted: _session_started,
    nt.SessionEnded: _session_ended,
    nt.SessionUnresolved: _session_unresolved,
    nt.HandedBack: _handed_back,
    nt.SessionTransferred: _session_transferred,
    nt.SessionTicket: _session_ticket,
    nt.SessionIdle: _session_idle,
    nt.SessionTransferredToYou: _session_transferred_to_you,
    nt.SessionIdleOperator: _session_idle_operator,
    nt.SessionUserWaiting: _session_user_waiting,
    nt.SessionRequeued: _session_requeued,
    nt.OperatorSilent: _operator_silent,
    nt.SessionAutoClosed: _session_auto_closed,
    nt.SessionLeft: _session_left,
}
"""The live desk's notices, by type."""


# ----- after a notice went out ---------------------------------------------------------------------------
def _caption(line: nt.TranscriptLine, number: int, lang: Lang) -> str:
    """A transferred file's caption (HTML): its number and sender, and its message, shortened at a word."""
    _ = translator(lang).gettext
    sender = _("User") if line.sender == "user" else _("Staff")
    pieces = split_text(line.text, CAPTION_TEXT) if line.text else []
    text = pieces[0] + (" …" if len(pieces) > 1 else "") if pieces else ""
    head = f"📎 {_file_label(line, number, lang)} · {sender}"
    return escape(head + (": " + text if text else ""), quote=False)


async def after_delivery(context: HelpdeskContext, notice: nt.Notice, lang: Lang, sent: Sequence[Message]) -> None:
    """What a live notice needs once its messages are out (``handlers.notify.deliver``): a transfer's photos
    and documents are sent again by their file ids, each captioned with its number in the conversation; a
    "user waiting" card is remembered, and edited at once if the user was taken or left meanwhile."""
    if isinstance(notice, nt.SessionTransferredToYou):
        for number, line in _transcript_files(notice.transcript):
            assert line.file_id is not None
            try:
                await send_file(context.bot, notice.user_id, line.file_id, line.file_kind, _caption(line, number, lang))
            except BadRequest as exc:  # a file Telegram no longer has: the conversation lists it all the same
                log.warning("could not pass on a file of a transferred chat: %s", exc)
    elif isinstance(notice, nt.QueueNew) and sent:
        card = sent[-1]  # the one with the Claim button
        stale = await core(
            context,
            context.services.live_queue.remember_card,
            card.chat_id,
            card.message_id,
            notice.request_id,
            context.now(),
        )
        await edit_cards(context, stale)
