"""Keeping the holiday calendar current: tell supervisors, once a week, which year's official schedule
is still missing, and recount provisional deadlines when one arrives.

From 1 November (the State Council publishes the next year's schedule in the autumn) until the
schedule is known, each supervisor gets one notice a week, in office hours on a working day, naming
the file to fill in. A year that has begun without its schedule is reminded about the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy.engine import Engine

from bot.desk.calendar_files import template
from bot.desk.staff import StaffRegistry
from bot.desk.tickets.deadlines import TicketDeadlines
from bot.desk.workdays import SHANGHAI, WorkCalendar
from bot.notices import CalendarUnknown, Notice
from bot.store.job_runs import claim

JOB = "calendar-upkeep"
OFFICE_HOURS = (time(9, 0), time(18, 0))
"""When the weekly reminder may go out (Beijing time, working days): never at night or on a holiday."""


@dataclass(frozen=True)
class CalendarUpkeep:
    """The weekly reminder to enter a missing holiday schedule."""

    engine: Engine
    calendar: WorkCalendar
    staff: StaffRegistry
    deadlines: TicketDeadlines
    kb_label: str = "knowledge"
    """How the knowledge directory is named to supervisors (the file is ``{kb_label}/calendar/YYYY.toml``)."""

    def file_for(self, year: int) -> str:
        """The file an office fills in for *year*."""
        return f"{self.kb_label.rstrip('/')}/{template(year)}"

    def remind(self, now: datetime) -> list[Notice]:
        """This week's reminders, if they are due and not sent yet (idempotent across restarts and instances)."""
        years = self.calendar.years_to_enter(now)
        local = now.astimezone(SHANGHAI)
        if not years or not self.calendar.is_working_day(local.date()):
            return []
        if not OFFICE_HOURS[0] <= local.time() < OFFICE_HOURS[1]:
            return []
        supervisors = self.staff.supervisors()
        if not supervisors:
            return []  # not claimed: the first supervisor added this week still hears of it
        iso = local.date().isocalendar()
        notices: list[Notice] = []
        for year in years:
            if not claim(self.engine, JOB, f"{year}:{iso.year}-W{iso.week:02d}", now):
                continue
            provisional = self.deadlines.provisional_count()
            notices += [CalendarUnknown(m.user_id, year, self.file_for(year), provisional) for m in supervisors]
        return notices
