"""Staff side of tickets: /tickets, /t, actions on a ticket, and /staff for supervisors.

Every command and button here is refused to non-staff with a clear message (``NotAllowed``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from html import escape

from telegram import InlineKeyboardMarkup, Update
from telegram.error import Forbidden

from bot.answering.helpdesk import UserView
from bot.answering.text import Lang
from bot.desk.flows import FlowName, FlowState, StaffStep
from bot.desk.staff import ROLE_LABELS, STAFF_ROLES, StaffView, parse_role, shown_name
from bot.desk.ticket_texts import attachment_label, ticket_summary
from bot.desk.tickets.common import KIND_LABELS, KINDS, STATUS_LABELS, TicketView
from bot.desk.tickets.work import LIST_FILTERS
from bot.error_texts import error_text
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound, Reason
from bot.i18n import N_
from bot.notices import Notice
from bot.numbers import parse_user_id
from bot.store.statuses import TicketKind, TicketStatus
from handlers import callback_data as cd
from handlers.callback_data import Button
from handlers.common import answer_query, drop_keyboard, expired, meet, refused, reply_text, send_file, send_html, tr
from handlers.context import HelpdeskContext, core
from handlers.notify import deliver
from handlers.render import handed_back_text, keyboard
from handlers.tickets import attachment_of, ticket_detail_html


async def require_staff(
    update: Update, context: HelpdeskContext, supervisor: bool = False
) -> tuple[UserView, StaffView | None]:
    user = await meet(update, context)
    try:
        member = await core(context, context.services.staff.require, user.id, supervisor)
    except NotAllowed as exc:
        text = error_text(exc, user.lang)
        if update.callback_query is not None:
            await answer_query(update, text, alert=True)
        else:
            await reply_text(update, context, text)
        return user, None
    return user, member


MAX_FILE_BUTTONS = 80
"""Attachments with a button in the staff view: Telegram takes at most 100 buttons under a message."""
FILES_PER_ROW = 4


def _file_rows(ticket: TicketView, lang: Lang) -> list[list[tuple[str, str]]]:
    """A button per photo or document of the ticket (the latest ``MAX_FILE_BUTTONS``), numbered as in the
    view; pressed, it sends that file to the member of staff (``file_button``)."""
    numbered = list(enumerate(ticket.attachments, 1))[-MAX_FILE_BUTTONS:]
    buttons = [
        (attachment_label(n, m.file_kind, lang), cd.make(Button.STAFF_FILE, ticket.id, m.id)) for n, m in numbered
    ]
    return [buttons[i : i + FILES_PER_ROW] for i in range(0, len(buttons), FILES_PER_ROW)]


def _ticket_keyboard(ticket: TicketView, lang: Lang) -> InlineKeyboardMarkup:
    _ = tr(lang).gettext
    files = _file_rows(ticket, lang)
    if ticket.status == TicketStatus.CLOSED:
        return keyboard(
            [
                *files,
                [
                    (_("Reopen"), cd.make(Button.STAFF_ACTION, "reopen", ticket.id)),
                    (_("Note"), cd.make(Button.STAFF_ACTION, "note", ticket.id)),
                ],
            ]
        )
    return keyboard(
        [
            *files,
            [
                (_("Take"), cd.make(Button.STAFF_ACTION, "take", ticket.id)),
                (_("Reply"), cd.make(Button.STAFF_ACTION, "reply", ticket.id)),
                (_("Note"), cd.make(Button.STAFF_ACTION, "note", ticket.id)),
            ],
            [
                (_("Change type"), cd.make(Button.STAFF_ACTION, "kind", ticket.id)),
                (_("Reassign"), cd.make(Button.STAFF_ACTION, "reassign", ticket.id)),
                (_("Close"), cd.make(Button.STAFF_ACTION, "close", ticket.id)),
            ],
        ]
    )


def ticket_ref(text: str) -> str:
    """The ticket typed after /t, /reply, /note, /close, as the core reads it (``load_ticket``: an id when
    ASCII digits within 64 bits, else a number); at most 20 characters, so a reply quotes no more."""
    return text[:20]


async def _show_ticket(update: Update, context: HelpdeskContext, user: UserView, ticket_ref: str | int) -> None:
    """The staff view of a ticket, sent to the member of staff's own chat: an Open pressed in the staff group
    chat must not post a user's ticket there."""
    try:
        ticket = await core(context, context.services.ticket_work.get, user.id, ticket_ref)
    except NotFound:
        await reply_text(
            update,
            context,
            tr(user.lang).gettext("No ticket {number}.").format(number=str(ticket_ref)[:20]),
        )
        return
    detail = ticket_detail_html(ticket, user.lang, as_staff=True)
    await send_html(context, user.id, detail, _ticket_keyboard(ticket, user.lang))


