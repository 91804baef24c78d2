"""Permit-expiry reminders in the core (``bot.desk.outreach``): dates typed in English or Chinese, labels that
are never passport numbers, the reminder due at each lead time, the 10-working-day cancellation duty counted
over National Day 2026 (1–7 October off, Saturday 10 October an adjusted working day), and each reminder
recorded once — by the bot or by ``jobs run-due`` — however often and by whomever it is looked for."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.desk.outreach.dates import DateError, DateProblem, parse_date, parse_future_date
from bot.desk.outreach.reminders import (
    CANCEL,
    EXPIRY,
    LabelError,
    LabelProblem,
    PermitReminders,
    WatchNotFound,
    cancel_by,
    check_label,
    parse_leads,
    reminder_due,
    reminder_report,
)
from bot.desk.workdays import SHANGHAI
from bot.store.db import make_engine
from bot.store.models import PermitReminder, ensure_user
from tests.calendars import package_only
from tests.dbs import postgres_engine

HR, APPLICANT = 1001, 1002
LEADS = (60, 30)
TODAY = date(2026, 11, 30)


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


NOW = at(2026, 11, 30)


# ----- reading dates ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "2027-03-31",
        "2027/3/31",
        "2027.03.31",
        "2027年3月31日",
        "2027年03月31号",
        "２０２７年３月３１日",  # full-width digits, as a Chinese keyboard may type them
        " 2027 年 3 月 31 日。",
        "31/03/2027",
        "31.03.2027",
        "31-3-2027",
        "03/31/2027",  # month first: the 31 gives it away
    ],
)
def test_the_common_ways_of_writing_a_date_are_read(text: str) -> None:
    assert parse_date(text) == date(2027, 3, 31)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("03/04/2027", DateProblem.AMBIGUOUS),  # 3 April or 4 March?
        ("4.3.2027", DateProblem.AMBIGUOUS),
        ("2027-02-30", DateProblem.NO_SUCH_DAY),
        ("31/02/2027", DateProblem.NO_SUCH_DAY),
        ("next March", DateProblem.UNREADABLE),
        ("2027-03", DateProblem.UNREADABLE),
        ("31/03-2027", DateProblem.UNREADABLE),  # separators must agree
        ("", DateProblem.UNREADABLE),
    ],
)
def test_ambiguous_impossible_and_unreadable_dates_are_refused_with_the_reason(text: str, problem: str) -> None:
    with pytest.raises(DateError) as refused:
        parse_date(text)
    assert refused.value.problem == problem


def test_the_same_day_and_month_is_not_ambiguous() -> None:
    assert parse_date("03/03/2027") == date(2027, 3, 3)


def test_past_and_absurdly_far_dates_are_refused() -> None:
    assert parse_future_date("2026-11-30", TODAY) == TODAY  # today is fine
    with pytest.raises(DateError) as past:
        parse_future_date("2026-11-29", TODAY)
    assert past.value.problem == DateProblem.PAST
    assert parse_future_date("2032-11-30", TODAY) == date(2032, 11, 30)  # six years ahead at most
    with pytest.raises(DateError) as far:
        parse_future_date("2207-03-31", TODAY)  # a typo for 2027
    assert far.value.problem == DateProblem.TOO_FAR


# ----- labels and settings -------------------------------------------------------------------------------
@pytest.mark.parametrize("label", ["E12345678", "G1234567", "护照 E12345678", "110101199003077777", "13812345678"])
def test_a_passport_id_or_phone_number_is_not_a_label(label: str) -> None:
    with pytest.raises(LabelError) as refused:
        check_label(label)
    assert refused.value.problem == LabelProblem.PERSONAL


def test_names_and_initials_are_labels() -> None:
    assert check_label("  Maria   G. ") == "Maria G."
    assert check_label("张伟（财务部）") == "张伟（财务部）"
    with pytest.raises(LabelError):
        check_label("   ")
    with pytest.raises(LabelError):
        check_label("x" * 41)


def test_lead_times_from_the_setting() -> None:
    assert parse_leads("60,30") == (60, 30)
    assert parse_leads(" 30, 90 ,30") == (90, 30)
    for bad in ("", "sixty", "0", "400"):
        with pytest.raises(ValueError):
            parse_leads(bad)


# ----- what is due -----------------------------------------------------------------------------------------
def test_the_nearest_lead_reached_is_due_until_the_expiry() -> None:
    calendar, expires = package_only(), date(2027, 3, 31)

    def due(today: date) -> tuple[str, int] | None:
        found = reminder_due(expires, None, today, LEADS, calendar)
        return None if found is None else (found.kind, found.lead)

    assert due(date(2027, 1, 29)) is None  # 61 days before
    assert due(date(2027, 1, 30)) == (EXPIRY, 60)  # 60 days before
    assert due(date(2027, 2, 28)) == (EXPIRY, 60)
    assert due(date(2027, 3, 1)) == (EXPIRY, 30)  # 30 days before
    assert due(date(2027, 3, 31)) == (EXPIRY, 30)  # the day it expires: still the 30-day one (sent once)
    assert due(date(2027, 4, 1)) is None  # expired: nothing to extend


def test_the_end_of_employment_before_the_expiry_makes_it_the_cancellation_duty() -> None:
    calendar = package_only()
    expires, ends = date(2027, 3, 31), date(2026, 9, 30)
    found = reminder_due(expires, ends, date(2026, 8, 1), LEADS, calendar)
    assert found is not None and (found.kind, found.lead, found.target) == (CANCEL, 60, ends)
    assert reminder_due(expires, ends, date(2026, 9, 30), LEADS, calendar).lead == 0  # type: ignore[union-attr]
    assert reminder_due(expires, ends, date(2026, 10, 20), LEADS, calendar).lead == 0  # type: ignore[union-attr]
    assert reminder_due(expires, ends, date(2026, 10, 21), LEADS, calendar) is None  # too late to cancel
    # employment ending with (or after) the expiry: nothing to cancel, the expiry reminders stand
    assert reminder_due(expires, expires, date(2027, 3, 1), LEADS, calendar).kind == EXPIRY  # type: ignore[union-attr]


def test_the_last_day_to_cancel_counts_ten_working_days_over_national_day() -> None:
    # 8, 9, 10 (an adjusted working Saturday), 12–16, 19, 20 October: 1–7 October are off
    assert cancel_by(package_only(), date(2026, 9, 30)) == date(2026, 10, 20)
    assert cancel_by(package_only(), date(2026, 11, 30)) == date(2026, 12, 14)  # two ordinary weeks


# ----- watches and reminders in the database -----------------------------------------------------------
@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A database with two users, on SQLite and on PostgreSQL."""
    with ExitStack() as stack:
        made = make_engine("sqlite://") if request.param == "sqlite" else stack.enter_context(postgres_engine())
        with Session(made) as session:
            ensure_user(session, HR, NOW)
            ensure_user(session, APPLICANT, NOW)
            session.commit()
        yield made


