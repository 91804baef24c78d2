"""Working days on the Chinese calendar: the package's official years, provisional years, office files."""

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.desk.calendar_files import load_calendar_files
from bot.desk.workdays import ScheduleSource, WorkCalendar
from tests.calendars import FIXTURES, provisional, with_office

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()


def test_ordinary_week() -> None:
    assert CAL.is_working_day(date(2026, 3, 2))  # Monday
    assert not CAL.is_working_day(date(2026, 3, 7))  # Saturday
    assert CAL.add_working_days(date(2026, 3, 5), 2) == date(2026, 3, 9)  # Thu + 2 → Mon


def test_spring_festival_2026_and_its_adjusted_saturdays() -> None:
    # 2026: 15–23 Feb off; Saturday 14 Feb and Saturday 28 Feb are working days.
    assert CAL.is_working_day(date(2026, 2, 14))
    assert not CAL.is_working_day(date(2026, 2, 16))
    assert not CAL.is_working_day(date(2026, 2, 20))
    assert not CAL.is_working_day(date(2026, 2, 23))
    assert CAL.is_working_day(date(2026, 2, 28))
    # An enquiry filed Friday 13 Feb: day 1 is Saturday 14 Feb (调休), day 2 is Tuesday 24 Feb.
    assert CAL.add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)


