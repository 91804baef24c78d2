"""Tickets as plain text in the reader's language: one-line summaries, details, confirmations.

Shared by the Telegram handlers (which escape and split it) and the terminal console; refusals are
``bot.error_texts.error_text``. A status has one word in each language (``status_label``), the same in lists,
views and notices; a closed ticket shows when it was closed, never a due date.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.answering.text import Lang
from bot.desk.tickets.common import (
    CLOSED_BY_USER,
    KIND_LABELS,
    ORIGIN_LABELS,
    STATUS_LABELS,
    Filer,
    HistoryEvent,
    MessageView,
    TicketView,
)
from bot.i18n import N_, SHANGHAI, Translator, translator
from bot.store.statuses import TicketStatus

HISTORY_TEXTS: Mapping[str, str] = {
    "take": N_("taken by {name}"),
    "reply": N_("replied by {name}"),
    "note": N_("internal note by {name}"),
    "change_kind": N_("type changed to {kind} by {name}"),
    "reassign": N_("assigned to {assignee} by {name}"),
    "close": N_("closed by {name}"),
    "reopen": N_("reopened by {name}"),
    "deadline_recomputed": N_("deadline counted again: {change}"),
    "user_message": N_("message from the user"),
    "closed_by_user": CLOSED_BY_USER,
}
"""A ticket's history in words, by event (``bot.desk.tickets.common.HistoryEvent``); ``filed`` names its origin."""


def status_label(status: str, lang: Lang) -> str:
    """The one word for a ticket status in *lang* (new, in progress, answered, closed)."""
    return translator(lang).gettext(STATUS_LABELS[status])


def ticket_summary(ticket: TicketView, lang: Lang, as_staff: bool = False) -> str:
    """One line per ticket: number, type, status, and the due date while it is open (staff also see that a
    deadline is provisional) or the day it was closed."""
    t = translator(lang)
    _ = t.gettext
    kind, status = _(KIND_LABELS[ticket.kind]), status_label(ticket.status, lang)
    if ticket.status == TicketStatus.CLOSED:
        if ticket.closed_at is None:
            return f"{ticket.number} · {kind} · {status}"
        return _("{number} · {kind} · {status} on {date}").format(
            number=ticket.number, kind=kind, status=status, date=t.date(ticket.closed_at)
        )
    line = _("{number} · {kind} · {status} · due {due}").format(
        number=ticket.number, kind=kind, status=status, due=t.date(ticket.due_at)
    )
    return line + _(" (provisional)") if as_staff and ticket.due_provisional else line


def filer_line(filer: Filer, ticket_lang: str, lang: Lang) -> str:
    """ "Name · language · role" of the person who filed a ticket, for staff."""
    _ = translator(lang).gettext
    language = _("Chinese") if (filer.lang or ticket_lang) == "zh" else _("English")
    roles = {"applicant": _("applicant"), "employer": _("employer HR contact")}
    return f"{filer.name or _('(no name)')} · {language} · {roles.get(filer.role or '', _('role not given'))}"


def attachment_label(number: int, file_kind: str | None, lang: Lang) -> str:
    """ "📎1 photo": an attachment as numbered in the staff view (its button carries the same number)."""
    _ = translator(lang).gettext
    return f"📎{number} {_('photo') if file_kind == 'photo' else _('document')}"


def _message_lines(ticket: TicketView, t: Translator, as_staff: bool) -> list[str]:
    _ = t.gettext
    lines: list[str] = []
    attached = 0
    for m in ticket.messages:
        attached += 1 if m.file_id else 0
        lines += ["", f"{_message_label(m, t)} · {t.datetime(m.created_at)}{_attachment(m, attached, t, as_staff)}"]
        if m.text:
            lines.append(m.text)
    return lines


def _message_label(message: MessageView, t: Translator) -> str:
    """Who wrote it: the user, or the member of staff by name (a reply is signed like a live chat's message)."""
    _ = t.gettext
    if message.kind == "user":
        return _("User")
    if message.kind == "note":
        return _("Internal note") + (f" · {message.author_name}" if message.author_name else "")
    return message.author_name or _("Helpdesk")


