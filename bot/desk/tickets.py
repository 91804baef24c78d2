"""12345-style tickets: filing (a persisted flow), working them as staff, and their lifecycle.

Lifecycle: new → in_progress (a member of staff took it) → answered (staff replied) → closed
(with a resolution). A user may reopen their closed ticket within ``reopen_days``; staff may reopen
any time. Deadlines are working days per type on the Chinese calendar (``bot.desk.workdays``); one counted
across a year whose official schedule is not known yet is *provisional* (staff see it so) and is
recomputed once the schedule is known (``recompute_deadlines``).

Visibility: a user sees only their own tickets and never internal notes; staff see everything.
Every staff action goes to the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.answering.text import Lang, has_content, strip_control
from bot.desk.flows import FilingStep, FlowName, Flows, FlowState
from bot.desk.staff import StaffRegistry, audit
from bot.desk.workdays import WorkCalendar
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound, Reason
from bot.i18n import N_, SHANGHAI
from bot.notices import (
    Notice,
    TicketAssigned,
    TicketClosed,
    TicketDueLater,
    TicketReopenedByStaff,
    TicketReopenedByUser,
    TicketReply,
    TicketUserMessage,
)
from bot.store.db import session_scope
from bot.store.models import Ticket, TicketMessage, ensure_user
from bot.store.statuses import TicketKind, TicketStatus

KINDS: tuple[TicketKind, ...] = tuple(TicketKind)
KIND_LABELS: Mapping[str, str] = {
    TicketKind.ENQUIRY: N_("Enquiry (咨询)"),
    TicketKind.HELP: N_("Help request (求助)"),
    TicketKind.SUGGESTION: N_("Suggestion (建议)"),
    TicketKind.COMPLAINT: N_("Complaint (投诉)"),
    TicketKind.REPORT: N_("Report (举报)"),
}
STATUSES: tuple[TicketStatus, ...] = tuple(TicketStatus)
STATUS_LABELS: Mapping[str, str] = {
    TicketStatus.NEW: N_("new"),
    TicketStatus.IN_PROGRESS: N_("in progress"),
    TicketStatus.ANSWERED: N_("answered"),
    TicketStatus.CLOSED: N_("closed"),
}
OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.IN_PROGRESS, TicketStatus.ANSWERED)
DEFAULT_DEADLINES: Mapping[str, int] = {
    TicketKind.ENQUIRY: 2,
    TicketKind.HELP: 10,
    TicketKind.SUGGESTION: 10,
    TicketKind.COMPLAINT: 15,
    TicketKind.REPORT: 15,
}
"""Working days per type: the Guangdong 12345 rules (domain facts §6)."""

REFERENCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-/ ]{2,39}$")


@dataclass(frozen=True)
class TicketPolicy:
    """Configurable rules: deadlines in working days, the reopen window, text limits."""

    deadlines: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_DEADLINES))
    reopen_days: int = 7
    max_description: int = 2000
    min_description: int = 10
    max_message: int = 2000

    @classmethod
    def parse_deadlines(cls, text: str) -> dict[str, int]:
        """Read ``enquiry=2,help=10,…`` (HELPDESK_DEADLINES); unknown types or bad numbers raise ValueError."""
        deadlines = dict(DEFAULT_DEADLINES)
        for part in filter(None, (p.strip() for p in text.split(","))):
            kind, _, days = part.partition("=")
            if kind.strip() not in KINDS or not days.strip().isdigit():
                raise ValueError(f"bad deadline {part!r}: use e.g. enquiry=2,help=10")
            deadlines[kind.strip()] = int(days)
        return deadlines


LIST_FILTERS = ("open", "new", "overdue", "mine", "closed", *KINDS)
"""The words staff list tickets by (``TicketDesk.find``)."""


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


def _id(ticket: Ticket) -> int:
    """The id of a ticket that has been flushed (always, once loaded or added)."""
    assert ticket.id is not None
    return ticket.id


def _number(ticket: Ticket) -> str:
    """The number of a ticket that has been flushed (given when it is created)."""
    assert ticket.number is not None
    return ticket.number


def _view(ticket: Ticket, messages: list[TicketMessage] | None = None) -> TicketView:
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


def validate_contact(text: str) -> str:
    """A phone number (E.164, Chinese numbers without +86 accepted) or an e-mail address, normalised."""
    text = strip_control(text).strip()
    if "@" in text:
        try:
            return validate_email(text, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise InvalidInput(Reason.BAD_CONTACT) from exc
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(Reason.BAD_CONTACT) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(Reason.BAD_CONTACT)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_reference(text: str) -> str:
    """An application or permit number: letters, digits, dashes, 3–40 characters."""
    text = " ".join(strip_control(text).split())
    if not REFERENCE_RE.fullmatch(text):
        raise InvalidInput(Reason.BAD_REFERENCE)
    return text


@dataclass(frozen=True)
class Filing:
    """Where a user's ticket filing stands: the step it waits at and what was given so far."""

    step: str  # a FilingStep (bot.desk.flows)
    kind: str | None
    description: str | None
    contact: str | None
    reference: str | None

    @classmethod
    def of(cls, state: FlowState) -> Filing:
        d = state.data
        return cls(state.step, d.get("kind"), d.get("description"), d.get("contact"), d.get("reference"))