FILTER_LABELS: Mapping[str, str] = {
    "open": N_("open"),
    "overdue": N_("overdue"),
    "mine": N_("mine"),
    **STATUS_LABELS,
    **KIND_LABELS,
}
"""How a list filter (``LIST_FILTERS``, typed in English after /tickets) is shown: a status by its one label."""


def filter_label(word: str, lang: Lang) -> str:
    """The list filter *word* in *lang*."""
    label = FILTER_LABELS.get(word)
    return tr(lang).gettext(label) if label else word


KIND_WORDS: Mapping[str, str] = {
    TicketKind.ENQUIRY: N_("enquiry"),
    TicketKind.HELP: N_("help"),
    TicketKind.SUGGESTION: N_("suggestion"),
    TicketKind.COMPLAINT: N_("complaint"),
    TicketKind.REPORT: N_("report"),
}
"""A ticket type as one word to type after /tickets (咨询, 求助 … to a Chinese reader)."""


def filter_word(word: str, lang: Lang) -> str:
    """What a reader of *lang* types after /tickets for the filter *word* (its label; a type's short word)."""
    return tr(lang).gettext(KIND_WORDS[word]) if word in KIND_WORDS else filter_label(word, lang)


def parse_filter(text: str) -> str | None:
    """The list filter typed after /tickets, in English or Chinese (``open``, 未办结, ``help``, 求助 …)."""
    text = text.strip().lower()
    return next((f for f in LIST_FILTERS if text in (f, filter_word(f, "zh"))), None)


async def _list(update: Update, context: HelpdeskContext, user: UserView, word: str) -> None:
    _ = tr(user.lang).gettext
    tickets = await core(context, context.services.ticket_work.find, user.id, context.now(), word)
    filters_row = [
        (f"{'• ' if f == word else ''}{filter_label(f, user.lang)}", cd.make(Button.STAFF_LIST, f))
        for f in ("open", "new", "overdue", "mine")
    ]
    if not tickets:
        await reply_text(
            update,
            context,
            _("No tickets match “{filter}”.").format(filter=filter_label(word, user.lang)),
            keyboard([filters_row]),
        )
        return
    now = context.now()
    rows = [
        [
            (
                ("⏰ " if t.overdue(now) else "") + ticket_summary(t, user.lang, as_staff=True),
                cd.make(Button.STAFF_VIEW, t.id),
            )
        ]
        for t in tickets
    ]
    rows.append(filters_row)
    text = _("Tickets “{filter}” ({count}), earliest due first. Filters: {filters}").format(
        filter=filter_label(word, user.lang),
        count=len(tickets),
        filters=("、" if user.lang == "zh" else ", ").join(filter_word(f, user.lang) for f in LIST_FILTERS),
    )
    await reply_text(update, context, text, keyboard(rows))


async def tickets_command(update: Update, context: HelpdeskContext) -> None:
    """/tickets [open|new|overdue|mine|closed|enquiry|help|suggestion|complaint|report]."""
    user, member = await require_staff(update, context)
    if member is None:
        return
    word = (parse_filter(context.args[0]) if context.args else None) or "open"
    await _list(update, context, user, word)


async def list_button(update: Update, context: HelpdeskContext) -> None:
    """A filter button under a ticket list."""
    user, member = await require_staff(update, context)
    if member is None:
        return
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    if data is None or len(data.args) != 1 or data.args[0] not in LIST_FILTERS:
        await expired(update, user.lang)
        return
    await answer_query(update)
    await _list(update, context, user, data.args[0])


async def ticket_command(update: Update, context: HelpdeskContext) -> None:
    """/t NUMBER: open a ticket."""
    user, member = await require_staff(update, context)
    if member is None:
        return
    if not context.args:
        await reply_text(update, context, tr(user.lang).gettext("Usage: /t NUMBER"))
        return
    await _show_ticket(update, context, user, ticket_ref(context.args[0]))


