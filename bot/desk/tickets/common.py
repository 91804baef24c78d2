"""What the ticket jobs share: types and statuses with their labels, the rules (``TicketPolicy``), the views
of a ticket, loading one, and who may see it (a user only their own, without internal notes; staff all)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.answering.text import Lang, strip_control
from bot.desk.staff import StaffRegistry
from bot.errors import Conflict, InvalidInput, NotFound, Reason
from bot.i18n import N_
from bot.notices import Notice, TicketNew
from bot.numbers import MAX_ID, parse_id
from bot.store import limits
from bot.store.db import session_scope
from bot.store.models import AuditLog, Staff, Ticket, TicketMessage, User
from bot.store.statuses import StaffRole, TicketKind, TicketStatus

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
"""The one word for each status, in lists, views and notices alike (``bot.desk.ticket_texts.status_label``)."""
OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.IN_PROGRESS, TicketStatus.ANSWERED)
ORIGIN_LABELS: Mapping[str, str] = {
    "bot": N_("filed by the user"),
    "console": N_("filed by the user"),
    "queue": N_("a message left instead of waiting in the queue"),
    "out_of_hours": N_("a message left outside office hours"),
    "live": N_("a live chat recorded as a ticket"),
    "checklist": N_("a materials check asked for after /checklist"),
}
"""How a ticket came to be (``Ticket.origin``), for staff."""
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
OUT_OF_HOURS = "out_of_hours"
"""``Ticket.origin`` of a message left while the live desk was closed (its deadline: ``out_of_hours_days``)."""


@dataclass(frozen=True)
class TicketPolicy:
    """Configurable rules: deadlines in working days, the reopen window, text limits (within the columns'
    lengths, ``bot.store.limits``: a longer limit raises ValueError)."""

    deadlines: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_DEADLINES))
    reopen_days: int = 7
    out_of_hours_days: int = 1
    """The deadline of a message left while the desk is closed (origin ``out_of_hours``), whatever its type:
    the user was just told when staff are back, so it is answered by the next working day(s)."""
    max_description: int = 2000
    min_description: int = 10
    max_message: int = 2000
    staff_chat_id: int | None = None
    """The staff group chat (HELPDESK_STAFF_CHAT) that is also told of every new ticket."""

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
    id: int = 0
    """The ticket message's id: an attachment's button carries it (``TicketWork.attachment``)."""
    author_name: str | None = None
    """The display name of the member of staff who wrote a reply or note (what the user sees, as in live chats)."""
    file_name: str | None = None


@dataclass(frozen=True)
class Filer:
    """Who filed a ticket, for staff: their name, language setting and role (applicant or employer)."""

    name: str
    lang: str | None
    role: str | None


@dataclass(frozen=True)
class HistoryEvent:
    """One step in a ticket's life, for staff: filed, taken, replied, closed… (from the audit log, the
    ticket's messages and its own columns)."""

    at: datetime
    action: str
    """``filed``, ``user_message``, ``closed_by_user`` or an audited staff action (``take``, ``reply``, ``note``,
    ``change_kind``, ``reassign``, ``close``, ``reopen``, ``deadline_recomputed``)."""
    actor: str | None = None
    """The member of staff's display name; None for the user or the system."""
    detail: str = ""
    """``filed``: the origin; ``change_kind``: the new type; ``reassign``: the new assignee's name;
    ``deadline_recomputed``: old → new date."""


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
    origin: str = "bot"
    filer: Filer | None = None
    """Staff's view only: who filed it."""
    assignee_name: str | None = None
    history: tuple[HistoryEvent, ...] = ()
    """Staff's view only: what happened to it, oldest first."""

    def overdue(self, now: datetime) -> bool:
        """Still open after its deadline."""
        return self.status in OPEN_STATUSES and now > self.due_at

    @property
    def attachments(self) -> tuple[MessageView, ...]:
        """The messages that carry a photo or a document, in order (numbered from 1 in the views)."""
        return tuple(m for m in self.messages if m.file_id)


def ticket_id(ticket: Ticket) -> int:
    """The id of a ticket that has been flushed (always, once loaded or added)."""
    assert ticket.id is not None
    return ticket.id


