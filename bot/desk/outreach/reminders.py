"""Permit-expiry reminders: users (HR contacts above all) watch work permits; the helpdesk reminds them in time.

A watch is a label of the user's own (an employee's name or initials: never a passport or ID number, refused
by ``bot.privacy.redact.mask_personal``), the permit's expiry date and, optionally, the day the employment ends.

**What is due.** Reminders go out at the lead times (``HELPDESK_REMINDER_DAYS``, default 60 and 30 days before
the expiry), from the reminder hour on (Beijing time), any day:

- **expiry**: extend the permit before it expires (the knowledge base's ``extension`` answer);
- **cancel**: when the employment ends before the permit expires, there is nothing to extend: the employer must
  apply to cancel the permit within 10 working days of the end of employment (on the holiday calendar,
  ``bot.desk.workdays``). These go out at the same lead times before the end of employment and once more on
  the day it ends (the ``cancellation`` answer).

A watch added late gets one reminder, the nearest lead already reached (not one for each lead passed), and
nothing once the expiry (or the last day to cancel) is past.

**Exactly once.** Each reminder is a row of ``permitreminder`` whose key (watch, kind, lead, the date it is
about) is unique, written in the transaction that decides it, as the deadline alerts are
(``bot.desk.tickets.alerts``): the bot decides and takes the notices in one journaled step; ``python -m bot jobs
run-due`` records its decisions as owed (``taken_at`` empty) and the bot sends them on its next run. A date
changed by the user is a new date: its reminders go out again. No Telegram here; time passed in.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, or_, select

from bot.answering.text import strip_control
from bot.desk.outreach.dates import DateError, DateProblem, latest_allowed
from bot.desk.tickets.alerts import _once_more_on_a_race
from bot.desk.workdays import SHANGHAI, WorkCalendar
from bot.notices import PermitReminder as ReminderNotice
from bot.privacy.redact import mask_personal
from bot.store import limits
from bot.store.db import session_scope
from bot.store.models import PermitReminder, PermitWatch

DEFAULT_LEADS = (60, 30)
"""Days before the expiry a reminder goes out (``HELPDESK_REMINDER_DAYS``)."""
CANCEL_WITHIN = 10
"""Working days the employer has to cancel a permit after the employment ends (the cancellation answer)."""
EXTENSION_ENTRY = "extension"
"""The knowledge-base entry an expiry reminder opens."""
CANCELLATION_ENTRY = "cancellation"
"""The knowledge-base entry a cancellation reminder opens."""
MAX_LABEL = limits.PERMIT_LABEL
MAX_WATCHES = 200
"""Permits one user may watch (an HR contact keeps many; the bound only stops a runaway)."""
EXPIRY = "expiry"
CANCEL = "cancel"


class WatchStep(StrEnum):
    """The steps of ``FlowName.PERMIT_WATCH`` (``/reminders``): each takes one typed message; the data holds the
    answers so far (``label``, ``expires``, ISO dates) or the watch being changed (``watch``)."""

    LABEL = "label"  # adding: the label
    EXPIRES = "expires"  # adding: the expiry date
    ENDS = "ends"  # adding: the day the employment ends, or the Skip button
    EDIT_LABEL = "edit_label"  # changing a watch's label
    EDIT_EXPIRES = "edit_expires"  # changing its expiry date
    EDIT_ENDS = "edit_ends"  # changing the day the employment ends, or the button: it does not end early


class LabelProblem(StrEnum):
    """Why a label was refused."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    PERSONAL = "personal"  # looks like a passport, ID or phone number, or an e-mail address


