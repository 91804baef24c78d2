"""线上帮办 in Telegram: presence, the queue, claims, relaying a live chat, and the operators' tools.

Users: /human or the "talk to a person" button, /cancel to leave the queue or end the chat; after a chat
ended unresolved, the "follow up as a ticket" button.
Operators: /checkin, /checkout, /queue, the Claim button, then plain messages relay to the user;
/end, /transfer, /toticket, /kb ENTRY or /kb WORDS, /canned, /sessions. Timers run from the JobQueue
(``sweep_job``). The "user waiting" cards are edited once their user is taken or leaves (``settle_cards``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from html import escape

from telegram import Message, Update
from telegram.error import BadRequest, Forbidden

from bot.answering.helpdesk import UserView
from bot.answering.text import Lang
from bot.desk.live.kb_search import find_entries
from bot.desk.live.queue import SettledCards
from bot.desk.live.shared import Closed, QueueStatus, SessionView
from bot.desk.staff import shown_name
from bot.desk.ticket_texts import filed_text
from bot.error_texts import error_text
from bot.errors import Conflict, HelpdeskError, InvalidInput, NotAllowed, NotFound
from bot.notices import QueueNew
from bot.numbers import parse_user_id
from bot.store.statuses import HelpRequestStatus, TicketKind
from handlers import callback_data as cd
from handlers.callback_data import Button
from handlers.common import (
    answer_query,
    drop_keyboard,
    expired,
    meet,
    reply_text,
    send_file,
    send_html,
    send_messages,
    tr,
)
from handlers.context import HelpdeskContext, core
from handlers.live_notices import edit_cards, relay_header
from handlers.menus import set_staff_menu
from handlers.notify import deliver
from handlers.render import (
    handed_back_text,
    html_chunks,
    keyboard,
    language_name,
    outcome_label,
    parse_outcome,
    sources_html,
)
from handlers.staff import require_staff
from handlers.tickets import attachment_of, show_filing

log = logging.getLogger(__name__)

CAPTION_LIMIT = 1024


# ----- the user's side ---------------------------------------------------------------------------
def queue_text(status: QueueStatus, lang: Lang) -> str:
    _ = tr(lang).gettext
    return _(
        "You are number {position} in the queue for a person. Estimated wait: about {minutes} min. I will tell "
        "you when your place changes; /cancel leaves the queue."
    ).format(position=status.position, minutes=status.minutes)


async def request_person(update: Update, context: HelpdeskContext, user: UserView) -> None:
    """Queue the user for a person, or tell them they are already served, or when the desk opens."""
    _ = tr(user.lang).gettext
    result, notices = await core(
        context, context.services.live_queue.request, user.id, user.lang, user.role, context.now()
    )
    if isinstance(result, QueueStatus):
        await reply_text(
            update,
            context,
            queue_text(result, user.lang),
            keyboard([[(_("Leave the queue"), cd.make(Button.LEAVE_QUEUE))]]),
        )
    elif isinstance(result, SessionView):
        text = _("You are talking with {operator} from the helpdesk. Just write your message here.").format(
            operator=result.operator_name
        )
        await reply_text(update, context, text)
    elif isinstance(result, Closed):
        t = tr(user.lang)
        when = f"{t.date(result.opens)} {t.time(result.opens)}"
        text = _(
            "Our staff are not at the desk right now; they are back {when} (Beijing time). You can leave a "
            "message now: it becomes a help-request ticket and we answer it here."
        ).format(when=when)
        await reply_text(
            update, context, text, keyboard([[(_("✉️ Leave a message"), cd.make(Button.LEAVE_MESSAGE, "c"))]])
        )
    await deliver(context, notices)


async def human_command(update: Update, context: HelpdeskContext) -> None:
    """/human."""
    user = await meet(update, context)
    await request_person(update, context, user)


async def human_button(update: Update, context: HelpdeskContext) -> None:
    """ "Talk to a person" under an answer."""
    user = await meet(update, context)
    await answer_query(update)
    await request_person(update, context, user)


def _pressed(update: Update) -> tuple[int, int] | None:
    """(chat, message) of the message whose button was pressed."""
    query = update.callback_query
    message = query.message if query is not None else None
    return (message.chat.id, message.message_id) if message is not None else None


async def settle_cards(context: HelpdeskContext, user_id: int, pressed: tuple[int, int] | None = None) -> SettledCards:
    """The user's "user waiting" cards whose request no longer waits are edited to say what became of them."""
    settled = await core(context, context.services.live_queue.settle_cards, user_id, pressed)
    await edit_cards(context, settled.cards)
    return settled


