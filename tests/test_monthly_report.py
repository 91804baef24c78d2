"""The monthly report on fixed clocks (``bot.desk.reports.monthly``): last month's workbook to each supervisor on
the month's first working day (after Labour Day; on the adjusted working Sunday 4 January 2026), from the digest
hour, once; a missed day is made up; what ``jobs run-due`` records, the bot sends once; and end to end, the
supervisor receives the workbook as a document."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date, datetime

import pytest
from sqlalchemy.engine import Engine

from bot.desk.reports.monthly import MonthlyReportDue, MonthlyReports
from bot.desk.tickets.alerts import AlertPolicy, DeadlineAlerts
from bot.desk.workdays import SHANGHAI
from bot.store.db import make_engine
from bot.store.models import Staff, User
from tests.calendars import package_only
from tests.dbs import postgres_engine
from tests.telegram_fixtures import Clock, Helpdesk, HelpdeskFactory

SUPERVISOR, SUPERVISOR2, OPERATOR = 7001, 7002, 7003


def at(month: int, day: int, hour: int = 9, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    with ExitStack() as stack:
        engine = make_engine("sqlite://") if request.param == "sqlite" else stack.enter_context(postgres_engine())
        from sqlmodel import Session

        with Session(engine) as session:
            for uid, role in ((SUPERVISOR, "supervisor"), (SUPERVISOR2, "supervisor"), (OPERATOR, "operator")):
                session.add(User(id=uid, created_at=at(1, 1), updated_at=at(1, 1)))
                session.add(Staff(user_id=uid, role=role, name=f"Staff {uid}", created_at=at(1, 1)))
            session.commit()
        yield engine


def months(reports: list[MonthlyReportDue]) -> list[tuple[int, str]]:
    return [(r.user_id, r.period.label) for r in reports]


def test_once_on_the_first_working_day_from_the_digest_hour(engine: Engine) -> None:
    monthly = MonthlyReports(engine, package_only(), hour=9)
    assert monthly.take_due(at(5, 5, 10)) == []  # Labour Day holiday
    assert monthly.take_due(at(5, 6, 8, 59)) == []  # the first working day, before the hour
    assert months(monthly.take_due(at(5, 6, 9))) == [(SUPERVISOR, "2026-04"), (SUPERVISOR2, "2026-04")]
    assert monthly.take_due(at(5, 6, 9, 1)) == [] and monthly.take_due(at(5, 7, 10)) == []  # once
    assert MonthlyReports(engine, package_only()).take_due(at(5, 6, 11)) == []  # a restart or a second instance


def test_an_adjusted_working_sunday_and_a_missed_day(engine: Engine) -> None:
    monthly = MonthlyReports(engine, package_only(), hour=9)
    assert monthly.first_working_day(date(2026, 1, 20)) == date(2026, 1, 4)  # Sunday, worked (调休)
    assert monthly.take_due(at(1, 2, 10)) == []  # New Year holiday
    assert months(monthly.take_due(at(1, 4, 9, 30)))[0] == (SUPERVISOR, "2025-12")
    assert monthly.take_due(at(6, 1, 8)) == []  # June: before the hour …
    assert months(monthly.take_due(at(6, 3, 15)))[0] == (SUPERVISOR, "2026-05")  # … and the bot down till the 3rd


def test_what_the_command_line_records_the_bot_sends_once(engine: Engine) -> None:
    monthly = MonthlyReports(engine, package_only(), hour=9)
    assert months(monthly.record_due(at(7, 1, 9, 30))) == [(SUPERVISOR, "2026-06"), (SUPERVISOR2, "2026-06")]
    assert monthly.record_due(at(7, 1, 9, 31)) == []  # recorded once
    alerts = DeadlineAlerts(engine, package_only(), AlertPolicy(digest_to=()))
    assert alerts.take_due(at(7, 1, 9, 32)) == []  # the deadline alerts leave the monthly report alone
    assert months(monthly.take_due(at(7, 1, 9, 33))) == [(SUPERVISOR, "2026-06"), (SUPERVISOR2, "2026-06")]
    assert monthly.take_due(at(7, 1, 9, 34)) == []


@pytest.mark.usefixtures("no_errors")
async def test_the_supervisor_receives_last_months_workbook(helpdesk_factory: HelpdeskFactory, clock: Clock) -> None:
    from openpyxl import load_workbook  # noqa: F401  (installed: the bot builds the workbook with it)

    from handlers.report_jobs import JOB

    clock.now = at(5, 5, 10)  # a holiday: nothing is due when the bot starts
    desk: Helpdesk = await helpdesk_factory(helpdesk_supervisors=str(SUPERVISOR), helpdesk_alert_seconds=3600)
    await desk.send(SUPERVISOR, "/start", language_code="en")
    await desk.settle()
    desk.botapi.mark(SUPERVISOR)
    clock.now = at(5, 6, 9, 5)
    [job] = desk.app.job_queue.get_jobs_by_name(JOB)  # type: ignore[union-attr]
    await job.run(desk.app)
    await desk.settle()
    document = await desk.reply(SUPERVISOR, lambda m: m.kind == "document")
    assert document.text.startswith("📊 Monthly report for 2026-04 (Beijing time)")
    assert desk.botapi._store[(SUPERVISOR, document.message_id)].file_name == "report-2026-04.xlsx"
    await job.run(desk.app)  # again: sent once
    await desk.settle()
    assert [m for m in desk.botapi.unread(SUPERVISOR) if m.kind == "document"] == []  # nothing after it


def test_its_recipients_are_the_digests_or_its_own_setting() -> None:
    from bot.desk.reports.monthly import monthly_recipients

    assert monthly_recipients("digest", "supervisors") is None  # the defaults: every active supervisor
    assert monthly_recipients("digest", "7002") == (7002,)  # whoever gets the digest …
    assert monthly_recipients("", "none") == ()
    assert monthly_recipients("none", "supervisors") == ()  # … unless set apart
    assert monthly_recipients("7001, 7003", "none") == (7001, 7003)
    assert monthly_recipients("supervisors", "7002") is None
    with pytest.raises(ValueError, match="HELPDESK_MONTHLY_REPORT_TO"):
        monthly_recipients("the boss", "supervisors")


def test_it_goes_to_the_listed_recipients_only_and_nowhere_when_none(engine: Engine) -> None:
    listed = MonthlyReports(engine, package_only(), hour=9, recipients=(SUPERVISOR2, OPERATOR))
    assert months(listed.take_due(at(5, 6, 9))) == [(SUPERVISOR2, "2026-04"), (OPERATOR, "2026-04")]
    nobody = MonthlyReports(engine, package_only(), hour=9, recipients=())
    assert nobody.record_due(at(6, 1, 10)) == [] and nobody.take_due(at(6, 1, 10)) == []
    assert months(MonthlyReports(engine, package_only()).take_due(at(6, 1, 11)))[0] == (SUPERVISOR, "2026-05")


@pytest.mark.usefixtures("no_errors")
async def test_the_digests_recipient_gets_it_the_journal_holds_no_workbook_and_a_replay_sends_nothing_again(
    helpdesk_factory: HelpdeskFactory, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy as sa

    from bot.desk.reports.service import Reports
    from bot.store.models import WorkStep
    from handlers.report_jobs import JOB

    clock.now = at(5, 5, 10)
    desk: Helpdesk = await helpdesk_factory(
        helpdesk_supervisors=f"{SUPERVISOR},{SUPERVISOR2}",
        helpdesk_digest_to=str(SUPERVISOR2),
        helpdesk_alert_seconds=3600,
    )
    for uid in (SUPERVISOR, SUPERVISOR2):
        await desk.send(uid, "/start", language_code="en")
    await desk.settle()
    desk.botapi.mark(SUPERVISOR)
    desk.botapi.mark(SUPERVISOR2)
    built: list[str] = []
    workbook = Reports.workbook

    def counted(self: Reports, *args: object) -> bytes:
        built.append("built")
        return workbook(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Reports, "workbook", counted)
    clock.now = at(5, 6, 9, 5)
    [job] = desk.app.job_queue.get_jobs_by_name(JOB)  # type: ignore[union-attr]
    await job.run(desk.app)
    await desk.settle()
    document = await desk.reply(SUPERVISOR2, lambda m: m.kind == "document")
    assert desk.botapi._store[(SUPERVISOR2, document.message_id)].file_name == "report-2026-04.xlsx"
    assert [m for m in desk.botapi.unread(SUPERVISOR) if m.kind == "document"] == []  # not the digest's: none
    assert built == ["built"]
    with desk.services.engine.connect() as connection:
        steps = connection.execute(
            sa.select(WorkStep).where(sa.column("work_key").like(f"j:{JOB}:%")).order_by(sa.column("seq"))
        ).all()
    assert steps and all(b"PK\x03\x04" not in (step.result or b"") for step in steps)  # no xlsx (a zip) in it
    assert max(len(step.result or b"") for step in steps) < 2000
    # handled again (say the process died before the work was marked finished): nothing is built or sent again
    await desk.app.bot_data.desk.run(steps[0].work_key, desk.app.bot_data.desk.jobs[JOB]())
    await desk.settle()
    assert built == ["built"]
    assert [m for m in desk.botapi.unread(SUPERVISOR2) if m.kind == "document"] == []


@pytest.mark.usefixtures("no_errors")
async def test_none_turns_it_off(helpdesk_factory: HelpdeskFactory, clock: Clock) -> None:
    from handlers.report_jobs import JOB

    clock.now = at(5, 5, 10)
    desk: Helpdesk = await helpdesk_factory(
        helpdesk_supervisors=str(SUPERVISOR), helpdesk_monthly_report_to="none", helpdesk_alert_seconds=3600
    )
    await desk.send(SUPERVISOR, "/start", language_code="en")
    await desk.settle()
    desk.botapi.mark(SUPERVISOR)
    clock.now = at(5, 6, 9, 5)
    [job] = desk.app.job_queue.get_jobs_by_name(JOB)  # type: ignore[union-attr]
    await job.run(desk.app)
    await desk.settle()
    assert [m for m in desk.botapi.unread(SUPERVISOR) if m.kind == "document"] == []
