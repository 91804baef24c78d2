"""Report benchmark: a month's figures and workbook on a SQLite database with 100,000 questions and 10,000 tickets.

    .venv/bin/python scripts/bench_report.py [--questions N] [--tickets N] [--db FILE]

Fills a fresh SQLite file with bulk inserts (one ``executemany`` per table): N questions and N tickets spread over
May 2026 (the worst case for May's report: every row is in it), a staff reply on 80 % of the tickets,
ratings on 30 % of them with follow-ups for the bad ones, and 2,000 live chats. Then times, for May:
``compute_figures`` (the /stats figures), ``report_tables`` (the workbook's rows) and ``to_xlsx``, and prints the
figures. Figures, not assertions.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bot.desk.reports.figures import Period, compute_figures  # noqa: E402
from bot.desk.reports.text import stats_text  # noqa: E402
from bot.desk.reports.workbook import report_tables, to_xlsx  # noqa: E402
from bot.desk.workdays import SHANGHAI, WorkCalendar  # noqa: E402
from bot.store.db import make_engine  # noqa: E402
from bot.store.models import (  # noqa: E402
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

START = datetime(2026, 5, 1, tzinfo=SHANGHAI).astimezone(UTC)
SPAN = timedelta(days=31)  # all of it in May: the month's report over every row
USERS = 5_000
OPERATORS = (9001, 9002, 9003, 9004, 9005)
ENTRIES = [f"entry-{n}" for n in range(120)]
FALLBACKS = [f"an unanswered question number {n}" for n in range(400)]
KINDS = ("enquiry", "help", "suggestion", "complaint", "report")


def fill(engine: sa.Engine, questions: int, tickets: int, rng: random.Random) -> None:
    def moment() -> datetime:
        return START + timedelta(seconds=rng.random() * SPAN.total_seconds())

    def table(model: object) -> sa.Table:
        return model.__table__  # type: ignore[attr-defined,no-any-return]

    now = START
    with engine.begin() as conn:
        roles = ("applicant", "employer", None)
        conn.execute(
            sa.insert(table(User)),
            [
                {"id": uid, "display_name": "", "role": roles[uid % 3], "created_at": now, "updated_at": now}
                for uid in range(1, USERS + 1)
            ]
            + [{"id": op, "display_name": "", "role": None, "created_at": now, "updated_at": now} for op in OPERATORS],
        )
        conn.execute(
            sa.insert(table(Staff)),
            [{"user_id": op, "role": "operator", "name": f"Operator {op}", "created_at": now} for op in OPERATORS],
        )
        rows = []
        for _ in range(questions):
            roll = rng.random()
            decision = "answer" if roll < 0.6 else "clarify" if roll < 0.75 else "fallback" if roll < 0.9 else "browse"
            entry = rng.choice(ENTRIES) if decision in ("answer", "browse") else None
            rows.append(
                {
                    "user_id": rng.randint(1, USERS),
                    "text": rng.choice(FALLBACKS) if decision == "fallback" else "a question",
                    "lang": rng.choice(("en", "zh")),
                    "decision": decision,
                    "entry_id": entry,
                    "candidates": "",
                    "score": 0.5,
                    "chosen_entry": rng.choice(ENTRIES) if decision == "clarify" and rng.random() < 0.5 else None,
                    "feedback": rng.choice((1, 1, 1, -1)) if rng.random() < 0.2 else None,
                    "created_at": moment(),
                }
            )
        conn.execute(sa.insert(table(QuestionLog)), rows)
        ticket_rows, replies, ratings, followups = [], [], [], []
        for tid in range(1, tickets + 1):
            created = moment()
            closed = created + timedelta(hours=rng.uniform(1, 400)) if rng.random() < 0.7 else None
            ticket_rows.append(
                {
                    "id": tid,
                    "number": f"T{tid:07d}",
                    "user_id": rng.randint(1, USERS),
                    "kind": rng.choice(KINDS),
                    "status": "closed" if closed else rng.choice(("new", "in_progress", "answered")),
                    "description": "a description",
                    "contact": None,
                    "lang": "en",
                    "assignee_id": rng.choice(OPERATORS),
                    "origin": "bot",
                    "created_at": created,
                    "updated_at": created,
                    "due_at": created + timedelta(days=rng.choice((2, 10, 15))),
                    "due_provisional": False,
                    "closed_at": closed,
                }
            )
            if rng.random() < 0.8:
                replies.append(
                    {
                        "ticket_id": tid,
                        "author_id": OPERATORS[0],
                        "kind": "reply",
                        "text": "a reply",
                        "created_at": created + timedelta(minutes=rng.uniform(5, 3000)),
                    }
                )
            if closed and rng.random() < 0.4:
                level = rng.choice((1, 1, 1, 2, 2, 3, 4, 5))
                ratings.append(
                    {
                        "id": tid,
                        "service": "ticket",
                        "service_id": tid,
                        "user_id": 1,
                        "level": level,
                        "created_at": closed + timedelta(minutes=5),
                    }
                )
                if level >= 4:
                    called = rng.random() < 0.8
                    followups.append(
                        {
                            "rating_id": tid,
                            "service": "ticket",
                            "service_id": tid,
                            "user_id": 1,
                            "opened_at": closed,
                            "due_at": closed + timedelta(days=7),
                            "called_at": closed + timedelta(days=1) if called else None,
                            "outcome": rng.choice(("resolved", "explained")) if called else None,
                        }
                    )
        conn.execute(sa.insert(table(Ticket)), ticket_rows)
        conn.execute(sa.insert(table(TicketMessage)), replies)
        conn.execute(sa.insert(table(Rating)), ratings)
        if followups:
            conn.execute(sa.insert(table(FollowUp)), followups)
        requests, sessions = [], []
        for rid in range(1, 2_001):
            asked = moment()
            served = rng.random() < 0.85
            requests.append(
                {
                    "id": rid,
                    "user_id": rng.randint(1, USERS),
                    "status": "claimed" if served else "cancelled",
                    "lang": "en",
                    "created_at": asked,
                    "position_told": 0,
                }
            )
            if served:
                started = asked + timedelta(seconds=rng.expovariate(1 / 180))
                sessions.append(
                    {
                        "request_id": rid,
                        "user_id": 1,
                        "operator_id": rng.choice(OPERATORS),
                        "status": "ended",
                        "started_at": started,
                        "last_activity_at": started,
                        "ended_at": started + timedelta(minutes=6),
                        "outcome": "resolved",
                    }
                )
        conn.execute(sa.insert(table(HelpRequest)), requests)
        conn.execute(sa.insert(table(LiveSession)), sessions)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--questions", type=int, default=100_000)
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--db", help="the SQLite file (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db or Path(tmp) / "bench.sqlite3")
        path.unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{path}")
        started = time.perf_counter()
        fill(engine, args.questions, args.tickets, random.Random(15))
        filled = time.perf_counter() - started
        with engine.connect() as conn:
            in_may = conn.execute(
                sa.text("SELECT count(*) FROM questionlog WHERE created_at >= :a AND created_at < :b"),
                {"a": "2026-04-30 16:00:00", "b": "2026-05-31 16:00:00"},
            ).scalar_one()
        print(
            f"Filled {path.name}: {args.questions:,} questions, {args.tickets:,} tickets in May 2026 "
            f"({filled:.1f} s); {in_may:,} questions in May."
        )
        period, now = Period.month(2026, 5), datetime(2026, 6, 3, 10, tzinfo=SHANGHAI)
        calendar = WorkCalendar()
        timings: dict[str, list[float]] = {"figures": [], "tables": [], "xlsx": []}
        for _ in range(3):
            t0 = time.perf_counter()
            figures = compute_figures(engine, period, now, calendar)
            t1 = time.perf_counter()
            tables = report_tables(engine, period, now, calendar)
            t2 = time.perf_counter()
            book = to_xlsx(tables)
            t3 = time.perf_counter()
            timings["figures"].append(t1 - t0)
            timings["tables"].append(t2 - t1)
            timings["xlsx"].append(t3 - t2)
        rows = ", ".join(f"{table.name} {len(table.rows):,}" for table in tables[1:])
        best = {name: min(values) for name, values in timings.items()}
        print(f"compute_figures (May): {best['figures'] * 1000:.0f} ms (best of 3)")
        print(f"report_tables (May; summary figures included): {best['tables'] * 1000:.0f} ms; rows: {rows}")
        print(f"to_xlsx: {best['xlsx'] * 1000:.0f} ms, {len(book):,} bytes")
        print(f"the month's workbook in all: {(best['tables'] + best['xlsx']) * 1000:.0f} ms")
        print()
        print(stats_text(figures, "en"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
