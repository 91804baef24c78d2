"""Deadline alerts and the morning digest on fixed clocks (``bot.desk.tickets.alerts``): working days on the
2026 calendar (Labour Day 1–5 May off, Saturday 9 May an adjusted working day), each alert once, the digest
once per working day and never on a day off; what the command line records, the bot sends once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from bot.__main__ import main, parse_now
from bot.config import get_settings
from bot.desk.tickets import alerts as alerts_module
from bot.desk.tickets.alerts import DUE_SOON, OVERDUE, AlertPolicy, DeadlineAlerts, Decision
from bot.desk.workdays import SHANGHAI
from bot.notices import MorningDigest, Notice, TicketDueSoon, TicketOverdue
from bot.store.db import make_engine
from bot.store.models import FollowUp, Rating, Staff
from tests.calendars import package_only
from tests.dbs import postgres_engine
from tests.test_tickets import Desk, desk_on

ALICE, OPERATOR, SUPERVISOR = 1001, 2001, 2002
TEXT = "How do I cancel the permit of an employee who left?"


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def desk(request: pytest.FixtureRequest) -> Iterator[Desk]:
    """The ticket desk with an operator and a supervisor, on SQLite and on PostgreSQL."""
    with ExitStack() as stack:
        engine = make_engine("sqlite://") if request.param == "sqlite" else stack.enter_context(postgres_engine())
        made = desk_on(engine, package_only())
        made.staff.add(OPERATOR, "operator", "Li Na", at(4, 1))
        made.staff.add(SUPERVISOR, "supervisor", "Wang Wei", at(4, 1))
        yield made


def alerts_on(desk: Desk, policy: AlertPolicy | None = None) -> DeadlineAlerts:
    return DeadlineAlerts(desk.engine, package_only(), policy or AlertPolicy(digest_to=()))


def of(kind: type, notices: list[Notice]) -> list[Notice]:
    return [n for n in notices if isinstance(n, kind)]


def check_in(desk: Desk, user_id: int) -> None:
    with Session(desk.engine) as session:
        member = session.get(Staff, user_id)
        assert member is not None
        member.checked_in = True
        session.add(member)
        session.commit()


def test_due_soon_on_the_working_day_before_a_holiday_then_overdue_after_it(desk: Desk) -> None:
    """An enquiry filed Wednesday 29 April is due Wednesday 6 May (1–5 May off): its assignee hears of it on
    Thursday 30 April, the last working day before; supervisors on Thursday 7 May, once each."""
    alerts = alerts_on(desk)
    ticket = desk.filing.create(ALICE, "enquiry", TEXT, "en", at(4, 29, 10))
    assert ticket.due_at.astimezone(SHANGHAI).date() == date(2026, 5, 6)
    desk.work.take(OPERATOR, ticket.id, at(4, 29, 11))
    assert alerts.take_due(at(4, 29, 12)) == []  # due in two working days
    assert alerts.take_due(at(4, 30, 8, 59)) == []  # before the hour
    soon = alerts.take_due(at(4, 30, 9))
    assert soon == [TicketDueSoon(OPERATOR, ticket.id, ticket.number, "enquiry", ticket.due_at)]
    for moment in (at(4, 30, 17), at(5, 1, 10), at(5, 5, 10), at(5, 6, 9), at(5, 6, 23, 59), at(5, 7, 8)):
        assert alerts.take_due(moment) == [], moment
    late = alerts.take_due(at(5, 7, 9))
    assert late == [TicketOverdue(SUPERVISOR, ticket.id, ticket.number, "enquiry", ticket.due_at, "Li Na")]
    assert alerts.take_due(at(5, 7, 15)) == [] and alerts.take_due(at(5, 8, 9)) == []


def test_a_deadline_on_an_adjusted_working_saturday(desk: Desk) -> None:
    """Filed Thursday 7 May, an enquiry is due Saturday 9 May (a working day): the staff on duty hear of it on
    Friday; it is overdue on Sunday, a day off, so supervisors hear of it on Monday morning."""
    alerts = alerts_on(desk)
    ticket = desk.filing.create(ALICE, "enquiry", TEXT, "en", at(5, 7, 10))
    assert ticket.due_at.astimezone(SHANGHAI).date() == date(2026, 5, 9)
    assert alerts.take_due(at(5, 7, 11)) == []  # the next working day is Friday; it is due Saturday
    check_in(desk, OPERATOR)  # nobody has it: the staff on duty are told
    assert alerts.take_due(at(5, 8, 9)) == [TicketDueSoon(OPERATOR, ticket.id, ticket.number, "enquiry", ticket.due_at)]
    assert alerts.take_due(at(5, 9, 10)) == []
    assert alerts.take_due(at(5, 10, 10)) == []  # Sunday: overdue, but nobody is told on a day off
    late = alerts.take_due(at(5, 11, 9))
    assert late == [TicketOverdue(SUPERVISOR, ticket.id, ticket.number, "enquiry", ticket.due_at, "")]


def test_without_an_assignee_or_anyone_on_duty_supervisors_are_told(desk: Desk) -> None:
    alerts = alerts_on(desk)
    ticket = desk.filing.create(ALICE, "enquiry", TEXT, "en", at(5, 7, 10))
    assert [n.user_id for n in alerts.take_due(at(5, 8, 10))] == [SUPERVISOR]
    desk.work.close(SUPERVISOR, ticket.id, "Answered by phone.", at(5, 8, 11))
    assert alerts.take_due(at(5, 11, 9)) == []  # closed: never overdue


def test_the_digest_once_per_working_day_and_none_on_a_day_off(desk: Desk) -> None:
    alerts = alerts_on(desk, AlertPolicy())
    early = desk.filing.create(ALICE, "enquiry", TEXT, "en", at(5, 7, 10))  # due Saturday 9 May
    later = desk.filing.create(ALICE, "enquiry", TEXT, "en", at(5, 8, 10))  # due Monday 11 May
    with Session(desk.engine) as session:
        rating = Rating(service="ticket", service_id=early.id, user_id=ALICE, level=5, created_at=at(5, 10, 12))
        session.add(rating)
        session.flush()
        assert rating.id is not None  # the follow-up it opened (回访) is what the digest counts, until recorded
        session.add(
            FollowUp(
                rating_id=rating.id,
                service="ticket",
                service_id=early.id,
                user_id=ALICE,
                opened_at=at(5, 10, 12),
                due_at=at(5, 15, 12),
            )
        )
        session.commit()
    for off in (at(5, 1, 9), at(5, 5, 12), at(5, 9, 8, 59)):
        assert of(MorningDigest, alerts.take_due(off)) == [], off
    saturday = of(MorningDigest, alerts.take_due(at(5, 9, 9, 30)))  # an adjusted working day
    assert saturday == [MorningDigest(SUPERVISOR, date(2026, 5, 9), 1, 1, (early.number,), 0, (), 0)]
    assert of(MorningDigest, alerts.take_due(at(5, 9, 16))) == []
    assert of(MorningDigest, alerts.take_due(at(5, 10, 9))) == []  # Sunday
    monday = of(MorningDigest, alerts.take_due(at(5, 11, 9)))
    assert monday == [MorningDigest(SUPERVISOR, date(2026, 5, 11), 0, 1, (later.number,), 1, (early.number,), 1)]
    assert of(MorningDigest, alerts.take_due(at(5, 11, 10))) == []
    desk.filing.create(ALICE, "complaint", TEXT, "en", at(5, 11, 10))
    desk.filing.create(ALICE, "complaint", TEXT, "en", at(5, 12, 10))  # Tuesday: the bot is down all day
    [wednesday] = of(MorningDigest, alerts.take_due(at(5, 13, 11)))  # late, and since Monday's digest
    assert (wednesday.day, wednesday.new) == (date(2026, 5, 13), 2)
    assert wednesday.bad_ratings == 1  # still not called back: counted again, not only when given


def test_the_digest_goes_to_the_ids_configured() -> None:
    assert AlertPolicy.parse_recipients("supervisors") is None and AlertPolicy.parse_recipients("") is None
    assert AlertPolicy.parse_recipients("none") == ()
    assert AlertPolicy.parse_recipients("5, 6") == (5, 6)
    with pytest.raises(ValueError):
        AlertPolicy.parse_recipients("supervisors,x")
    with pytest.raises(ValueError):
        AlertPolicy(digest_hour=24)


def test_what_the_command_line_records_a_bot_sends_once(desk: Desk) -> None:
    """``jobs run-due`` records (owed); the bot's next run takes and sends them; a second bot finds nothing."""
    ticket = desk.filing.create(ALICE, "enquiry", TEXT, "en", at(5, 7, 10))
    command_line, bot, other_bot = alerts_on(desk), alerts_on(desk), alerts_on(desk)
    assert command_line.record_due(at(5, 11, 9)) == [Decision(OVERDUE, ticket.number, (SUPERVISOR,))]
    assert command_line.record_due(at(5, 11, 9)) == []
    assert bot.take_due(at(5, 2, 10)) == [  # the bot's clock on a day off: only what was recorded
        TicketOverdue(SUPERVISOR, ticket.id, ticket.number, "enquiry", ticket.due_at, "")
    ]
    assert bot.take_due(at(5, 11, 9)) == [] and other_bot.take_due(at(5, 11, 9)) == []


