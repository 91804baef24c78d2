"""/checklist: the materials checklist's button questions, the list, and "Ask staff to check my materials".

The core is ``bot.desk.outreach.checklist`` (the answers live in the user's flow); every button is one handler,
``button``. A button of another step (an older message) shows the step the user is at; outside the checklist
it has expired.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update

from bot.answering.helpdesk import UserView
from bot.answering.text import Lang
from bot.desk.flows import FlowState
from bot.desk.outreach.checklist import Question, Standing, Step, checklist_text
from bot.desk.ticket_texts import filed_text
from bot.desk.tickets.common import TicketView
from handlers import callback_data as cd
from handlers import questions, tickets
from handlers.callback_data import Button
from handlers.common import answer_query, drop_keyboard, expired, meet, reply_text, tr
from handlers.context import HelpdeskContext, core
from handlers.notify import deliver
from handlers.render import html_chunks, keyboard

ROW_OF = {Step.CATEGORY: 3, Step.WHERE: 2}
"""Choices side by side (short labels); the others one a row."""


def _question_markup(question: Question, lang: Lang) -> InlineKeyboardMarkup:
    _ = tr(lang).gettext
    per_row = ROW_OF.get(question.step, 1)
    buttons = [(label, cd.make(Button.CHECKLIST_ANSWER, question.step, value)) for value, label in question.choices]
    rows = [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
    last = [(_("Cancel"), cd.make(Button.CHECKLIST_CANCEL))]
    if question.number > 0:
        last.insert(0, (_("« Back"), cd.make(Button.CHECKLIST_BACK, question.step)))
    return keyboard([*rows, last])


def _done_markup(lang: Lang) -> InlineKeyboardMarkup:
    _ = tr(lang).gettext
    return keyboard(
        [
            [(_("Ask staff to check my materials"), cd.make(Button.CHECKLIST_ASK_STAFF))],
            [
                (_("« Back"), cd.make(Button.CHECKLIST_BACK, Step.DONE)),
                (_("Start again"), cd.make(Button.CHECKLIST_RESTART)),
                (_("Close the checklist"), cd.make(Button.CHECKLIST_CANCEL)),
            ],
        ]
    )


async def show(update: Update, context: HelpdeskContext, user: UserView, standing: Standing) -> None:
    """The question waiting (with its choices, Back and Cancel) or the finished checklist."""
    _ = tr(user.lang).gettext
    intro = _("You are at this step of the checklist:") + "\n" if standing.stale else ""
    if standing.question is not None:
        question = standing.question
        step = _("Question {number} of {total}").format(number=question.number + 1, total=question.total)
        text = f"{intro}{step}\n{question.text}" if question.number else f"{intro}{question.text}"
        await reply_text(update, context, text, _question_markup(question, user.lang))
    elif standing.checklist is not None:  # plain text: reply_text escapes it (once: "R&D" stays "R&D")
        body = intro + checklist_text(standing.checklist, user.lang)
        await reply_text(update, context, body, _done_markup(user.lang))


async def checklist_command(update: Update, context: HelpdeskContext) -> None:
    """/checklist: start the questions (again)."""
    user = await meet(update, context)
    desk = context.services.checklists
    if not desk.available:
        await reply_text(update, context, tr(user.lang).gettext("The materials checklist is not available here."))
        return
    _ = tr(user.lang).gettext
    await reply_text(
        update,
        context,
        _(
            "A few questions, then the list of documents to hand in, with its sources and the local rules that "
            "apply. Staff can check your materials afterwards."
        ),
    )
    standing = await core(context, desk.start, user.id, user.lang, context.now())
    await show(update, context, user, standing)


async def _filed(update: Update, context: HelpdeskContext, user: UserView, ticket: TicketView) -> None:
    """The help request's confirmation, with a button to add photos and documents of the materials to it."""
    _ = tr(user.lang).gettext
    text = (
        filed_text(ticket, user.lang)
        + "\n\n"
        + _(
            "Add photos or scans of your materials with the button below (or just send them to me and choose this "
            "ticket). Please do not send passport numbers in text."
        )
    )
    markup = keyboard(
        [
            [(_("Add documents"), cd.make(Button.MY_TICKET_MESSAGE, ticket.id))],
            [(_("My tickets"), cd.make(Button.MY_TICKETS))],
        ]
    )
    await tickets.send_about_ticket(update, context, ticket.id, html_chunks(text), markup)


async def button(update: Update, context: HelpdeskContext) -> None:
    """Every checklist button: an answer, Back, Cancel, Start again, Ask staff."""
    user = await meet(update, context)
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    desk = context.services.checklists
    _ = tr(user.lang).gettext
    if data is None or not desk.available:
        await expired(update, user.lang)
        return
    now = context.now()
    standing: Standing | None
    if data.action == Button.CHECKLIST_ANSWER and len(data.args) == 2:
        standing = await core(context, desk.answer, user.id, data.args[0], data.args[1], user.lang, now)
    elif data.action == Button.CHECKLIST_BACK and len(data.args) == 1:
        standing = await core(context, desk.back, user.id, data.args[0], user.lang, now)
    elif data.action == Button.CHECKLIST_RESTART and not data.args:
        standing = await core(context, desk.start, user.id, user.lang, now)
    elif data.action == Button.CHECKLIST_CANCEL and not data.args:
        left = await core(context, desk.cancel, user.id)
        await answer_query(update)
        await drop_keyboard(update)
        if left:
            await reply_text(update, context, _("Checklist closed. /checklist starts it again."))
        return
    elif data.action == Button.CHECKLIST_ASK_STAFF and not data.args:
        filed = await core(context, desk.request_check, user.id, user.lang, now)
        if filed is None:
            await expired(update, user.lang)
            return
        ticket, notices = filed
        await answer_query(update)
        await drop_keyboard(update)
        await _filed(update, context, user, ticket)
        await deliver(context, notices)  # staff on duty: a help request has arrived
        return
    else:
        standing = None
    if standing is None:
        await expired(update, user.lang)
        return
    await answer_query(update)
    await drop_keyboard(update)
    await show(update, context, user, standing)


async def text_input(update: Update, context: HelpdeskContext, user: UserView, state: FlowState) -> None:
    """Text while the checklist waits for a button: a question, answered as outside a flow (the checklist waits)."""
    await questions.question(update, context, user)


async def media_input(update: Update, context: HelpdeskContext, user: UserView, state: FlowState) -> None:
    """A photo or document while the checklist waits: offered to an open ticket, as outside a flow."""
    message = update.effective_message
    is_file = message is not None and bool(message.photo or message.document)
    if not is_file or not await tickets.offer_file(update, context, user):
        await questions.unsupported(update, context)
