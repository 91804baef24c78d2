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
from bot.desk.flows import Flows, FlowState
from bot.desk.staff import StaffRegistry, audit
from bot.desk.workdays import WorkCalendar
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.i18n import N_, SHANGHAI
from bot.store.db import session_scope
from bot.store.models import Ticket, TicketMessage, ensure_user

KINDS = ("enquiry", "help", "suggestion", "complaint", "report")
KIND_LABELS: Mapping[str, str] = {
    "enquiry": N_("Enquiry (咨询)"),
    "help": N_("Help request (求助)"),
    "suggestion": N_("Suggestion (建议)"),
    "complaint": N_("Complaint (投诉)"),
    "report": N_("Report (举报)"),
}
STATUSES = ("new", "in_progress", "answered", "closed")
STATUS_LABELS: Mapping[str, str] = {
    "new": N_("new"),
    "in_progress": N_("in progress"),
    "answered": N_("answered"),
    "closed": N_("closed"),
}
OPEN_STATUSES = ("new", "in_progress", "answered")
DEFAULT_DEADLINES: Mapping[str, int] = {"enquiry": 2, "help": 10, "suggestion": 10, "complaint": 15, "report": 15}
"""Working days per type: the Guangdong 12345 rules (domain facts §6)."""

FLOW = "ticket"
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
class Notice:
    """Something to tell a person later (rendered by the front end in the recipient's language)."""

    user_id: int
    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)


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
    kind: str
    status: str
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


