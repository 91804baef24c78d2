"""Delivering the core's notices (``bot.notices``) to people, in their language.

``RENDERERS`` is the one registry: a small function per notice type that returns the HTML chunks and
the keyboard. The tickets', ratings' and calendar's are here; the live desk's are in
``handlers.live_notices``. ``deliver`` sends the result through ``handlers.common.send_messages``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from html import escape

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden

from bot import notices as nt
from bot.answering.text import Lang
from bot.desk.ratings import LEVEL_LABELS
from bot.desk.ticket_texts import new_ticket_text
from bot.desk.tickets.common import KIND_LABELS
from bot.i18n import N_, translator
from handlers import callback_data as cd
from handlers.callback_data import Button
from handlers.common import send_file, send_messages
from handlers.context import HelpdeskContext, core
from handlers.live_notices import LIVE_RENDERERS, Rendered, Renderer, after_delivery, say, user_line
from handlers.reminder_notices import REMINDER_RENDERERS
from handlers.render import html_chunks, keyboard, rating_keyboard

log = logging.getLogger(__name__)


# ----- to the owner of a ticket ------------------------------------------------------------------
def _ticket_reply(notice: nt.TicketReply, lang: Lang) -> Rendered:
    _ = translator(lang).gettext
    if notice.staff_name:  # signed by the member of staff, as a live chat's messages are
        title = _("Reply to your ticket {number} from {name}:").format(number=notice.number, name=notice.staff_name)
    else:
        title = _("Reply to your ticket {number}:").format(number=notice.number)
    head = "<b>" + escape(title, quote=False) + "</b>"
    markup = keyboard(
        [
            [
                (_("Reply"), cd.make(Button.MY_TICKET_MESSAGE, notice.ticket_id)),
                (_("Close ticket"), cd.make(Button.MY_TICKET_CLOSE, notice.ticket_id)),
            ]
        ]
    )
    return [head + "\n" + chunk for chunk in html_chunks(notice.text)] if notice.text else [head], markup


def _ticket_closed(notice: nt.TicketClosed, lang: Lang) -> Rendered:
    _ = translator(lang).gettext
    text = _(
        "Your ticket {number} is closed.\nResolution: {resolution}\n\nHow satisfied are you with how it was "
        "handled? (one rating per ticket)"
    ).format(number=notice.number, resolution=notice.resolution)
    return html_chunks(text), rating_keyboard(lang, "t", notice.ticket_id)


def _ticket_reopened_by_staff(notice: nt.TicketReopenedByStaff, lang: Lang) -> Rendered:
    return say(lang, N_("Your ticket {number} has been reopened by the helpdesk."), number=notice.number)


def _ticket_due_later(notice: nt.TicketDueLater, lang: Lang) -> Rendered:
    return say(
        lang,
        N_(
            "The official holiday schedule has been published, so the deadline of your ticket {number} moved: "
            "we will now answer by {due} (Beijing time)."
        ),
        number=notice.number,
        due=translator(lang).date(notice.due),
    )


# ----- to staff ----------------------------------------------------------------------------------
def _ticket_user_message(notice: nt.TicketUserMessage, lang: Lang) -> Rendered:
    return say(lang, N_("New message from the user on ticket {number}. Open it: /t {number}"), number=notice.number)


def _ticket_reopened_by_user(notice: nt.TicketReopenedByUser, lang: Lang) -> Rendered:
    return say(lang, N_("The user reopened ticket {number}: /t {number}"), number=notice.number)


def _ticket_assigned(notice: nt.TicketAssigned, lang: Lang) -> Rendered:
    return say(lang, N_("Ticket {number} has been assigned to you: /t {number}"), number=notice.number)


def _ticket_new(notice: nt.TicketNew, lang: Lang) -> Rendered:
    _ = translator(lang).gettext
    due = translator(lang).date(notice.due)
    text = new_ticket_text(notice.number, notice.kind, due, notice.origin, lang)
    return html_chunks(text), keyboard([[(_("Open"), cd.make(Button.STAFF_VIEW, notice.ticket_id))]])


def _bad_rating(notice: nt.BadRating, lang: Lang) -> Rendered:
    """Everything a call-back needs: who (name, language, role, Telegram id), how to reach them (the ticket's
    contact), about what (the ticket, with Open; or the live chat's last messages), and the comment."""
    _ = translator(lang).gettext
    level = _(LEVEL_LABELS[notice.level])
    if notice.service == "ticket":
        head = _("⚠️ Bad rating: {level} for ticket {number}. Please call back and follow up.").format(
            level=level, number=notice.number or f"#{notice.service_id}"
        )
    else:
        head = _("⚠️ Bad rating: {level} for live chat #{id}. Please call back and follow up.").format(
            level=level, id=notice.service_id
        )
    who = user_line(notice.name, notice.lang, notice.role, lang) + " · " + _("id {id}").format(id=notice.rater_id)
    lines = [head, _("User: {user}").format(user=who)]
    lines.append(_("Contact: {contact}").format(contact=notice.contact or _("none given (reach them in Telegram)")))
    if notice.transcript:
        names = {"user": _("User"), "operator": _("Staff")}
        lines += ["", _("Last messages:")]
        for line in notice.transcript:
            attached = f" [{_('photo') if line.file_kind == 'photo' else _('document')}]" if line.file_id else ""
            lines.append(f"{names.get(line.sender, line.sender)}: {line.text}{attached}")
    if notice.comment:
        lines += ["", _("Comment: {comment}").format(comment=notice.comment)]
    rows: list[list[tuple[str, str]]] = []
    if notice.service == "ticket":
        rows.append([(_("Open"), cd.make(Button.STAFF_VIEW, notice.service_id))])
    if notice.followup_id is not None:  # the follow-up (回访) it opened: take it, or record the call-back
        rows.append(
            [
                (_("Take the call-back"), cd.make(Button.FOLLOWUP_TAKE, notice.followup_id)),
                (_("Record the call-back"), cd.make(Button.FOLLOWUP_RECORD, notice.followup_id)),
            ]
        )
    return html_chunks("\n".join(lines)), keyboard(rows) if rows else None


def _calendar_unknown(notice: nt.CalendarUnknown, lang: Lang) -> Rendered:
    return say(
        lang,
        N_(
            "📅 The official holiday schedule for {year} is not known yet. Deadlines that reach into {year} are "
            "provisional ({count} ticket(s) so far) and adjusted working days are not counted. When the State "
            "Council publishes its notice, enter it in {file} and restart the bot: the deadlines are then "
            "counted again. (A reminder once a week until it is done.)"
        ),
        year=notice.year,
        count=notice.provisional,
        file=notice.file,
    )


# ----- deadlines (bot.desk.tickets.alerts) --------------------------------------------------------------
def _open_ticket(lang: Lang, ticket_id: int) -> InlineKeyboardMarkup:
    """The Open button of a staff notice about a ticket (the staff view, ``sv:``)."""
    return keyboard([[(translator(lang).gettext("Open"), cd.make(Button.STAFF_VIEW, ticket_id))]])


def _ticket_due_soon(notice: nt.TicketDueSoon, lang: Lang) -> Rendered:
    _ = translator(lang).gettext
    text = _("⏰ Ticket {number} ({kind}) is due on {due} (Beijing time) and is not closed yet.").format(
        number=notice.number, kind=_(KIND_LABELS[notice.kind]), due=translator(lang).date(notice.due)
    )
    return html_chunks(text), _open_ticket(lang, notice.ticket_id)


def _ticket_overdue(notice: nt.TicketOverdue, lang: Lang) -> Rendered:
    _ = translator(lang).gettext
    text = _("🔴 Ticket {number} ({kind}) is overdue: it was due on {due} (Beijing time) and is still open.").format(
        number=notice.number, kind=_(KIND_LABELS[notice.kind]), due=translator(lang).date(notice.due)
    )
    who = _("Assigned to {name}.").format(name=notice.assignee) if notice.assignee else _("Nobody has taken it yet.")
    return html_chunks(text + "\n" + who), _open_ticket(lang, notice.ticket_id)


def _listed(numbers: tuple[str, ...], count: int) -> str:
    """ " — T2605-0001, T2605-0002, …": the numbers a digest names (the first few)."""
    if not numbers:
        return ""
    return " — " + ", ".join(numbers) + (", …" if count > len(numbers) else "")


def _morning_digest(notice: nt.MorningDigest, lang: Lang) -> Rendered:
    """The supervisors' morning digest, with the ticket lists it points to (``sl:`` filter buttons)."""
    _ = translator(lang).gettext
    lines = [
        _("☀️ Morning digest for {day} (Beijing time)").format(day=translator(lang).date(notice.day)),
        _("New tickets since the last digest: {count}").format(count=notice.new),
        _("Due today: {count}").format(count=notice.due_today) + _listed(notice.due_today_numbers, notice.due_today),
        _("Overdue: {count}").format(count=notice.overdue) + _listed(notice.overdue_numbers, notice.overdue),
        _("Bad ratings waiting for a call-back: {count} (/followups)").format(count=notice.bad_ratings),
    ]
    markup = keyboard(
        [
            [
                (_("Overdue tickets"), cd.make(Button.STAFF_LIST, "overdue")),
                (_("New tickets"), cd.make(Button.STAFF_LIST, "new")),
            ]
        ]
    )
    return html_chunks("\n".join(lines)), markup


RENDERERS: Mapping[type[nt.Notice], Renderer] = {
    nt.TicketReply: _ticket_reply,
    nt.TicketClosed: _ticket_closed,
    nt.TicketReopenedByStaff: _ticket_reopened_by_staff,
    nt.TicketDueLater: _ticket_due_later,
    nt.TicketUserMessage: _ticket_user_message,
    nt.TicketReopenedByUser: _ticket_reopened_by_user,
    nt.TicketAssigned: _ticket_assigned,
    nt.TicketNew: _ticket_new,
    nt.BadRating: _bad_rating,
    nt.CalendarUnknown: _calendar_unknown,
    nt.TicketDueSoon: _ticket_due_soon,
    nt.TicketOverdue: _ticket_overdue,
    nt.MorningDigest: _morning_digest,
    **LIVE_RENDERERS,
    **REMINDER_RENDERERS,
}
"""Every notice type → the function that renders it for Telegram (``tests/test_notices.py`` checks all)."""


def render(notice: nt.Notice, lang: Lang) -> Rendered:
    """The messages for *notice* in *lang*: HTML chunks, and the keyboard for the last one."""
    return RENDERERS[type(notice)](notice, lang)


ABOUT_OWN_TICKET = (nt.TicketReply, nt.TicketClosed, nt.TicketDueLater)
"""Notices to a ticket's owner about it: their messages are linked to the ticket (``OwnTickets.link``)."""


async def deliver(context: HelpdeskContext, notices: Iterable[nt.Notice]) -> None:
    """Send each notice to its recipient (in their language); a user who blocked the bot is noted."""
    for notice in notices:
        if (
            isinstance(notice, nt.QueuePosition)
            and await core(context, context.services.live_queue.queue_status, notice.user_id) is None
        ):  # taken (or gone) since the queue moved: a place in it would mislead them
            continue
        user = await core(context, context.helpdesk.user, notice.user_id)
        lang: Lang = user.lang if user is not None else "en"
        chunks, markup = render(notice, lang)
        try:
            sent = await send_messages(context.bot, notice.user_id, chunks, markup)
            if isinstance(notice, nt.TicketReply) and notice.file_id:
                sent.append(await send_file(context.bot, notice.user_id, notice.file_id, notice.file_kind))
            if isinstance(notice, ABOUT_OWN_TICKET):  # the owner's Telegram reply to these goes to the ticket
                ids = [m.message_id for m in sent]
                await core(context, context.services.own_tickets.link, notice.user_id, ids, notice.ticket_id)
            await after_delivery(context, notice, lang, sent)  # a transfer's files; a queue card remembered
        except Forbidden:
            await core(context, context.helpdesk.mark_blocked, notice.user_id, context.now())
        except BadRequest as exc:  # e.g. the chat does not exist (a staff id never started the bot)
            log.warning("could not deliver a %s notice: %s", type(notice).__name__, exc)
