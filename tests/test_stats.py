"""Every figure of /stats against a hand-built database (``bot.desk.reports.figures``), on SQLite and on
PostgreSQL: the period's edges in Beijing time, medians and the 90th percentile, and the rates."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.answering.answers import Answerer
from bot.answering.knowledge import KnowledgeBase
from bot.config import Settings
from bot.desk.reports.figures import Period, compute_figures, daily_questions, previous_month, weekly_tickets
from bot.desk.reports.service import BadPeriod, Reports
from bot.desk.reports.text import stats_text
from bot.desk.staff import StaffRegistry
from bot.desk.workdays import SHANGHAI
from bot.errors import NotAllowed
from bot.services import build_services
from bot.store.db import make_engine
from bot.store.models import (
    FollowUp,
    HelpRequest,
    LiveSession,
    QuestionLog,
    Rating,
    Staff,
    Ticket,
    TicketMessage,
    User,
)
from console.desk import DeskConsole
from console.terminal import run_console
from tests.calendars import package_only
from tests.dbs import postgres_engine

APPLICANT, EMPLOYER, NO_ROLE = 1, 2, 3
LI_NA, ZHANG_WEI = 10, 11
MAY = Period.month(2026, 5)
NOW = datetime(2026, 6, 3, 10, 0, tzinfo=SHANGHAI)


def at(month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=SHANGHAI)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    with ExitStack() as stack:
        yield make_engine("sqlite://") if request.param == "sqlite" else stack.enter_context(postgres_engine())


def question(
    session: Session,
    user: int,
    when: datetime,
    decision: str,
    lang: str = "en",
    entry: str | None = None,
    chosen: str | None = None,
    feedback: int | None = None,
    text: str = "a question",
) -> None:
    session.add(
        QuestionLog(
            user_id=user,
            text=text,
            lang=lang,
            decision=decision,
            entry_id=entry,
            chosen_entry=chosen,
            feedback=feedback,
            created_at=when,
        )
    )


def ticket(
    session: Session,
    number: int,
    kind: str,
    created: datetime,
    due: datetime,
    status: str = "new",
    closed: datetime | None = None,
    replies: tuple[datetime, ...] = (),
) -> None:
    session.add(
        Ticket(
            id=number,
            number=f"T{number}",
            user_id=APPLICANT,
            kind=kind,
            status=status,
            description="secret description",
            contact="+86 138 0013 8000",
            lang="en",
            created_at=created,
            updated_at=created,
            due_at=due,
            closed_at=closed,
        )
    )
    session.flush()
    for when in replies:
        session.add(TicketMessage(ticket_id=number, author_id=LI_NA, kind="reply", text="r", created_at=when))


def live(session: Session, number: int, asked: datetime, status: str, started: datetime | None, operator: int) -> None:
    session.add(HelpRequest(id=number, user_id=APPLICANT, status=status, lang="en", created_at=asked))
    session.flush()
    if started is not None:
        session.add(
            LiveSession(
                request_id=number,
                user_id=APPLICANT,
                operator_id=operator,
                status="ended",
                started_at=started,
                last_activity_at=started,
                ended_at=started + timedelta(minutes=5),
                outcome="resolved",
            )
        )


def rating(session: Session, number: int, level: int, when: datetime, outcome: str | None = None) -> None:
    """A rating of ticket *number*; a bad one with its follow-up (called back with *outcome*, or open)."""
    row = Rating(id=number, service="ticket", service_id=number, user_id=APPLICANT, level=level, created_at=when)
    session.add(row)
    session.flush()
    if level >= 4:
        session.add(
            FollowUp(
                rating_id=number,
                service="ticket",
                service_id=number,
                user_id=APPLICANT,
                opened_at=when,
                due_at=when + timedelta(days=7),
                called_by=LI_NA if outcome else None,
                called_at=when + timedelta(days=1) if outcome else None,
                outcome=outcome,
            )
        )


def build(engine: Engine) -> None:
    """The hand-built month (May 2026) with rows just outside it on either side."""
    with Session(engine) as s:
        created = at(4, 1)
        for uid, role in ((APPLICANT, "applicant"), (EMPLOYER, "employer"), (NO_ROLE, None)):
            s.add(User(id=uid, role=role, lang="en", created_at=created, updated_at=created))
        for uid in (LI_NA, ZHANG_WEI):
            s.add(User(id=uid, created_at=created, updated_at=created))
        s.add(Staff(user_id=LI_NA, role="operator", name="Li Na", created_at=created))
        s.add(Staff(user_id=ZHANG_WEI, role="operator", name="Zhang Wei", created_at=created))
        s.flush()
        # questions
        question(s, APPLICANT, at(5, 3), "answer", entry="reissue", feedback=1)
        question(s, APPLICANT, at(5, 3, 11), "answer", entry="reissue", feedback=1)
        question(s, APPLICANT, at(5, 4), "answer", entry="reissue", feedback=-1)
        question(s, EMPLOYER, at(5, 5), "clarify", "zh", chosen="renewal")
        question(s, EMPLOYER, at(5, 5, 11), "clarify", "zh", feedback=-1)  # "none of these"
        question(s, NO_ROLE, at(5, 1, 0, 5), "fallback", text="where is my cat")  # 1 May 00:05 Beijing
        question(s, NO_ROLE, at(5, 6), "fallback", text="where is my cat")
        question(s, NO_ROLE, at(5, 6, 11), "fallback", "zh", text="天气怎么样")
        question(s, NO_ROLE, at(5, 6, 12), "fallback", text="")  # its text erased (retention): counted, not listed
        question(s, APPLICANT, at(5, 7), "browse", entry="renewal", feedback=1)
        question(s, APPLICANT, at(5, 7, 11), "related", entry="reissue")
        question(s, APPLICANT, at(4, 30, 23, 59), "answer", entry="cancel", feedback=1)  # outside
        question(s, EMPLOYER, at(6, 1, 0, 0), "fallback", text="outside")  # outside: periods are half-open
        # tickets
        ticket(s, 1, "enquiry", at(5, 4, 9), at(5, 6, 18), "closed", at(5, 5, 9), (at(5, 4, 11),))
        ticket(s, 2, "help", at(5, 4), at(5, 8, 18), "closed", at(5, 10), (at(5, 4, 16), at(5, 5)))
        ticket(s, 3, "complaint", at(5, 11), at(5, 20, 18), "answered", None, (at(5, 12),))
        ticket(s, 4, "complaint", at(5, 12, 9), at(5, 14, 18))  # overdue now, never answered
        s.add(TicketMessage(ticket_id=4, author_id=APPLICANT, kind="user", text="hello?", created_at=at(5, 13)))
        s.add(TicketMessage(ticket_id=4, author_id=LI_NA, kind="note", text="internal", created_at=at(5, 13)))
        ticket(s, 5, "enquiry", at(4, 20), at(4, 22, 18), "in_progress")  # overdue now, received before May
        ticket(s, 6, "suggestion", at(5, 20), at(6, 10, 18))
        ticket(s, 7, "help", at(6, 1, 9), at(6, 5, 18), "closed", at(6, 2), (at(6, 1, 10),))  # outside
        # live chats
        live(s, 1, at(5, 5), "claimed", at(5, 5, 10, 2), LI_NA)  # waited 120 s
        live(s, 2, at(5, 5, 11), "claimed", at(5, 5, 11, 10), LI_NA)  # 600 s
        live(s, 3, at(5, 6), "claimed", at(5, 6, 10, 0, 30), ZHANG_WEI)  # 30 s
        live(s, 4, at(5, 6, 12), "claimed", at(5, 6, 12, 20), LI_NA)  # 1200 s
        live(s, 5, at(5, 7), "cancelled", None, LI_NA)
        live(s, 6, at(5, 7, 11), "ticket", None, LI_NA)
        live(s, 7, at(5, 8), "cancelled", None, LI_NA)
        live(s, 8, at(4, 30), "claimed", at(4, 30, 10, 30), ZHANG_WEI)  # outside
        # ratings
        for number, level in enumerate((1, 1, 1, 2, 3), start=101):
            rating(s, number, level, at(5, 10))
        rating(s, 106, 4, at(5, 11), "resolved")
        rating(s, 107, 5, at(5, 12), "explained")
        rating(s, 108, 5, at(5, 13))  # not called back yet
        rating(s, 109, 5, at(4, 29), "resolved")  # outside
        s.commit()


def test_every_figure_of_a_hand_built_month(engine: Engine) -> None:
    build(engine)
    figures = compute_figures(engine, MAY, NOW, package_only())
    assert figures.working_days == 19  # May 2026: Labour Day 1–5 off, Saturday 9 May worked

    q = figures.questions
    assert q.asked == 9 and q.opened == 2
    assert dict(q.by_decision) == {"answer": 3, "clarify": 2, "fallback": 4, "browse": 1, "related": 1}
    assert dict(q.by_lang) == {"en": 6, "zh": 3}
    assert dict(q.by_role) == {"applicant": 3, "employer": 2, "": 4}
    assert q.top_topics == (("reissue", 4), ("renewal", 2))
    assert (q.thumbs_up, q.thumbs_down, q.up_rate) == (3, 2, 0.6)
    assert q.top_unanswered == (("where is my cat", 2), ("天气怎么样", 1))

    t = figures.tickets
    assert t.received == 5
    assert dict(t.by_kind) == {"enquiry": 1, "help": 1, "complaint": 2, "suggestion": 1}
    assert (t.closed, t.closed_rate) == (2, 0.4)  # 办结率
    assert (t.closed_on_time, t.on_time_rate) == (1, 0.5)  # 按期办结率
    assert t.overdue_now == 3  # no. 3 (answered, not closed), 4 and 5 (received in April, still open)
    assert t.replied == 3
    assert t.first_reply_median == pytest.approx(6 * 3600, abs=0.01)  # of 2 h, 6 h, 24 h
    assert t.close_median == pytest.approx((24 + 6 * 24) / 2 * 3600, abs=0.01)  # of 1 day and 6 days

    lv = figures.live
    assert lv.served == 4
    assert lv.wait_median == pytest.approx(360, abs=0.01)  # of 30, 120, 600, 1200 s
    assert lv.wait_p90 == pytest.approx(1020, abs=0.01)  # percentile_cont(0.9)
    assert (lv.abandoned, lv.left_message) == (2, 1)
    assert lv.by_operator == ((LI_NA, "Li Na", 3), (ZHANG_WEI, "Zhang Wei", 1))

    r = figures.ratings
    assert dict(r.by_level) == {1: 3, 2: 1, 3: 1, 4: 1, 5: 2}
    assert (r.total, r.bad) == (8, 3)
    assert r.satisfied_rate == 5 / 8  # 满意率: the top three levels
    assert r.good_rate == 4 / 8  # 好评率: 非常满意 + 满意
    assert (r.called_back, r.callback_rate) == (2, 2 / 3)  # 回访率
    assert (r.resolved, r.fix_rate) == (1, 1 / 3)  # 整改率


def test_an_empty_period_has_no_rates(engine: Engine) -> None:
    build(engine)
    figures = compute_figures(engine, Period.month(2025, 1), NOW)
    assert figures.questions.asked == 0 and figures.questions.up_rate is None
    assert figures.tickets.closed_rate is None and figures.tickets.first_reply_median is None
    assert figures.tickets.overdue_now == 3  # the state now, whatever the period
    assert figures.live.wait_median is None and figures.live.by_operator == ()
    assert figures.ratings.total == 0 and figures.ratings.satisfied_rate is None
    assert figures.ratings.callback_rate is None


def test_daily_and_weekly_series(engine: Engine) -> None:
    build(engine)
    with engine.connect() as conn:
        days, weeks = daily_questions(conn, MAY), weekly_tickets(conn, MAY)
    assert len(days) == 31 and days["2026-05-02"] == {}
    assert days["2026-05-01"] == {"fallback": 1, "up": 0, "down": 0}  # 00:05 Beijing is 30 April in UTC
    assert days["2026-05-03"] == {"answer": 2, "up": 2, "down": 0}
    assert days["2026-05-05"] == {"clarify": 2, "up": 0, "down": 1}
    assert next(iter(weeks)) == date(2026, 4, 27) and len(weeks) == 5
    assert weeks[date(2026, 5, 4)] == {"enquiry": 1, "help": 1}
    assert weeks[date(2026, 5, 11)] == {"complaint": 2}
    assert weeks[date(2026, 5, 18)] == {"suggestion": 1}


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("", date(2026, 6, 1), date(2026, 6, 30)),
        ("month", date(2026, 6, 1), date(2026, 6, 30)),
        ("today", date(2026, 6, 3), date(2026, 6, 3)),
        ("week", date(2026, 6, 1), date(2026, 6, 7)),
        ("本周", date(2026, 6, 1), date(2026, 6, 7)),
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2026-05-04 2026-05-10", date(2026, 5, 4), date(2026, 5, 10)),
        ("2026-05-04~2026-05-10", date(2026, 5, 4), date(2026, 5, 10)),
        ("2026-05-10 2026-05-04", date(2026, 5, 4), date(2026, 5, 10)),  # either order
        ("2026年2月", date(2026, 2, 1), date(2026, 2, 28)),
        ("上周", date(2026, 5, 25), date(2026, 5, 31)),
        ("last-month", date(2026, 5, 1), date(2026, 5, 31)),
    ],
)
def test_periods_are_beijing_days(text: str, first: date, last: date) -> None:
    period = Period.parse(text, datetime(2026, 6, 2, 16, 30, tzinfo=UTC))  # 3 June, 00:30 in Beijing
    assert (period.first, period.last) == (first, last)
    assert Period.parse(period.token, NOW) == Period(first, last, "range")


@pytest.mark.parametrize("text", ["yesterday", "2026-13", "2026年13月", "2026-5-1 2026-05-02", "a b c"])
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        Period.parse(text, NOW)


def test_previous_month() -> None:
    assert previous_month(date(2026, 1, 5)) == Period.month(2025, 12)
    assert Period.month(2026, 5).label == "2026-05" and Period(date(2026, 5, 1), date(2026, 5, 3)).label == (
        "2026-05-01 – 2026-05-03"
    )


def test_the_console_shows_stats_to_a_supervisor_only(kb: KnowledgeBase, answerer: Answerer) -> None:
    services = build_services(Settings(database_url="sqlite://"), kb, make_engine("sqlite://"), package_only())
    build(services.engine)
    services.staff.add(20, "supervisor", "Wang Fang", NOW)
    services.staff.add(21, "operator", "Li Na", NOW)
    supervisor = DeskConsole(services, 20, "en", lambda: NOW, as_staff=True)
    out: list[str] = []
    run_console(answerer, "en", io.StringIO("/stats 2026-05\n/stats soon\n"), out.append, desk=supervisor)
    shown = "\n".join(out)
    assert "📊 Statistics for 2026-05 (Beijing time)" in shown
    assert "Received: 5 — Enquiry (咨询) 1, Help request (求助) 1, Suggestion (建议) 1, Complaint (投诉) 2" in shown
    assert "Served: 4 · waiting time: median 6 min, 90% within 17 min" in shown
    assert "By operator: Li Na 3, Zhang Wei 1" in shown
    assert "  4× " + kb.entries["reissue"].title["en"] + " (reissue)" in shown
    assert "Usage: /stats [today | week | month | YYYY-MM | FROM TO]" in shown  # "soon" is no period
    operator = DeskConsole(services, 21, "en", lambda: NOW, as_staff=True)
    out.clear()
    run_console(answerer, "en", io.StringIO("/stats\n"), out.append, desk=operator)
    assert "Statistics" not in "\n".join(out) and "supervisor" in "\n".join(out).lower()


def test_the_text_in_chinese(engine: Engine) -> None:
    build(engine)
    text = stats_text(compute_figures(engine, MAY, NOW, package_only()), "zh")
    assert "办结率" in text and "40.0%" in text  # Chinese percentages have no space
    assert "Typed questions" not in text  # every label translated


def test_charts_are_pngs_for_supervisors_only(engine: Engine) -> None:
    build(engine)
    with Session(engine) as s:
        s.add(Staff(user_id=APPLICANT, role="supervisor", name="Wang Fang", created_at=NOW))
        s.commit()
    reports = Reports(engine, StaffRegistry(engine), package_only())
    charts = reports.charts(APPLICANT, MAY.token, NOW)
    assert [c.name for c in charts] == [
        "questions-2026-05-01~2026-05-31.png",
        "tickets-2026-05-01~2026-05-31.png",
        "ratings-2026-05-01~2026-05-31.png",
    ]
    assert all(c.png.startswith(b"\x89PNG\r\n\x1a\n") and len(c.png) > 5_000 for c in charts)
    with pytest.raises(NotAllowed):
        reports.charts(LI_NA, MAY.token, NOW)  # an operator
    with pytest.raises(BadPeriod):
        reports.stats(APPLICANT, "last year", NOW)
