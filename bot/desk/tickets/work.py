"""Staff working tickets: lists by filter, the staff view, take, reply, internal note, change of type,
reassign, close with a resolution, reopen. Every action is refused to non-staff and audited."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.desk.staff import StaffRegistry, audit
from bot.desk.tickets.common import (
    KINDS,
    OPEN_STATUSES,
    TicketPolicy,
    TicketView,
    add_message,
    checked_text,
    load_ticket,
    open_status,
    read_ticket,
    require_open,
    staff_names,
    ticket_id,
    ticket_number,
    view_of,
)
from bot.desk.tickets.deadlines import TicketDeadlines
from bot.errors import Conflict, InvalidInput, NotFound, Reason
from bot.notices import Notice, TicketAssigned, TicketClosed, TicketReopenedByStaff, TicketReply
from bot.numbers import MAX_ID
from bot.store.db import session_scope
from bot.store.models import Ticket, TicketMessage
from bot.store.statuses import TicketStatus

LIST_FILTERS = ("open", "new", "overdue", "mine", "closed", *KINDS)
"""The words staff list tickets by (``TicketWork.find``)."""


@dataclass(frozen=True)
class Attachment:
    """A photo or document on a ticket, for sending to a member of staff by its Telegram file id."""

    number: str
    """The ticket's number."""
    position: int
    """Its place among the ticket's attachments, from 1 (as numbered in the staff view)."""
    file_id: str
    file_kind: str
    """``photo`` or ``document``."""
    kind: str
    """The message it came with: ``user`` (from the owner) or ``reply`` (staff's)."""
    author_name: str | None
    """The member of staff who sent it with a reply."""
    created_at: datetime
    file_name: str | None