def test_national_day_2026() -> None:
    # 1–7 Oct off; Sunday 20 Sep and Saturday 10 Oct are working days.
    assert CAL.is_working_day(date(2026, 9, 20))
    assert not any(CAL.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert CAL.is_working_day(date(2026, 10, 10))
    # A complaint (15 working days) filed on 30 Sep 2026.
    # Oct 8, 9, 10 (Sat, 调休), 12–16, 19–23, 26, 27 → the 15th is Tuesday 27 Oct.
    assert CAL.add_working_days(date(2026, 9, 30), 15) == date(2026, 10, 27)


def test_due_counts_from_the_next_day_in_shanghai_time() -> None:
    # 17:30 UTC on Thursday 5 Mar is 01:30 Friday 6 Mar in Shanghai.
    due = CAL.due(datetime(2026, 3, 5, 17, 30, tzinfo=ZoneInfo("UTC")), 2)
    assert due.at == datetime(2026, 3, 10, 23, 59, 59, tzinfo=SH)
    assert not due.provisional


def test_zero_days_is_the_same_day() -> None:
    assert CAL.add_working_days(date(2026, 3, 5), 0) == date(2026, 3, 5)
    with pytest.raises(ValueError):
        CAL.add_working_days(date(2026, 3, 5), -1)


def test_working_days_between() -> None:
    assert CAL.working_days_between(date(2026, 2, 13), date(2026, 2, 24)) == 2
    assert CAL.working_days_between(date(2026, 2, 24), date(2026, 2, 13)) == 0


def test_naive_time_refused() -> None:
    with pytest.raises(ValueError):
        CAL.due(datetime(2026, 3, 5, 10, 0), 2)


# ----- a year whose schedule is not published ----------------------------------------------------------------
def test_a_year_nobody_knows_never_fails() -> None:
    for year in (2035, 2050, 2099):
        due = CAL.due(datetime(year, 12, 20, 10, 0, tzinfo=SH), 15)
        assert due.provisional and due.at.year == year + 1
        assert CAL.schedule(year).source is ScheduleSource.PROVISIONAL


def test_the_provisional_rule_statutory_days_and_days_in_lieu_without_adjusted_weekends() -> None:
    calendar = provisional()
    schedule = calendar.schedule(2027)
    assert schedule.source is ScheduleSource.PROVISIONAL and schedule.workdays == frozenset()
    assert not calendar.is_working_day(date(2027, 1, 1))  # New Year's Day, a Friday
    # Spring Festival 2027: eve Fri 5 Feb, 6–8 Feb; Sat 6 and Sun 7 are made up on Tue 9 and Wed 10.
    working = [calendar.is_working_day(date(2027, 2, d)) for d in range(4, 12)]
    assert working == [True] + [False] * 6 + [True]
    # Labour Day (Sat 1, Sun 2 May → Mon 3, Tue 4), National Day (Fri 1–Sun 3 Oct → Mon 4, Tue 5).
    assert not calendar.is_working_day(date(2027, 5, 4)) and calendar.is_working_day(date(2027, 5, 5))
    assert not calendar.is_working_day(date(2027, 10, 5)) and calendar.is_working_day(date(2027, 10, 6))
    assert not calendar.is_working_day(date(2027, 4, 5))  # Qingming
    assert not calendar.is_working_day(date(2027, 6, 9))  # Dragon Boat
    assert not calendar.is_working_day(date(2027, 9, 15))  # Mid-Autumn
    assert not any(calendar.is_working_day(date(2027, 2, 20 + n)) for n in (0, 1))  # no 调休 guessed


def test_a_deadline_is_provisional_only_when_it_counts_an_unpublished_year() -> None:
    calendar = provisional()
    within = calendar.due(datetime(2026, 12, 10, 10, 0, tzinfo=SH), 15)
    assert within.at.date() == date(2026, 12, 31) and not within.provisional
    across = calendar.due(datetime(2026, 12, 15, 10, 0, tzinfo=SH), 15)
    # 16–18, 21–25, 28–31 Dec (12), 1 Jan off, 4, 5, 6 Jan → Wednesday 6 January 2027
    assert across.at.date() == date(2027, 1, 6) and across.provisional


def test_years_to_enter_from_the_first_of_november() -> None:
    calendar = provisional()
    assert calendar.years_to_enter(datetime(2026, 10, 31, 23, 0, tzinfo=SH)) == []
    assert calendar.years_to_enter(datetime(2026, 11, 1, 0, 0, tzinfo=SH)) == [2027]
    assert calendar.years_to_enter(datetime(2027, 1, 4, 9, 0, tzinfo=SH)) == [2027]  # the year began without it
    assert with_office().years_to_enter(datetime(2026, 12, 1, 9, 0, tzinfo=SH)) == []


# ----- office files ------------------------------------------------------------------------------------------
def test_the_office_file_takes_precedence_and_its_adjusted_days_count() -> None:
    calendar = with_office()
    schedule = calendar.schedule(2027)
    assert schedule.source is ScheduleSource.OFFICE and schedule.notice.startswith("test fixture")
    assert not calendar.is_working_day(date(2027, 2, 11))  # in the office's Spring Festival run, not the rule's
    assert calendar.is_working_day(date(2027, 2, 20))  # an adjusted working Saturday
    # A help request (10 days) filed Friday 29 Jan 2027: 1–4 Feb, 15–19 Feb, Saturday 20 Feb.
    due = calendar.due(datetime(2027, 1, 29, 10, 0, tzinfo=SH), 10)
    assert due.at.date() == date(2027, 2, 20) and not due.provisional
    assert provisional().due(datetime(2027, 1, 29, 10, 0, tzinfo=SH), 10).at.date() == date(2027, 2, 18)


def test_an_office_file_overrides_the_package_for_a_year_it_carries(tmp_path: Path) -> None:
    (tmp_path / "2026.toml").write_text(
        'year = 2026\nnotice = "a correction"\n\n[[holidays]]\nname = "extra"\nfrom = 2026-03-02\nto = 2026-03-02\n',
        encoding="utf-8",
    )
    calendar = WorkCalendar(load_calendar_files(tmp_path))
    assert calendar.schedule(2026).source is ScheduleSource.OFFICE
    assert not calendar.is_working_day(date(2026, 3, 2))
    assert calendar.is_working_day(date(2026, 2, 16))  # the office file is the whole schedule for its year


def test_a_late_december_weekend_made_a_working_day_by_next_years_notice(tmp_path: Path) -> None:
    text = (FIXTURES / "2027.toml").read_text(encoding="utf-8")
    (tmp_path / "2027.toml").write_text(text.replace("workdays = [", "workdays = [2026-12-27, "), encoding="utf-8")
    calendar = WorkCalendar(load_calendar_files(tmp_path), official_years=provisional().official_years)
    assert calendar.is_working_day(date(2026, 12, 27))  # a Sunday
    assert not with_office().is_working_day(date(2026, 12, 27))


def test_no_calendar_directory_means_no_office_files(tmp_path: Path) -> None:
    assert load_calendar_files(tmp_path / "calendar") == {}