def live_chat_text(view: SessionView, lang: Lang) -> str:
    """For a queue button pressed during a live chat: the chat is live, and how to end it."""
    return (
        tr(lang)
        .gettext("You are already talking with {operator}; /cancel ends the chat.")
        .format(operator=view.operator_name)
    )


async def leave_queue_button(update: Update, context: HelpdeskContext) -> None:
    """ "Leave the queue" (also an old one, pressed in a live chat: the chat is live)."""
    user = await meet(update, context)
    _ = tr(user.lang).gettext
    left, notices = await core(context, context.services.live_queue.leave, user.id, context.now())
    await answer_query(update)
    await drop_keyboard(update)
    if left:
        text = _("You have left the queue.")
    else:
        live = await core(context, context.services.live_sessions.user_session, user.id)
        text = live_chat_text(live, user.lang) if live is not None else _("You are not in the queue.")
    await reply_text(update, context, text)
    await deliver(context, notices)
    if left:
        await settle_cards(context, user.id)


async def keep_waiting_button(update: Update, context: HelpdeskContext) -> None:
    """ "Keep waiting" after the long-wait offer."""
    user = await meet(update, context)
    status = await core(context, context.services.live_queue.queue_status, user.id)
    await drop_keyboard(update)
    if status is None:
        live = await core(context, context.services.live_sessions.user_session, user.id)
        if live is not None:
            await answer_query(update, live_chat_text(live, user.lang), alert=True)
        else:
            await expired(update, user.lang)
        return
    await answer_query(update, queue_text(status, user.lang), alert=True)


async def leave_message_button(update: Update, context: HelpdeskContext) -> None:
    """ "Leave a message": out of hours, or instead of waiting; it becomes a help-request ticket."""
    user = await meet(update, context)
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    origin = "out_of_hours" if data is not None and data.args[:1] == ("c",) else "queue"
    if origin == "queue":
        left, notices = await core(
            context, context.services.live_queue.leave, user.id, context.now(), HelpRequestStatus.TICKET
        )
        await deliver(context, notices)
        if left:
            await settle_cards(context, user.id)
    await answer_query(update)
    await drop_keyboard(update)
    filing = await core(
        context, context.services.filing.start_filing, user.id, context.now(), TicketKind.HELP, None, origin
    )
    await show_filing(update, context, user, filing)


async def cancel_live(update: Update, context: HelpdeskContext, user: UserView) -> bool:
    """/cancel outside any flow: end the user's live chat, or leave the queue. False when neither applied."""
    _ = tr(user.lang).gettext
    try:
        _view, notices = await core(context, context.services.live_sessions.user_ends, user.id, context.now())
    except NotFound:
        left, notices = await core(context, context.services.live_queue.leave, user.id, context.now())
        if not left:
            return False
        await reply_text(update, context, _("You have left the queue."))
        await deliver(context, notices)
        await settle_cards(context, user.id)
        return True
    await deliver(context, notices)
    return True


# ----- relaying ----------------------------------------------------------------------------------
async def _send_relayed(
    context: HelpdeskContext,
    chat_id: int,
    header: str,
    chunks: list[str],
    file_id: str | None = None,
    file_kind: str | None = None,
    caption: str = "",
) -> list[Message]:
    """Send a relayed message under a bold sender line: HTML *chunks*, or a photo or document with *caption*."""
    if file_id is not None:
        html = header + ("\n" + escape(caption[:900], quote=False) if caption else "")
        return [await send_file(context.bot, chat_id, file_id, file_kind, html[:CAPTION_LIMIT])]
    return await send_messages(context.bot, chat_id, [header + "\n" + chunk for chunk in chunks])