def _view(ticket: Ticket, messages: list[TicketMessage] | None = None) -> TicketView:
    assert ticket.id is not None and ticket.number is not None
    shown = tuple(MessageView(m.kind, m.text, m.file_kind, m.file_id, m.created_at) for m in messages or [])
    lang: Lang = "zh" if ticket.lang == "zh" else "en"
    return TicketView(
        ticket.id,
        ticket.number,
        ticket.user_id,
        ticket.kind,
        ticket.status,
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
            raise InvalidInput("bad_contact") from exc
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput("bad_contact") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput("bad_contact")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_reference(text: str) -> str:
    """An application or permit number: letters, digits, dashes, 3–40 characters."""
    text = " ".join(strip_control(text).split())
    if not REFERENCE_RE.fullmatch(text):
        raise InvalidInput("bad_reference")
    return text


@dataclass(frozen=True)
class Filing:
    """Where a user's ticket filing stands: the step it waits at and what was given so far."""

    step: str  # kind | description | contact | reference | confirm
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
        step = "kind"
        if kind is not None:
            if kind not in KINDS:
                raise InvalidInput("unknown_kind")
            data["kind"] = kind
            step = "description"
        if description:
            data["description"] = self._check_description(description)
            step = "contact" if kind else "kind"
        return Filing.of(self.flows.set(user_id, FlowState(FLOW, step, data), now))

    def filing(self, user_id: int) -> Filing | None:
        """The user's filing in progress, or None."""
        state = self.flows.get(user_id)
        return Filing.of(state) if state is not None and state.name == FLOW else None

    def _require_filing(self, user_id: int) -> FlowState:
        state = self.flows.get(user_id)
        if state is None or state.name != FLOW:
            raise NotFound("filing")
        return state

    def _advance(self, user_id: int, state: FlowState, now: datetime, **changes: Any) -> Filing:
        data = {**state.data, **changes}
        for step in ("kind", "description", "contact", "reference"):
            if step not in data:
                return Filing.of(self.flows.set(user_id, FlowState(FLOW, step, data), now))
        return Filing.of(self.flows.set(user_id, FlowState(FLOW, "confirm", data), now))

    def choose_kind(self, user_id: int, kind: str, now: datetime) -> Filing:
        """The type button."""
        if kind not in KINDS:
            raise InvalidInput("unknown_kind")
        state = self._require_filing(user_id)
        return self._advance(user_id, state, now, kind=kind)

    def _check_description(self, text: str) -> str:
        text = strip_control(text).strip()
        if len(text) > self.policy.max_description:
            raise InvalidInput("too_long", limit=self.policy.max_description, length=len(text))
        if not has_content(text) or len(text) < self.policy.min_description:
            raise InvalidInput("too_short", minimum=self.policy.min_description)
        return text

    def give_text(self, user_id: int, text: str, now: datetime) -> Filing:
        """Typed text at the current step (description, contact or reference)."""
        state = self._require_filing(user_id)
        if state.step == "description":
            return self._advance(user_id, state, now, description=self._check_description(text))
        if state.step == "contact":
            return self._advance(user_id, state, now, contact=validate_contact(text))
        if state.step == "reference":
            return self._advance(user_id, state, now, reference=validate_reference(text))
        raise InvalidInput("use_buttons", step=state.step)

    def skip(self, user_id: int, now: datetime) -> Filing:
        """Skip the optional contact or reference step."""
        state = self._require_filing(user_id)
        if state.step not in ("contact", "reference"):
            raise InvalidInput("cannot_skip", step=state.step)
        return self._advance(user_id, state, now, **{state.step: None})

    def confirm(self, user_id: int, lang: Lang, now: datetime) -> TicketView:
        """Submit the filing: the ticket gets its number and due date; the flow ends."""
        state = self._require_filing(user_id)
        filing = Filing.of(state)
        if state.step != "confirm" or filing.kind is None or filing.description is None:
            raise InvalidInput("not_ready", step=state.step)
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
            raise InvalidInput("unknown_kind")
        due = self.calendar.due(now, self.policy.deadlines[kind])
        with session_scope(self.engine) as session:
            ensure_user(session, user_id, now)
            ticket = Ticket(
                user_id=user_id,
                kind=kind,
                status="new",
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
            raise NotFound("ticket")
        return ticket

    def _visible(self, session: Session, actor_id: int, number_or_id: str | int) -> tuple[Ticket, bool]:
        """The ticket if the actor may see it, and whether they see it as staff."""
        ticket = self._load(session, number_or_id)
        if self.staff.get(actor_id) is not None:
            return ticket, True
        if ticket.user_id != actor_id:
            raise NotFound("ticket")  # never confirm that someone else's ticket exists
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
        return self.search(actor_id, now, status=word if word in ("new", "closed") else "open")

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
            raise InvalidInput("too_long", limit=self.policy.max_message, length=len(text))
        if not text and not file_id:
            raise InvalidInput("empty")
        with session_scope(self.engine) as session:
            ticket = self._load(session, number_or_id)
            if ticket.user_id != user_id:
                raise NotFound("ticket")
            if ticket.status == "closed":
                raise Conflict("ticket_closed")
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
            if ticket.status == "answered":
                ticket.status = "in_progress" if ticket.assignee_id else "new"
            ticket.updated_at = now
            notices = []
            if ticket.assignee_id:
                notices.append(Notice(ticket.assignee_id, "ticket_user_message", {"number": ticket.number}))
            return _view(ticket), notices

    def close_own(self, user_id: int, number_or_id: str | int, now: datetime) -> TicketView:
        """The owner closes their ticket (the matter is settled)."""
        with session_scope(self.engine) as session:
            ticket = self._load(session, number_or_id)
            if ticket.user_id != user_id:
                raise NotFound("ticket")
            if ticket.status == "closed":
                raise Conflict("already_closed")
            ticket.status, ticket.closed_at, ticket.updated_at = "closed", now, now
            ticket.resolution = ticket.resolution or "closed by the user"
            return _view(ticket)

    def reopen_own(self, user_id: int, number_or_id: str | int, now: datetime) -> tuple[TicketView, list[Notice]]:
        """The owner reopens their closed ticket within the reopen window."""
        with session_scope(self.engine) as session:
            ticket = self._load(session, number_or_id)
            if ticket.user_id != user_id:
                raise NotFound("ticket")
            if ticket.status != "closed" or ticket.closed_at is None:
                raise Conflict("not_closed")
            if now > ticket.closed_at + timedelta(days=self.policy.reopen_days):
                raise NotAllowed("reopen_window_passed")
            ticket.status = "in_progress" if ticket.assignee_id else "new"
            ticket.closed_at, ticket.updated_at = None, now
            notices = (
                [Notice(ticket.assignee_id, "ticket_reopened", {"number": ticket.number})]
                if (ticket.assignee_id)
                else []
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
            if ticket.status == "closed":
                raise Conflict("ticket_closed")
            ticket.assignee_id = actor_id
            if ticket.status == "new":
                ticket.status = "in_progress"
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
            raise InvalidInput("empty")
        if len(text) > self.policy.max_message:
            raise InvalidInput("too_long", limit=self.policy.max_message, length=len(text))
        with session_scope(self.engine) as session:
            ticket = self._staff_ticket(session, actor_id, number_or_id)
            if ticket.status == "closed":
                raise Conflict("ticket_closed")
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
            ticket.status, ticket.updated_at = "answered", now
            audit(session, actor_id, "reply", now, ticket.id)
            notice = Notice(
                ticket.user_id,
                "ticket_reply",
                {
                    "number": ticket.number,
                    "ticket_id": ticket.id,
                    "text": text,
                    "file_id": file_id,
                    "file_kind": file_kind,
                },
            )
            return _view(ticket), [notice]

    def note(self, actor_id: int, number_or_id: str | int, text: str, now: datetime) -> TicketView:
        """An internal note: staff only, never shown to the user."""
        text = strip_control(text).strip()
        if not text:
            raise InvalidInput("empty")
        if len(text) > self.policy.max_message:
            raise InvalidInput("too_long", limit=self.policy.max_message, length=len(text))
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
            raise InvalidInput("unknown_kind")
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
            raise NotFound("staff")
        with session_scope(self.engine) as session:
            ticket = self._staff_ticket(session, actor_id, number_or_id)
            if ticket.status == "closed":
                raise Conflict("ticket_closed")
            ticket.assignee_id = to_staff
            if ticket.status == "new":
                ticket.status = "in_progress"
            ticket.updated_at = now
            audit(session, actor_id, "reassign", now, ticket.id, f"to {to_staff}")
            notices = [Notice(to_staff, "ticket_assigned", {"number": ticket.number})] if to_staff != actor_id else []
            return _view(ticket), notices

    def close(
        self, actor_id: int, number_or_id: str | int, resolution: str, now: datetime
    ) -> tuple[TicketView, list[Notice]]:
        """Close with a resolution; the user is told and asked for a rating."""
        resolution = strip_control(resolution).strip()
        if not resolution:
            raise InvalidInput("resolution_required")
        if len(resolution) > self.policy.max_message:
            raise InvalidInput("too_long", limit=self.policy.max_message, length=len(resolution))
        with session_scope(self.engine) as session:
            ticket = self._staff_ticket(session, actor_id, number_or_id)
            if ticket.status == "closed":
                raise Conflict("already_closed")
            ticket.status, ticket.resolution, ticket.closed_at, ticket.updated_at = "closed", resolution, now, now
            ticket.assignee_id = ticket.assignee_id or actor_id
            audit(session, actor_id, "close", now, ticket.id)
            notice = Notice(
                ticket.user_id,
                "ticket_closed",
                {"number": ticket.number, "ticket_id": ticket.id, "resolution": resolution},
            )
            return _view(ticket), [notice]

    def reopen(self, actor_id: int, number_or_id: str | int, now: datetime) -> tuple[TicketView, list[Notice]]:
        """Staff reopen a closed ticket (the user is told)."""
        with session_scope(self.engine) as session:
            ticket = self._staff_ticket(session, actor_id, number_or_id)
            if ticket.status != "closed":
                raise Conflict("not_closed")
            ticket.status = "in_progress" if ticket.assignee_id else "new"
            ticket.closed_at, ticket.updated_at = None, now
            audit(session, actor_id, "reopen", now, ticket.id)
            return _view(ticket), [Notice(ticket.user_id, "ticket_reopened_by_staff", {"number": ticket.number})]

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
                    params = {"number": ticket.number, "ticket_id": ticket.id, "due": due.at}
                    notices.append(Notice(ticket.user_id, "ticket_due_later", params))
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