@pytest.fixture
def reminders(engine: Engine) -> PermitReminders:
    return PermitReminders(engine, package_only(), LEADS, hour=9)


def sent_rows(engine: Engine) -> list[PermitReminder]:
    with Session(engine) as session:
        return list(session.exec(select(PermitReminder).order_by(col(PermitReminder.id))).all())


def test_watches_are_their_users_own(reminders: PermitReminders) -> None:
    maria = reminders.add(HR, "Maria G.", date(2027, 3, 31), None, NOW)
    reminders.add(HR, "J. Smith", date(2027, 1, 15), date(2026, 12, 31), NOW)
    assert [w.label for w in reminders.watches(HR)] == ["J. Smith", "Maria G."]  # soonest expiry first
    smith = reminders.watches(HR)[0]
    assert smith.cancel_by == date(2027, 1, 15) and maria.cancel_by is None  # 31 Dec + 10 working days (1 Jan off)
    assert reminders.watches(APPLICANT) == []
    for attempt in (
        lambda: reminders.get(APPLICANT, maria.id),
        lambda: reminders.rename(APPLICANT, maria.id, "Mine now", NOW),
        lambda: reminders.delete(APPLICANT, maria.id),
    ):
        with pytest.raises(WatchNotFound):
            attempt()
    assert reminders.rename(HR, maria.id, "Maria Garcia", NOW).label == "Maria Garcia"
    assert reminders.set_employment_end(HR, smith.id, None, NOW).cancel_by is None
    with pytest.raises(DateError):
        reminders.set_expiry(HR, maria.id, date(2026, 11, 1), NOW)
    with pytest.raises(LabelError):
        reminders.add(HR, "E12345678", date(2027, 3, 31), None, NOW)
    assert reminders.delete(HR, maria.id).label == "Maria Garcia"
    assert [w.label for w in reminders.watches(HR)] == ["J. Smith"]


