"""Deadlines never refuse a user: every ticket type filed on every day from 1 December 2026 to 31 January 2027,
on the package's data only, on a provisional 2027 and with an office file for 2027; provisional deadlines
counted again when the schedule becomes known; the weekly reminder to enter it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.answering.knowledge import KnowledgeBase
from bot.desk.calendar_upkeep import CalendarUpkeep
from bot.desk.hours import desk_hours
from bot.desk.staff import StaffRegistry
from bot.desk.tickets.common import DEFAULT_DEADLINES, KINDS
from bot.desk.tickets.deadlines import TicketDeadlines
from bot.desk.workdays import WorkCalendar, package_years
from bot.notices import CalendarUnknown, TicketDueLater
from bot.store.db import make_engine
from bot.store.models import AuditLog, JobRun
from tests.calendars import UNPUBLISHED, package_only, provisional, with_office
from tests.dbs import postgres_engine
from tests.test_tickets import desk_on

SH = ZoneInfo("Asia/Shanghai")
ALICE, BOB, SUPERVISOR, OPERATOR = 1001, 1002, 2002, 2001
CALENDARS = {"package": package_only, "provisional": provisional, "office": with_office}


def days(first: date, last: date) -> Iterator[date]:
    while first <= last:
        yield first
        first += timedelta(days=1)


@pytest.mark.parametrize("name", CALENDARS)
def test_every_type_can_be_filed_every_day_of_december_and_january(name: str) -> None:
    calendar = CALENDARS[name]()
    desk = desk_on(make_engine("sqlite://"), calendar)
    office_days_off = calendar.office[UNPUBLISHED].days_off if UNPUBLISHED in calendar.office else frozenset()
    known_holidays = set(holidays.China(years=(2026, 2027))) | office_days_off
    unpublished_counts = calendar.schedule(UNPUBLISHED).provisional
    filed = 0
    for day in days(date(2026, 12, 1), date(2027, 1, 31)):
        for at in (time(0, 5), time(10, 0), time(23, 55)):
            now = datetime.combine(day, at, tzinfo=SH)
            for kind in KINDS:
                ticket = desk.filing.create(ALICE, kind, "A question that needs a deadline.", "en", now)
                filed += 1
                due = ticket.due_at.astimezone(SH)
                assert due.time() == time(23, 59, 59)
                assert calendar.working_days_between(day, due.date()) == DEFAULT_DEADLINES[kind]
                assert calendar.is_working_day(due.date())
                adjusted = due.date() in calendar.schedule(due.year).workdays
                assert due.weekday() < 5 or adjusted, (kind, now, due)
                assert due.date() not in known_holidays or adjusted, (kind, now, due)
                assert ticket.due_provisional == (unpublished_counts and due.year >= UNPUBLISHED), (kind, now, due)
    assert filed == 62 * 3 * 5


def test_the_office_files_adjusted_working_days_count() -> None:
    """The same filings differ only where the office file's days count: a deadline on its adjusted Saturday."""
    office = desk_on(make_engine("sqlite://"), with_office())
    guess = desk_on(make_engine("sqlite://"), provisional())
    friday = datetime(2027, 1, 29, 10, 0, tzinfo=SH)
    by_office = office.filing.create(ALICE, "help", "A question that needs a deadline.", "en", friday)
    by_rule = guess.filing.create(ALICE, "help", "A question that needs a deadline.", "en", friday)
    assert by_office.due_at.astimezone(SH).date() == date(2027, 2, 20)  # Saturday, 调休 in the office file
    assert not by_office.due_provisional
    assert by_rule.due_at.astimezone(SH).date() == date(2027, 2, 18) and by_rule.due_provisional


def test_christmas_eve_complaint_is_due_in_january() -> None:
    """The issue's case: filed 24 December 2026, 15 working days, across an unpublished New Year."""
    ticket = desk_on(make_engine("sqlite://"), provisional()).filing.create(
        ALICE, "complaint", "The window refused my documents.", "en", datetime(2026, 12, 24, 10, 0, tzinfo=SH)
    )
    # 25, 28–31 Dec (5), 1 Jan off, 4–8 Jan (10), 11–15 Jan (15)
    assert ticket.due_at == datetime(2027, 1, 15, 23, 59, 59, tzinfo=SH) and ticket.due_provisional


