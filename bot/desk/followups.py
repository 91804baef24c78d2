"""好差评 回访: every bad rating (不满意 / 非常不满意) opens a follow-up with its own deadline.

A follow-up is opened with the rating, in the same transaction (``Ratings.rate``), and is due
``HELPDESK_FOLLOWUP_DAYS`` working days later on the holiday calendar, counted as ticket deadlines are
(``bot.desk.workdays``). Supervisors take it (it becomes theirs to call) and record the call-back: the
outcome, and what the user said and what was fixed; recording closes it. No Telegram here; time passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.desk.staff import StaffRegistry, audit
from bot.desk.tickets.common import checked_text
from bot.desk.workdays import WorkCalendar
from bot.errors import Conflict, InvalidInput, NotFound, Reason
from bot.i18n import N_
from bot.store import limits
from bot.store.db import session_scope
from bot.store.models import FollowUp, Rating, Ticket, User

DEFAULT_DAYS = 5
"""Working days to call back after a bad rating (``HELPDESK_FOLLOWUP_DAYS``)."""
MAX_NOTES = limits.MESSAGE


class Outcome(StrEnum):
    """How a call-back ended (``FollowUp.outcome``)."""

    RESOLVED = "resolved"  # the problem was fixed
    EXPLAINED = "explained"  # nothing to fix: the rules were explained
    WRONGFUL = "wrongful"  # a wrongful rating, flagged for review


OUTCOME_LABELS: Mapping[str, str] = {
    Outcome.RESOLVED: N_("Resolved"),
    Outcome.EXPLAINED: N_("Explained"),
    Outcome.WRONGFUL: N_("Wrongful rating, flag for review"),
}


@dataclass(frozen=True)
class FollowUpView:
    """A follow-up as staff see it."""

    id: int
    rating_id: int
    service: str
    service_id: int
    level: int
    user_id: int
    user_name: str
    number: str | None
    """The rated ticket's number (a ticket's rating)."""
    opened_at: datetime
    due_at: datetime
    assignee_id: int | None
    called_by: int | None
    called_at: datetime | None
    outcome: str | None
    notes: str | None

    @property
    def open(self) -> bool:
        return self.called_at is None

    def overdue(self, now: datetime) -> bool:
        return self.open and now > self.due_at


def _view(session: Session, row: FollowUp) -> FollowUpView:
    assert row.id is not None
    rating = session.get(Rating, row.rating_id)
    user = session.get(User, row.user_id)
    ticket = session.get(Ticket, row.service_id) if row.service == "ticket" else None
    return FollowUpView(
        row.id,
        row.rating_id,
        row.service,
        row.service_id,
        rating.level if rating else 0,
        row.user_id,
        user.display_name if user else "",
        ticket.number if ticket else None,
        row.opened_at,
        row.due_at,
        row.assignee_id,
        row.called_by,
        row.called_at,
        row.outcome,
        row.notes,
    )


class FollowUps:
    """Opening, assigning, recording and listing the call-backs after bad ratings."""

    def __init__(self, engine: Engine, staff: StaffRegistry, calendar: WorkCalendar, days: int = DEFAULT_DAYS) -> None:
        self.engine = engine
        self.staff = staff
        self.calendar = calendar
        self.days = days

    def open_in(self, session: Session, rating: Rating, now: datetime) -> FollowUp:
        """Open the follow-up of the bad *rating* in *session* (the rating's own transaction, so a bad rating
        never exists without its follow-up)."""
        assert rating.id is not None
        row = FollowUp(
            rating_id=rating.id,
            service=rating.service,
            service_id=rating.service_id,
            user_id=rating.user_id,
            opened_at=now,
            due_at=self.calendar.due(now, self.days).at,
        )
        session.add(row)
        session.flush()
        return row

    def get(self, actor_id: int, followup_id: int) -> FollowUpView:
        """A follow-up, for a supervisor."""
        self.staff.require(actor_id, supervisor=True)
        with session_scope(self.engine) as session:
            row = session.get(FollowUp, followup_id)
            if row is None:
                raise NotFound(Reason.RATING)
            return _view(session, row)

    def of_rating(self, rating_id: int) -> FollowUpView | None:
        """The follow-up a rating opened, if it was a bad one."""
        with session_scope(self.engine) as session:
            row = session.exec(select(FollowUp).where(FollowUp.rating_id == rating_id)).first()
            return None if row is None else _view(session, row)

    def take(self, actor_id: int, followup_id: int, now: datetime) -> FollowUpView:
        """Assign an open follow-up to the supervisor who takes it (taking it from whoever had it)."""
        self.staff.require(actor_id, supervisor=True)
        with session_scope(self.engine) as session:
            row = session.get(FollowUp, followup_id, with_for_update=True)
            if row is None:
                raise NotFound(Reason.RATING)
            if row.called_at is not None:
                raise Conflict(Reason.ALREADY_CLOSED)
            row.assignee_id = actor_id
            audit(session, actor_id, "followup_taken", now, detail=f"followup {followup_id}")
            return _view(session, row)

    def record(self, actor_id: int, followup_id: int, outcome: str, notes: str, now: datetime) -> FollowUpView:
        """Record the call-back (who called, when, the outcome, what the user said and what was fixed): the
        follow-up is closed. It becomes the caller's if nobody had taken it."""
        self.staff.require(actor_id, supervisor=True)
        if outcome not in OUTCOME_LABELS:
            raise InvalidInput(Reason.BAD_RATING)
        notes = checked_text(notes, MAX_NOTES, required=Reason.EMPTY)
        with session_scope(self.engine) as session:
            row = session.get(FollowUp, followup_id, with_for_update=True)
            if row is None:
                raise NotFound(Reason.RATING)
            if row.called_at is not None:
                raise Conflict(Reason.ALREADY_CLOSED)
            row.called_by, row.called_at, row.outcome, row.notes = actor_id, now, outcome, notes
            row.assignee_id = row.assignee_id or actor_id
            audit(session, actor_id, "followup_recorded", now, detail=f"followup {followup_id} {outcome}")
            return _view(session, row)

    def open_list(self, actor_id: int) -> list[FollowUpView]:
        """The open follow-ups, earliest due first (for a supervisor)."""
        self.staff.require(actor_id, supervisor=True)
        with session_scope(self.engine) as session:
            query = select(FollowUp).where(col(FollowUp.called_at).is_(None)).order_by(col(FollowUp.due_at))
            return [_view(session, row) for row in session.exec(query).all()]

    def open_count(self) -> int:
        """How many follow-ups wait for a call-back (the morning digest's figure)."""
        with session_scope(self.engine) as session:
            query = select(func.count()).select_from(FollowUp).where(col(FollowUp.called_at).is_(None))
            return session.exec(query).one()
