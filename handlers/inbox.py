"""Where a user's message goes: the flow they are in decides, else it is a question.

Every flow, its steps and what takes the text and the media sent at each, in one place (``ROUTES``;
the names and steps are ``FlowName``, ``FilingStep`` and ``StaffStep`` in ``bot.desk.flows``)::

    flow             step                          text                            media
    ---------------  ----------------------------  ------------------------------  ------------------------------
    ticket           description, contact,         the answer to the step          "describe it in text first"
                     reference                     (tickets.filing_text)
                     kind, confirm (any other)     "please use the buttons",       "describe it in text first"
                                                   then the step again
    ticket_message   message                       added to the ticket             a photo or document is added;
                                                   (tickets.ticket_message_input)  other media: "can't take that"
                     add_text (free text kept      kept too, asked again           "answer this first"
                     after a staff reply)          (tickets.keep_pending)
                     add_file (a file kept:        "answer this first"             a photo or document is kept too;
                     which open ticket?)                                           other media: "can't take that"
    staff_input      reply                         sent to the user                a photo or document is sent;
                                                   (staff.staff_input)             other media: "can't take that"
                     note, close (any other)       a note / the resolution         "text only here"
    rating_comment   comment                       passed to the supervisors       "text only here"
                                                   (tickets.comment_input)
    followup_record  notes (a supervisor recording   the call-back is recorded       "text only here"
                     a call-back, after the        (followups.notes_input)
                     outcome button)
    checklist        any (buttons only)            a question, answered as         a photo or document: which open
                                                   outside a flow; the checklist   ticket? (as outside a flow);
                                                   waits (checklist.text_input)    other media declined
    permit_watch     label, expires, ends, and     the label or the date; a bad    "type it as text"
                     edit_* (/reminders: adding    one is explained and asked      (reminders.media_input)
                     or changing a permit)         again (reminders.text_input)
    notice_draft     en, zh, entry (/notice: a     the notice's version, or the    "text only here"
                     supervisor writing a policy   "more" entry's id; audience:
                     notice)                       "use the buttons"
                                                   (policy_notices.draft_input)

In no flow (or one this version does not know), a Telegram reply to a message the bot sent about one of
the user's open tickets goes to that ticket (text, photo or document); else text goes to the live chat the
user is in, else it is a question for the knowledge base — unless staff answered one of the user's
tickets recently and the knowledge base has no clear answer: then the user is asked whether it is for
that ticket (``bot.arrival``). A photo or document goes to the live chat, else the user is asked which
of their open tickets it is for; other media (and files from someone without an open ticket) are declined.
The checklist (``PASSIVE_FLOWS``: buttons only, its list may stay open for days) lets a message in a live chat
or a reply about a ticket go there as in no flow, and /cancel in the queue or a live chat leaves it too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from telegram import Update

from bot.answering.helpdesk import UserView
from bot.answering.text import Lang
from bot.arrival import Arrival
from bot.desk.flows import FilingStep, FlowName, FlowState, StaffStep, TicketMessageStep
from bot.desk.tickets.filing import Filing
from bot.i18n import N_
from handlers import checklist, followups, live, policy_notices, questions, reminders, staff, tickets
from handlers.common import arrive, meet, reply_text, tr
from handlers.context import HelpdeskContext, core

FlowHandler = Callable[[Update, HelpdeskContext, UserView, FlowState], Awaitable[None]]
"""Takes a message sent while the user is in a flow: (update, context, the user, their flow)."""


@dataclass(frozen=True)
class Route:
    """What takes a message sent at a flow's step: one handler for text, one for media; and what /cancel says
    on leaving it, where the general "Cancelled." would not tell the user what became of their work."""

    text: FlowHandler
    media: FlowHandler
    cancelled: Callable[[FlowState, Lang], str] | None = None


def _is_file(update: Update) -> bool:
    message = update.effective_message
    return message is not None and bool(message.photo or message.document)


async def _filing_text(update: Update, context: HelpdeskContext, user: UserView, state: FlowState) -> None:
    """Text at a filing step that asks for it: the description, contact or reference."""
    await tickets.filing_text(update, context, user)


def _says(message: str) -> FlowHandler:
    """A handler that answers with *message* (marked with ``N_``) in the user's language."""

    async def say(update: Update, context: HelpdeskContext, user: UserView, state: FlowState) -> None:
        await reply_text(update, context, tr(user.lang).gettext(message))

    return say


_describe_in_text_first = _says(
    N_(
        "Please describe the matter in text first. Once the ticket is filed you can add photos and "
        "documents to it from /mytickets."
    )
)
"""Media while filing: the matter comes as text; files are added to the ticket once it is filed."""

_cannot_take = _says(N_("Sorry, I can't take that kind of message here. Please send text, a photo or a document."))
"""Media at a step that does not take it (or not that kind)."""

_text_only = _says(N_("Sorry, I can only take text here. Please type it, or /cancel to stop."))
"""Media at a step that takes typed text only (a note, a comment, a call-back's notes, a policy notice)."""


async def _use_the_buttons(update: Update, context: HelpdeskContext, user: UserView, state: FlowState) -> None:
    """Text while buttons are expected: say so and show the step again."""
    _ = tr(user.lang).gettext
    text = _("You are filing a ticket. Please use the buttons, or /cancel to stop and ask a question instead.")
    await reply_text(update, context, text)
    await tickets.show_filing(update, context, user, Filing.of(state))


def _files_only(handler: FlowHandler) -> FlowHandler:
    """*handler* for a photo or a document; any other media gets the polite refusal."""

    async def media(update: Update, context: HelpdeskContext, user: UserView, state: FlowState) -> None:
        await (handler if _is_file(update) else _cannot_take)(update, context, user, state)

    return media


