"""Deadline alerts and the supervisors' morning digest: what is due, decided once and recorded.

On a working day (Asia/Shanghai, on the holiday calendar with its adjusted working weekends, 调休), from
the digest hour on (``AlertPolicy.digest_hour``, Beijing time):

- **due soon**: an open ticket due by the end of the next working day → its assignee (else the staff on
  duty, i.e. checked in; else every supervisor), once per deadline;
- **overdue**: an open ticket past its deadline → every supervisor, once per deadline;
- **the morning digest** → each supervisor (or the ids configured), once per working day: tickets filed
  since the previous digest (the last one decided; else the previous working day's), due today, overdue, and
  the bad ratings waiting for a call-back: the follow-ups still open (``bot.desk.followups``).

Nothing is decided on a day off or before the hour, so nobody is woken at night or on a holiday: a deadline
that passes over a holiday is reported on the first working morning after it.

**Exactly once.** Each decision is a row of ``alertsent`` whose key ``(kind, subject)`` is unique, written in
the transaction that decides it. The bot decides and takes the notices in one journaled step
(``handlers.deadline_jobs``), so a restart resumes the sending instead of deciding again, a missed run is
made up by the next one (the conditions are states, not moments), and a second instance on the same
database finds the row (or fails on the key and, its step run again, finds it then). The command line
(``python -m bot jobs run-due``) cannot send: it records its decisions as owed (``taken_at`` empty), and
the bot takes them over and sends them on its next run.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from bot.desk.tickets.common import OPEN_STATUSES, staff_names, ticket_id, ticket_number
from bot.desk.workdays import SHANGHAI, WorkCalendar
from bot.notices import MorningDigest, Notice, TicketDueSoon, TicketOverdue
from bot.numbers import parse_user_id
from bot.store.db import AMBIENT, session_scope
from bot.store.models import AlertSent, FollowUp, Staff, Ticket
from bot.store.statuses import StaffRole, TicketStatus

T = TypeVar("T")

DUE_SOON = "due_soon"
OVERDUE = "overdue"
DIGEST = "digest"
LISTED = 10
"""Ticket numbers a digest names per line (the count says how many there are)."""
OVERDUE_LOOKBACK = timedelta(days=30)
"""Deadlines passed longer ago are left to the digest (say, when alerts are first switched on), not each
alerted: 30 days outlasts any run of days off (Spring Festival, National Day) and any sane downtime."""


@dataclass(frozen=True)
class AlertPolicy:
    """When the digest goes out (and alerts may), and to whom."""

    digest_hour: int = 9
    """Beijing time; alerts are decided from this hour on working days too."""
    digest_to: tuple[int, ...] | None = None
    """Telegram ids that get the digest; None: every supervisor; empty: nobody."""

    def __post_init__(self) -> None:
        if not 0 <= self.digest_hour <= 23:
            raise ValueError("the digest hour must be 0–23 (Beijing time)")

    @staticmethod
    def parse_recipients(text: str) -> tuple[int, ...] | None:
        """``supervisors`` (or empty): None; ``none``: nobody; else comma-separated Telegram ids (ValueError)."""
        words = [part.strip() for part in text.split(",") if part.strip()]
        if not words or words == ["supervisors"]:
            return None
        if words == ["none"]:
            return ()
        ids = [parse_user_id(word) for word in words]
        if None in ids:
            raise ValueError(f"bad digest recipients {text!r}: use supervisors, none, or Telegram ids")
        return tuple(i for i in ids if i is not None)


@dataclass(frozen=True)
class Decision:
    """One alert decided: what (``due_soon``, ``overdue``, ``digest``), about what (a ticket's number or the
    digest's day) and for whom: what ``python -m bot jobs run-due`` prints."""

    kind: str
    about: str
    recipients: tuple[int, ...]


def _once_more_on_a_race(call: Callable[[], T]) -> T:
    """Run *call*; if another instance recorded the same alert in between (the unique key), run it again on
    what that one left. Within a journaled step the step itself is run again (``Journal.step``)."""
    try:
        return call()
    except IntegrityError:
        if AMBIENT.get() is not None:
            raise
        return call()


@dataclass(frozen=True)
class DeadlineAlerts:
    """Deciding deadline alerts and digests, recording each once (see the module's docstring)."""

    engine: Engine
    calendar: WorkCalendar
    policy: AlertPolicy = field(default_factory=AlertPolicy)

    def take_due(self, now: datetime) -> list[Notice]:
        """The bot's run: what the command line recorded and no bot has sent yet, then what is due now;
        every notice to send, recorded as taken in the same transaction."""
        return _once_more_on_a_race(lambda: self._take_due(now))

    def record_due(self, now: datetime) -> list[Decision]:
        """The command line's run: decide and record what is due as of *now*, for the bot to send."""
        return _once_more_on_a_race(lambda: self._record_due(now))

    def _take_due(self, now: datetime) -> list[Notice]:
        with session_scope(self.engine) as session:
            notices = self._take_owed(session, now)
            for _decision, made in self._decide(session, now, taken=True):
                notices += made
            return notices

    def _record_due(self, now: datetime) -> list[Decision]:
        with session_scope(self.engine) as session:
            return [decision for decision, _made in self._decide(session, now, taken=False)]

    # ----- deciding ----------------------------------------------------------------------------------
    def _decide(self, session: Session, now: datetime, taken: bool) -> list[tuple[Decision, list[Notice]]]:
        """Everything due as of *now* and not decided before, recorded (taken by a bot, or owed)."""
        local = now.astimezone(SHANGHAI)
        if not self.calendar.is_working_day(local.date()) or local.hour < self.policy.digest_hour:
            return []
        decided = self._ticket_alerts(session, now) + self._digest(session, now)
        for kind, subject, ticket, decision, notices in decided:
            session.add(
                AlertSent(
                    kind=kind,
                    subject=subject,
                    ticket_id=ticket,
                    recipients=",".join(map(str, decision.recipients)),
                    notices=pickle.dumps(notices),
                    decided_at=now,
                    taken_at=now if taken else None,
                )
            )
        session.flush()  # a second instance's row with the same key fails here (see _once_more_on_a_race)
        return [(decision, notices) for _k, _s, _t, decision, notices in decided]

    def _ticket_alerts(
        self, session: Session, now: datetime
    ) -> list[tuple[str, str, int | None, Decision, list[Notice]]]:
        """Due soon (by the end of the next working day) and overdue open tickets not yet alerted."""
        today = now.astimezone(SHANGHAI).date()
        horizon = datetime.combine(self.calendar.add_working_days(today, 1), time(23, 59, 59), tzinfo=SHANGHAI)
        query = (
            select(Ticket)
            .where(col(Ticket.status).in_(OPEN_STATUSES), col(Ticket.due_at) <= horizon)
            .where(col(Ticket.due_at) >= now - OVERDUE_LOOKBACK)
            .order_by(col(Ticket.due_at), col(Ticket.id))
        )
        tickets = session.exec(query).all()
        if not tickets:
            return []
        subjects = {ticket_id(t): _subject(t) for t in tickets}
        known = _recorded(session, (DUE_SOON, OVERDUE), subjects.values())
        staff = session.exec(select(Staff).where(col(Staff.active))).all()
        supervisors = tuple(sorted(s.user_id for s in staff if s.role == StaffRole.SUPERVISOR))
        on_duty = tuple(sorted(s.user_id for s in staff if s.checked_in))
        active = {s.user_id for s in staff}
        names = staff_names(session)
        decided: list[tuple[str, str, int | None, Decision, list[Notice]]] = []
        for ticket in tickets:
            number, subject = ticket_number(ticket), subjects[ticket_id(ticket)]
            overdue = now > ticket.due_at
            kind = OVERDUE if overdue else DUE_SOON
            if (kind, subject) in known:
                continue
            if overdue:
                told = supervisors
                assignee = names.get(ticket.assignee_id, "") if ticket.assignee_id else ""
                notices: list[Notice] = [
                    TicketOverdue(user, ticket_id(ticket), number, ticket.kind, ticket.due_at, assignee)
                    for user in told
                ]
            else:
                mine = ticket.assignee_id if ticket.assignee_id in active else None
                told = (mine,) if mine is not None else (on_duty or supervisors)
                notices = [TicketDueSoon(user, ticket_id(ticket), number, ticket.kind, ticket.due_at) for user in told]
            if told:  # nobody to tell: not recorded, so the first member of staff added still hears of it
                decided.append((kind, subject, ticket.id, Decision(kind, number, told), notices))
        return decided

    def _digest(self, session: Session, now: datetime) -> list[tuple[str, str, int | None, Decision, list[Notice]]]:
        """Today's digest, unless it was decided already or there is nobody to send it to."""
        today = now.astimezone(SHANGHAI).date()
        subject = today.isoformat()
        if _recorded(session, (DIGEST,), [subject]):
            return []
        told = self.policy.digest_to
        if told is None:
            query = select(Staff.user_id).where(col(Staff.active), Staff.role == StaffRole.SUPERVISOR)
            told = tuple(sorted(session.exec(query).all()))
        if not told:
            return []
        last = session.exec(
            select(func.max(AlertSent.subject)).where(AlertSent.kind == DIGEST, col(AlertSent.subject) < subject)
        ).one()  # ISO days sort as text
        first = date.fromisoformat(last) if last else self.previous_working_day(today)
        since = datetime.combine(first, time(self.policy.digest_hour), tzinfo=SHANGHAI)
        until = datetime.combine(today, time(self.policy.digest_hour), tzinfo=SHANGHAI)
        new = session.exec(
            select(func.count())
            .select_from(Ticket)
            .where(col(Ticket.created_at) >= since, col(Ticket.created_at) < until)
        ).one()
        day_start = datetime.combine(today, time(0), tzinfo=SHANGHAI)
        day_end = datetime.combine(today, time(23, 59, 59), tzinfo=SHANGHAI)
        due_today = _numbers(session, col(Ticket.due_at) >= max(day_start, now), col(Ticket.due_at) <= day_end)
        overdue = _numbers(session, col(Ticket.due_at) < now)
        bad = session.exec(  # waiting for a call-back: every follow-up not recorded yet, however old
            select(func.count())
            .select_from(FollowUp)
            .where(col(FollowUp.called_at).is_(None), col(FollowUp.opened_at) <= now)
        ).one()
        notices: list[Notice] = [
            MorningDigest(
                user,
                today,
                new,
                len(due_today),
                tuple(due_today[:LISTED]),
                len(overdue),
                tuple(overdue[:LISTED]),
                bad,
            )
            for user in told
        ]
        return [(DIGEST, subject, None, Decision(DIGEST, subject, told), notices)]

    def previous_working_day(self, day: date) -> date:
        """The working day before *day* (the previous digest's day, when none was decided yet)."""
        current = day - timedelta(days=1)
        for _ in range(60):  # no run of days off is this long; the bound only guards a broken calendar file
            if self.calendar.is_working_day(current):
                return current
            current -= timedelta(days=1)
        return day - timedelta(days=1)

    # ----- taking over what the command line recorded ----------------------------------------------------
    def _take_owed(self, session: Session, now: datetime) -> list[Notice]:
        """The alerts ``jobs run-due`` recorded and no bot has taken yet: taken now (a conditional update, so
        two instances never take the same one); an alert about a ticket closed since is dropped."""
        table = AlertSent.__table__  # type: ignore[attr-defined]
        claimed = session.connection().execute(
            sa.update(table)
            .where(table.c.taken_at.is_(None), table.c.kind.in_((DUE_SOON, OVERDUE, DIGEST)))  # not the monthly reports
            .values(taken_at=now)
            .returning(table.c.id, table.c.ticket_id, table.c.notices)
        )
        rows = sorted(claimed.all(), key=lambda row: row.id)
        closed = set()
        ticket_ids = [row.ticket_id for row in rows if row.ticket_id is not None]
        if ticket_ids:
            query = select(Ticket.id).where(col(Ticket.id).in_(ticket_ids), Ticket.status == TicketStatus.CLOSED)
            closed = set(session.exec(query).all())
        notices: list[Notice] = []
        for row in rows:
            if row.ticket_id not in closed:
                notices += pickle.loads(row.notices)
        return notices


def _subject(ticket: Ticket) -> str:
    """A ticket's alert key: its id and its deadline's day (a deadline moved, by a type change or a recount,
    is a new deadline, alerted again)."""
    return f"{ticket_id(ticket)}:{ticket.due_at.astimezone(SHANGHAI):%Y-%m-%d}"


def _recorded(session: Session, kinds: Sequence[str], subjects: Iterable[str]) -> set[tuple[str, str]]:
    """The (kind, subject) pairs already decided among these."""
    wanted = list(subjects)
    query = select(AlertSent.kind, AlertSent.subject).where(
        col(AlertSent.kind).in_(kinds), col(AlertSent.subject).in_(wanted)
    )
    return {(kind, subject) for kind, subject in session.exec(query).all()}


def _numbers(session: Session, *conditions: object) -> list[str]:
    """The numbers of the open tickets meeting *conditions*, soonest deadline first."""
    query = select(Ticket.number).where(col(Ticket.status).in_(OPEN_STATUSES), *conditions)  # type: ignore[arg-type]
    return [number for number in session.exec(query.order_by(col(Ticket.due_at), col(Ticket.id))).all() if number]
