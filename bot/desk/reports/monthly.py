"""The monthly report: on the first working day of a month, its recipients get last month's workbook, once.

Its recipients (``HELPDESK_MONTHLY_REPORT_TO``, ``monthly_recipients``) are by default the digest's
(``HELPDESK_DIGEST_TO``: every active supervisor, nobody, or listed Telegram ids).

Decided like the deadline alerts (``bot.desk.tickets.alerts``) and recorded in the same table, ``alertsent``,
with its own kind (``monthly_report``) and the month as subject (``2026-05``): the unique (kind, subject) key
makes it once across restarts and instances. It is due from the digest hour (``HELPDESK_DIGEST_HOUR``, Beijing
time) of the month's first working day on the holiday calendar (调休 included), and on any later working day
of that month while it has not been decided (a bot that was down catches up). The bot decides and takes it in
one journaled step, which records only what is owed (the month and who gets it), and then builds the workbook
and sends it (``handlers.report_jobs``): the workbook's bytes are never stored. ``python -m bot jobs run-due``
records it as owed (``taken_at`` empty) for the bot's next run. Nobody to send it to: not recorded.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.desk.reports.figures import Period, previous_month
from bot.desk.tickets.alerts import AlertPolicy
from bot.desk.workdays import SHANGHAI, WorkCalendar
from bot.store.db import AMBIENT, session_scope
from bot.store.models import AlertSent, Staff
from bot.store.statuses import StaffRole

MONTHLY = "monthly_report"
"""``AlertSent.kind`` of a monthly report."""
SAME_AS_DIGEST = "digest"
"""``HELPDESK_MONTHLY_REPORT_TO``'s default: whoever gets the digest."""


def monthly_recipients(report_to: str, digest_to: str) -> tuple[int, ...] | None:
    """Who gets the monthly report, from ``HELPDESK_MONTHLY_REPORT_TO`` (*report_to*: ``digest`` or empty, the
    same as *digest_to*; else read as ``AlertPolicy.parse_recipients`` reads it): None, every active
    supervisor; empty, nobody (no monthly report); else these Telegram ids. ``ValueError`` if unreadable."""
    if report_to.strip().lower() in ("", SAME_AS_DIGEST):
        return AlertPolicy.parse_recipients(digest_to)
    try:
        return AlertPolicy.parse_recipients(report_to)
    except ValueError:
        raise ValueError(
            f"bad HELPDESK_MONTHLY_REPORT_TO {report_to!r}: use digest, supervisors, none, or Telegram ids"
        ) from None


@dataclass(frozen=True)
class MonthlyReportDue:
    """Last month's workbook, owed to a recipient (the bot builds it when it sends it): all that is recorded."""

    user_id: int
    first: date
    last: date

    @property
    def period(self) -> Period:
        return Period(self.first, self.last, "month")


@dataclass(frozen=True)
class MonthlyReports:
    """Deciding the monthly report, once a month (see the module's docstring)."""

    engine: Engine
    calendar: WorkCalendar
    hour: int = 9
    recipients: tuple[int, ...] | None = None
    """Who gets it (``monthly_recipients``): None, every active supervisor; empty, nobody."""

    @classmethod
    def from_settings(cls, engine: Engine, calendar: WorkCalendar, settings: Settings) -> MonthlyReports:
        """The schedule the settings give (``HELPDESK_DIGEST_HOUR``, ``HELPDESK_MONTHLY_REPORT_TO``)."""
        recipients = monthly_recipients(settings.helpdesk_monthly_report_to, settings.helpdesk_digest_to)
        return cls(engine, calendar, settings.helpdesk_digest_hour, recipients)

    def first_working_day(self, day: date) -> date:
        """The first working day of *day*'s month."""
        current = day.replace(day=1)
        while not self.calendar.is_working_day(current) and current.month == day.month:
            current = current.fromordinal(current.toordinal() + 1)
        return current if current.month == day.month else day.replace(day=1)

    def due(self, now: datetime) -> bool:
        """Whether this month's report may be decided as of *now*."""
        local = now.astimezone(SHANGHAI)
        today = local.date()
        return (
            self.calendar.is_working_day(today) and today >= self.first_working_day(today) and local.hour >= self.hour
        )

    def take_due(self, now: datetime) -> list[MonthlyReportDue]:
        """The bot's run: what the command line recorded and no bot took yet, and what is due now; taken."""
        return self._retry(lambda: self._run(now, taken=True))

    def record_due(self, now: datetime) -> list[MonthlyReportDue]:
        """The command line's run: decide and record (as owed) what is due as of *now*."""
        return self._retry(lambda: self._run(now, taken=False))

    def _retry(self, call: Callable[[], list[MonthlyReportDue]]) -> list[MonthlyReportDue]:
        try:
            result = call()
        except IntegrityError:  # another instance decided the same month in between: read what it left
            if AMBIENT.get() is not None:
                raise
            result = call()
        return result

    def _run(self, now: datetime, taken: bool) -> list[MonthlyReportDue]:
        with session_scope(self.engine) as session:
            owed = self._take_owed(session, now) if taken else []
            return owed + self._decide(session, now, taken)

    def _decide(self, session: Session, now: datetime, taken: bool) -> list[MonthlyReportDue]:
        if self.recipients == () or not self.due(now):
            return []
        period = previous_month(now.astimezone(SHANGHAI).date())
        subject = f"{period.first:%Y-%m}"
        known = session.exec(select(AlertSent.id).where(AlertSent.kind == MONTHLY, AlertSent.subject == subject))
        if known.first() is not None:
            return []
        if self.recipients is None:
            query = select(Staff.user_id).where(col(Staff.active), Staff.role == StaffRole.SUPERVISOR)
            told = sorted(session.exec(query).all())
        else:
            told = sorted(set(self.recipients))
        if not told:
            return []
        reports = [MonthlyReportDue(user, period.first, period.last) for user in told]
        session.add(
            AlertSent(
                kind=MONTHLY,
                subject=subject,
                recipients=",".join(map(str, told)),
                notices=pickle.dumps(reports),
                decided_at=now,
                taken_at=now if taken else None,
            )
        )
        session.flush()  # a second instance's row fails here (the unique key)
        return reports

    def _take_owed(self, session: Session, now: datetime) -> list[MonthlyReportDue]:
        table = AlertSent.__table__  # type: ignore[attr-defined]
        claimed = session.connection().execute(
            sa.update(table)
            .where(table.c.taken_at.is_(None), table.c.kind == MONTHLY)
            .values(taken_at=now)
            .returning(table.c.id, table.c.notices)
        )
        reports: list[MonthlyReportDue] = []
        for row in sorted(claimed.all(), key=lambda row: row.id):
            reports += pickle.loads(row.notices)
        return reports