async def view_button(update: Update, context: HelpdeskContext) -> None:
    """A ticket button in a staff list."""
    user, member = await require_staff(update, context)
    if member is None:
        return
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    ticket_id = data.int_arg(0) if data else None
    if ticket_id is None:
        await expired(update, user.lang)
        return
    await answer_query(update)
    await _show_ticket(update, context, user, ticket_id)


async def file_button(update: Update, context: HelpdeskContext) -> None:
    """An attachment's button in the staff view: its photo or document is sent to the member of staff, by
    file id, with a caption saying whose it is. A button whose file is not on that ticket has expired."""
    user, member = await require_staff(update, context)
    if member is None:
        return
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    ticket_id = data.int_arg(0) if data and len(data.args) == 2 else None
    message_id = data.int_arg(1) if data and len(data.args) == 2 else None
    if ticket_id is None or message_id is None:
        await expired(update, user.lang)
        return
    try:
        item = await core(context, context.services.ticket_work.attachment, user.id, ticket_id, message_id)
    except NotFound:
        await expired(update, user.lang)
        return
    await answer_query(update)
    t = tr(user.lang)
    who = t.gettext("User") if item.kind == "user" else item.author_name or t.gettext("Helpdesk")
    parts = [item.number, attachment_label(item.position, item.file_kind, user.lang), who, t.datetime(item.created_at)]
    caption = " · ".join(parts) + (f"\n{item.file_name}" if item.file_name else "")
    try:
        await send_file(context.bot, user.id, item.file_id, item.file_kind, escape(caption, quote=False))
    except Forbidden:  # they blocked the bot in their own chat (pressed in the staff group chat)
        await core(context, context.helpdesk.mark_blocked, user.id, context.now())


async def action_button(update: Update, context: HelpdeskContext) -> None:
    """Take / reply / note / change type / reassign / close / reopen on a ticket."""
    user, member = await require_staff(update, context)
    if member is None:
        return
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    ticket_id = data.int_arg(1) if data and len(data.args) == 2 else None
    if data is None or ticket_id is None:
        await expired(update, user.lang)
        return
    action = data.args[0]
    _ = tr(user.lang).gettext
    desk = context.services.ticket_work
    now = context.now()
    try:
        ticket = await core(context, desk.get, user.id, ticket_id)
        if action == "take":
            ticket = await core(context, desk.take, user.id, ticket_id, now)
            await answer_query(update, _("Ticket {number} is yours.").format(number=ticket.number))
            await _show_ticket(update, context, user, ticket_id)
            return
        if action == "reopen":
            ticket, notices = await core(context, desk.reopen, user.id, ticket_id, now)
            await answer_query(update)
            await deliver(context, notices)
            await _show_ticket(update, context, user, ticket_id)
            return
        if action == "kind":
            rows = [[(_(KIND_LABELS[k]), cd.make(Button.STAFF_KIND, ticket_id, k))] for k in KINDS]
            await answer_query(update)
            await reply_text(
                update,
                context,
                _("New type for {number}:").format(number=ticket.number),
                keyboard(rows),
            )
            return
        if action == "reassign":
            staff = await core(context, context.services.staff.list)
            rows = [
                [
                    (
                        f"{shown_name(s.name, s.user_id, user.lang)} ({_(ROLE_LABELS[s.role])})",
                        cd.make(Button.STAFF_REASSIGN, ticket_id, s.user_id),
                    )
                ]
                for s in staff
            ]
            await answer_query(update)
            await reply_text(
                update,
                context,
                _("Reassign {number} to:").format(number=ticket.number),
                keyboard(rows),
            )
            return
        if action in (StaffStep.REPLY, StaffStep.NOTE, StaffStep.CLOSE):
            step = StaffStep(action)
            await core(
                context,
                context.services.flows.set,
                user.id,
                FlowState(FlowName.STAFF_INPUT, step, {"ticket": ticket_id}),
                now,
            )
            prompts = {
                StaffStep.REPLY: _(
                    "Type your reply to the user for {number} (text, a photo or a document). /cancel to stop."
                ),
                StaffStep.NOTE: _("Type an internal note for {number} (never shown to the user). /cancel to stop."),
                StaffStep.CLOSE: _(
                    "Type the resolution for {number}; the ticket is then closed and the user asked for a "
                    "rating. /cancel to stop."
                ),
            }
            await answer_query(update)
            await reply_text(update, context, prompts[step].format(number=ticket.number))
            return
    except NotFound:
        await expired(update, user.lang)
        return
    except (Conflict, InvalidInput) as exc:
        await answer_query(update, error_text(exc, user.lang), alert=True)
        return
    await expired(update, user.lang)