async def relay_from_user(update: Update, context: HelpdeskContext, user: UserView) -> bool:
    """The user's message in a live chat → their operator. False when the user has no live chat."""
    message = update.effective_message
    assert message is not None
    file_id, file_kind, _name = attachment_of(message)
    text = message.text or message.caption or ""
    try:
        view = await core(
            context, context.services.live_relay.user_says, user.id, text, context.now(), file_id, file_kind
        )
    except NotFound:
        return False
    except InvalidInput as exc:
        await reply_text(update, context, error_text(exc, user.lang))
        return True
    header = "💬 " + relay_header(view.user_name or str(view.user_id), view.id)
    try:
        sent = await _send_relayed(context, view.operator_id, header, html_chunks(text), file_id, file_kind, text)
    except (Forbidden, BadRequest) as exc:
        log.warning("could not relay to operator: %s", type(exc).__name__)
        _ = tr(user.lang).gettext
        await reply_text(
            update,
            context,
            _("Sorry, your message could not be passed on. Please try again, or /cancel and file a ticket."),
        )
        return True
    for item in sent:
        await core(context, context.services.live_relay.link, item.chat_id, item.message_id, view.id)
    return True


async def _to_user(
    update: Update,
    context: HelpdeskContext,
    view: SessionView,
    chunks: list[str],
    file_id: str | None = None,
    file_kind: str | None = None,
    caption: str = "",
) -> None:
    """Deliver an operator's message to the session's user; tell the operator when that fails."""
    try:
        await _send_relayed(
            context, view.user_id, relay_header(view.operator_name), chunks, file_id, file_kind, caption
        )
    except Forbidden:
        await core(context, context.helpdesk.mark_blocked, view.user_id, context.now())
        operator = await meet(update, context)
        _ = tr(operator.lang).gettext
        await reply_text(
            update,
            context,
            _("The user has blocked the bot, so the message was not delivered. You can /end the chat."),
        )


async def _send_in_current_chat(
    update: Update,
    context: HelpdeskContext,
    user: UserView,
    compose: Callable[[Lang], tuple[str, list[str]]],
    session_id: int | None = None,
) -> bool:
    """Send what *compose* makes in the user's language (text to record, HTML chunks to show) to chat
    *session_id*, else the operator's current chat. False, with the reason told, when there is none or it
    cannot be made."""
    try:
        current = await core(context, context.services.live_sessions.current_session, user.id, None, session_id)
        text, chunks = compose(current.lang)
        view = await core(
            context, context.services.live_relay.operator_says, user.id, text, context.now(), None, None, current.id
        )
    except (NotFound, InvalidInput, NotAllowed) as exc:  # NotAllowed: removed from the staff meanwhile
        await reply_text(update, context, error_text(exc, user.lang))
        return False
    await _to_user(update, context, view, chunks)
    return True


def _reply_to(message: Message) -> tuple[int, int] | None:
    replied = message.reply_to_message
    return (message.chat_id, replied.message_id) if replied is not None else None


async def relay_from_operator(update: Update, context: HelpdeskContext, user: UserView) -> None:
    """An operator's plain message → the user of the chat they replied to, else of their current chat."""
    message = update.effective_message
    assert message is not None
    file_id, file_kind, _name = attachment_of(message)
    text = message.text or message.caption or ""
    try:
        view = await core(
            context,
            context.services.live_relay.operator_says,
            user.id,
            text,
            context.now(),
            file_id,
            file_kind,
            None,
            _reply_to(message),
        )
    except (NotFound, InvalidInput, NotAllowed) as exc:  # NotAllowed: no longer staff (the staff-only text)
        await reply_text(update, context, error_text(exc, user.lang))
        return
    await _to_user(update, context, view, html_chunks(text), file_id, file_kind, text)


async def route_live(update: Update, context: HelpdeskContext, user: UserView, role: str) -> bool:
    """Relay the message of a sender in a live chat (*role* "operator" or "user"). False when it is not relayed."""
    if role == "operator":
        await relay_from_operator(update, context, user)
        return True
    if role == "user":
        return await relay_from_user(update, context, user)
    return False


# ----- presence and the queue (staff) ------------------------------------------------------------
async def _operator(update: Update, context: HelpdeskContext) -> UserView | None:
    """The member of staff behind the update, or None once non-staff have been told it is staff-only."""
    user, member = await require_staff(update, context)
    return user if member is not None else None


