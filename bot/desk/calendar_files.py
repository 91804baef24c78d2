"""The official holiday schedules an office enters: ``knowledge/calendar/YYYY.toml``.

The State Council publishes each year's schedule (国务院办公厅关于YYYY年部分节假日安排的通知) late in
the year before; a ``holidays`` package release follows weeks later. An office copies the notice into a
file the day it is published, and the file takes precedence over the package (``bot.desk.workdays``)::

    year = 2027
    notice = "国办发明电〔2026〕N号"       # the notice copied (required)
    workdays = [2027-02-20]              # adjusted working days (调休上班): Saturdays or Sundays

    [[holidays]]                         # every run of days off, as the notice lists them
    name = "春节"
    from = 2027-02-05
    to = 2027-02-12

Dates belong to the file's year (a late-December weekend of the year before may be listed too, as
notices have done). Every problem names the file, the entry and the field.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bot.desk.workdays import ScheduleSource, YearSchedule, package_years, statutory_days
from bot.errors import KnowledgeBaseError, KnowledgeProblem

NAME = re.compile(r"^(\d{4})\.toml$")
LONGEST_RUN = 14
"""No run of days off in a notice is longer than this (the longest, Spring Festival, is 8–9 days)."""
KEYS = {"year", "notice", "workdays", "holidays"}
HOLIDAY_KEYS = {"name", "from", "to"}


def template(year: int) -> str:
    """The path, relative to the knowledge base, of the file an office fills in for *year*."""
    return f"calendar/{year}.toml"


def load_calendar_files(directory: Path) -> dict[int, YearSchedule]:
    """Every ``YYYY.toml`` in *directory* (which may be missing), checked; ``KnowledgeBaseError`` lists all problems."""
    schedules: dict[int, YearSchedule] = {}
    problems: list[KnowledgeProblem] = []
    if not directory.is_dir():
        return schedules
    for path in sorted(directory.glob("*.toml")):
        where = f"calendar/{path.name}"
        match = NAME.match(path.name)
        if match is None:
            problems.append(KnowledgeProblem(where, None, None, "name it after its year, e.g. 2027.toml"))
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            problems.append(KnowledgeProblem(where, None, None, f"not valid TOML: {exc}"))
            continue
        found, schedule = _check(where, int(match.group(1)), data)
        problems += found
        if schedule is not None:
            schedules[schedule.year] = schedule
    if problems:
        raise KnowledgeBaseError(problems)
    return schedules


def _in_reach(day: date, year: int) -> bool:
    """In the file's year, or in the December before it."""
    return day.year == year or (day.year == year - 1 and day.month == 12)


def _check(where: str, year: int, data: dict[str, Any]) -> tuple[list[KnowledgeProblem], YearSchedule | None]:
    problems: list[KnowledgeProblem] = []

    def problem(entry: str | None, field: str | None, message: str) -> None:
        problems.append(KnowledgeProblem(where, entry, field, message))

    for key in sorted(set(data) - KEYS):
        problem(None, key, f"unknown key (expected {', '.join(sorted(KEYS))})")
    if data.get("year") != year:
        problem(None, "year", f"must be {year}, the year in the file name")
    notice = data.get("notice")
    if not isinstance(notice, str) or not notice.strip():
        problem(None, "notice", "name the State Council notice this copies, e.g. 国办发明电〔2026〕N号")

    days_off: set[date] = set()
    runs = data.get("holidays")
    if not isinstance(runs, list) or not runs:
        problem(None, "holidays", "list every run of days off as [[holidays]] with name, from and to")
        runs = []
    for index, run in enumerate(runs, start=1):
        entry = f"holidays #{index}"
        if not isinstance(run, dict):
            problem(entry, None, "must be a table with name, from and to")
            continue
        for key in sorted(set(run) - HOLIDAY_KEYS):
            problem(entry, key, "unknown key (expected name, from, to)")
        if not isinstance(run.get("name"), str) or not run["name"].strip():
            problem(entry, "name", "missing (e.g. 春节)")
        first, last = run.get("from"), run.get("to")
        if not isinstance(first, date) or not isinstance(last, date):
            problem(entry, "from/to", "both must be dates, e.g. from = 2027-02-05")
            continue
        if last < first or (last - first).days >= LONGEST_RUN:
            problem(entry, "from/to", f"'to' must be on or after 'from', at most {LONGEST_RUN} days")
            continue
        if not (_in_reach(first, year) and _in_reach(last, year)):
            problem(entry, "from/to", f"dates must be in {year} (or the December before)")
            continue
        days_off.update(first + timedelta(days=n) for n in range((last - first).days + 1))

    workdays: set[date] = set()
    listed = data.get("workdays", [])
    if not isinstance(listed, list):
        problem(None, "workdays", "must be a list of dates, e.g. [2027-02-20]")
        listed = []
    for day in listed:
        if not isinstance(day, date):
            problem(None, "workdays", f"{day!r} is not a date")
        elif not _in_reach(day, year):
            problem(None, "workdays", f"{day} is not in {year} (or the December before)")
        elif day.weekday() < 5:
            problem(None, "workdays", f"{day} is a {day:%A}: an adjusted working day is a Saturday or Sunday")
        elif day in days_off:
            problem(None, "workdays", f"{day} is also listed as a day off")
        else:
            workdays.add(day)

    if year not in package_years() and days_off:
        for day in sorted(statutory_days(year) - days_off):
            problem(None, "holidays", f"{day} is a statutory holiday but no run of days off includes it")
    if problems:
        return problems, None
    return [], YearSchedule(year, ScheduleSource.OFFICE, frozenset(days_off), frozenset(workdays), str(notice))