def test_two_instances_never_both_send(tmp_path: Path) -> None:
    """Two processes on one database file (two engines) at the same moment: one sends, the other finds it done."""
    url = f"sqlite:///{tmp_path / 'two.sqlite3'}"
    first = desk_on(make_engine(url), package_only())
    first.staff.add(SUPERVISOR, "supervisor", "Wang Wei", at(4, 1))
    ticket = first.filing.create(ALICE, "enquiry", TEXT, "en", at(5, 7, 10))
    one = DeadlineAlerts(first.engine, package_only())
    two = DeadlineAlerts(make_engine(url), package_only())
    sent = one.take_due(at(5, 8, 9)) + two.take_due(at(5, 8, 9))
    assert [type(n) for n in sent] == [TicketDueSoon, MorningDigest]
    assert sent[0].number == ticket.number  # type: ignore[union-attr]


def test_a_command_line_alert_about_a_ticket_closed_since_is_dropped(desk: Desk) -> None:
    ticket = desk.filing.create(ALICE, "enquiry", TEXT, "en", at(5, 7, 10))
    alerts = alerts_on(desk)
    assert [d.kind for d in alerts.record_due(at(5, 8, 9))] == [DUE_SOON]
    desk.work.close(SUPERVISOR, ticket.id, "Answered by phone.", at(5, 8, 9, 5))
    assert alerts.take_due(at(5, 8, 9, 10)) == []


