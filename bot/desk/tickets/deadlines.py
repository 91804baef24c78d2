"""Tickets' deadlines on the holiday calendar: counting one, and keeping provisional ones current.

A deadline counted across a year whose official schedule is not known yet is *provisional*; once the
schedule is known (an office file added or the ``holidays`` package upgraded) it is counted again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from bot.desk.staff import audit
from bot.desk.tickets.common import OPEN_STATUSES, OUT_OF_HOURS, TicketPolicy, ticket_id
from bot.desk.workdays import Deadline, WorkCalendar
from bot.i18n import SHANGHAI
from bot.notices import Notice, TicketDueLater
from bot.store.db import session_scope
from bot.store.models import Ticket


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


@dataclass(frozen=True)
class TicketDeadlines:
    """The deadline of each ticket type, counted in working days on the holiday calendar in force."""

    engine: Engine
    policy: TicketPolicy = field(default_factory=TicketPolicy)
    calendar: WorkCalendar = field(default_factory=WorkCalendar)

    def due(self, kind: str, filed: datetime, origin: str | None = None) -> Deadline:
        """The deadline of a ticket of type *kind* filed at *filed* (timezone-aware, else ``ValueError``); a
        message left while the desk was closed (*origin* ``out_of_hours``) has ``out_of_hours_days`` instead."""
        days = self.policy.out_of_hours_days if origin == OUT_OF_HOURS else self.policy.deadlines[kind]
        return self.calendar.due(filed, days)

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
                due = self.due(ticket.kind, ticket.created_at, ticket.origin)
                if due.at == ticket.due_at and due.provisional:
                    continue
                old = ticket.due_at
                ticket.due_at, ticket.due_provisional = due.at, due.provisional
                change = DeadlineChange(ticket_id(ticket), str(ticket.number), old, due.at, due.provisional)
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