@dataclass(frozen=True)
class TicketWork:
    """What staff do with tickets."""

    engine: Engine
    staff: StaffRegistry
    deadlines: TicketDeadlines
    policy: TicketPolicy = field(default_factory=TicketPolicy)

    # ----- reading -----------------------------------------------------------------------
    def get(self, actor_id: int, number_or_id: str | int) -> TicketView:
        """A ticket with its messages, internal notes included; to anyone not staff only their own ticket,
        without notes (``NotFound`` for other people's tickets)."""
        return read_ticket(self.engine, self.staff, actor_id, number_or_id)

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
            return [view_of(t) for t in rows]

    def find(self, actor_id: int, now: datetime, word: str) -> list[TicketView]:
        """Staff: the tickets one of ``LIST_FILTERS`` names (a ticket type lists its open tickets)."""
        if word in KINDS:
            return self.search(actor_id, now, kind=word, status="open")
        if word == "overdue":
            return self.search(actor_id, now, overdue=True)
        if word == "mine":
            return self.search(actor_id, now, assignee=actor_id, status="open")
        return self.search(actor_id, now, status=word if word in (TicketStatus.NEW, TicketStatus.CLOSED) else "open")

    def attachment(self, actor_id: int, number_or_id: str | int, message_id: int) -> Attachment:
        """Staff: the photo or document of ticket message *message_id*, to be sent to them by its file id.
        ``NotFound`` when that message is not on this ticket or carries no file (an old or forged button)."""
        self.staff.require(actor_id)
        with session_scope(self.engine) as session:
            ticket = load_ticket(session, number_or_id)
            message = session.get(TicketMessage, message_id) if 0 < message_id <= MAX_ID else None
            if message is None or message.ticket_id != ticket.id or not message.file_id:
                raise NotFound(Reason.TICKET)
            position = session.exec(
                select(func.count())
                .select_from(TicketMessage)
                .where(
                    TicketMessage.ticket_id == ticket.id,
                    col(TicketMessage.file_id).is_not(None),
                    col(TicketMessage.id) <= message_id,
                )
            ).one()
            author = None if message.kind == "user" else staff_names(session).get(message.author_id)
            return Attachment(
                ticket_number(ticket),
                position,
                message.file_id,
                message.file_kind or "document",
                message.kind,
                author,
                message.created_at,
                message.file_name,
            )

    # ----- actions -----------------------------------------------------------------------
    def _staff_ticket(self, session: Session, actor_id: int, number_or_id: str | int) -> Ticket:
        self.staff.require(actor_id)
        return load_ticket(session, number_or_id)

    def _assign(self, session: Session, actor_id: int, number_or_id: str | int, to_staff: int, now: datetime) -> Ticket:
        """The open ticket, given to *to_staff* (in progress if it was new); ``Conflict`` when it is closed."""
        ticket = require_open(self._staff_ticket(session, actor_id, number_or_id))
        ticket.assignee_id = to_staff
        if ticket.status == TicketStatus.NEW:
            ticket.status = TicketStatus.IN_PROGRESS
        ticket.updated_at = now
        return ticket

    def take(self, actor_id: int, number_or_id: str | int, now: datetime) -> TicketView:
        """A member of staff takes the ticket (it becomes theirs, in progress)."""
        with session_scope(self.engine) as session:
            ticket = self._assign(session, actor_id, number_or_id, actor_id, now)
            audit(session, actor_id, "take", now, ticket.id)
            return view_of(ticket)

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
        text = checked_text(text, self.policy.max_message, required=None if file_id else Reason.EMPTY)
        member = self.staff.require(actor_id)
        with session_scope(self.engine) as session:
            ticket = require_open(load_ticket(session, number_or_id))
            add_message(session, ticket, actor_id, "reply", text, now, file_id, file_kind)
            ticket.assignee_id = ticket.assignee_id or actor_id
            ticket.status, ticket.updated_at = TicketStatus.ANSWERED, now
            audit(session, actor_id, "reply", now, ticket.id)
            number, owner = ticket_number(ticket), ticket.user_id
            notice = TicketReply(owner, number, ticket_id(ticket), text, file_id, file_kind, member.name)
            return view_of(ticket), [notice]

    def note(self, actor_id: int, number_or_id: str | int, text: str, now: datetime) -> TicketView:
        """An internal note: staff only, never shown to the user."""
        text = checked_text(text, self.policy.max_message, required=Reason.EMPTY)
        with session_scope(self.engine) as session:
            ticket = self._staff_ticket(session, actor_id, number_or_id)
            add_message(session, ticket, actor_id, "note", text, now)
            ticket.updated_at = now
            audit(session, actor_id, "note", now, ticket.id)
            return view_of(ticket)

    def change_kind(self, actor_id: int, number_or_id: str | int, kind: str, now: datetime) -> TicketView:
        """Change the type; the deadline is recomputed from the filing time with the new type's limit."""
        if kind not in KINDS:
            raise InvalidInput(Reason.UNKNOWN_KIND)
        with session_scope(self.engine) as session:
            ticket = self._staff_ticket(session, actor_id, number_or_id)
            old = ticket.kind
            ticket.kind = kind
            due = self.deadlines.due(kind, ticket.created_at)
            ticket.due_at, ticket.due_provisional = due.at, due.provisional
            ticket.updated_at = now
            audit(session, actor_id, "change_kind", now, ticket.id, f"{old} -> {kind}")
            return view_of(ticket)

    def reassign(
        self, actor_id: int, number_or_id: str | int, to_staff: int, now: datetime
    ) -> tuple[TicketView, list[Notice]]:
        """Give the ticket to another member of staff (who is told)."""
        if self.staff.get(to_staff) is None:
            raise NotFound(Reason.STAFF)
        with session_scope(self.engine) as session:
            ticket = self._assign(session, actor_id, number_or_id, to_staff, now)
            audit(session, actor_id, "reassign", now, ticket.id, f"to {to_staff}")
            notices: list[Notice] = [TicketAssigned(to_staff, ticket_number(ticket))] if to_staff != actor_id else []
            return view_of(ticket), notices

    def close(
        self, actor_id: int, number_or_id: str | int, resolution: str, now: datetime
    ) -> tuple[TicketView, list[Notice]]:
        """Close with a resolution; the user is told and asked for a rating."""
        resolution = checked_text(resolution, self.policy.max_message, required=Reason.RESOLUTION_REQUIRED)
        with session_scope(self.engine) as session:
            ticket = self._staff_ticket(session, actor_id, number_or_id)
            if ticket.status == TicketStatus.CLOSED:
                raise Conflict(Reason.ALREADY_CLOSED)
            ticket.status, ticket.resolution = TicketStatus.CLOSED, resolution
            ticket.closed_at, ticket.updated_at = now, now
            ticket.assignee_id = ticket.assignee_id or actor_id
            audit(session, actor_id, "close", now, ticket.id)
            return view_of(ticket), [TicketClosed(ticket.user_id, ticket_number(ticket), ticket_id(ticket), resolution)]

    def reopen(self, actor_id: int, number_or_id: str | int, now: datetime) -> tuple[TicketView, list[Notice]]:
        """Staff reopen a closed ticket (the user is told)."""
        with session_scope(self.engine) as session:
            ticket = self._staff_ticket(session, actor_id, number_or_id)
            if ticket.status != TicketStatus.CLOSED:
                raise Conflict(Reason.NOT_CLOSED)
            ticket.status = open_status(ticket)
            ticket.closed_at, ticket.updated_at = None, now
            audit(session, actor_id, "reopen", now, ticket.id)
            return view_of(ticket), [TicketReopenedByStaff(ticket.user_id, ticket_number(ticket))]
