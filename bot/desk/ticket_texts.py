"""Tickets as plain text in the user's language: errors, one-line summaries, details, confirmations.

Shared by the Telegram handlers (which escape and split it) and the terminal console.
"""

from __future__ import annotations

from bot.answering.text import Lang
from bot.desk.tickets import KIND_LABELS, STATUS_LABELS, TicketView
from bot.errors import HelpdeskError, NotFound
from bot.i18n import SHANGHAI, translator


def error_text(error: HelpdeskError, lang: Lang) -> str:
    """A domain error as a polite sentence in *lang*."""
    _ = translator(lang).gettext
    reason = getattr(error, "reason", None) or (error.args[0] if error.args else "")
    details = getattr(error, "details", {})
    texts = {
        "too_long": _("That is too long ({length} characters); the limit is {limit}. Please shorten it."),
        "too_short": _("Please describe the matter in a little more detail (at least {minimum} characters)."),
        "bad_contact": _("That doesn't look like a phone number or an e-mail address. Please check it, or skip."),
        "bad_reference": _("An application or permit number has 3–40 letters or digits. Please check it, or skip."),
        "use_buttons": _("Please use the buttons above, or /cancel to stop."),
        "empty": _("There was nothing I could read in that message."),
        "ticket_closed": _("This ticket is closed. You can reopen it from /mytickets."),
        "already_closed": _("This ticket is already closed."),
        "not_closed": _("This ticket is not closed."),
        "reopen_window_passed": _("This ticket was closed too long ago to reopen. Please file a new one (/ticket)."),
        "already_rated": _("This service has already been rated. Thank you!"),
        "staff_only": _("Sorry, this is only for helpdesk staff."),
        "supervisor_only": _("Sorry, only supervisors can do this."),
    }
    template = texts.get(str(reason))
    if template is None:
        return (
            _("Sorry, that is not possible.")
            if not isinstance(error, NotFound)
            else _("Sorry, I can't find that. It may have expired or belong to someone else.")
        )
    return template.format(**{"length": "", "limit": "", "minimum": "", **details})


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
        lines += ["", _("Resolution: {resolution}").format(resolution=ticket.resolution)]
    return "\n".join(lines)


def filed_text(ticket: TicketView, lang: Lang) -> str:
    """Confirmation of a new ticket: its number and due date."""
    t = translator(lang)
    return t.gettext(
        "Thank you. Your ticket number is {number}. We will answer by {due} (Beijing time). "
        "You can follow it with /mytickets."
    ).format(number=ticket.number, due=t.date(ticket.due_at))
