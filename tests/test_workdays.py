"""Deadlines on the Chinese calendar with fixed dates (2026 schedule, 国办发明电〔2025〕…)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.errors import CalendarUnknown
from bot.workdays import add_working_days, due_at, is_working_day, known_years, working_days_between

SH = ZoneInfo("Asia/Shanghai")


def test_ordinary_week() -> None:
    assert is_working_day(date(2026, 3, 2))  # Monday
    assert not is_working_day(date(2026, 3, 7))  # Saturday
    assert add_working_days(date(2026, 3, 5), 2) == date(2026, 3, 9)  # Thu + 2 → Mon


def test_spring_festival_2026_and_its_adjusted_saturdays() -> None:
    # 2026: 15–23 Feb off; Saturday 14 Feb and Saturday 28 Feb are working days.
    assert is_working_day(date(2026, 2, 14))
    assert not is_working_day(date(2026, 2, 16))
    assert not is_working_day(date(2026, 2, 20))
    assert not is_working_day(date(2026, 2, 23))
    assert is_working_day(date(2026, 2, 28))
    # An enquiry filed Friday 13 Feb: day 1 is Saturday 14 Feb (调休), day 2 is Tuesday 24 Feb.
    assert add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)


def test_national_day_2026() -> None:
    # 1–7 Oct off; Sunday 20 Sep and Saturday 10 Oct are working days.
    assert is_working_day(date(2026, 9, 20))
    assert not any(is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert is_working_day(date(2026, 10, 10))
    # A complaint (15 working days) filed on 30 Sep 2026.
    # Oct 8, 9, 10 (Sat, 调休), 12–16, 19–23, 26, 27 → the 15th is Tuesday 27 Oct.
    assert add_working_days(date(2026, 9, 30), 15) == date(2026, 10, 27)


def test_due_at_counts_from_the_next_day_in_shanghai_time() -> None:
    # 17:30 UTC on Thursday 5 Mar is 01:30 Friday 6 Mar in Shanghai.
    filed = datetime(2026, 3, 5, 17, 30, tzinfo=ZoneInfo("UTC"))
    due = due_at(filed, 2)
    assert due == datetime(2026, 3, 10, 23, 59, 59, tzinfo=SH)


def test_zero_days_is_the_same_day() -> None:
    assert add_working_days(date(2026, 3, 5), 0) == date(2026, 3, 5)


def test_working_days_between() -> None:
    assert working_days_between(date(2026, 2, 13), date(2026, 2, 24)) == 2
    assert working_days_between(date(2026, 2, 24), date(2026, 2, 13)) == 0


def test_unknown_year_fails_loudly() -> None:
    unknown = max(known_years()) + 1
    with pytest.raises(CalendarUnknown, match=str(unknown)):
        is_working_day(date(unknown, 3, 1))
    with pytest.raises(CalendarUnknown):
        add_working_days(date(max(known_years()), 12, 30), 10)


def test_naive_time_refused() -> None:
    with pytest.raises(ValueError):
        due_at(datetime(2026, 3, 5, 10, 0), 2)
