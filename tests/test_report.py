"""``python -m bot report``: the workbook read back with openpyxl (summary, tickets, ratings, live chats, daily
questions; bilingual headers; no personal data), and the zip of CSV files."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine

from bot.__main__ import main
from bot.config import get_settings
from bot.desk.reports.figures import Period
from bot.desk.reports.workbook import report_tables, to_xlsx
from bot.desk.workdays import SHANGHAI
from bot.store.db import make_engine
from tests.calendars import package_only
from tests.dbs import postgres_engine
from tests.test_stats import build

SHEETS = ["汇总 Summary", "工单 Tickets", "评价 Ratings", "在线咨询 Live chats", "每日咨询 Daily questions"]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    with ExitStack() as stack:
        yield make_engine("sqlite://") if request.param == "sqlite" else stack.enter_context(postgres_engine())


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "helpdesk.sqlite3"
    build(make_engine(f"sqlite:///{path}"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def test_the_workbook_of_a_month(database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "may.xlsx"
    assert main(["report", "--from", "2026-05-01", "--to", "2026-05-31", "--format", "xlsx", "--out", str(out)]) == 0
    assert f"Wrote {out}" in capsys.readouterr().out
    book = load_workbook(out)
    assert book.sheetnames == SHEETS

    summary = {row[0]: row[1] for row in book["汇总 Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["统计时段 Period"] == "2026-05"
    assert summary["工作日 Working days"] == 19
    assert summary["用户提问 Typed questions"] == 9 and summary["未能解答 Not answered (fallback)"] == 4
    assert summary["受理工单 Tickets received"] == 5 and summary["受理 Received: 投诉 Complaint"] == 2
    assert summary["办结率 Closed rate (closed / received)"] == 0.4
    assert summary["按期办结率 On-time rate (on time / closed)"] == 0.5
    assert summary["当前超期 Overdue now"] >= 3  # as of today: no. 6 (due 10 June 2026) may be overdue too
    assert summary["首次答复用时中位数（小时）Median hours to first reply"] == 6.0
    assert summary["等待 P90（秒）90th percentile wait (s)"] == pytest.approx(1020)
    assert summary["接待 Served by Li Na"] == 3
    assert summary["满意率 Satisfied rate (levels 1–3)"] == 5 / 8
    assert summary["回访率 Call-back rate"] == pytest.approx(2 / 3)
    assert summary["整改率 Fix rate"] == pytest.approx(1 / 3)
    assert book["汇总 Summary"]["B19"].number_format == "0.0%"  # 👍 share, shown as a percentage

    tickets = list(book["工单 Tickets"].iter_rows(values_only=True))
    assert tickets[0][:3] == ("编号 Number", "类型 Type", "状态 Status") and tickets[0][5] == "受理时间 Received"
    assert [row[0] for row in tickets[1:]] == ["T1", "T2", "T3", "T4", "T6"]  # received in May, in order
    assert tickets[1][1:3] == ("咨询 Enquiry", "已办结 closed")
    assert tickets[1][5] == datetime(2026, 5, 4, 9, 0)  # Beijing time
    assert tickets[1][7] == datetime(2026, 5, 4, 11, 0) and tickets[1][9] == "是 yes"
    assert tickets[2][9] == "否 no" and tickets[3][8] is None

    ratings = list(book["评价 Ratings"].iter_rows(values_only=True))
    assert len(ratings) == 9 and ratings[6][3:5] == (4, "不满意 Dissatisfied") and ratings[6][7] == "已整改 resolved"
    live = list(book["在线咨询 Live chats"].iter_rows(values_only=True))
    assert [row[3] for row in live[1:]] == [120, 600, 30, 1200] and live[1][5] == "Li Na"
    daily = list(book["每日咨询 Daily questions"].iter_rows(values_only=True))
    assert len(daily) == 32 and daily[0][1] == "提问 Typed questions"
    assert daily[3][:3] == (datetime(2026, 5, 3), 2, 2) and daily[3][6] == 2

    everything = " ".join(str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row)
    assert "138" not in everything and "secret description" not in everything  # no contacts, no descriptions
    assert "where is my cat" not in everything  # no question texts


def test_the_csv_zip(database: Path, tmp_path: Path) -> None:
    out = tmp_path / "may.zip"
    assert main(["report", "--from", "2026-05-01", "--to", "2026-05-31", "--format", "csv", "--out", str(out)]) == 0
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == [
            "summary.csv",
            "tickets.csv",
            "ratings.csv",
            "live_chats.csv",
            "daily_questions.csv",
        ]
        text = archive.read("tickets.csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][5] == "受理时间 Received" and rows[1][:2] == ["T1", "咨询 Enquiry"]
    assert rows[1][5] == "2026-05-04 09:00"


def test_a_period_backwards_is_refused(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--from", "2026-05-31", "--to", "2026-05-01"]) == 2
    assert "ends before it starts" in capsys.readouterr().err


def test_the_tables_on_sqlite_and_postgresql(engine: Engine) -> None:
    build(engine)
    tables = report_tables(engine, Period.month(2026, 5), datetime(2026, 6, 3, 10, tzinfo=SHANGHAI), package_only())
    summary, tickets, ratings, live, daily = tables
    assert dict(summary.rows)["办结率 Closed rate (closed / received)"] == (0.4, "0.0%")
    assert [row[0] for row in tickets.rows] == ["T1", "T2", "T3", "T4", "T6"]
    assert tickets.rows[0][7] == datetime(2026, 5, 4, 11, 0) and tickets.rows[0][9] == "是 yes"
    assert [row[3] for row in ratings.rows] == [1, 1, 1, 2, 3, 4, 5, 5]
    assert [row[3] for row in live.rows] == [120, 600, 30, 1200]
    assert daily.rows[2][:3] == [datetime(2026, 5, 3), 2, 2]
    assert to_xlsx(tables)[:2] == b"PK"  # a zip: the xlsx container