# ----- counting again when the schedule is known ---------------------------------------------------------------
def audit(engine: Engine) -> list[tuple[int, str, int | None, str]]:
    with Session(engine) as session:
        rows = session.exec(select(AuditLog).where(AuditLog.action == "deadline_recomputed").order_by(AuditLog.id))
        return [(row.actor_id, row.action, row.ticket_id, row.detail) for row in rows]


def test_provisional_deadlines_are_counted_again_once_the_office_file_is_there() -> None:
    engine = make_engine("sqlite://")
    before = desk_on(engine, provisional())
    now = datetime(2027, 1, 29, 10, 0, tzinfo=SH)
    later = before.filing.create(ALICE, "help", "Moves later: 18 Feb → Sat 20 Feb.", "en", now)
    earlier = before.filing.create(
        BOB, "enquiry", "Moves earlier: 12 Oct → 11 Oct.", "en", datetime(2027, 10, 8, 9, tzinfo=SH)
    )
    same = before.filing.create(
        ALICE, "complaint", "Stays 15 Jan, no longer provisional.", "en", datetime(2026, 12, 24, 10, tzinfo=SH)
    )
    closed = before.filing.create(BOB, "help", "Closed, still counted for statistics.", "en", now)
    StaffRegistry(engine).add(OPERATOR, "operator", "Li Na", now)
    before.work.close(OPERATOR, closed.number, "Answered by phone.", now)
    known = before.filing.create(ALICE, "enquiry", "Never provisional.", "en", datetime(2026, 12, 1, 10, tzinfo=SH))
    assert [t.due_provisional for t in (later, earlier, same, closed, known)] == [True, True, True, True, False]

    after = desk_on(engine, with_office())  # a restart with knowledge/calendar/2027.toml in place
    start = datetime(2027, 2, 1, 9, 0, tzinfo=SH)
    changes, notices = after.deadlines.recompute_deadlines(start)
    moved = {c.number: (c.old.astimezone(SH).date(), c.new.astimezone(SH).date(), c.provisional) for c in changes}
    assert moved == {
        later.number: (date(2027, 2, 18), date(2027, 2, 20), False),
        earlier.number: (date(2027, 10, 12), date(2027, 10, 11), False),
        same.number: (date(2027, 1, 15), date(2027, 1, 15), False),
        closed.number: (date(2027, 2, 18), date(2027, 2, 20), False),
    }
    # only the owner of an open ticket whose deadline moved later is told (never an earlier date again)
    assert notices == [TicketDueLater(ALICE, later.number, later.id, datetime(2027, 2, 20, 23, 59, 59, tzinfo=SH))]
    assert after.owners.get(ALICE, later.number).due_at == datetime(2027, 2, 20, 23, 59, 59, tzinfo=SH)
    assert not after.owners.get(ALICE, later.number).due_provisional
    assert audit(engine) == [
        (0, "deadline_recomputed", later.id, "2027-02-18 -> 2027-02-20"),
        (0, "deadline_recomputed", earlier.id, "2027-10-12 -> 2027-10-11"),
        (0, "deadline_recomputed", same.id, "2027-01-15 -> 2027-01-15"),
        (0, "deadline_recomputed", closed.id, "2027-02-18 -> 2027-02-20"),
    ]
    assert after.deadlines.provisional_count() == 0
    assert after.deadlines.recompute_deadlines(start) == ([], [])  # a second start-up changes nothing


def test_a_deadline_still_reaching_into_an_unknown_year_stays_provisional() -> None:
    engine = make_engine("sqlite://")
    desk = desk_on(engine, provisional())
    ticket = desk.filing.create(
        ALICE, "complaint", "Filed before the year's end.", "en", datetime(2027, 12, 20, 10, tzinfo=SH)
    )
    assert ticket.due_provisional
    assert desk_on(engine, with_office()).deadlines.recompute_deadlines(datetime(2027, 12, 21, tzinfo=SH)) == ([], [])
    assert desk.deadlines.provisional_count() == 1  # 2028 is still unknown: nothing to count again yet