async def checkin_command(update: Update, context: HelpdeskContext) -> None:
    """/checkin (签入): start receiving waiting users."""
    user, member = await require_staff(update, context)
    if member is None:
        return
    _ = tr(user.lang).gettext
    changed, notices = await core(context, context.services.live_queue.check_in, user.id, context.now())
    await set_staff_menu(context.bot, user.id, user.lang, member.is_supervisor)
    opens = context.services.live_queue.closed_until(context.now())  # no database: the desk's hours
    if opens is not None:
        # Checked in all the same (early, or for users still waiting from before closing), but told plainly
        # that nobody new will come: out of hours users are offered to leave a message instead.
        t = tr(user.lang)
        text = (
            (_("You are checked in.") if changed else _("You were already checked in."))
            + " "
            + _(
                "The desk is closed now; it opens {when} (Beijing time). Until then users who ask for a person are "
                "not queued but offered to leave a message (a help-request ticket), so no new users will reach you."
            ).format(when=f"{t.date(opens)} {t.time(opens)}")
        )
    elif changed:
        text = _(
            "You are checked in. Waiting users will be offered to you with a Claim button; /checkout when you leave."
        )
    else:
        text = _("You were already checked in.")
    waiting = sum(1 for n in notices if isinstance(n, QueueNew))
    if waiting:
        text += "\n" + _("Users waiting now: {count}.").format(count=waiting)
    await reply_text(update, context, text)
    await deliver(context, notices)


async def checkout_command(update: Update, context: HelpdeskContext) -> None:
    """/checkout (签出): live chats go back to the queue."""
    user = await _operator(update, context)
    if user is None:
        return
    _ = tr(user.lang).gettext
    handed_back, notices = await core(context, context.services.live_queue.check_out, user.id, context.now())
    text = _("You are checked out.") + handed_back_text(user.lang, handed_back)
    await reply_text(update, context, text)
    await deliver(context, notices)


async def queue_command(update: Update, context: HelpdeskContext) -> None:
    """/queue: who is waiting, with Claim buttons."""
    user = await _operator(update, context)
    if user is None:
        return
    _ = tr(user.lang).gettext
    waiting = await core(context, context.services.live_queue.waiting)
    online = await core(context, context.services.live_queue.operators_online)
    lines = [
        _("Waiting: {count}. Checked in: {names}.").format(
            count=len(waiting),
            names=", ".join(
                operator_label(shown_name(name, op_id, user.lang), busy, user.lang) for op_id, name, busy in online
            )
            or "—",
        )
    ]
    rows = [
        [
            (
                _("Claim No. {position} ({lang})").format(position=s.position, lang=language_name(s.lang, user.lang)),
                cd.make(Button.CLAIM, s.request_id),
            )
        ]
        for s in waiting[:10]
    ]
    await reply_text(update, context, "\n".join(lines), keyboard(rows) if rows else None)


def operator_label(name: str, chats: int, lang: Lang) -> str:
    """ "Li Na · 2 chats": a checked-in colleague and how many live chats they have now."""
    return tr(lang).ngettext("{name} · {count} chat", "{name} · {count} chats", chats).format(name=name, count=chats)


async def claim_button(update: Update, context: HelpdeskContext) -> None:
    """Claim: exactly one operator gets the user; the others are told who did (or that the user left). Every
    card offering the user is edited to say so."""
    user = await _operator(update, context)
    if user is None:
        return
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    request_id = data.int_arg(0) if data is not None else None
    if request_id is None:
        await expired(update, user.lang)
        return
    pressed = _pressed(update)
    try:
        view, notices = await core(context, context.services.live_queue.claim, user.id, request_id, context.now())
    except NotAllowed as exc:  # removed from the staff meanwhile
        await answer_query(update, error_text(exc, user.lang), alert=True)
        await drop_keyboard(update)
        return
    except (Conflict, NotFound) as exc:
        await _claim_refused(update, context, user, request_id, exc, pressed)
        return
    await answer_query(update)
    settled = await settle_cards(context, view.user_id, pressed)
    if not settled.pressed_is_card:  # /queue's list: its buttons go (a card is edited instead)
        await drop_keyboard(update)
    _ = tr(user.lang).gettext
    text = _(
        "You are now chatting with {name} (chat #{id}, {lang}). Write here to reply; when you have several "
        "chats, reply to one of the user's messages to choose. /end when done, /transfer, /toticket, /kb ENTRY or "
        "WORDS, /canned, /sessions."
    ).format(name=view.user_name or view.user_id, id=view.id, lang=_("Chinese") if view.lang == "zh" else _("English"))
    await send_html(context, user.id, escape(text, quote=False))
    await deliver(context, notices)


