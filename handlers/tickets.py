"""Applicants' side of tickets: filing (/ticket), /mytickets, messages, closing, reopening, rating.

A message reaches a ticket without its "Add a message" button too: as a Telegram reply to a message the bot
sent about the ticket (``send_about_ticket`` records those), or by the user's choice when the bot asks
(free text after a staff reply, a photo or document sent outside any flow: ``offer_text``, ``offer_file``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import Forbidden

from bot.answering.helpdesk import UserView
from bot.answering.text import Lang
from bot.desk.flows import FilingStep, FlowName, FlowState, TicketMessageStep
from bot.desk.ratings import LEVEL_LABELS
from bot.desk.ticket_texts import filed_text, ticket_detail, ticket_summary
from bot.desk.tickets.common import KIND_LABELS, KINDS, TicketView
from bot.desk.tickets.filing import Filing
from bot.desk.tickets.owners import AddOffer, Pending
from bot.error_texts import error_text
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound, Reason
from bot.i18n import N_
from bot.store.statuses import TicketStatus
from handlers import callback_data as cd
from handlers import questions
from handlers.callback_data import Button
from handlers.common import (
    answer_query,
    drop_keyboard,
    expired,
    meet,
    refused,
    reply_html,
    reply_text,
    send_messages,
    tr,
)
from handlers.context import HelpdeskContext, core
from handlers.notify import deliver
from handlers.render import MESSAGE_LIMIT, html_chunks, keyboard, utf16_len


async def send_about_ticket(
    update: Update,
    context: HelpdeskContext,
    ticket_id: int,
    chunks: Sequence[str] | str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Send HTML about the user's ticket *ticket_id* to their chat, and remember the messages: a Telegram
    reply to any of them goes to that ticket (``OwnTickets.link``)."""
    chat = update.effective_chat
    assert chat is not None
    try:
        sent = await send_messages(context.bot, chat.id, chunks, markup)
    except Forbidden:
        await core(context, context.helpdesk.mark_blocked, chat.id, context.now())
        return
    await core(context, context.services.own_tickets.link, chat.id, [m.message_id for m in sent], ticket_id)


def _kind_keyboard(lang: Lang) -> InlineKeyboardMarkup:
    _ = tr(lang).gettext
    rows = [[(_(KIND_LABELS[k]), cd.make(Button.FILING_KIND, k))] for k in KINDS]
    rows.append([(_("Cancel"), cd.make(Button.FILING_CANCEL))])
    return keyboard(rows)


SUMMARY_DESCRIPTION = 3400
"""UTF-16 code units of the description shown in the summary: the rest of it must fit Telegram's 4096."""


def clip_utf16(text: str, units: int) -> str:
    """*text* cut to *units* UTF-16 code units (Telegram's measure: an emoji counts 2), "…" marking a cut."""
    if len(text.encode("utf-16-le")) // 2 <= units:
        return text
    kept: list[str] = []
    used = 0
    for char in text:
        used += 2 if ord(char) > 0xFFFF else 1
        if used > units - 1:
            break
        kept.append(char)
    return "".join(kept) + "…"