# ----- the weekly reminder -------------------------------------------------------------------------------------
@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    if request.param == "sqlite":
        yield make_engine("sqlite://")
    else:
        with postgres_engine() as made:
            yield made


def upkeep_on(engine: Engine, calendar: WorkCalendar) -> CalendarUpkeep:
    staff = StaffRegistry(engine)
    return CalendarUpkeep(engine, calendar, staff, TicketDeadlines(engine, calendar=calendar))


def at(day: str, clock: str = "10:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=SH)


def test_supervisors_are_reminded_once_a_week_from_november_until_the_schedule_is_entered(engine: Engine) -> None:
    upkeep = upkeep_on(engine, provisional())
    upkeep.staff.add(SUPERVISOR, "supervisor", "Wang Wei", at("2026-10-01"))
    upkeep.staff.add(OPERATOR, "operator", "Li Na", at("2026-10-01"))
    assert upkeep.remind(at("2026-10-30")) == []  # before 1 November
    assert upkeep.remind(at("2026-11-02", "08:30")) == []  # Monday, before office hours
    [notice] = upkeep.remind(at("2026-11-02", "09:15"))
    assert notice == CalendarUnknown(SUPERVISOR, year=2027, file="knowledge/calendar/2027.toml", provisional=0)
    assert upkeep.remind(at("2026-11-02", "09:30")) == []  # once a week
    assert upkeep.remind(at("2026-11-05", "15:00")) == []
    assert upkeep_on(engine, provisional()).remind(at("2026-11-06")) == []  # another instance, the same week
    assert upkeep.remind(at("2026-11-14")) == []  # Saturday: not a working day
    assert upkeep.remind(at("2026-11-09", "20:00")) == []  # next Monday, evening
    desk_on(engine, upkeep.calendar).filing.create(ALICE, "complaint", "Reaches into 2027.", "en", at("2026-12-20"))
    assert upkeep.remind(at("2026-11-10")) == [CalendarUnknown(SUPERVISOR, 2027, "knowledge/calendar/2027.toml", 1)]
    with Session(engine) as session:
        assert sorted(run.period for run in session.exec(select(JobRun))) == ["2027:2026-W45", "2027:2026-W46"]
    assert upkeep_on(engine, with_office()).remind(at("2026-11-17")) == []  # entered: no more reminders


def test_without_supervisors_the_week_is_not_used_up(engine: Engine) -> None:
    upkeep = upkeep_on(engine, provisional())
    assert upkeep.remind(at("2026-11-02")) == []
    upkeep.staff.add(SUPERVISOR, "supervisor", "Wang Wei", at("2026-11-03"))
    assert [n.user_id for n in upkeep.remind(at("2026-11-03"))] == [SUPERVISOR]


def test_a_year_that_began_without_its_schedule_is_reminded_too(engine: Engine) -> None:
    upkeep = upkeep_on(engine, provisional())
    upkeep.staff.add(SUPERVISOR, "supervisor", "Wang Wei", at("2026-10-01"))
    assert upkeep.remind(at("2027-01-04")) == [CalendarUnknown(SUPERVISOR, 2027, "knowledge/calendar/2027.toml", 0)]


# ----- the desk's hours read the same calendar -----------------------------------------------------------------
@pytest.mark.parametrize("name", CALENDARS)
def test_desk_hours_over_new_year_and_spring_festival_2027(name: str, kb: KnowledgeBase) -> None:
    hours = desk_hours("profile", kb.profile.hours, CALENDARS[name]())  # Monday–Friday, 09:00–17:00
    assert not hours.is_open(at("2027-01-01"))  # New Year's Day on every calendar
    assert hours.next_opening(at("2026-12-31", "17:30")) == at("2027-01-04", "09:00")
    assert hours.is_open(at("2027-02-04"))
    reopens = hours.next_opening(at("2027-02-04", "18:00"))
    expected = {"office": at("2027-02-15", "09:00"), "provisional": at("2027-02-11", "09:00")}
    if name in expected or UNPUBLISHED not in package_years():
        assert reopens == expected.get(name, expected["provisional"])