async def kind_button(update: Update, context: HelpdeskContext) -> None:
    """A new type for a ticket."""
    user, member = await require_staff(update, context)
    if member is None:
        return
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    ticket_id = data.int_arg(0) if data and len(data.args) == 2 else None
    if data is None or ticket_id is None or data.args[1] not in KINDS:
        await expired(update, user.lang)
        return
    try:
        await core(context, context.services.ticket_work.change_kind, user.id, ticket_id, data.args[1], context.now())
    except NotFound:
        await expired(update, user.lang)
        return
    await answer_query(update)
    await drop_keyboard(update)
    await _show_ticket(update, context, user, ticket_id)


async def reassign_button(update: Update, context: HelpdeskContext) -> None:
    """Reassign a ticket to the chosen member of staff."""
    user, member = await require_staff(update, context)
    if member is None:
        return
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    ticket_id = data.int_arg(0) if data else None
    to_staff = data.int_arg(1) if data else None
    if ticket_id is None or to_staff is None:
        await expired(update, user.lang)
        return
    try:
        _ticket, notices = await core(
            context, context.services.ticket_work.reassign, user.id, ticket_id, to_staff, context.now()
        )
    except (NotFound, Conflict) as exc:
        await refused(update, user.lang, exc)
        return
    await answer_query(update)
    await drop_keyboard(update)
    await deliver(context, notices)
    await _show_ticket(update, context, user, ticket_id)


async def perform(
    context: HelpdeskContext,
    user: UserView,
    action: str,
    ticket_ref: str | int,
    text: str,
    now: datetime,
    file_id: str | None = None,
    file_kind: str | None = None,
) -> str:
    """Reply, note or close with *text*; returns the confirmation to show the member of staff."""
    desk = context.services.ticket_work
    _ = tr(user.lang).gettext
    if action == StaffStep.REPLY:
        ticket, notices = await core(context, desk.reply, user.id, ticket_ref, text, now, file_id, file_kind)
        await deliver(context, notices)
        return _("Reply sent to the user of {number}.").format(number=ticket.number)
    if action == StaffStep.NOTE:
        ticket = await core(context, desk.note, user.id, ticket_ref, text, now)
        return _("Note added to {number}.").format(number=ticket.number)
    ticket, notices = await core(context, desk.close, user.id, ticket_ref, text, now)
    await deliver(context, notices)
    return _("Ticket {number} closed; the user has been asked for a rating.").format(number=ticket.number)


async def staff_input(update: Update, context: HelpdeskContext, user: UserView, state: FlowState) -> None:
    """The text (or file, for replies) a member of staff types after pressing reply / note / close."""
    message = update.effective_message
    assert message is not None
    if await core(context, context.services.staff.get, user.id) is None:  # removed meanwhile
        await core(context, context.services.flows.clear, user.id)
        await reply_text(update, context, error_text(NotAllowed(Reason.STAFF_ONLY), user.lang))
        return
    file_id, file_kind, _name = attachment_of(message) if state.step == StaffStep.REPLY else (None, None, None)
    try:
        done = await perform(
            context,
            user,
            state.step,
            int(state.data["ticket"]),
            message.text or message.caption or "",
            context.now(),
            file_id,
            file_kind,
        )
    except (InvalidInput, Conflict, NotFound) as exc:
        await reply_text(update, context, error_text(exc, user.lang))
        if not isinstance(exc, InvalidInput):
            await core(context, context.services.flows.clear, user.id)
        return
    await core(context, context.services.flows.clear, user.id)
    await reply_text(update, context, done)


