"""Working days on the Chinese calendar (Asia/Shanghai), for any year: official where known, provisional where not.

Each year's schedule comes from the first of these that has it:

1. **office** — ``knowledge/calendar/YYYY.toml``: an office enters the State Council's yearly notice
   (国务院办公厅关于部分节假日安排的通知) the day it is published (``bot.desk.calendar_files``);
2. **package** — the ``holidays`` package's copy of that notice, with the adjusted working weekends (调休);
3. **provisional** — a year whose notice is not out (or not entered) yet: Monday to Friday minus the
   statutory holidays (New Year's Day, Spring Festival, Qingming, Labour Day, Dragon Boat, Mid-Autumn,
   National Day; the package computes the lunar dates for any year, and a holiday on a weekend is
   made up on the next working day as the law requires), with no adjusted working weekends.

Nothing here ever refuses a date: a deadline counted across a provisional year is marked
``provisional`` and is recomputed once the year's schedule is known (``TicketDeadlines.recompute_deadlines``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import holidays
from holidays.countries.china import ChinaStaticHolidays

SHANGHAI = ZoneInfo("Asia/Shanghai")


class ScheduleSource(StrEnum):
    """Where a year's schedule comes from (in order of precedence)."""

    OFFICE = "office"
    """``knowledge/calendar/YYYY.toml``, entered by an office from the State Council's notice."""
    PACKAGE = "package"
    """The ``holidays`` package's copy of the State Council's notice."""
    PROVISIONAL = "provisional"
    """Statutory holidays only, no adjusted working weekends: the notice is not known yet."""


@dataclass(frozen=True)
class YearSchedule:
    """One year's days off and adjusted working days (weekend days that are working days, 调休)."""

    year: int
    source: ScheduleSource
    days_off: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    notice: str = ""
    """The notice an office file copies (e.g. 国办发明电〔2025〕7号); empty for the other sources."""

    @property
    def provisional(self) -> bool:
        return self.source is ScheduleSource.PROVISIONAL


@dataclass(frozen=True)
class Deadline:
    """The end of the last working day of a limit, and whether a provisional year was counted."""

    at: datetime
    provisional: bool


def package_years() -> frozenset[int]:
    """Years whose official schedule (with adjusted working days) the installed ``holidays`` package carries."""
    return frozenset(ChinaStaticHolidays.special_public_holidays)


def package_schedule(year: int, official: bool) -> YearSchedule:
    """The package's schedule for *year*: its copy of the notice, or (``official=False``) days off only.

    For a year the package does not carry, its days off are the statutory holidays with a day in lieu
    on the next working day for one that falls on a weekend: exactly the provisional rule.
    """
    calendar = holidays.China(years=year)
    days_off = frozenset(day for day in calendar if day.year == year)
    if not official:
        return YearSchedule(year, ScheduleSource.PROVISIONAL, days_off)
    workdays = frozenset(day for day in calendar.weekend_workdays if day.year == year)
    return YearSchedule(year, ScheduleSource.PACKAGE, days_off, workdays)


def statutory_days(year: int) -> frozenset[date]:
    """The statutory holidays of a year the package does not carry (no days in lieu): an office file lists them all."""
    return frozenset(day for day in holidays.China(years=year, observed=False) if day.year == year)


class WorkCalendar:
    """Working days for any year, from the office files, the package, or the provisional rule (in that order).

    *office* maps a year to the schedule an office entered; *official_years* are the years whose
    package schedule is trusted (default: every year the package carries; tests narrow it to play a
    year that is not published yet).
    """

    def __init__(
        self, office: Mapping[int, YearSchedule] | None = None, official_years: Collection[int] | None = None
    ) -> None:
        self.office: dict[int, YearSchedule] = dict(office or {})
        self.official_years = frozenset(package_years() if official_years is None else official_years)
        self._years: dict[int, YearSchedule] = {}

    def schedule(self, year: int) -> YearSchedule:
        """The schedule in force for *year* (never raises)."""
        found = self._years.get(year)
        if found is None:
            found = self.office.get(year) or package_schedule(year, year in self.official_years)
            self._years[year] = found
        return found

    def is_working_day(self, day: date) -> bool:
        """Monday–Friday that is not a day off, or a weekend day made a working day (调休)."""
        schedules = [self.schedule(day.year)]
        if day.month == 12 and not (following := self.schedule(day.year + 1)).provisional:
            schedules.append(following)  # a notice may move a late-December weekend (e.g. 29 Dec 2001)
        for schedule in schedules:
            if day in schedule.workdays:
                return True
            if day in schedule.days_off:
                return False
        return day.weekday() < 5

    def add_working_days(self, start: date, days: int) -> date:
        """The *days*-th working day after *start* (the start day itself is not counted)."""
        if days < 0:
            raise ValueError("days must not be negative")
        current = start
        remaining = days
        while remaining:
            current += timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def provisional_between(self, start: date, end: date) -> bool:
        """Whether a day after *start* up to *end* lies in a year whose schedule is provisional."""
        first = (start + timedelta(days=1)).year
        return any(self.schedule(year).provisional for year in range(first, end.year + 1))

    def due(self, filed: datetime, days: int) -> Deadline:
        """The deadline for something filed at *filed* with a limit of *days* working days.

        Counting starts the day after filing (Asia/Shanghai); the deadline is the end of the last
        working day, 23:59:59 Shanghai time.
        """
        if filed.tzinfo is None:
            raise ValueError("filed must be timezone-aware")
        local_day = filed.astimezone(SHANGHAI).date()
        last = self.add_working_days(local_day, days)
        at = datetime.combine(last, time(23, 59, 59), tzinfo=SHANGHAI)
        return Deadline(at, self.provisional_between(local_day, last))

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after *start* up to and including *end* (0 when end <= start)."""
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count

    def years_to_enter(self, now: datetime) -> list[int]:
        """The years whose official schedule an office should enter by now: this year while it is
        provisional, and from 1 November next year too (the State Council publishes it in the autumn)."""
        today = now.astimezone(SHANGHAI).date()
        years = [today.year] + ([today.year + 1] if today.month >= 11 else [])
        return [year for year in years if self.schedule(year).provisional]