class LabelError(ValueError):
    """A label that cannot be taken, and why."""

    def __init__(self, problem: LabelProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


class WatchNotFound(LookupError):
    """No such watch, or not the user's (a stale or forged button)."""


class TooManyWatches(ValueError):
    """The user watches ``MAX_WATCHES`` permits already."""


def parse_leads(text: str) -> tuple[int, ...]:
    """``HELPDESK_REMINDER_DAYS``: comma-separated days before the expiry (``60,30``), largest first; ValueError
    for anything else (each 1–365, at least one)."""
    try:
        leads = sorted({int(part) for part in text.split(",") if part.strip()}, reverse=True)
    except ValueError:
        raise ValueError(f"bad reminder days {text!r}: use days before the expiry, e.g. 60,30") from None
    if not leads or not all(1 <= lead <= 365 for lead in leads):
        raise ValueError(f"bad reminder days {text!r}: each 1–365 days, e.g. 60,30")
    return tuple(leads)


def check_label(text: str) -> str:
    """The label as kept (control and invisible format characters dropped, spaces collapsed), or
    ``LabelError``: empty, too long, or personal data."""
    label = " ".join(strip_control(text).split())
    if not label:
        raise LabelError(LabelProblem.EMPTY)
    if len(label) > MAX_LABEL:
        raise LabelError(LabelProblem.TOO_LONG)
    if mask_personal(label) != label:
        raise LabelError(LabelProblem.PERSONAL)
    return label


@dataclass(frozen=True)
class Due:
    """The reminder due for a watch: its kind, its lead (days) and the date it is about."""

    kind: str
    lead: int
    target: date
    """The expiry date (``expiry``) or the day employment ends (``cancel``)."""


def cancel_by(calendar: WorkCalendar, ends_on: date) -> date:
    """The last day to cancel a permit when the employment ends on *ends_on*: the 10th working day after it."""
    return calendar.add_working_days(ends_on, CANCEL_WITHIN)


def reminder_due(
    expires_on: date, ends_on: date | None, today: date, leads: Sequence[int], calendar: WorkCalendar
) -> Due | None:
    """The reminder a watch is due as of *today* (the nearest lead reached), or None (not yet, or too late).

    The employment ending before the permit expires makes it a cancellation reminder (the leads before the
    end of employment, and the day it ends), until the last day to cancel; else an expiry reminder, until the
    expiry."""
    if ends_on is not None and ends_on < expires_on:
        if today > cancel_by(calendar, ends_on):
            return None
        left = (ends_on - today).days
        reached = [lead for lead in (*leads, 0) if left <= lead]
        return Due(CANCEL, min(reached), ends_on) if reached else None
    if today > expires_on:
        return None
    left = (expires_on - today).days
    reached = [lead for lead in leads if left <= lead]
    return Due(EXPIRY, min(reached), expires_on) if reached else None


@dataclass(frozen=True)
class WatchView:
    """A watched permit as its user sees it."""

    id: int
    label: str
    expires_on: date
    employment_ends_on: date | None
    cancel_by: date | None
    """The last day to cancel, when the employment ends before the permit expires."""

    @property
    def cancelling(self) -> bool:
        return self.cancel_by is not None


@dataclass(frozen=True)
class ReminderDecision:
    """One reminder decided (what ``python -m bot jobs run-due`` prints: never the label, a person's name)."""

    watch_id: int
    kind: str
    lead: int
    user_id: int


class PermitReminders:
    """Watches (add, list, change, delete) and their reminders (decided once, sent by the bot)."""

    def __init__(
        self, engine: Engine, calendar: WorkCalendar, leads: Sequence[int] = DEFAULT_LEADS, hour: int = 9
    ) -> None:
        if not 0 <= hour <= 23:
            raise ValueError("the reminder hour must be 0–23 (Beijing time)")
        self.engine = engine
        self.calendar = calendar
        self.leads = tuple(sorted(set(leads), reverse=True))
        self.hour = hour

    # ----- the user's watches ---------------------------------------------------------------------------
    def _view(self, row: PermitWatch) -> WatchView:
        assert row.id is not None
        ends = row.employment_ends_on
        cancelling = ends is not None and ends < row.expires_on
        return WatchView(
            row.id, row.label, row.expires_on, ends, cancel_by(self.calendar, ends) if cancelling and ends else None
        )

    def _own(self, session: Session, user_id: int, watch_id: int) -> PermitWatch:
        row = session.get(PermitWatch, watch_id)
        if row is None or row.user_id != user_id:
            raise WatchNotFound(watch_id)
        return row

    @staticmethod
    def today(now: datetime) -> date:
        """The day in Beijing."""
        return now.astimezone(SHANGHAI).date()

    def check_expiry(self, day: date, now: datetime) -> date:
        """An expiry date the user gave: not past, not absurdly far (``DateError``)."""
        today = self.today(now)
        if day < today:
            raise DateError(DateProblem.PAST)
        if day > latest_allowed(today):
            raise DateError(DateProblem.TOO_FAR)
        return day

    def check_employment_end(self, day: date, now: datetime) -> date:
        """A day the employment ends: in the past only while it can still be cancelled (``DateError``)."""
        today = self.today(now)
        if cancel_by(self.calendar, day) < today:
            raise DateError(DateProblem.PAST)
        if day > latest_allowed(today):
            raise DateError(DateProblem.TOO_FAR)
        return day

    def watches(self, user_id: int) -> list[WatchView]:
        """The user's watches, the soonest deadline first (the last day to cancel, else the expiry)."""
        with session_scope(self.engine) as session:
            rows = session.exec(select(PermitWatch).where(PermitWatch.user_id == user_id)).all()
            views = [self._view(row) for row in rows]
        return sorted(views, key=lambda view: (view.cancel_by or view.expires_on, view.id))

    def get(self, user_id: int, watch_id: int) -> WatchView:
        """One of the user's watches (``WatchNotFound`` for anyone else's)."""
        with session_scope(self.engine) as session:
            return self._view(self._own(session, user_id, watch_id))

    def add(self, user_id: int, label: str, expires_on: date, ends_on: date | None, now: datetime) -> WatchView:
        """Watch a permit (the label and dates checked again: a flow's data may be old)."""
        label = check_label(label)
        self.check_expiry(expires_on, now)
        if ends_on is not None:
            self.check_employment_end(ends_on, now)
        with session_scope(self.engine) as session:
            count = session.exec(
                select(func.count()).select_from(PermitWatch).where(PermitWatch.user_id == user_id)
            ).one()
            if count >= MAX_WATCHES:
                raise TooManyWatches(MAX_WATCHES)
            row = PermitWatch(
                user_id=user_id,
                label=label,
                expires_on=expires_on,
                employment_ends_on=ends_on,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            return self._view(row)

    def rename(self, user_id: int, watch_id: int, label: str, now: datetime) -> WatchView:
        """Give a watch another label."""
        label = check_label(label)
        with session_scope(self.engine) as session:
            row = self._own(session, user_id, watch_id)
            row.label, row.updated_at = label, now
            return self._view(row)

    def set_expiry(self, user_id: int, watch_id: int, day: date, now: datetime) -> WatchView:
        """A new expiry date (say, after an extension): its reminders go out again."""
        self.check_expiry(day, now)
        with session_scope(self.engine) as session:
            row = self._own(session, user_id, watch_id)
            row.expires_on, row.updated_at = day, now
            return self._view(row)

    def set_employment_end(self, user_id: int, watch_id: int, day: date | None, now: datetime) -> WatchView:
        """The day the employment ends, or None: it does not end before the permit expires."""
        if day is not None:
            self.check_employment_end(day, now)
        with session_scope(self.engine) as session:
            row = self._own(session, user_id, watch_id)
            row.employment_ends_on, row.updated_at = day, now
            return self._view(row)

    def delete(self, user_id: int, watch_id: int) -> WatchView:
        """Stop watching a permit (its reminders' record goes with it); returns what it was."""
        with session_scope(self.engine) as session:
            row = self._own(session, user_id, watch_id)
            view = self._view(row)
            for sent in session.exec(select(PermitReminder).where(PermitReminder.watch_id == watch_id)).all():
                session.delete(sent)
            session.flush()  # the reminders before the watch they point to
            session.delete(row)
            return view

    # ----- reminders ----------------------------------------------------------------------------------
    def take_due(self, now: datetime) -> list[ReminderNotice]:
        """The bot's run: what the command line recorded and no bot has sent yet, then what is due now; every
        notice to send, recorded as taken in the same transaction."""
        return _once_more_on_a_race(lambda: self._take_due(now))

    def record_due(self, now: datetime) -> list[ReminderDecision]:
        """The command line's run: decide and record the reminders due as of *now*, for the bot to send."""
        return _once_more_on_a_race(lambda: self._record_due(now))

    def _take_due(self, now: datetime) -> list[ReminderNotice]:
        with session_scope(self.engine) as session:
            notices = self._take_owed(session, now)
            return notices + [notice for _decision, notice in self._decide(session, now, taken=True)]

    def _record_due(self, now: datetime) -> list[ReminderDecision]:
        with session_scope(self.engine) as session:
            return [decision for decision, _notice in self._decide(session, now, taken=False)]

    def _decide(self, session: Session, now: datetime, taken: bool) -> list[tuple[ReminderDecision, ReminderNotice]]:
        """Every reminder due as of *now* and not decided before, recorded (taken by a bot, or owed)."""
        local = now.astimezone(SHANGHAI)
        if local.hour < self.hour:
            return []
        today = local.date()
        horizon = today + timedelta(days=max(self.leads))
        # the employment may have ended up to 10 working days (about three weeks over a holiday) ago
        ended_since = today - timedelta(days=CANCEL_WITHIN * 3)
        query = (
            select(PermitWatch)
            .where(
                or_(
                    col(PermitWatch.expires_on).between(today, horizon),
                    col(PermitWatch.employment_ends_on).between(ended_since, horizon),
                )
            )
            .order_by(col(PermitWatch.id))
        )
        watches = session.exec(query).all()
        if not watches:
            return []
        ids = [row.id for row in watches]
        sent = session.exec(select(PermitReminder).where(col(PermitReminder.watch_id).in_(ids))).all()
        known = {(r.watch_id, r.kind, r.lead, r.target) for r in sent}
        decided: list[tuple[ReminderDecision, ReminderNotice]] = []
        for row in watches:
            assert row.id is not None
            due = reminder_due(row.expires_on, row.employment_ends_on, today, self.leads, self.calendar)
            if due is None or (row.id, due.kind, due.lead, due.target) in known:
                continue
            notice = ReminderNotice(
                row.user_id,
                row.id,
                row.label,
                due.kind,
                (due.target - today).days,
                row.expires_on,
                row.employment_ends_on,
                cancel_by(self.calendar, due.target) if due.kind == CANCEL else None,
            )
            session.add(
                PermitReminder(
                    watch_id=row.id,
                    kind=due.kind,
                    lead=due.lead,
                    target=due.target,
                    user_id=row.user_id,
                    notice=pickle.dumps(notice),
                    decided_at=now,
                    taken_at=now if taken else None,
                )
            )
            decided.append((ReminderDecision(row.id, due.kind, due.lead, row.user_id), notice))
        session.flush()  # a second instance's row with the same key fails here (see _once_more_on_a_race)
        return decided

    def _take_owed(self, session: Session, now: datetime) -> list[ReminderNotice]:
        """The reminders ``jobs run-due`` recorded and no bot has taken yet: taken now (a conditional update, so
        two instances never take the same one)."""
        table = PermitReminder.__table__  # type: ignore[attr-defined]
        claimed = session.connection().execute(
            sa.update(table)
            .where(table.c.taken_at.is_(None))
            .values(taken_at=now)
            .returning(table.c.id, table.c.notice)
        )
        return [pickle.loads(row.notice) for row in sorted(claimed.all(), key=lambda row: row.id)]


def reminder_report(decisions: Sequence[ReminderDecision], now: datetime) -> list[str]:
    """What ``python -m bot jobs run-due`` says about the reminders it recorded (nothing when none): the watch,
    kind, lead and recipient, never the label (a person's name)."""
    if not decisions:
        return []
    local = now.astimezone(SHANGHAI)
    lines = [f"Permit reminders as of {local:%Y-%m-%d %H:%M} (Beijing time):"]
    lines += [f"  {d.kind:<9} permit {d.watch_id:<5} {d.lead:>3} day(s) → {d.user_id}" for d in decisions]
    lines.append(f"Recorded {len(decisions)} permit reminder(s): the bot sends them on its next run.")
    return lines