def filing_prompt(filing: Filing, lang: Lang, limit: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """The message for the filing step the user is at (HTML)."""
    _ = tr(lang).gettext
    # "Skip" names its step: a Skip left on an earlier question must not skip the current one.
    skip_cancel = keyboard(
        [[(_("Skip"), cd.make(Button.FILING_SKIP, filing.step)), (_("Cancel"), cd.make(Button.FILING_CANCEL))]]
    )
    if filing.step == FilingStep.KIND:
        return escape(_("What kind of ticket is it?"), quote=False), _kind_keyboard(lang)
    if filing.step == FilingStep.DESCRIPTION:
        return escape(
            _(
                "Please describe the matter in one message (at most {limit} characters). "
                "You can add documents or photos after filing."
            ).format(limit=limit),
            quote=False,
        ), keyboard([[(_("Cancel"), cd.make(Button.FILING_CANCEL))]])
    if filing.step == FilingStep.CONTACT:
        return escape(
            _("Optional: a phone number or e-mail address where staff can reach you."), quote=False
        ), skip_cancel
    if filing.step == FilingStep.REFERENCE:
        return escape(_("Optional: your application or permit number, if you have one."), quote=False), skip_cancel
    lines = [
        "<b>" + escape(_("Please check your ticket:"), quote=False) + "</b>",
        escape(_("Type: {kind}").format(kind=_(KIND_LABELS[filing.kind]) if filing.kind else ""), quote=False),
        escape(
            _("Description: {text}").format(text=clip_utf16(filing.description or "", SUMMARY_DESCRIPTION)), quote=False
        ),
        escape(_("Contact: {contact}").format(contact=filing.contact or _("none")), quote=False),
        escape(
            _("Application/permit number: {reference}").format(reference=filing.reference or _("none")), quote=False
        ),
    ]
    markup = keyboard(
        [
            [(_("✅ Submit"), cd.make(Button.FILING_SUBMIT))],
            [(_("Start over"), cd.make(Button.FILING_RESTART)), (_("Cancel"), cd.make(Button.FILING_CANCEL))],
        ]
    )
    return "\n".join(lines), markup


async def show_filing(update: Update, context: HelpdeskContext, user: UserView, filing: Filing) -> None:
    """Send the prompt for the user's current filing step."""
    text, markup = filing_prompt(filing, user.lang, context.services.filing.policy.max_description)
    await reply_html(update, context, text, markup)


async def ticket_command(update: Update, context: HelpdeskContext) -> None:
    """/ticket: start filing."""
    user = await meet(update, context)
    filing = await core(context, context.services.filing.start_filing, user.id, context.now())
    await show_filing(update, context, user, filing)


async def new_ticket_button(update: Update, context: HelpdeskContext) -> None:
    """ "File a ticket" under an answer."""
    user = await meet(update, context)
    await answer_query(update)
    filing = await core(context, context.services.filing.start_filing, user.id, context.now())
    await show_filing(update, context, user, filing)


STEP_NAMES: Mapping[str, str] = {
    FilingStep.KIND: N_("ticket type"),
    FilingStep.DESCRIPTION: N_("description"),
    FilingStep.CONTACT: N_("contact"),
    FilingStep.REFERENCE: N_("application/permit number"),
    FilingStep.CONFIRM: N_("check and submit"),
}
"""Each filing step's name, for telling the user where they are."""


def at_this_step(filing: Filing, data: cd.Data) -> bool:
    """Whether the type, skip or submit button *data* belongs to the step *filing* waits at."""
    if data.action == Button.FILING_KIND:
        return filing.step == FilingStep.KIND
    if data.action == Button.FILING_SKIP:
        return filing.step == data.args[0]  # "Skip" names its step
    return filing.step == FilingStep.CONFIRM


async def show_filed(update: Update, context: HelpdeskContext, user: UserView, ticket: TicketView) -> None:
    """The confirmation of a filed ticket: its number and due date."""
    _ = tr(user.lang).gettext
    markup = keyboard([[(_("My tickets"), cd.make(Button.MY_TICKETS))]])
    await send_about_ticket(update, context, ticket.id, html_chunks(filed_text(ticket, user.lang)), markup)


async def show_filing_again(update: Update, context: HelpdeskContext, user: UserView, filing: Filing) -> None:
    """Say which step the user is at, with that step's prompt and buttons (an earlier step's button was pressed)."""
    _ = tr(user.lang).gettext
    name = STEP_NAMES.get(filing.step)
    intro = _("You are at the step: {step}. Here it is again:").format(step=_(name) if name else filing.step)
    intro = escape(intro, quote=False)
    text, markup = filing_prompt(filing, user.lang, context.services.filing.policy.max_description)
    fits = utf16_len(intro) + 2 + utf16_len(text) <= MESSAGE_LIMIT  # a long summary: the prompt on its own
    await reply_html(update, context, [intro + "\n\n" + text] if fits else [intro, text], markup)


async def filing_button(update: Update, context: HelpdeskContext) -> None:
    """Buttons of the filing flow: type, skip, submit, start over, cancel.

    A button of an earlier step (pressed again when the next question was lost) shows the step the user is
    at; a button of a filing already done shows the ticket filed, for ``RECENTLY_FILED`` after filing.
    """
    user = await meet(update, context)
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    desk = context.services.filing
    _ = tr(user.lang).gettext
    if data is None:
        await expired(update, user.lang)
        return
    if data.action == Button.FILING_RESTART:
        filing = await core(context, desk.start_filing, user.id, context.now())
        await answer_query(update)
        await drop_keyboard(update)
        await show_filing(update, context, user, filing)
        return
    stepwise = data.action == Button.FILING_SUBMIT or (
        data.action in (Button.FILING_KIND, Button.FILING_SKIP) and len(data.args) == 1
    )
    if not stepwise and data.action != Button.FILING_CANCEL:
        await expired(update, user.lang)
        return
    standing = await core(context, desk.standing, user.id, context.now())
    if standing.filing is None and standing.filed is not None:  # done: its confirmation may have been lost
        await answer_query(update)
        await drop_keyboard(update)
        await show_filed(update, context, user, standing.filed)
        return
    if data.action == Button.FILING_CANCEL:
        await core(context, desk.flows.clear, user.id)
        await answer_query(update)
        await drop_keyboard(update)
        await reply_text(update, context, _("Cancelled. Nothing was filed."))
        return
    if standing.filing is None:
        await expired(update, user.lang)
        return
    if not at_this_step(standing.filing, data):  # an earlier step's button: its next question may have been lost
        await answer_query(update)
        await drop_keyboard(update)
        await show_filing_again(update, context, user, standing.filing)
        return
    try:
        if data.action == Button.FILING_KIND:
            filing = await core(context, desk.choose_kind, user.id, data.args[0], context.now())
        elif data.action == Button.FILING_SKIP:
            filing = await core(context, desk.skip, user.id, context.now())
        else:
            ticket, arrived = await core(context, desk.submit, user.id, user.lang, context.now())
            await answer_query(update)
            await drop_keyboard(update)
            await show_filed(update, context, user, ticket)
            await deliver(context, arrived)  # staff on duty: a ticket has arrived
            return
    except (NotFound, InvalidInput):  # a forged type, or the filing changed meanwhile
        await expired(update, user.lang)
        return
    await answer_query(update)
    await drop_keyboard(update)
    await show_filing(update, context, user, filing)


async def filing_text(update: Update, context: HelpdeskContext, user: UserView) -> None:
    """Typed text while filing."""
    message = update.effective_message
    assert message is not None
    try:
        filing = await core(context, context.services.filing.give_text, user.id, message.text or "", context.now())
    except InvalidInput as exc:
        await reply_text(update, context, error_text(exc, user.lang))
        return
    await show_filing(update, context, user, filing)


async def my_tickets(update: Update, context: HelpdeskContext) -> None:
    """/mytickets: the user's tickets with buttons to open them."""
    user = await meet(update, context)
    await answer_query(update)
    _ = tr(user.lang).gettext
    tickets = await core(context, context.services.own_tickets.mine, user.id)
    if not tickets:
        await reply_text(update, context, _("You have no tickets. /ticket files one."))
        return
    rows = [[(ticket_summary(t, user.lang), cd.make(Button.MY_TICKET, t.id))] for t in tickets]
    await reply_text(update, context, _("Your tickets:"), keyboard(rows))


def ticket_detail_html(ticket: TicketView, lang: Lang, as_staff: bool = False) -> list[str]:
    """A ticket with its conversation, as HTML messages under the limit."""
    return html_chunks(ticket_detail(ticket, lang, as_staff))


async def open_my_ticket(update: Update, context: HelpdeskContext) -> None:
    """A ticket button in /mytickets: details and what the user can do."""
    user = await meet(update, context)
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    ticket_id = data.int_arg(0) if data else None
    if ticket_id is None:
        await expired(update, user.lang)
        return
    try:
        ticket = await core(context, context.services.own_tickets.get, user.id, ticket_id)
    except NotFound:
        await expired(update, user.lang)
        return
    await answer_query(update)
    _ = tr(user.lang).gettext
    if ticket.status == TicketStatus.CLOSED:
        rows = [[(_("Reopen"), cd.make(Button.MY_TICKET_REOPEN, ticket.id))]]
    else:
        rows = [
            [
                (_("Add a message"), cd.make(Button.MY_TICKET_MESSAGE, ticket.id)),
                (_("Close ticket"), cd.make(Button.MY_TICKET_CLOSE, ticket.id)),
            ]
        ]
    await send_about_ticket(update, context, ticket.id, ticket_detail_html(ticket, user.lang), keyboard(rows))


async def own_ticket_action(update: Update, context: HelpdeskContext) -> None:
    """Add a message to / close / reopen one's own ticket."""
    user = await meet(update, context)
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    ticket_id = data.int_arg(0) if data else None
    desk = context.services.own_tickets
    _ = tr(user.lang).gettext
    if data is None or ticket_id is None:
        await expired(update, user.lang)
        return
    try:
        ticket = await core(context, desk.get, user.id, ticket_id)
        if ticket.user_id != user.id:
            raise NotFound(Reason.TICKET)
        if data.action == Button.MY_TICKET_MESSAGE:
            if ticket.status == TicketStatus.CLOSED:
                raise Conflict(Reason.TICKET_CLOSED)
            await core(
                context,
                context.services.flows.set,
                user.id,
                FlowState(FlowName.TICKET_MESSAGE, "message", {"ticket": ticket.id}),
                context.now(),
            )
            text = _("Send your message for ticket {number}: text, a photo or a document. /cancel to stop.").format(
                number=ticket.number
            )
        elif data.action == Button.MY_TICKET_CLOSE:
            ticket = await core(context, desk.close_own, user.id, ticket.id, context.now())
            text = _("Ticket {number} is closed. Thank you!").format(number=ticket.number)
        else:
            ticket, notices = await core(context, desk.reopen_own, user.id, ticket.id, context.now())
            await deliver(context, notices)
            text = _("Ticket {number} is open again. Add a message to tell us what is missing.").format(
                number=ticket.number
            )
    except NotFound:
        await expired(update, user.lang)
        return
    except (Conflict, NotAllowed) as exc:
        await answer_query(update, error_text(exc, user.lang), alert=True)
        return
    await answer_query(update)
    await send_about_ticket(update, context, ticket.id, html_chunks(text))


def attachment_of(message: Message) -> tuple[str | None, str | None, str | None]:
    """(file_id, kind, file name) of a photo or document message, else Nones."""
    if message.photo:
        return message.photo[-1].file_id, "photo", None
    if message.document:
        return message.document.file_id, "document", message.document.file_name
    return None, None, None


def pending_of(message: Message) -> Pending:
    """The message as it would be kept or added to a ticket: its text or caption, and its photo or document."""
    file_id, file_kind, file_name = attachment_of(message)
    return Pending(message.text or message.caption or "", file_id, file_kind, file_name)


async def _add_to_ticket(update: Update, context: HelpdeskContext, user: UserView, ticket_id: int) -> bool | None:
    """Add the message (text, photo, document) to the user's ticket and confirm it. True when added; False
    when refused for what it is (too long, empty, the ticket closed: the user was told); None when the
    ticket is not theirs or gone (told too)."""
    message = update.effective_message
    assert message is not None
    item = pending_of(message)
    if item.file_id is None and not message.text:
        await reply_text(
            update, context, tr(user.lang).gettext("Only text, photos and documents can be added to a ticket.")
        )
        return False
    try:
        ticket, notices = await core(
            context,
            context.services.own_tickets.add_user_message,
            user.id,
            ticket_id,
            context.now(),
            item.text,
            item.file_id,
            item.file_kind,
            item.file_name,
        )
    except (InvalidInput, Conflict) as exc:
        await reply_text(update, context, error_text(exc, user.lang))
        return False
    except NotFound:
        await reply_text(update, context, error_text(NotFound(Reason.TICKET), user.lang))
        return None
    await deliver(context, notices)
    text = tr(user.lang).gettext("Added to ticket {number}.").format(number=ticket.number)
    await send_about_ticket(update, context, ticket.id, html_chunks(text))
    return True


async def ticket_message_input(update: Update, context: HelpdeskContext, user: UserView, state: FlowState) -> None:
    """The user's message (text, photo, document) for their ticket, after its "Add a message" or "Reply"."""
    added = await _add_to_ticket(update, context, user, int(state.data["ticket"]))
    if added is not False:  # added, or the ticket is gone: the flow is done
        await core(context, context.services.flows.clear, user.id)


async def add_replied(update: Update, context: HelpdeskContext, user: UserView, ticket_id: int) -> None:
    """A Telegram reply to a message the bot sent about the user's open ticket: the message goes to it."""
    await _add_to_ticket(update, context, user, ticket_id)


# ----- messages kept until the user says which ticket they are for -----------------------------------------
def _offer_message(offer: AddOffer, lang: Lang) -> tuple[str, InlineKeyboardMarkup]:
    """The question for a kept message (HTML) and its buttons: add to a ticket, or not."""
    _ = tr(lang).gettext
    count = len(offer.pending)
    marker = "t" if offer.step == TicketMessageStep.ADD_TEXT else "f"
    adds = [
        [(_("➕ Add to {number}").format(number=n), cd.make(Button.ADD_TO_TICKET, t, marker))] for t, n in offer.tickets
    ]
    if offer.step == TicketMessageStep.ADD_TEXT:
        number = offer.tickets[0][1] if offer.tickets else ""
        text = (
            _("Is this message for your ticket {number}? I can add it to the ticket, so the helpdesk reads it.")
            if count == 1
            else _("Are these {count} messages for your ticket {number}? I can add them to the ticket.")
        ).format(number=number, count=count)
        decline = _("No, it's a new question")
    else:
        text = (
            _("Shall I add this file to one of your open tickets?")
            if count == 1
            else _("Shall I add these {count} files to one of your open tickets?")
        ).format(count=count)
        decline = _("Cancel")
    return escape(text, quote=False), keyboard([*adds, [(decline, cd.make(Button.ADD_DECLINE, marker))]])


async def _show_offer(
    update: Update, context: HelpdeskContext, user: UserView, offer: AddOffer, intro: str = ""
) -> None:
    text, markup = _offer_message(offer, user.lang)
    await reply_html(update, context, (escape(intro, quote=False) + "\n\n" if intro else "") + text, markup)


async def offer_text(update: Update, context: HelpdeskContext, user: UserView, ticket_id: int) -> bool:
    """Free text after staff answered the user's ticket, which the knowledge base does not clearly answer:
    kept, and the user asked whether it is for the ticket. False when it cannot be kept (then it is a
    question)."""
    message = update.effective_message
    assert message is not None
    offer = await core(
        context, context.services.own_tickets.offer_text, user.id, ticket_id, message.text or "", context.now()
    )
    if offer is None:
        return False
    await _show_offer(update, context, user, offer)
    return True


async def offer_file(update: Update, context: HelpdeskContext, user: UserView) -> bool:
    """A photo or document outside any flow: kept, and the user asked which open ticket it is for. False
    when they have no open ticket."""
    message = update.effective_message
    assert message is not None
    offer = await core(context, context.services.own_tickets.offer_file, user.id, pending_of(message), context.now())
    if offer is None:
        return False
    await _show_offer(update, context, user, offer)
    return True


async def keep_pending(update: Update, context: HelpdeskContext, user: UserView, state: FlowState) -> None:
    """Another message while the user is asked (more text; the next photo of an album): kept with the others,
    and the question asked again with the count. A message of the other kind, or one too many, is not kept:
    the user is asked to answer first."""
    message = update.effective_message
    assert message is not None
    item = pending_of(message)
    wanted_file = state.step == TicketMessageStep.ADD_FILE
    offer: AddOffer | None = None
    if (item.file_id is not None) == wanted_file and (item.file_id is not None or message.text):
        try:
            offer = await core(context, context.services.own_tickets.keep, user.id, item, context.now())
        except InvalidInput as exc:
            await reply_text(update, context, error_text(exc, user.lang))
            return
    if offer is not None:
        await _show_offer(update, context, user, offer)
        return
    current = await core(context, context.services.own_tickets.current_offer, user.id)
    if current is not None:
        intro = tr(user.lang).gettext("Please answer this first (or /cancel), then send that again.")
        await _show_offer(update, context, user, current, intro)
    elif message.text:  # the offer ended meanwhile: the message is what it would have been without it
        await questions.question(update, context, user)
    else:
        await questions.unsupported(update, context)


async def offer_button(update: Update, context: HelpdeskContext) -> None:
    """ "Add to T…" or "No, it's a new question" / "Cancel" under a kept message."""
    user = await meet(update, context)
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    desk = context.services.own_tickets
    _ = tr(user.lang).gettext
    if data is None or not data.args or data.args[-1] not in ("t", "f"):
        await expired(update, user.lang)
        return
    current = await core(context, desk.current_offer, user.id)
    wanted = TicketMessageStep.ADD_TEXT if data.args[-1] == "t" else TicketMessageStep.ADD_FILE
    if current is None or current.step != wanted:  # already chosen, or another offer since
        await expired(update, user.lang)
        return
    if data.action == Button.ADD_TO_TICKET:
        ticket_id = data.int_arg(0)
        try:
            if ticket_id is None:
                raise NotFound(Reason.TICKET)
            ticket, notices, count = await core(context, desk.add_pending, user.id, ticket_id, context.now())
        except (NotFound, Conflict) as exc:  # gone, or closed meanwhile
            await refused(update, user.lang, exc)
            return
        await answer_query(update)
        await drop_keyboard(update)
        await deliver(context, notices)
        text = (
            _("Added to ticket {number}.") if count == 1 else _("Added {count} messages to ticket {number}.")
        ).format(number=ticket.number, count=count)
        await send_about_ticket(update, context, ticket.id, html_chunks(text))
        return
    try:
        dropped = await core(context, desk.drop_pending, user.id)
    except NotFound:
        await expired(update, user.lang)
        return
    await answer_query(update)
    await drop_keyboard(update)
    if not dropped.texts:
        await reply_text(update, context, _("All right, nothing was added."))
    for text in dropped.texts:  # not for the ticket: each is a question
        await questions.answer_text(update, context, user, text)


async def rate_button(update: Update, context: HelpdeskContext) -> None:
    """A 好差评 level button."""
    user = await meet(update, context)
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    service = {"t": "ticket", "s": "session"}.get(data.args[0]) if data and len(data.args) == 3 else None
    service_id = data.int_arg(1) if data else None
    level = data.int_arg(2) if data else None
    _ = tr(user.lang).gettext
    if service is None or service_id is None or level is None or level not in LEVEL_LABELS:
        await expired(update, user.lang)
        return
    try:
        view, notices = await core(
            context, context.services.ratings.rate, user.id, service, service_id, level, context.now()
        )
    except NotFound:
        await expired(update, user.lang)
        return
    except (Conflict, InvalidInput) as exc:
        await answer_query(update, error_text(exc, user.lang), alert=True)
        await drop_keyboard(update)
        return
    await answer_query(update, _("Thank you for rating!"))
    await drop_keyboard(update)
    await deliver(context, notices)
    if view.bad:
        text = _(
            "We are sorry. A supervisor will follow up with you. If you like, tell us in one message what went wrong."
        )
        await reply_text(update, context, text, keyboard([[(_("Skip"), cd.make(Button.RATE_SKIP_COMMENT))]]))
    else:
        await reply_text(
            update,
            context,
            _("Thank you for your rating: {level}.").format(level=_(LEVEL_LABELS[level])),
        )


async def skip_comment(update: Update, context: HelpdeskContext) -> None:
    """No comment after a bad rating."""
    user = await meet(update, context)
    await core(context, context.services.ratings.skip_comment, user.id)
    await answer_query(update)
    await drop_keyboard(update)
    await reply_text(update, context, tr(user.lang).gettext("Thank you."))


async def comment_input(update: Update, context: HelpdeskContext, user: UserView) -> None:
    """The comment after a bad rating."""
    message = update.effective_message
    assert message is not None
    try:
        _view, notices = await core(
            context, context.services.ratings.comment, user.id, message.text or "", context.now()
        )
    except (InvalidInput, NotFound) as exc:
        await reply_text(update, context, error_text(exc, user.lang))
        return
    await deliver(context, notices)
    await reply_text(
        update,
        context,
        tr(user.lang).gettext("Thank you. Your comment has been passed to a supervisor."),
    )