def ticket_number(ticket: Ticket) -> str:
    """The number of a ticket that has been flushed (given when it is created)."""
    assert ticket.number is not None
    return ticket.number


def view_of(
    ticket: Ticket,
    messages: list[TicketMessage] | None = None,
    names: Mapping[int, str] | None = None,
    *,
    filer: Filer | None = None,
    assignee_name: str | None = None,
    history: tuple[HistoryEvent, ...] = (),
) -> TicketView:
    """The view of a flushed ticket, with the given messages (their staff authors named from *names*); a
    staff view adds who filed it, the assignee's name and the history."""
    assert ticket.id is not None and ticket.number is not None
    names = names or {}
    shown = tuple(
        MessageView(
            m.kind,
            m.text,
            m.file_kind,
            m.file_id,
            m.created_at,
            m.id or 0,
            names.get(m.author_id) if m.kind != "user" else None,
            m.file_name,
        )
        for m in messages or []
    )
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
        origin=ticket.origin,
        filer=filer,
        assignee_name=assignee_name,
        history=history,
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
        names = staff_names(session)
        if not as_staff:
            return view_of(ticket, messages, names)
        return view_of(
            ticket,
            messages,
            names,
            filer=_filer(session, ticket.user_id),
            assignee_name=names.get(ticket.assignee_id) if ticket.assignee_id else None,
            history=_history(session, ticket, messages, names),
        )


def staff_names(session: Session) -> dict[int, str]:
    """Every member of staff's display name by Telegram id, former staff included (their replies and actions
    stay theirs). The staff table is small: one query beats one per message."""
    return {row.user_id: row.name for row in session.exec(select(Staff)).all()}


def _filer(session: Session, user_id: int) -> Filer:
    user = session.get(User, user_id)
    if user is None:
        return Filer("", None, None)
    return Filer(user.display_name, user.lang or user.client_lang, user.role)


def _history(
    session: Session, ticket: Ticket, messages: list[TicketMessage], names: Mapping[int, str]
) -> tuple[HistoryEvent, ...]:
    """The ticket's life, oldest first: filed, every audited staff action, the user's messages, and its
    closing by the user (the owner's own actions are not audited; their traces are in the ticket)."""
    events = [HistoryEvent(ticket.created_at, "filed", None, ticket.origin)]
    rows = session.exec(select(AuditLog).where(AuditLog.ticket_id == ticket.id).order_by(col(AuditLog.id))).all()
    for row in rows:
        detail = row.detail
        if row.action == "change_kind":
            detail = detail.rpartition(" -> ")[2]  # "enquiry -> complaint": the new type
        elif row.action == "reassign":
            target = parse_id(detail.removeprefix("to "))  # "to 2002"
            detail = names.get(target, detail) if target is not None else detail
        events.append(HistoryEvent(row.created_at, row.action, names.get(row.actor_id), detail))
    events += [HistoryEvent(m.created_at, "user_message") for m in messages if m.kind == "user"]
    if ticket.status == TicketStatus.CLOSED and ticket.closed_at and ticket.resolution == CLOSED_BY_USER:
        events.append(HistoryEvent(ticket.closed_at, "closed_by_user"))
    return tuple(sorted(events, key=lambda e: e.at))  # stable: same-moment events keep their order


def new_ticket_notices(
    session: Session, ticket: Ticket, staff_chat_id: int | None, skip: Collection[int] = ()
) -> list[Notice]:
    """Who is told that *ticket* has arrived: the members of staff on duty (checked in), else every
    supervisor, so that a ticket never waits unseen; and the staff chat when there is one. *skip*: people
    who know already (the filer, the operator who turned a live chat into it). In the caller's transaction."""
    active = session.exec(select(Staff).where(col(Staff.active))).all()
    on_duty = sorted(s.user_id for s in active if s.checked_in and s.user_id not in skip)
    supervisors = sorted(s.user_id for s in active if s.role == StaffRole.SUPERVISOR and s.user_id not in skip)
    told = (on_duty or supervisors) + ([staff_chat_id] if staff_chat_id is not None else [])
    number, kind = ticket_number(ticket), TicketKind(ticket.kind)
    return [TicketNew(user, ticket_id(ticket), number, kind, ticket.due_at, ticket.origin) for user in told]


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
