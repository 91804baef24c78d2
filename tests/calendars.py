"""Working-day calendars for tests, independent of the installed ``holidays`` package's newest year.

``package_only()``  what the package carries (2027 is provisional with holidays 0.109, official after an upgrade)
``provisional()``   2027 and later provisional, whatever the package carries
``with_office()``   2027 from ``tests/data/calendar/2027.toml`` (a test fixture with adjusted working Saturdays)
"""

from __future__ import annotations

from pathlib import Path

from bot.desk.calendar_files import load_calendar_files
from bot.desk.workdays import WorkCalendar, package_years

FIXTURES = Path(__file__).parent / "data" / "calendar"
UNPUBLISHED = 2027
"""The year the tests play as not yet published."""


def package_only() -> WorkCalendar:
    return WorkCalendar()


def provisional() -> WorkCalendar:
    return WorkCalendar(official_years={year for year in package_years() if year < UNPUBLISHED})


def with_office() -> WorkCalendar:
    return WorkCalendar(load_calendar_files(FIXTURES), official_years=provisional().official_years)
