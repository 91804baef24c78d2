"""Tickets as plain text in the user's language: one-line summaries, details, confirmations.

Shared by the Telegram handlers (which escape and split it) and the terminal console; refusals are
``bot.error_texts.error_text``.
"""

from __future__ import annotations

from bot.answering.text import Lang
from bot.desk.tickets.common import CLOSED_BY_USER, KIND_LABELS, STATUS_LABELS, TicketView
from bot.i18n import SHANGHAI, translator


def ticket_summary(ticket: TicketView, lang: Lang, as_staff: bool = False) -> str:
    """One line per ticket: number, type, status, due date (staff also see that a deadline is provisional)."""
    t = translator(lang)
    _ = t.gettext
    line = _("{number} · {kind} · {status} · due {due}").format(
        number=ticket.number,
        kind=_(KIND_LABELS[ticket.kind]),
        status=_(STATUS_LABELS[ticket.status]),
        due=t.date(ticket.due_at),
    )
    return line + _(" (provisional)") if as_staff and ticket.due_provisional else line


def ticket_detail(ticket: TicketView, lang: Lang, as_staff: bool = False) -> str:
    """A ticket with its conversation (internal notes are only in a staff member's view of it)."""
    t = translator(lang)
    _ = t.gettext
    lines = [
        ticket_summary(ticket, lang, as_staff),
        _("Filed: {when}").format(when=t.datetime(ticket.created_at)),
        "",
        ticket.description,
    ]
    if as_staff and ticket.due_provisional:
        lines[1:1] = [
            _(
                "Provisional deadline: the official holiday schedule for {year} is not known yet. The deadline "
                "will be counted again when it is."
            ).format(year=ticket.due_at.astimezone(SHANGHAI).year)
        ]
    if as_staff:
        lines[1:1] = [
            _("Contact: {contact}").format(contact=ticket.contact or _("none")),
            _("Application/permit number: {reference}").format(reference=ticket.reference or _("none")),
        ]
    labels = {"user": _("User"), "reply": _("Helpdesk"), "note": _("Internal note")}
    for m in ticket.messages:
        attachment = f" [{_('photo') if m.file_kind == 'photo' else _('document')}]" if m.file_id else ""
        lines += ["", f"{labels.get(m.kind, m.kind)} · {t.datetime(m.created_at)}{attachment}", m.text]
    if ticket.resolution:
        resolution = _(CLOSED_BY_USER) if ticket.resolution == CLOSED_BY_USER else ticket.resolution
        lines += ["", _("Resolution: {resolution}").format(resolution=resolution)]
    return "\n".join(lines)


def filed_text(ticket: TicketView, lang: Lang) -> str:
    """Confirmation of a new ticket: its number and due date."""
    t = translator(lang)
    return t.gettext(
        "Thank you. Your ticket number is {number}. We will answer by {due} (Beijing time). "
        "You can follow it with /mytickets."
    ).format(number=ticket.number, due=t.date(ticket.due_at))