async def _comment(update: Update, context: HelpdeskContext, user: UserView, state: FlowState) -> None:
    """The comment after a bad rating."""
    await tickets.comment_input(update, context, user)


ROUTES: Mapping[tuple[str, str | None], Route] = {
    # (flow, step): Route(text, media); step None is any step of that flow not listed with its own line
    (FlowName.TICKET, FilingStep.DESCRIPTION): Route(_filing_text, _describe_in_text_first),
    (FlowName.TICKET, FilingStep.CONTACT): Route(_filing_text, _describe_in_text_first),
    (FlowName.TICKET, FilingStep.REFERENCE): Route(_filing_text, _describe_in_text_first),
    (FlowName.TICKET, None): Route(_use_the_buttons, _describe_in_text_first),  # KIND, CONFIRM: buttons only
    (FlowName.TICKET_MESSAGE, TicketMessageStep.ADD_TEXT): Route(tickets.keep_pending, tickets.keep_pending),
    (FlowName.TICKET_MESSAGE, TicketMessageStep.ADD_FILE): Route(
        tickets.keep_pending, _files_only(tickets.keep_pending)
    ),
    (FlowName.TICKET_MESSAGE, None): Route(tickets.ticket_message_input, _files_only(tickets.ticket_message_input)),
    (FlowName.STAFF_INPUT, StaffStep.REPLY): Route(staff.staff_input, _files_only(staff.staff_input)),
    (FlowName.STAFF_INPUT, None): Route(staff.staff_input, _text_only),  # NOTE, CLOSE: text only
    (FlowName.RATING_COMMENT, None): Route(_comment, _text_only),
    (FlowName.FOLLOWUP_RECORD, None): Route(followups.notes_input, _text_only),
    (FlowName.CHECKLIST, None): Route(checklist.text_input, checklist.media_input),
    (FlowName.NOTICE_DRAFT, None): Route(policy_notices.draft_input, _text_only, policy_notices.cancelled_text),
    (FlowName.PERMIT_WATCH, None): Route(reminders.text_input, reminders.media_input),
}
"""Each flow (and step, where it matters) → its text handler and its media handler."""


PASSIVE_FLOWS = frozenset({FlowName.CHECKLIST})
"""Flows that wait for buttons only and may stay open for days (the checklist's list stays until it is closed):
a message in a live chat or a Telegram reply about a ticket goes there, as outside any flow, not to the flow."""


def _elsewhere(state: FlowState | None, arrival: Arrival, is_file: bool = True) -> bool:
    """Whether a message in the passive flow *state* belongs to the user's live chat or to the ticket it replies
    about rather than to the flow."""
    if state is None or state.name not in PASSIVE_FLOWS:
        return False
    return arrival.live_role is not None or (is_file and arrival.replied_ticket is not None)


def route(state: FlowState | None) -> Route | None:
    """Where a message sent in *state* goes; None outside any flow (or in a flow this version does not know)."""
    if state is None:
        return None
    return ROUTES.get((state.name, state.step)) or ROUTES.get((state.name, None))


async def on_text(update: Update, context: HelpdeskContext) -> None:
    """Free text: the current flow's input, a message in a live chat, or a question for the knowledge base."""
    arrival = await arrive(update, context, update.effective_message.text if update.effective_message else None)
    user, state = arrival.user, arrival.flow
    to = route(state)
    if arrival.answered is not None:  # a question, answered on arrival (the common case)
        await questions.send_reply(update, context, arrival.answered)
    elif to is not None and state is not None and not _elsewhere(state, arrival):  # in a flow: its step takes it
        await to.text(update, context, user, state)
    elif arrival.replied_ticket is not None:  # a Telegram reply to a message about their ticket
        await tickets.add_replied(update, context, user, arrival.replied_ticket)
    elif arrival.live_role is not None and await live.route_live(update, context, user, arrival.live_role):
        return
    elif arrival.offer_ticket is None or not await tickets.offer_text(update, context, user, arrival.offer_ticket):
        await questions.question(update, context, user)


async def on_media(update: Update, context: HelpdeskContext) -> None:
    """Photos, documents and other media: accepted where a flow takes them, politely declined elsewhere."""
    arrival = await arrive(update, context)
    user, state = arrival.user, arrival.flow
    to, is_file = route(state), _is_file(update)
    if to is not None and state is not None and not _elsewhere(state, arrival, is_file):
        await to.media(update, context, user, state)
    elif is_file and arrival.replied_ticket is not None:  # a Telegram reply to a message about their ticket
        await tickets.add_replied(update, context, user, arrival.replied_ticket)
    elif is_file and arrival.live_role is not None and await live.route_live(update, context, user, arrival.live_role):
        return
    elif arrival.live_role is not None:
        _ = tr(user.lang).gettext
        await reply_text(update, context, _("Only text, photos and documents can be passed on in a live chat."))
    elif not is_file or not await tickets.offer_file(update, context, user):  # a file: which open ticket?
        await questions.unsupported(update, context)


async def cancel(update: Update, context: HelpdeskContext) -> None:
    """/cancel: leave whatever the user is in the middle of: a flow, else a live chat or the queue."""
    user = await meet(update, context)
    _ = tr(user.lang).gettext
    state = await core(context, context.services.flows.clear, user.id)
    if (state is None or state.name in PASSIVE_FLOWS) and await live.cancel_live(update, context, user):
        return  # the queue or a live chat (a checklist left open is closed with it)
    to = route(state)
    if state is not None and to is not None and to.cancelled is not None:
        text = to.cancelled(state, user.lang)
    else:
        text = _("Cancelled. You can ask a question any time.") if state else _("There is nothing to cancel.")
    await reply_text(update, context, text)