async def _claim_refused(
    update: Update,
    context: HelpdeskContext,
    user: UserView,
    request_id: int,
    refusal: HelpdeskError,
    pressed: tuple[int, int] | None,
) -> None:
    """A Claim on a user who no longer waits: say who took them, or that they left; the cards offering them
    are brought up to date (this one included, if no one has done it yet)."""
    _ = tr(user.lang).gettext
    state = await core(context, context.services.live_queue.request_state, request_id)
    if state is None:
        text = error_text(refusal, user.lang)
    elif state.status == HelpRequestStatus.CLAIMED:
        text = (
            _("You have already taken this user.")
            if state.operator_id == user.id
            else _("{operator} has already taken this user.").format(operator=state.operator)
        )
    elif state.status == HelpRequestStatus.TICKET:
        text = _("The user has left the queue and left a message instead (a ticket).")
    elif state.status == HelpRequestStatus.CANCELLED:
        text = _("The user has left the queue.")
    else:
        text = error_text(refusal, user.lang)
    await answer_query(update, text, alert=True)
    settled = await settle_cards(context, state.user_id, pressed) if state is not None else SettledCards(())
    if not settled.pressed_is_card:
        await drop_keyboard(update)


# ----- operator tools ----------------------------------------------------------------------------
async def end_command(update: Update, context: HelpdeskContext) -> None:
    """/end [resolved|unresolved]: end the current chat; the user is asked for a rating."""
    user = await _operator(update, context)
    if user is None:
        return
    _ = tr(user.lang).gettext
    outcome = parse_outcome((context.args or ["resolved"])[0], user.lang)  # typed in English or Chinese
    message = update.effective_message
    try:
        view, notices = await core(
            context,
            context.services.live_sessions.end,
            user.id,
            outcome,
            context.now(),
            None,
            _reply_to(message) if message else None,
        )
    except (NotFound, InvalidInput) as exc:
        await reply_text(update, context, error_text(exc, user.lang))
        return
    await reply_text(
        update,
        context,
        _("Chat #{id} ended ({outcome}). The user has been asked to rate it.").format(
            id=view.id, outcome=outcome_label(outcome, user.lang)
        ),
    )
    await deliver(context, notices)


async def transfer_command(update: Update, context: HelpdeskContext) -> None:
    """/transfer [TELEGRAM_ID]: hand the current chat to another checked-in operator (buttons without an id)."""
    user = await _operator(update, context)
    if user is None:
        return
    _ = tr(user.lang).gettext
    args = context.args or []
    try:
        current = await core(context, context.services.live_sessions.current_session, user.id)
    except NotFound as exc:
        await reply_text(update, context, error_text(exc, user.lang))
        return
    target = parse_user_id(args[0]) if args else None
    if target is not None:
        await _transfer(update, context, user, current.id, target)
        return
    online = [o for o in await core(context, context.services.live_queue.operators_online) if o[0] != user.id]
    if not online:
        await reply_text(update, context, _("No other colleague is checked in."))
        return
    rows = [
        [
            (
                operator_label(shown_name(name, op_id, user.lang), busy, user.lang),
                cd.make(Button.TRANSFER, current.id, op_id),
            )
        ]
        for op_id, name, busy in online
    ]
    await reply_text(update, context, _("Transfer chat #{id} to:").format(id=current.id), keyboard(rows))


async def transfer_button(update: Update, context: HelpdeskContext) -> None:
    """A colleague chosen for /transfer."""
    user = await _operator(update, context)
    if user is None:
        return
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    session_id = data.int_arg(0) if data else None
    target = data.int_arg(1) if data else None
    if session_id is None or target is None:
        await expired(update, user.lang)
        return
    await answer_query(update)
    await drop_keyboard(update)
    await _transfer(update, context, user, session_id, target)


async def _transfer(update: Update, context: HelpdeskContext, user: UserView, session_id: int, target: int) -> None:
    _ = tr(user.lang).gettext
    try:
        view, notices = await core(
            context, context.services.live_sessions.transfer, user.id, target, context.now(), session_id
        )
    except (NotFound, InvalidInput, NotAllowed) as exc:  # NotAllowed: removed from the staff meanwhile
        await reply_text(update, context, error_text(exc, user.lang))
        return
    await reply_text(
        update,
        context,
        _("Chat #{id} is now with {name}.").format(id=view.id, name=view.operator_name),
    )
    await deliver(context, notices)