async def quick_command(update: Update, context: HelpdeskContext) -> None:
    """/reply, /note, /close NUMBER TEXT in one go."""
    user, member = await require_staff(update, context)
    message = update.effective_message
    if member is None or message is None or not message.text:
        return
    _ = tr(user.lang).gettext
    command, _sep, rest = message.text.partition(" ")
    action = command.lstrip("/").split("@")[0]
    number, _sep, text = rest.strip().partition(" ")
    if not number or not text.strip():
        await reply_text(update, context, _("Usage: /{action} NUMBER TEXT").format(action=action))
        return
    try:
        done = await perform(context, user, action, ticket_ref(number), text, context.now())
    except (InvalidInput, Conflict, NotFound) as exc:
        await reply_text(update, context, error_text(exc, user.lang))
        return
    await reply_text(update, context, done)


def _staff_list_text(staff: list[StaffView], lang: Lang) -> str:
    _ = tr(lang).gettext
    lines = [_("Staff:")]
    lines += [
        f"• {shown_name(s.name, s.user_id, lang)} — {_(ROLE_LABELS[s.role])} — {s.user_id}"
        + (" ✅" if s.checked_in else "")
        for s in staff
    ]
    lines += ["", _("Supervisors: /staff add TELEGRAM_ID operator|supervisor NAME, /staff remove TELEGRAM_ID")]
    return "\n".join(lines)


async def staff_command(update: Update, context: HelpdeskContext) -> None:
    """/staff [list | add ID ROLE NAME | remove ID]: list for staff, changes for supervisors."""
    args = list(context.args or [])
    sub = args[0].lower() if args else "list"
    user, member = await require_staff(update, context, supervisor=sub in ("add", "remove"))
    if member is None:
        return
    _ = tr(user.lang).gettext
    registry = context.services.staff
    now = context.now()
    notices: list[Notice] = []
    try:
        target = parse_user_id(args[1]) if len(args) >= 2 else None
        role = parse_role(args[2], user.lang) if len(args) >= 3 else ""  # operator, supervisor, 客服, 主管
        if sub == "add" and len(args) >= 4 and target is not None and role in STAFF_ROLES:
            added = await core(context, registry.add, target, role, " ".join(args[3:]), now, user.id)
            text = _("{name} ({id}) is now {role}.").format(
                name=added.name, id=added.user_id, role=_(ROLE_LABELS[added.role])
            )
        elif sub == "remove" and len(args) == 2 and target is not None:
            # Their live chats go back to the front of the queue in the same transaction, as at /checkout.
            removed, handed_back, notices = await core(
                context, context.services.live_queue.remove_staff, target, now, user.id
            )
            text = _("{name} ({id}) is no longer staff.").format(name=removed.name, id=removed.user_id)
            text += handed_back_text(user.lang, handed_back)
        elif sub == "list":
            text = _staff_list_text(await core(context, registry.list), user.lang)
        else:
            text = _("Usage: /staff list · /staff add TELEGRAM_ID operator|supervisor NAME · /staff remove TELEGRAM_ID")
    except (InvalidInput, NotFound) as exc:
        text = error_text(exc, user.lang)
    await reply_text(update, context, text)
    await deliver(context, notices)


DELIVERY_DAYS = 7
"""``/deliveries`` shows Telegram's refusals of the last week (the journal keeps them that long)."""
DELIVERY_LINES = 20


async def deliveries_command(update: Update, context: HelpdeskContext) -> None:
    """/deliveries (supervisors): messages still owed (Telegram failing for now) and those refused for good."""
    user, member = await require_staff(update, context, supervisor=True)
    if member is None:
        return
    _ = tr(user.lang).gettext
    desk = context.bot_data.desk
    desk.flush()  # the works finished since the last getUpdates are marked so
    journal, now = desk.journal, context.now()
    owed = await core(context, journal.unfinished, True)
    failed = await core(context, journal.failed_sends, now - timedelta(days=DELIVERY_DAYS))
    lines = [
        _("Messages owed, waiting for Telegram: {owed}.").format(owed=len(owed)),
        _(
            "Refused by Telegram in the last {days} days (the user blocked the bot, the chat does not exist): {count}."
        ).format(days=DELIVERY_DAYS, count=len(failed)),
    ]
    lines += [f"• {tr(user.lang).datetime(f.at)} · {f.chat_id} · {f.error}" for f in failed[:DELIVERY_LINES]]
    if len(failed) > DELIVERY_LINES:
        lines.append(_("… and {count} more: python -m bot deliveries").format(count=len(failed) - DELIVERY_LINES))
    await reply_text(update, context, "\n".join(lines))
