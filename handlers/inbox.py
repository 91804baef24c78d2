"""Where a user's message goes: the flow they are in decides, else it is a question."""

from __future__ import annotations

from telegram import Update

from bot.desk.tickets import FLOW as FILING_FLOW
from bot.desk.tickets import Filing
from handlers import live, questions, staff, tickets
from handlers.common import arrive, meet, reply_text, tr
from handlers.context import HelpdeskContext, core

FLOW_NAMES = {FILING_FLOW, tickets.MESSAGE_FLOW, staff.INPUT_FLOW, "rating_comment"}


async def on_text(update: Update, context: HelpdeskContext) -> None:
    """Free text: the current flow's input, a message in a live chat, or a question for the knowledge base."""
    arrival = await arrive(update, context, update.effective_message.text if update.effective_message else None)
    user, state = arrival.user, arrival.flow
    if arrival.answered is not None:  # a question, answered on arrival (the common case)
        await questions.send_reply(update, context, arrival.answered)
    elif state is not None and state.name == staff.INPUT_FLOW:
        await staff.staff_input(update, context, user, state)
    elif state is not None and state.name == FILING_FLOW:
        if state.step in ("description", "contact", "reference"):
            await tickets.filing_text(update, context, user)
        else:  # text while buttons are expected: say so and show the step again
            _ = tr(user.lang).gettext
            await reply_text(
                update,
                context,
                _("You are filing a ticket. Please use the buttons, or /cancel to stop and ask a question instead."),
            )
            await tickets.show_filing(update, context, user, Filing.of(state))
    elif state is not None and state.name == tickets.MESSAGE_FLOW:
        await tickets.ticket_message_input(update, context, user, state)
    elif state is not None and state.name == "rating_comment":
        await tickets.comment_input(update, context, user)
    elif arrival.live_role is None or not await live.route_live(update, context, user, arrival.live_role):
        await questions.question(update, context, user)


async def on_media(update: Update, context: HelpdeskContext) -> None:
    """Photos, documents and other media: accepted where a flow takes them, politely declined elsewhere."""
    arrival = await arrive(update, context)
    user, state = arrival.user, arrival.flow
    message = update.effective_message
    assert message is not None
    is_file = bool(message.photo or message.document)
    if state is not None and state.name == tickets.MESSAGE_FLOW and is_file:
        await tickets.ticket_message_input(update, context, user, state)
    elif state is not None and state.name == staff.INPUT_FLOW and state.step == "reply" and is_file:
        await staff.staff_input(update, context, user, state)
    elif state is not None and state.name == FILING_FLOW:
        _ = tr(user.lang).gettext
        text = _(
            "Please describe the matter in text first. Once the ticket is filed you can add photos and "
            "documents to it from /mytickets."
        )
        await reply_text(update, context, text)
    elif state is not None and state.name in FLOW_NAMES:
        _ = tr(user.lang).gettext
        await reply_text(
            update,
            context,
            _("Sorry, I can't take that kind of message here. Please send text, a photo or a document."),
        )
    elif is_file and arrival.live_role is not None and await live.route_live(update, context, user, arrival.live_role):
        return
    elif arrival.live_role is not None:
        _ = tr(user.lang).gettext
        await reply_text(update, context, _("Only text, photos and documents can be passed on in a live chat."))
    else:
        await questions.unsupported(update, context)


async def cancel(update: Update, context: HelpdeskContext) -> None:
    """/cancel: leave whatever the user is in the middle of: a flow, else a live chat or the queue."""
    user = await meet(update, context)
    _ = tr(user.lang).gettext
    state = await core(context.services.flows.clear, user.id)
    if state is None and await live.cancel_live(update, context, user):
        return
    text = _("Cancelled. You can ask a question any time.") if state else _("There is nothing to cancel.")
    await reply_text(update, context, text)