def test_jobs_run_due_prints_what_it_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    made = desk_on(make_engine(url), package_only())
    made.staff.add(SUPERVISOR, "supervisor", "Wang Wei", at(4, 1))
    ticket = made.filing.create(ALICE, "enquiry", TEXT, "en", at(5, 7, 10))
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        assert main(["jobs", "run-due", "--now", "2026-05-10T10:00"]) == 0
        assert "2026-05-10 is not a working day" in capsys.readouterr().out
        assert main(["jobs", "run-due", "--now", "2026-05-11T09:00+08:00"]) == 0
        out = capsys.readouterr().out
        assert f"overdue   {ticket.number}  → {SUPERVISOR}" in out
        assert f"digest    2026-05-11  → {SUPERVISOR}" in out
        assert "the bot sends them" in out
        assert main(["jobs", "run-due", "--now", "2026-05-11T01:30Z"]) == 0  # 09:30 in Beijing
        assert "Nothing new is due" in capsys.readouterr().out
    finally:
        get_settings.cache_clear()
    assert parse_now("2026-05-11T09:00") == at(5, 11, 9)


def test_a_race_lost_on_the_unique_key_is_run_again_and_sends_nothing(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another instance decided the same alert between this one's read and its insert: the insert fails on
    the key, the run is made again on what the other left, and this instance sends nothing."""
    desk.filing.create(ALICE, "enquiry", TEXT, "en", at(5, 7, 10))
    alerts = alerts_on(desk)
    assert len(alerts.take_due(at(5, 8, 9))) == 1
    real = alerts_module._recorded
    stale = [True]

    def read_before_the_other_committed(*args: Any) -> set[tuple[str, str]]:
        if stale.pop() if stale else False:
            return set()
        return real(*args)

    monkeypatch.setattr(alerts_module, "_recorded", read_before_the_other_committed)
    assert alerts_on(desk).take_due(at(5, 8, 9)) == []
    assert stale == []  # the stale read happened, and the insert it led to failed
