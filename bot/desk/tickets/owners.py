"""The owner's side of tickets: their list, one of their tickets, adding a message to it, closing it,
and reopening it within the reopen window. Another person's ticket is never confirmed to exist."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.desk.staff import StaffRegistry
from bot.desk.tickets.common import (
    CLOSED_BY_USER,
    TicketPolicy,
    TicketView,
    add_message,
    checked_text,
    load_ticket,
    open_status,
    read_ticket,
    require_open,
    ticket_number,
    view_of,
)
from bot.errors import Conflict, NotAllowed, NotFound, Reason
from bot.notices import Notice, TicketReopenedByUser, TicketUserMessage
from bot.store.db import session_scope
from bot.store.models import Ticket
from bot.store.statuses import TicketStatus


@dataclass(frozen=True)
class OwnTickets:
    """What a user does with their own tickets."""

    engine: Engine
    staff: StaffRegistry
    policy: TicketPolicy = field(default_factory=TicketPolicy)

    def mine(self, user_id: int, limit: int = 20) -> list[TicketView]:
        """The user's tickets, newest first."""
        with session_scope(self.engine) as session:
            rows = session.exec(
                select(Ticket).where(Ticket.user_id == user_id).order_by(col(Ticket.id).desc()).limit(limit)
            ).all()
            return [view_of(t) for t in rows]

    def get(self, user_id: int, number_or_id: str | int) -> TicketView:
        """The user's ticket with its messages, never internal notes; ``NotFound`` for other people's tickets.
        A member of staff sees any ticket, notes included (the same view as ``TicketWork.get``)."""
        return read_ticket(self.engine, self.staff, user_id, number_or_id)

    def _own(self, session: Session, user_id: int, number_or_id: str | int) -> Ticket:
        ticket = load_ticket(session, number_or_id)
        if ticket.user_id != user_id:
            raise NotFound(Reason.TICKET)
        return ticket

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
        text = checked_text(text, self.policy.max_message, required=None if file_id else Reason.EMPTY)
        with session_scope(self.engine) as session:
            ticket = require_open(self._own(session, user_id, number_or_id))
            add_message(session, ticket, user_id, "user", text, now, file_id, file_kind, file_name)
            if ticket.status == TicketStatus.ANSWERED:
                ticket.status = open_status(ticket)
            ticket.updated_at = now
            notices: list[Notice] = []
            if ticket.assignee_id:
                notices.append(TicketUserMessage(ticket.assignee_id, ticket_number(ticket)))
            return view_of(ticket), notices

    def close_own(self, user_id: int, number_or_id: str | int, now: datetime) -> TicketView:
        """The owner closes their ticket (the matter is settled)."""
        with session_scope(self.engine) as session:
            ticket = self._own(session, user_id, number_or_id)
            if ticket.status == TicketStatus.CLOSED:
                raise Conflict(Reason.ALREADY_CLOSED)
            ticket.status, ticket.closed_at, ticket.updated_at = TicketStatus.CLOSED, now, now
            ticket.resolution = ticket.resolution or CLOSED_BY_USER
            return view_of(ticket)

    def reopen_own(self, user_id: int, number_or_id: str | int, now: datetime) -> tuple[TicketView, list[Notice]]:
        """The owner reopens their closed ticket within the reopen window."""
        with session_scope(self.engine) as session:
            ticket = self._own(session, user_id, number_or_id)
            if ticket.status != TicketStatus.CLOSED or ticket.closed_at is None:
                raise Conflict(Reason.NOT_CLOSED)
            if now > ticket.closed_at + timedelta(days=self.policy.reopen_days):
                raise NotAllowed(Reason.REOPEN_WINDOW_PASSED)
            ticket.status = open_status(ticket)
            ticket.closed_at, ticket.updated_at = None, now
            notices: list[Notice] = (
                [TicketReopenedByUser(ticket.assignee_id, ticket_number(ticket))] if ticket.assignee_id else []
            )
            return view_of(ticket), notices