def test_each_reminder_is_sent_once_by_whoever_runs_first(reminders: PermitReminders, engine: Engine) -> None:
    watch = reminders.add(APPLICANT, "Me", date(2027, 3, 31), None, NOW)
    assert reminders.take_due(at(2027, 1, 29)) == []  # 61 days ahead
    assert reminders.take_due(at(2027, 1, 30, 8)) == []  # 60 days, but before the reminder hour

    [notice] = reminders.take_due(at(2027, 1, 30, 9))
    assert (notice.user_id, notice.watch_id, notice.kind, notice.days) == (APPLICANT, watch.id, EXPIRY, 60)
    assert reminders.take_due(at(2027, 1, 30, 9)) == []  # the same run again (another instance, a restart)
    assert reminders.take_due(at(2027, 2, 15)) == []  # later, before the next lead
    # a second PermitReminders on the same database (a new process) finds it recorded too
    again = PermitReminders(engine, package_only(), LEADS, hour=9)
    assert again.take_due(at(2027, 2, 20)) == [] and again.record_due(at(2027, 2, 20)) == []

    # the command line records the 30-day one; the bot sends it, once
    [decision] = again.record_due(at(2027, 3, 1))
    assert (decision.watch_id, decision.kind, decision.lead, decision.user_id) == (watch.id, EXPIRY, 30, APPLICANT)
    assert reminder_report([decision], at(2027, 3, 1)) == [
        "Permit reminders as of 2027-03-01 10:00 (Beijing time):",
        f"  expiry    permit {watch.id:<5}  30 day(s) → {APPLICANT}",
        "Recorded 1 permit reminder(s): the bot sends them on its next run.",
    ]
    assert again.record_due(at(2027, 3, 1)) == []
    [owed] = reminders.take_due(at(2027, 3, 2))
    assert (owed.kind, owed.days) == (EXPIRY, 30)
    assert reminders.take_due(at(2027, 3, 2)) == [] and reminders.take_due(at(2027, 3, 31)) == []
    assert [(row.lead, row.taken_at is not None) for row in sent_rows(engine)] == [(60, True), (30, True)]


def test_a_late_watch_gets_one_reminder_and_a_new_date_new_ones(reminders: PermitReminders) -> None:
    watch = reminders.add(HR, "Li", date(2026, 12, 20), None, NOW)  # 20 days ahead: both leads passed
    [notice] = reminders.take_due(NOW)
    assert (notice.kind, notice.days) == (EXPIRY, 20)
    assert reminders.take_due(at(2026, 12, 1)) == []
    reminders.set_expiry(HR, watch.id, date(2027, 12, 20), at(2026, 12, 10))  # extended for a year
    assert reminders.take_due(at(2026, 12, 10)) == []
    [renewed] = reminders.take_due(at(2027, 10, 21))  # 60 days before the new date
    assert (renewed.expires_on, renewed.days) == (date(2027, 12, 20), 60)


def test_the_cancellation_reminder_names_the_last_day_and_a_deleted_watch_sends_nothing(
    reminders: PermitReminders, engine: Engine
) -> None:
    leaving = reminders.add(HR, "Tom", date(2027, 6, 30), date(2026, 9, 30), at(2026, 9, 1))
    staying = reminders.add(HR, "Ann", date(2026, 10, 31), None, at(2026, 9, 1))
    notices = reminders.take_due(at(2026, 9, 1))
    assert {(n.watch_id, n.kind, n.days) for n in notices} == {(leaving.id, CANCEL, 29), (staying.id, EXPIRY, 60)}
    [cancel] = [n for n in notices if n.kind == CANCEL]
    assert (cancel.ends_on, cancel.cancel_by) == (date(2026, 9, 30), date(2026, 10, 20))
    [on_the_day] = reminders.take_due(at(2026, 9, 30))  # the day the employment ends
    assert (on_the_day.kind, on_the_day.days, on_the_day.cancel_by) == (CANCEL, 0, date(2026, 10, 20))
    assert reminders.record_due(at(2026, 9, 30)) == []
    reminders.delete(HR, staying.id)
    assert reminders.take_due(at(2026, 10, 2)) == []  # its 30-day reminder never goes out
    assert {row.watch_id for row in sent_rows(engine)} == {leaving.id}
