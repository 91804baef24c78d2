"""What the ticket jobs share: types and statuses with their labels, the rules (``TicketPolicy``), the views
of a ticket, loading one, and who may see it (a user only their own, without internal notes; staff all)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.answering.text import Lang, strip_control
from bot.desk.staff import StaffRegistry
from bot.errors import Conflict, InvalidInput, NotFound, Reason
from bot.i18n import N_
from bot.numbers import MAX_ID, parse_id
from bot.store import limits
from bot.store.db import session_scope
from bot.store.models import Ticket, TicketMessage
from bot.store.statuses import TicketKind, TicketStatus

KINDS: tuple[TicketKind, ...] = tuple(TicketKind)
KIND_LABELS: Mapping[str, str] = {
    TicketKind.ENQUIRY: N_("Enquiry (咨询)"),
    TicketKind.HELP: N_("Help request (求助)"),
    TicketKind.SUGGESTION: N_("Suggestion (建议)"),
    TicketKind.COMPLAINT: N_("Complaint (投诉)"),
    TicketKind.REPORT: N_("Report (举报)"),
}
STATUS_LABELS: Mapping[str, str] = {
    TicketStatus.NEW: N_("new"),
    TicketStatus.IN_PROGRESS: N_("in progress"),
    TicketStatus.ANSWERED: N_("answered"),
    TicketStatus.CLOSED: N_("closed"),
}
OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.IN_PROGRESS, TicketStatus.ANSWERED)
CLOSED_BY_USER = N_("closed by the user")
"""The resolution of a ticket its owner closed before staff did: stored as it is, shown in the reader's
language (``bot.desk.ticket_texts``)."""
DEFAULT_DEADLINES: Mapping[str, int] = {
    TicketKind.ENQUIRY: 2,
    TicketKind.HELP: 10,
    TicketKind.SUGGESTION: 10,
    TicketKind.COMPLAINT: 15,
    TicketKind.REPORT: 15,
}
"""Working days per type: the Guangdong 12345 rules (domain facts §6)."""


@dataclass(frozen=True)
class TicketPolicy:
    """Configurable rules: deadlines in working days, the reopen window, text limits (within the columns'
    lengths, ``bot.store.limits``: a longer limit raises ValueError)."""

    deadlines: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_DEADLINES))
    reopen_days: int = 7
    max_description: int = 2000
    min_description: int = 10
    max_message: int = 2000

    def __post_init__(self) -> None:
        if not 0 < self.max_description <= limits.DESCRIPTION:
            raise ValueError(f"the longest description must be 1–{limits.DESCRIPTION} characters")
        if not 0 < self.max_message <= min(limits.MESSAGE, limits.RESOLUTION):
            raise ValueError(f"the longest message must be 1–{min(limits.MESSAGE, limits.RESOLUTION)} characters")

    @classmethod
    def parse_deadlines(cls, text: str) -> dict[str, int]:
        """Read ``enquiry=2,help=10,…`` (HELPDESK_DEADLINES); unknown types or bad numbers raise ValueError."""
        deadlines = dict(DEFAULT_DEADLINES)
        for part in filter(None, (p.strip() for p in text.split(","))):
            kind, _, days = part.partition("=")
            count = parse_id(days.strip())
            if kind.strip() not in KINDS or count is None:
                raise ValueError(f"bad deadline {part!r}: use e.g. enquiry=2,help=10")
            deadlines[kind.strip()] = count
        return deadlines


@dataclass(frozen=True)
class MessageView:
    """One message on a ticket."""

    kind: str
    text: str
    file_kind: str | None
    file_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class TicketView:
    """A ticket as shown to its owner or to staff."""

    id: int
    number: str
    user_id: int
    kind: TicketKind
    status: TicketStatus
    description: str
    contact: str | None
    reference: str | None
    lang: Lang
    assignee_id: int | None
    resolution: str | None
    created_at: datetime
    due_at: datetime
    closed_at: datetime | None
    messages: tuple[MessageView, ...] = ()
    due_provisional: bool = False
    """The deadline was counted on a provisional holiday schedule (shown to staff, not to the user)."""

    def overdue(self, now: datetime) -> bool:
        """Still open after its deadline."""
        return self.status in OPEN_STATUSES and now > self.due_at


def ticket_id(ticket: Ticket) -> int:
    """The id of a ticket that has been flushed (always, once loaded or added)."""
    assert ticket.id is not None
    return ticket.id


def ticket_number(ticket: Ticket) -> str:
    """The number of a ticket that has been flushed (given when it is created)."""
    assert ticket.number is not None
    return ticket.number


def view_of(ticket: Ticket, messages: list[TicketMessage] | None = None) -> TicketView:
    """The view of a flushed ticket, with the given messages."""
    assert ticket.id is not None and ticket.number is not None
    shown = tuple(MessageView(m.kind, m.text, m.file_kind, m.file_id, m.created_at) for m in messages or [])
    lang: Lang = "zh" if ticket.lang == "zh" else "en"
    return TicketView(
        ticket.id,
        ticket.number,
        ticket.user_id,
        TicketKind(ticket.kind),
        TicketStatus(ticket.status),
        ticket.description,
        ticket.contact,
        ticket.reference,
        lang,
        ticket.assignee_id,
        ticket.resolution,
        ticket.created_at,
        ticket.due_at,
        ticket.closed_at,
        shown,
        ticket.due_provisional,
    )


def load_ticket(session: Session, number_or_id: str | int) -> Ticket:
    """The ticket by its id or number (any case), or ``NotFound``. A string is an id only when it is ASCII
    digits within 64 bits (``bot.numbers.parse_id``): "٣" or "99999999999999999999" is simply not found."""
    ticket_id = number_or_id if isinstance(number_or_id, int) else parse_id(str(number_or_id))
    if ticket_id is not None:
        ticket = session.get(Ticket, ticket_id) if 0 <= ticket_id <= MAX_ID else None
    elif str(number_or_id).isascii():  # numbers are ASCII (T2603-0001); other text, a lone surrogate too, is none
        ticket = session.exec(select(Ticket).where(Ticket.number == str(number_or_id).upper())).first()
    else:
        ticket = None
    if ticket is None:
        raise NotFound(Reason.TICKET)
    return ticket


def read_ticket(engine: Engine, staff: StaffRegistry, actor_id: int, number_or_id: str | int) -> TicketView:
    """A ticket with its messages as *actor_id* may see it: staff any ticket, notes included; anyone else
    only their own, without notes (``NotFound`` for other people's tickets). One transaction."""
    with session_scope(engine) as session:
        ticket = load_ticket(session, number_or_id)
        as_staff = staff.get(actor_id) is not None
        if not as_staff and ticket.user_id != actor_id:
            raise NotFound(Reason.TICKET)  # never confirm that someone else's ticket exists
        query = select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
        if not as_staff:
            query = query.where(TicketMessage.kind != "note")
        messages = list(session.exec(query.order_by(col(TicketMessage.id))).all())
        return view_of(ticket, messages)


def require_open(ticket: Ticket) -> Ticket:
    """The ticket, or ``Conflict`` when it is closed (nothing is added to or changed on a closed ticket)."""
    if ticket.status == TicketStatus.CLOSED:
        raise Conflict(Reason.TICKET_CLOSED)
    return ticket


def checked_text(text: str, limit: int, required: Reason | None = None) -> str:
    """*text* without control characters and outer white space; ``InvalidInput`` when it is longer than
    *limit*, or empty where *required* names the refusal for that. Every typed text the desk keeps is checked
    with it: ticket texts, relayed live-chat messages (``bot.desk.live.relay``), rating comments."""
    text = strip_control(text).strip()
    if required is not None and not text:
        raise InvalidInput(required)
    if len(text) > limit:
        raise InvalidInput(Reason.TOO_LONG, limit=limit, length=len(text))
    return text


def add_message(
    session: Session,
    ticket: Ticket,
    author_id: int,
    kind: str,
    text: str,
    now: datetime,
    file_id: str | None = None,
    file_kind: str | None = None,
    file_name: str | None = None,
) -> None:
    """Add a message to *ticket*: ``user`` (from its owner), ``reply`` (to the owner) or ``note`` (staff only)."""
    session.add(
        TicketMessage(
            ticket_id=ticket_id(ticket),
            author_id=author_id,
            kind=kind,
            text=text,
            file_id=file_id,
            file_kind=file_kind,
            file_name=file_name,
            created_at=now,
        )
    )


def open_status(ticket: Ticket) -> TicketStatus:
    """The status a ticket returns to when it is open again: in progress when someone has it, else new."""
    return TicketStatus.IN_PROGRESS if ticket.assignee_id else TicketStatus.NEW
