"""Working days on the Chinese public-holiday calendar, with adjusted working weekends (调休).

The calendar is the ``holidays`` package's China calendar (it carries the State Council's yearly
schedule, including the weekend days that become working days). A year is *known* only when that
official schedule is in the package; for any other year the rules would be guesses, so every
function here raises ``CalendarUnknown`` instead. Upgrading ``holidays`` adds new years.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from holidays.countries.china import ChinaStaticHolidays

from bot.errors import CalendarUnknown

SHANGHAI = ZoneInfo("Asia/Shanghai")


def known_years() -> frozenset[int]:
    """Years whose official holiday schedule (with adjusted working days) is known."""
    return frozenset(ChinaStaticHolidays.special_public_holidays)


@lru_cache(maxsize=16)
def _year(year: int) -> holidays.HolidayBase:
    if year not in known_years():
        newest = max(known_years())
        raise CalendarUnknown(
            f"the Chinese holiday calendar for {year} is not known (newest: {newest}); "
            "upgrade the 'holidays' package once the State Council publishes it"
        )
    return holidays.China(years=year)


def is_working_day(day: date) -> bool:
    """True on a working day: Monday–Friday that is not a holiday, or an adjusted working weekend day."""
    calendar = _year(day.year)
    if day in calendar.weekend_workdays:
        return True
    return day.weekday() < 5 and day not in calendar


def add_working_days(start: date, days: int) -> date:
    """The *days*-th working day after *start* (the start day itself is not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def due_at(filed: datetime, days: int) -> datetime:
    """The deadline for something filed at *filed* with a limit of *days* working days.

    Counting starts the day after filing (Asia/Shanghai); the deadline is the end of the last
    working day, 23:59:59 Shanghai time.
    """
    if filed.tzinfo is None:
        raise ValueError("filed must be timezone-aware")
    local_day = filed.astimezone(SHANGHAI).date()
    last = add_working_days(local_day, days)
    return datetime.combine(last, time(23, 59, 59), tzinfo=SHANGHAI)


def working_days_between(start: date, end: date) -> int:
    """Working days after *start* up to and including *end* (0 when end <= start)."""
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count
