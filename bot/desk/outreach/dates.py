"""Reading a date a user typed, in English or Chinese, in the common ways of writing one.

Accepted: ``2027-03-31``, ``2027/3/31``, ``2027.3.31``, ``2027年3月31日`` (号 too, full-width digits too),
``31/03/2027``, ``31.03.2027``, ``31-03-2027`` (day first) and ``03/31/2027`` (month first, when the day
gives it away), ``20270331``, and the month in English letters: ``31 March 2027``, ``March 31, 2027``, ``Mar 31,
2027`` (the way the bot itself writes a date in English). ``03/04/2027``, where either could be the day, is
refused as ambiguous: the user is asked for ``2027-04-03``. No Telegram and no clock here: *today* is passed in.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from enum import StrEnum

MAX_YEARS_AHEAD = 6
"""A permit is issued for at most 5 years: a date further ahead than this is a typo."""


class DateProblem(StrEnum):
    """Why a typed date was refused."""

    UNREADABLE = "unreadable"  # not a date in any accepted form
    AMBIGUOUS = "ambiguous"  # 03/04/2027: the 3rd of April or the 4th of March?
    NO_SUCH_DAY = "no_such_day"  # 2027-02-30
    PAST = "past"  # before today
    TOO_FAR = "too_far"  # more than MAX_YEARS_AHEAD years ahead


class DateError(ValueError):
    """A typed date that cannot be taken, and why (``problem``)."""

    def __init__(self, problem: DateProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


_YEAR_FIRST = re.compile(r"(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})")
_CHINESE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")
_YEAR_LAST = re.compile(r"(\d{1,2})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{4})")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_MONTH_NAME = r"([a-z]{3,9})\.?"
_DAY_MONTH_YEAR = re.compile(rf"(\d{{1,2}})(?:st|nd|rd|th)?\s*[-\s]\s*{_MONTH_NAME}\s*[-,\s]\s*(\d{{4}})")
_MONTH_DAY_YEAR = re.compile(rf"{_MONTH_NAME}\s*(\d{{1,2}})(?:st|nd|rd|th)?\s*[,\s]\s*(\d{{4}})")
MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        1,
    )
    for name in names
}
"""English month names and their usual abbreviations."""
_TRAILING = "。.，,!！ "


def _day(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise DateError(DateProblem.NO_SUCH_DAY) from None


def parse_date(text: str) -> date:
    """The date *text* names, or ``DateError`` (unreadable, ambiguous, or no such day)."""
    cleaned = unicodedata.normalize("NFKC", text).strip().rstrip(_TRAILING).strip()
    for pattern in (_YEAR_FIRST, _CHINESE, _COMPACT):
        if found := pattern.fullmatch(cleaned):
            year, month, day = (int(part) for part in found.groups())
            return _day(year, month, day)
    lowered = cleaned.lower()
    if (found := _DAY_MONTH_YEAR.fullmatch(lowered)) and found.group(2) in MONTHS:
        return _day(int(found.group(3)), MONTHS[found.group(2)], int(found.group(1)))
    if (found := _MONTH_DAY_YEAR.fullmatch(lowered)) and found.group(1) in MONTHS:
        return _day(int(found.group(3)), MONTHS[found.group(1)], int(found.group(2)))
    if found := _YEAR_LAST.fullmatch(cleaned):
        first, second, year = int(found.group(1)), int(found.group(3)), int(found.group(4))
        if first > 12 or first == second:  # 31/03/2027 (or 03/03/2027: the same either way)
            return _day(year, second, first)
        if second > 12:  # 03/31/2027, written month first
            return _day(year, first, second)
        raise DateError(DateProblem.AMBIGUOUS)
    raise DateError(DateProblem.UNREADABLE)


def latest_allowed(today: date) -> date:
    """The furthest date ahead a permit's dates may be (``MAX_YEARS_AHEAD`` years from *today*)."""
    try:
        return today.replace(year=today.year + MAX_YEARS_AHEAD)
    except ValueError:  # 29 February
        return today.replace(year=today.year + MAX_YEARS_AHEAD, day=28)


def parse_future_date(text: str, today: date, earliest: date | None = None) -> date:
    """``parse_date``, then refused when before *earliest* (default: *today*) or absurdly far ahead."""
    day = parse_date(text)
    if day < (today if earliest is None else earliest):
        raise DateError(DateProblem.PAST)
    if day > latest_allowed(today):
        raise DateError(DateProblem.TOO_FAR)
    return day