def _attachment(message: MessageView, number: int, t: Translator, as_staff: bool) -> str:
    """The file a message carries: its kind; for staff also its number (that of its button) and name."""
    if not message.file_id:
        return ""
    kind = t.gettext("photo") if message.file_kind == "photo" else t.gettext("document")
    if not as_staff:
        return f" [{kind}]"
    name = f" {message.file_name}" if message.file_name else ""
    return f" 📎{number} [{kind}]{name}"


def history_text(event: HistoryEvent, lang: Lang) -> str:
    """One event of a ticket's history in words (without its time)."""
    _ = translator(lang).gettext
    if event.action == "filed":
        origin = ORIGIN_LABELS.get(event.detail)
        return _("filed: {origin}").format(origin=_(origin) if origin else event.detail)
    template = HISTORY_TEXTS.get(event.action)
    if template is None:
        return event.action
    kind = KIND_LABELS.get(event.detail)
    return _(template).format(
        name=event.actor or _("Helpdesk"),
        kind=_(kind) if kind else event.detail,
        assignee=event.detail,
        change=event.detail,
    )


def ticket_detail(ticket: TicketView, lang: Lang, as_staff: bool = False) -> str:
    """A ticket with its conversation; a member of staff also sees who filed it and how to reach them, who has
    it, its internal notes, numbered attachments and its history."""
    t = translator(lang)
    _ = t.gettext
    lines = [ticket_summary(ticket, lang, as_staff)]
    if as_staff:
        if ticket.filer is not None:
            lines.append(_("Filed by: {user}").format(user=filer_line(ticket.filer, ticket.lang, lang)))
        lines.append(_("Assigned to: {name}").format(name=ticket.assignee_name or _("nobody yet")))
        if ticket.due_provisional and ticket.status != TicketStatus.CLOSED:
            lines.append(
                _(
                    "Provisional deadline: the official holiday schedule for {year} is not known yet. The deadline "
                    "will be counted again when it is."
                ).format(year=ticket.due_at.astimezone(SHANGHAI).year)
            )
        lines += [
            _("Contact: {contact}").format(contact=ticket.contact or _("none")),
            _("Application/permit number: {reference}").format(reference=ticket.reference or _("none")),
        ]
    lines.append(_("Filed: {when}").format(when=t.datetime(ticket.created_at)))
    if ticket.status == TicketStatus.CLOSED and ticket.closed_at is not None:
        lines.append(_("Closed: {when}").format(when=t.datetime(ticket.closed_at)))
    lines += ["", ticket.description, *_message_lines(ticket, t, as_staff)]
    if ticket.resolution:
        resolution = _(CLOSED_BY_USER) if ticket.resolution == CLOSED_BY_USER else ticket.resolution
        lines += ["", _("Resolution: {resolution}").format(resolution=resolution)]
    if as_staff and ticket.history:
        lines += ["", _("History:")]
        lines += [f"• {t.datetime(e.at)} · {history_text(e, lang)}" for e in ticket.history]
    return "\n".join(lines)


def new_ticket_text(number: str, kind: str, due_text: str, origin: str, lang: Lang) -> str:
    """The notice to staff that a ticket arrived: number, type, due date and how it came."""
    _ = translator(lang).gettext
    came = ORIGIN_LABELS.get(origin)
    return _("🆕 New ticket {number} · {kind} · due {due}\n{origin}").format(
        number=number, kind=_(KIND_LABELS[kind]), due=due_text, origin=_(came) if came else origin
    )


def filed_text(ticket: TicketView, lang: Lang) -> str:
    """Confirmation of a new ticket: its number and due date."""
    t = translator(lang)
    return t.gettext(
        "Thank you. Your ticket number is {number}. We will answer by {due} (Beijing time). "
        "You can follow it with /mytickets."
    ).format(number=ticket.number, due=t.date(ticket.due_at))