async def toticket_command(update: Update, context: HelpdeskContext) -> None:
    """/toticket: record the conversation as a help-request ticket assigned to you, and end the chat."""
    user = await _operator(update, context)
    if user is None:
        return
    _ = tr(user.lang).gettext
    try:
        ticket, notices = await core(context, context.services.live_sessions.to_ticket, user.id, context.now())
    except (NotFound, InvalidInput) as exc:
        await reply_text(update, context, error_text(exc, user.lang))
        return
    await reply_text(
        update,
        context,
        _("The chat is now ticket {number}, assigned to you: /t {number}").format(number=ticket.number),
    )
    await deliver(context, notices)


async def kb_command(update: Update, context: HelpdeskContext) -> None:
    """/kb ENTRY_ID: send a knowledge-base answer to the user of the current chat, in their language.
    /kb WORDS: the entries matching the words, as buttons; one pressed is sent the same way."""
    user = await _operator(update, context)
    if user is None:
        return
    _ = tr(user.lang).gettext
    args = context.args or []
    if not args:
        await reply_text(
            update,
            context,
            _("Usage: /kb ENTRY_ID (ids are shown with the user's recent questions), or /kb WORDS to search."),
        )
        return
    if len(args) == 1 and args[0] in context.services.kb.entries:
        await _send_entry(update, context, user, args[0])
        return
    await _offer_entries(update, context, user, " ".join(args))


async def _send_entry(
    update: Update, context: HelpdeskContext, user: UserView, entry_id: str, session_id: int | None = None
) -> None:
    """Send entry *entry_id* to the user of chat *session_id* (else the current one), in their language."""

    def compose(lang: Lang) -> tuple[str, list[str]]:
        reply = context.helpdesk.entry(entry_id, lang)  # no database: the knowledge base is in memory
        return reply.text, html_chunks(reply.text, sources_html(reply))

    if await _send_in_current_chat(update, context, user, compose, session_id):
        title = context.services.kb.title(entry_id, user.lang)
        await reply_text(update, context, tr(user.lang).gettext("Sent “{title}” to the user.").format(title=title))


async def _offer_entries(update: Update, context: HelpdeskContext, user: UserView, words: str) -> None:
    """/kb WORDS: the best matching entries as buttons, each bound to the current chat."""
    _ = tr(user.lang).gettext
    try:
        current = await core(context, context.services.live_sessions.current_session, user.id)
    except NotFound as exc:
        await reply_text(update, context, error_text(exc, user.lang))
        return
    rows = []
    for found in find_entries(context.helpdesk, words, user.lang):  # no database: the engine is in memory
        try:
            rows.append([(found.title, cd.make(Button.KB_ENTRY, current.id, found.entry_id))])
        except ValueError:  # an id too long for a button: not offered
            continue
    if not rows:
        text = _("Nothing in the knowledge base matches “{words}”. Try other words, or /kb ENTRY_ID.")
        await reply_text(update, context, text.format(words=words[:100]))
        return
    text = _("Knowledge-base entries for “{words}”: press one to send it to the user of chat #{id}.")
    await reply_text(update, context, text.format(words=words[:100], id=current.id), keyboard(rows))


async def kb_button(update: Update, context: HelpdeskContext) -> None:
    """An entry chosen from /kb WORDS: sent to that chat's user as /kb ENTRY_ID sends it."""
    user = await _operator(update, context)
    if user is None:
        return
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    session_id = data.int_arg(0) if data is not None else None
    entry_id = data.args[1] if data is not None and len(data.args) == 2 else None
    if session_id is None or entry_id is None or entry_id not in context.services.kb.entries:
        await expired(update, user.lang)
        return
    await answer_query(update)
    await drop_keyboard(update)
    await _send_entry(update, context, user, entry_id, session_id)


