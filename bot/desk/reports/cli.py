"""``python -m bot report --from DATE --to DATE --format xlsx|csv [--out FILE]``: the report of a period.

``xlsx``: one Excel workbook (summary sheet and one sheet per table). ``csv``: one zip file holding a CSV file
per sheet (``summary.csv``, ``tickets.csv``, ``ratings.csv``, ``live_chats.csv``, ``daily_questions.csv``;
UTF-8 with a byte-order mark so that Excel shows the Chinese headers). Without ``--out`` the file is
``report-FROM-TO.xlsx`` (or ``.zip``) in the current directory. See ``bot.desk.reports.workbook`` for what is
in it and what is left out (no contacts or other personal data, no free text).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from bot.config import Settings
from bot.desk.reports.figures import Period, parse_day


def _day(text: str) -> object:
    try:
        return parse_day(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``report --from DATE --to DATE --format xlsx|csv [--out FILE]``."""
    report = sub.add_parser(
        "report",
        help="the statistics of a period as an Excel workbook (summary + tickets, ratings, live chats, daily "
        "questions) or a zip of CSV files; no contacts or other personal data",
    )
    report.add_argument("--from", dest="first", type=_day, required=True, help="first day, YYYY-MM-DD (Beijing)")
    report.add_argument("--to", dest="last", type=_day, required=True, help="last day, YYYY-MM-DD, included")
    report.add_argument("--format", choices=("xlsx", "csv"), default="xlsx", help="xlsx (default) or csv (a zip)")
    report.add_argument("--out", help="the file to write (default report-FROM-TO.xlsx or .zip)")


def report_command(
    settings: Settings, args: argparse.Namespace, now: datetime, say: Callable[[str], object] = print
) -> int:
    """Write the report file; the exit status."""
    from bot.answering.knowledge import load_knowledge
    from bot.desk.calendar_files import load_calendar_files
    from bot.desk.reports.workbook import report_tables, to_csv_zip, to_xlsx
    from bot.desk.workdays import WorkCalendar
    from bot.errors import KnowledgeBaseError
    from bot.store.db import make_engine

    try:
        period = Period(args.first, args.last)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        calendar = WorkCalendar(load_calendar_files(settings.helpdesk_kb_dir / "calendar"))
        kb = load_knowledge(settings.helpdesk_kb_dir, settings.helpdesk_profile)
    except KnowledgeBaseError as exc:  # the report needs neither to be right: working days and titles go
        print(f"warning: {exc}", file=sys.stderr)
        calendar, kb = WorkCalendar(), None
    suffix = "xlsx" if args.format == "xlsx" else "zip"
    out = Path(args.out or f"report-{period.first.isoformat()}-{period.last.isoformat()}.{suffix}")
    started = time.perf_counter()
    tables = report_tables(make_engine(settings.database_url), period, now, calendar, kb)
    content = to_xlsx(tables) if args.format == "xlsx" else to_csv_zip(tables)
    out.write_bytes(content)
    counts = ", ".join(f"{table.name} {len(table.rows)}" for table in tables[1:])
    say(f"Wrote {out} ({len(content):,} bytes, {time.perf_counter() - started:.1f} s): {counts} rows.")
    return 0