class TicketDesk:
    """Filing and working tickets."""

    def __init__(
        self,
        engine: Engine,
        staff: StaffRegistry,
        flows: Flows,
        policy: TicketPolicy | None = None,
        calendar: WorkCalendar | None = None,
    ) -> None:
        self.engine = engine
        self.staff = staff
        self.flows = flows
        self.policy = policy or TicketPolicy()
        self.calendar = calendar or WorkCalendar()

    # ----- filing ------------------------------------------------------------------------
    def start_filing(
        self, user_id: int, now: datetime, kind: str | None = None, description: str | None = None, origin: str = "bot"
    ) -> Filing:
        """Begin filing; with *kind* the type step is skipped, with *description* the text is prefilled."""
        data: dict[str, Any] = {"origin": origin}
        step = FilingStep.KIND
        if kind is not None:
            if kind not in KINDS:
                raise InvalidInput(Reason.UNKNOWN_KIND)
            data["kind"] = kind
            step = FilingStep.DESCRIPTION
        if description:
            data["description"] = self._check_description(description)
            step = FilingStep.CONTACT if kind else FilingStep.KIND
        return Filing.of(self.flows.set(user_id, FlowState(FlowName.TICKET, step, data), now))

    def filing(self, user_id: int) -> Filing | None:
        """The user's filing in progress, or None."""
        state = self.flows.get(user_id)
        return Filing.of(state) if state is not None and state.name == FlowName.TICKET else None

    def _require_filing(self, user_id: int) -> FlowState:
        state = self.flows.get(user_id)
        if state is None or state.name != FlowName.TICKET:
            raise NotFound(Reason.FILING)
        return state

    def _advance(self, user_id: int, state: FlowState, now: datetime, **changes: Any) -> Filing:
        data = {**state.data, **changes}
        for step in (FilingStep.KIND, FilingStep.DESCRIPTION, FilingStep.CONTACT, FilingStep.REFERENCE):
            if step not in data:
                return Filing.of(self.flows.set(user_id, FlowState(FlowName.TICKET, step, data), now))
        return Filing.of(self.flows.set(user_id, FlowState(FlowName.TICKET, FilingStep.CONFIRM, data), now))

    def choose_kind(self, user_id: int, kind: str, now: datetime) -> Filing:
        """The type button."""
        if kind not in KINDS:
            raise InvalidInput(Reason.UNKNOWN_KIND)
        state = self._require_filing(user_id)
        return self._advance(user_id, state, now, kind=kind)

    def _check_description(self, text: str) -> str:
        text = strip_control(text).strip()
        if len(text) > self.policy.max_description:
            raise InvalidInput(Reason.TOO_LONG, limit=self.policy.max_description, length=len(text))
        if not has_content(text) or len(text) < self.policy.min_description:
            raise InvalidInput(Reason.TOO_SHORT, minimum=self.policy.min_description)
        return text

    def give_text(self, user_id: int, text: str, now: datetime) -> Filing:
        """Typed text at the current step (description, contact or reference)."""
        state = self._require_filing(user_id)
        if state.step == FilingStep.DESCRIPTION:
            return self._advance(user_id, state, now, description=self._check_description(text))
        if state.step == FilingStep.CONTACT:
            return self._advance(user_id, state, now, contact=validate_contact(text))
        if state.step == FilingStep.REFERENCE:
            return self._advance(user_id, state, now, reference=validate_reference(text))
        raise InvalidInput(Reason.USE_BUTTONS, step=state.step)

    def skip(self, user_id: int, now: datetime) -> Filing:
        """Skip the optional contact or reference step."""
        state = self._require_filing(user_id)
        if state.step not in (FilingStep.CONTACT, FilingStep.REFERENCE):
            raise InvalidInput(Reason.CANNOT_SKIP, step=state.step)
        return self._advance(user_id, state, now, **{state.step: None})

    def confirm(self, user_id: int, lang: Lang, now: datetime) -> TicketView:
        """Submit the filing: the ticket gets its number and due date; the flow ends."""
        state = self._require_filing(user_id)
        filing = Filing.of(state)
        if state.step != FilingStep.CONFIRM or filing.kind is None or filing.description is None:
            raise InvalidInput(Reason.NOT_READY, step=state.step)
        view = self.create(
            user_id,
            filing.kind,
            filing.description,
            lang,
            now,
            contact=filing.contact,
            reference=filing.reference,
            origin=str(state.data.get("origin", "bot")),
        )
        self.flows.clear(user_id)
        return view

    def create(
        self,
        user_id: int,
        kind: str,
        description: str,
        lang: Lang,
        now: datetime,
        *,
        contact: str | None = None,
        reference: str | None = None,
        origin: str = "bot",
    ) -> TicketView:
        """Create a ticket directly (the filing flow, a live session turned into a ticket, a left message)."""
        if kind not in KINDS:
            raise InvalidInput(Reason.UNKNOWN_KIND)
        due = self.calendar.due(now, self.policy.deadlines[kind])
        with session_scope(self.engine) as session:
            ensure_user(session, user_id, now)
            ticket = Ticket(
                user_id=user_id,
                kind=kind,
                status=TicketStatus.NEW,
                description=description[:4000],
                contact=contact,
                reference=reference,
                lang=lang,
                origin=origin,
                created_at=now,
                updated_at=now,
                due_at=due.at,
                due_provisional=due.provisional,
            )
            session.add(ticket)
            session.flush()
            ticket.number = f"T{now.astimezone(SHANGHAI):%y%m}-{ticket.id:04d}"
            return _view(ticket)

    # ----- reading -----------------------------------------------------------------------
    def _load(self, session: Session, number_or_id: str | int) -> Ticket:
        if isinstance(number_or_id, int) or str(number_or_id).isdigit():
            ticket = session.get(Ticket, int(number_or_id))
        else:
            ticket = session.exec(select(Ticket).where(Ticket.number == str(number_or_id).upper())).first()
        if ticket is None:
            raise NotFound(Reason.TICKET)
        return ticket

    def _visible(self, session: Session, actor_id: int, number_or_id: str | int) -> tuple[Ticket, bool]:
        """The ticket if the actor may see it, and whether they see it as staff."""
        ticket = self._load(session, number_or_id)
        if self.staff.get(actor_id) is not None:
            return ticket, True
        if ticket.user_id != actor_id:
            raise NotFound(Reason.TICKET)  # never confirm that someone else's ticket exists
        return ticket, False

    def get(self, actor_id: int, number_or_id: str | int) -> TicketView:
        """A ticket with its messages; notes only for staff. ``NotFound`` for other people's tickets."""
        with session_scope(self.engine) as session:
            ticket, as_staff = self._visible(session, actor_id, number_or_id)
            query = select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
            if not as_staff:
                query = query.where(TicketMessage.kind != "note")
            messages = list(session.exec(query.order_by(col(TicketMessage.id))).all())
            return _view(ticket, messages)

    def mine(self, user_id: int, limit: int = 20) -> list[TicketView]:
        """The user's tickets, newest first."""
        with session_scope(self.engine) as session:
            rows = session.exec(
                select(Ticket).where(Ticket.user_id == user_id).order_by(col(Ticket.id).desc()).limit(limit)
            ).all()
            return [_view(t) for t in rows]

    def search(
        self,
        actor_id: int,
        now: datetime,
        *,
        kind: str | None = None,
        status: str | None = None,
        overdue: bool = False,
        assignee: int | None = None,
        limit: int = 30,
    ) -> list[TicketView]:
        """Staff: tickets by type, status (``open`` = not closed), overdue and assignee; oldest due first."""
        self.staff.require(actor_id)
        with session_scope(self.engine) as session:
            query = select(Ticket)
            if kind is not None:
                query = query.where(Ticket.kind == kind)
            if status == "open":
                query = query.where(col(Ticket.status).in_(OPEN_STATUSES))
            elif status is not None:
                query = query.where(Ticket.status == status)
            if overdue:
                query = query.where(col(Ticket.status).in_(OPEN_STATUSES), col(Ticket.due_at) < now)
            if assignee is not None:
                query = query.where(Ticket.assignee_id == assignee)
            rows = session.exec(query.order_by(col(Ticket.due_at), col(Ticket.id)).limit(limit)).all()
            return [_view(t) for t in rows]

    def find(self, actor_id: int, now: datetime, word: str) -> list[TicketView]:
        """Staff: the tickets one of ``LIST_FILTERS`` names (a ticket type lists its open tickets)."""
        if word in KINDS:
            return self.search(actor_id, now, kind=word, status="open")
        if word == "overdue":
            return self.search(actor_id, now, overdue=True)
        if word == "mine":
            return self.search(actor_id, now, assignee=actor_id, status="open")
        return self.search(actor_id, now, status=word if word in (TicketStatus.NEW, TicketStatus.CLOSED) else "open")

    # ----- the user's actions ------------------------------------------------------------
    def add_user_message(
        self,
        user_id: int,
        number_or_id: str | int,
        now: datetime,
        text: str = "",
        file_id: str | None = None,
        file_kind: str | None = None,
        file_name: str | None = None,
    ) -> tuple[TicketView, list[Notice]]:
        """The owner adds text, a photo or a document to their open ticket; the assignee is told."""
        text = strip_control(text).strip()
        if len(text) > self.policy.max_message:
            raise InvalidInput(Reason.TOO_LONG, limit=self.policy.max_message, length=len(text))
        if not text and not file_id:
            raise InvalidInput(Reason.EMPTY)
        with session_scope(self.engine) as session:
            ticket = self._load(session, number_or_id)
            if ticket.user_id != user_id:
                raise NotFound(Reason.TICKET)
            if ticket.status == TicketStatus.CLOSED:
                raise Conflict(Reason.TICKET_CLOSED)
            session.add(
                TicketMessage(
                    ticket_id=_id(ticket),
                    author_id=user_id,
                    kind="user",
                    text=text,
                    file_id=file_id,
                    file_kind=file_kind,
                    file_name=file_name,
                    created_at=now,
                )
            )
            if ticket.status == TicketStatus.ANSWERED:
                ticket.status = TicketStatus.IN_PROGRESS if ticket.assignee_id else TicketStatus.NEW
            ticket.updated_at = now
            notices: list[Notice] = []
            if ticket.assignee_id:
                notices.append(TicketUserMessage(ticket.assignee_id, _number(ticket)))
            return _view(ticket), notices

    def close_own(self, user_id: int, number_or_id: str | int, now: datetime) -> TicketView:
        """The owner closes their ticket (the matter is settled)."""
        with session_scope(self.engine) as session:
            ticket = self._load(session, number_or_id)
            if ticket.user_id != user_id:
                raise NotFound(Reason.TICKET)
            if ticket.status == TicketStatus.CLOSED:
                raise Conflict(Reason.ALREADY_CLOSED)
            ticket.status, ticket.closed_at, ticket.updated_at = TicketStatus.CLOSED, now, now
            ticket.resolution = ticket.resolution or "closed by the user"
            return _view(ticket)

    def reopen_own(self, user_id: int, number_or_id: str | int, now: datetime) -> tuple[TicketView, list[Notice]]:
        """The owner reopens their closed ticket within the reopen window."""
        with session_scope(self.engine) as session:
            ticket = self._load(session, number_or_id)
            if ticket.user_id != user_id:
                raise NotFound(Reason.TICKET)
            if ticket.status != TicketStatus.CLOSED or ticket.closed_at is None:
                raise Conflict(Reason.NOT_CLOSED)
            if now > ticket.closed_at + timedelta(days=self.policy.reopen_days):
                raise NotAllowed(Reason.REOPEN_WINDOW_PASSED)
            ticket.status = TicketStatus.IN_PROGRESS if ticket.assignee_id else TicketStatus.NEW
            ticket.closed_at, ticket.updated_at = None, now
            notices: list[Notice] = (
                [TicketReopenedByUser(ticket.assignee_id, _number(ticket))] if ticket.assignee_id else []
            )
            return _view(ticket), notices

    # ----- staff actions -----------------------------------------------------------------
    def _staff_ticket(self, session: Session, actor_id: int, number_or_id: str | int) -> Ticket:
        self.staff.require(actor_id)
        return self._load(session, number_or_id)

    def take(self, actor_id: int, number_or_id: str | int, now: datetime) -> TicketView:
        """A member of staff takes the ticket (it becomes theirs, in progress)."""
        with session_scope(self.engine) as session:
            ticket = self._staff_ticket(session, actor_id, number_or_id)
            if ticket.status == TicketStatus.CLOSED:
                raise Conflict(Reason.TICKET_CLOSED)
            ticket.assignee_id = actor_id
            if ticket.status == TicketStatus.NEW:
                ticket.status = TicketStatus.IN_PROGRESS
            ticket.updated_at = now
            audit(session, actor_id, "take", now, ticket.id)
            return _view(ticket)

    def reply(
        self,
        actor_id: int,
        number_or_id: str | int,
        text: str,
        now: datetime,
        file_id: str | None = None,
        file_kind: str | None = None,
    ) -> tuple[TicketView, list[Notice]]:
        """A reply to the user (delivered to them); the ticket becomes answered and, if unassigned, theirs."""
        text = strip_control(text).strip()
        if not text and not file_id:
            raise InvalidInput(Reason.EMPTY)
        if len(text) > self.policy.max_message:
            raise InvalidInput(Reason.TOO_LONG, limit=self.policy.max_message, length=len(text))
        with session_scope(self.engine) as session:
            ticket = self._staff_ticket(session, actor_id, number_or_id)
            if ticket.status == TicketStatus.CLOSED:
                raise Conflict(Reason.TICKET_CLOSED)
            session.add(
                TicketMessage(
                    ticket_id=_id(ticket),
                    author_id=actor_id,
                    kind="reply",
                    text=text,
                    file_id=file_id,
                    file_kind=file_kind,
                    created_at=now,
                )
            )
            ticket.assignee_id = ticket.assignee_id or actor_id
            ticket.status, ticket.updated_at = TicketStatus.ANSWERED, now
            audit(session, actor_id, "reply", now, ticket.id)
            notice = TicketReply(ticket.user_id, _number(ticket), _id(ticket), text, file_id, file_kind)
            return _view(ticket), [notice]

    def note(self, actor_id: int, number_or_id: str | int, text: str, now: datetime) -> TicketView:
        """An internal note: staff only, never shown to the user."""
        text = strip_control(text).strip()
        if not text:
            raise InvalidInput(Reason.EMPTY)
        if len(text) > self.policy.max_message:
            raise InvalidInput(Reason.TOO_LONG, limit=self.policy.max_message, length=len(text))
        with session_scope(self.engine) as session:
            ticket = self._staff_ticket(session, actor_id, number_or_id)
            session.add(
                TicketMessage(ticket_id=_id(ticket), author_id=actor_id, kind="note", text=text, created_at=now)
            )
            ticket.updated_at = now
            audit(session, actor_id, "note", now, ticket.id)
            return _view(ticket)

    def change_kind(self, actor_id: int, number_or_id: str | int, kind: str, now: datetime) -> TicketView:
        """Change the type; the deadline is recomputed from the filing time with the new type's limit."""
        if kind not in KINDS:
            raise InvalidInput(Reason.UNKNOWN_KIND)
        with session_scope(self.engine) as session:
            ticket = self._staff_ticket(session, actor_id, number_or_id)
            old = ticket.kind
            ticket.kind = kind
            due = self.calendar.due(ticket.created_at, self.policy.deadlines[kind])
            ticket.due_at, ticket.due_provisional = due.at, due.provisional
            ticket.updated_at = now
            audit(session, actor_id, "change_kind", now, ticket.id, f"{old} -> {kind}")
            return _view(ticket)

    def reassign(
        self, actor_id: int, number_or_id: str | int, to_staff: int, now: datetime
    ) -> tuple[TicketView, list[Notice]]:
        """Give the ticket to another member of staff (who is told)."""
        if self.staff.get(to_staff) is None:
            raise NotFound(Reason.STAFF)
        with session_scope(self.engine) as session:
            ticket = self._staff_ticket(session, actor_id, number_or_id)
            if ticket.status == TicketStatus.CLOSED:
                raise Conflict(Reason.TICKET_CLOSED)
            ticket.assignee_id = to_staff
            if ticket.status == TicketStatus.NEW:
                ticket.status = TicketStatus.IN_PROGRESS
            ticket.updated_at = now
            audit(session, actor_id, "reassign", now, ticket.id, f"to {to_staff}")
            notices: list[Notice] = [TicketAssigned(to_staff, _number(ticket))] if to_staff != actor_id else []
            return _view(ticket), notices

    def close(
        self, actor_id: int, number_or_id: str | int, resolution: str, now: datetime
    ) -> tuple[TicketView, list[Notice]]:
        """Close with a resolution; the user is told and asked for a rating."""
        resolution = strip_control(resolution).strip()
        if not resolution:
            raise InvalidInput(Reason.RESOLUTION_REQUIRED)
        if len(resolution) > self.policy.max_message:
            raise InvalidInput(Reason.TOO_LONG, limit=self.policy.max_message, length=len(resolution))
        with session_scope(self.engine) as session:
            ticket = self._staff_ticket(session, actor_id, number_or_id)
            if ticket.status == TicketStatus.CLOSED:
                raise Conflict(Reason.ALREADY_CLOSED)
            ticket.status, ticket.resolution = TicketStatus.CLOSED, resolution
            ticket.closed_at, ticket.updated_at = now, now
            ticket.assignee_id = ticket.assignee_id or actor_id
            audit(session, actor_id, "close", now, ticket.id)
            return _view(ticket), [TicketClosed(ticket.user_id, _number(ticket), _id(ticket), resolution)]

    def reopen(self, actor_id: int, number_or_id: str | int, now: datetime) -> tuple[TicketView, list[Notice]]:
        """Staff reopen a closed ticket (the user is told)."""
        with session_scope(self.engine) as session:
            ticket = self._staff_ticket(session, actor_id, number_or_id)
            if ticket.status != TicketStatus.CLOSED:
                raise Conflict(Reason.NOT_CLOSED)
            ticket.status = TicketStatus.IN_PROGRESS if ticket.assignee_id else TicketStatus.NEW
            ticket.closed_at, ticket.updated_at = None, now
            audit(session, actor_id, "reopen", now, ticket.id)
            return _view(ticket), [TicketReopenedByStaff(ticket.user_id, _number(ticket))]

    # ----- the holiday calendar ------------------------------------------------------------
    def recompute_deadlines(self, now: datetime) -> tuple[list[DeadlineChange], list[Notice]]:
        """Count every provisional deadline again on the calendar in force (after a year's official schedule
        became known: an office file added or the package upgraded). Each change is audited; the owner of an
        open ticket whose deadline moved later is told the new date (one that moved earlier is staff's to meet).

        Idempotent, and safe with several instances: the rows are locked while they are recounted.
        """
        changes: list[DeadlineChange] = []
        notices: list[Notice] = []
        with session_scope(self.engine) as session:
            query = select(Ticket).where(col(Ticket.due_provisional)).order_by(col(Ticket.id)).with_for_update()
            for ticket in session.exec(query).all():
                due = self.calendar.due(ticket.created_at, self.policy.deadlines[ticket.kind])
                if due.at == ticket.due_at and due.provisional:
                    continue
                old = ticket.due_at
                ticket.due_at, ticket.due_provisional = due.at, due.provisional
                change = DeadlineChange(_id(ticket), str(ticket.number), old, due.at, due.provisional)
                changes.append(change)
                detail = f"{old.astimezone(SHANGHAI):%Y-%m-%d} -> {due.at.astimezone(SHANGHAI):%Y-%m-%d}"
                audit(session, 0, "deadline_recomputed", now, ticket.id, detail + (" (provisional)" * due.provisional))
                if change.later and ticket.status in OPEN_STATUSES:
                    notices.append(TicketDueLater(ticket.user_id, change.number, change.ticket_id, due.at))
        return changes, notices

    def provisional_count(self) -> int:
        """How many tickets have a provisional deadline."""
        with session_scope(self.engine) as session:
            return session.exec(select(func.count()).select_from(Ticket).where(col(Ticket.due_provisional))).one()


@dataclass(frozen=True)
class DeadlineChange:
    """A provisional deadline counted again on a newly known holiday schedule."""

    ticket_id: int
    number: str
    old: datetime
    new: datetime
    provisional: bool
    """Still provisional (the deadline reaches into another year not yet known)."""

    @property
    def later(self) -> bool:
        return self.new > self.old