async def canned_command(update: Update, context: HelpdeskContext) -> None:
    """/canned [ID]: list the canned replies, or send one to the user of the current chat."""
    user = await _operator(update, context)
    if user is None:
        return
    _ = tr(user.lang).gettext
    args = context.args or []
    replies = context.services.canned
    if not args:
        if not replies:
            await reply_text(update, context, _("No canned replies are set up."))
            return
        rows = [[(reply.title(user.lang), cd.make(Button.CANNED, reply.id))] for reply in replies.values()]
        await reply_text(update, context, _("Canned replies (sent in the user's language):"), keyboard(rows))
        return
    await _send_canned(update, context, user, args[0].lower())


async def canned_button(update: Update, context: HelpdeskContext) -> None:
    """A canned reply chosen from /canned."""
    user = await _operator(update, context)
    if user is None:
        return
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    if data is None or len(data.args) != 1:
        await expired(update, user.lang)
        return
    await answer_query(update)
    await _send_canned(update, context, user, data.args[0])


async def _send_canned(update: Update, context: HelpdeskContext, user: UserView, reply_id: str) -> None:
    _ = tr(user.lang).gettext
    canned = context.services.canned.get(reply_id)
    if canned is None:
        await reply_text(update, context, _("There is no canned reply with that id. /canned lists them."))
        return

    sent: list[str] = []

    def compose(lang: Lang) -> tuple[str, list[str]]:
        sent.append(canned.text(lang))  # in the user's language, as they will read it
        return sent[-1], html_chunks(sent[-1])

    if await _send_in_current_chat(update, context, user, compose):
        await reply_text(update, context, _("Sent: {text}").format(text=sent[-1]))


async def sessions_command(update: Update, context: HelpdeskContext) -> None:
    """/sessions: your live chats; a button makes one current."""
    user = await _operator(update, context)
    if user is None:
        return
    _ = tr(user.lang).gettext
    live = context.services.live_sessions
    sessions = await core(context, live.operator_sessions, user.id)
    if not sessions:
        await reply_text(update, context, _("You have no live chats."))
        return
    try:
        current_id: int | None = (await core(context, live.current_session, user.id)).id
    except NotFound:
        current_id = None
    rows = [
        [
            (
                ("▶ " if s.id == current_id else "") + f"#{s.id} {s.user_name or s.user_id}"[:40],
                cd.make(Button.FOCUS, s.id),
            )
        ]
        for s in sessions
    ]
    await reply_text(
        update,
        context,
        _("Your live chats (plain messages go to the one marked ▶):"),
        keyboard(rows),
    )


async def focus_button(update: Update, context: HelpdeskContext) -> None:
    """Make a chat the current one."""
    user = await _operator(update, context)
    if user is None:
        return
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    session_id = data.int_arg(0) if data else None
    if session_id is None:
        await expired(update, user.lang)
        return
    try:
        view = await core(context, context.services.live_sessions.focus, user.id, session_id)
    except NotFound as exc:
        await answer_query(update, error_text(exc, user.lang), alert=True)
        return
    _ = tr(user.lang).gettext
    await answer_query(update, _("Now writing to chat #{id}.").format(id=view.id))


# ----- after a chat ------------------------------------------------------------------------------
async def follow_up_button(update: Update, context: HelpdeskContext) -> None:
    """ "Follow up as a ticket" under a chat the operator ended unresolved: the conversation becomes a
    help-request ticket (pressed again: the same ticket)."""
    user = await meet(update, context)
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    session_id = data.int_arg(0) if data is not None else None
    if session_id is None:
        await expired(update, user.lang)
        return
    try:
        ticket, new, notices = await core(
            context, context.services.live_sessions.follow_up, user.id, session_id, context.now()
        )
    except NotFound:  # someone else's chat, or one not ended unresolved: a forged button
        await expired(update, user.lang)
        return
    await answer_query(update)
    await drop_keyboard(update)
    if new:
        text = filed_text(ticket, user.lang)
    else:
        text = tr(user.lang).gettext("This conversation is already ticket {number}. You can follow it with /mytickets.")
        text = text.format(number=ticket.number)
    await reply_text(update, context, text)
    await deliver(context, notices)


# ----- timers ------------------------------------------------------------------------------------
async def sweep_job(context: HelpdeskContext) -> None:
    """The JobQueue's repeating job: queue-wait offers, idle reminders and auto-closing."""
    notices = await core(context, context.services.live_timers.sweep, context.now())
    await deliver(context, notices)
