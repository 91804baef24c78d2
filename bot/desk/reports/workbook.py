"""The report of a period as tables: an Excel workbook (openpyxl) or a zip of CSV files.

Sheets: 汇总 Summary (every figure of ``bot.desk.reports.figures``), 工单 Tickets, 评价 Ratings, 在线咨询 Live chats,
每日咨询 Daily questions. Headers are Chinese and English (``受理时间 Received``); times are Beijing time; rates
are fractions shown as percentages; durations are hours (or seconds for queue waits).

What is left out, on purpose: personal data and free text. No contact (phone, e-mail), no Telegram user id, no
ticket description, resolution, message or rating comment, and no question text (the daily sheet counts
questions; the summary names the top topics by their entry, not what users typed). Tickets are named by their
number, chats by their id; staff by their name (staff act in office).

The summary's figures are SQL aggregates; the table sheets have one row per ticket, rating or chat of the
period (read in one query each, joined and computed in SQL).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.answering.knowledge import KnowledgeBase
from bot.desk.ratings import LEVEL_LABELS
from bot.desk.reports.figures import Figures, Period, compute_figures, daily_questions, first_replies
from bot.desk.tickets.common import KIND_LABELS, STATUS_LABELS
from bot.desk.workdays import SHANGHAI, WorkCalendar
from bot.i18n import translator
from bot.store.models import FollowUp, HelpRequest, LiveSession, Rating, Staff, Ticket
from bot.store.statuses import TicketStatus

PERCENT = "0.0%"
HOURS = "0.0"
WHEN = "yyyy-mm-dd hh:mm"
DAY = "yyyy-mm-dd"


@dataclass(frozen=True)
class Table:
    """One sheet (one CSV file): bilingual headers, rows of plain values, an Excel number format per column."""

    name: str
    """The sheet's name, ``工单 Tickets`` (also the CSV file's, ``tickets.csv`` from ``file``)."""
    file: str
    headers: Sequence[str]
    rows: list[list[Any]] = field(default_factory=list)
    formats: Sequence[str | None] = ()
    widths: Sequence[int] = ()


def _zh_en(label: str) -> str:
    """``咨询 Enquiry`` from a label written ``Enquiry (咨询)``, and ``新建 new`` from a status (via Chinese)."""
    zh = translator("zh").gettext(label)
    if label.endswith(")") and "(" in label:
        en, _sep, rest = label.partition(" (")
        return f"{rest.rstrip(')')} {en}"
    return f"{zh} {label}" if zh != label else label


def _local(moment: datetime | str | None) -> datetime | None:
    """A stored time as a naive Beijing time (Excel has no time zones; the headers say Beijing time)."""
    if moment is None:
        return None
    if isinstance(moment, str):  # SQLite hands back text where SQL computed the value (min of a column)
        moment = datetime.fromisoformat(moment)
    return _aware(moment).astimezone(SHANGHAI).replace(tzinfo=None)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def summary_table(figures: Figures, kb: KnowledgeBase | None) -> Table:
    q, t, lv, r = figures.questions, figures.tickets, figures.live, figures.ratings
    rows: list[list[Any]] = [
        ["统计时段 Period", figures.period.label, None],
        ["自 From", figures.period.first, DAY],
        ["至 To (含 inclusive)", figures.period.last, DAY],
        ["生成时间 Generated (北京时间 Beijing time)", _local(figures.now), WHEN],
        ["工作日 Working days", figures.working_days, None],
        ["用户提问 Typed questions", q.asked, None],
        ["直接解答 Answered", q.by_decision.get("answer", 0), None],
        ["追问澄清 Clarified", q.by_decision.get("clarify", 0), None],
        ["未能解答 Not answered (fallback)", q.by_decision.get("fallback", 0), None],
        ["按钮查看 Opened by buttons", q.opened, None],
        ["英文提问 Questions in English", q.by_lang.get("en", 0), None],
        ["中文提问 Questions in Chinese", q.by_lang.get("zh", 0), None],
        ["申请人提问 Questions by applicants", q.by_role.get("applicant", 0), None],
        ["用人单位提问 Questions by employer HR contacts", q.by_role.get("employer", 0), None],
        ["未选身份提问 Questions, role not chosen", q.by_role.get("", 0), None],
        ["有帮助 👍 Helpful", q.thumbs_up, None],
        ["没帮助 👎 Not helpful", q.thumbs_down, None],
        ["👍 占比 Share of 👍", q.up_rate, PERCENT],
        ["受理工单 Tickets received", t.received, None],
        *[[f"受理 Received: {_zh_en(label)}", t.by_kind.get(kind, 0), None] for kind, label in KIND_LABELS.items()],
        ["办结 Closed", t.closed, None],
        ["办结率 Closed rate (closed / received)", t.closed_rate, PERCENT],
        ["按期办结 Closed on time", t.closed_on_time, None],
        ["按期办结率 On-time rate (on time / closed)", t.on_time_rate, PERCENT],
        ["当前超期 Overdue now", t.overdue_now, None],
        ["首次答复用时中位数（小时）Median hours to first reply", _hours(t.first_reply_median), HOURS],
        ["办结用时中位数（小时）Median hours to close", _hours(t.close_median), HOURS],
        ["人工接待 Live chats served", lv.served, None],
        ["等待中位数（秒）Median wait (s)", lv.wait_median, HOURS],
        ["等待 P90（秒）90th percentile wait (s)", lv.wait_p90, HOURS],
        ["排队中途离开 Left the queue", lv.abandoned, None],
        ["改为留言 Left a message instead", lv.left_message, None],
        *[[f"接待 Served by {name or op}", n, None] for op, name, n in lv.by_operator],
        ["评价总数 Ratings", r.total, None],
        *[[f"评价 Rating: {_zh_en(LEVEL_LABELS[level])}", r.by_level.get(level, 0), None] for level in LEVEL_LABELS],
        ["满意率 Satisfied rate (levels 1–3)", r.satisfied_rate, PERCENT],
        ["好评率 Good rate (levels 1–2)", r.good_rate, PERCENT],
        ["差评 Bad ratings", r.bad, None],
        ["已回访 Called back", r.called_back, None],
        ["回访率 Call-back rate", r.callback_rate, PERCENT],
        ["已整改 Resolved", r.resolved, None],
        ["整改率 Fix rate", r.fix_rate, PERCENT],
    ]
    for rank, (entry, n) in enumerate(q.top_topics, 1):
        titles = kb.entries[entry].title if kb is not None and entry in kb.entries else {}
        name = " / ".join(filter(None, [titles.get("zh"), titles.get("en")])) or entry
        rows.append([f"热门问题 Top topic {rank}: {name} ({entry})", n, None])
    return _summary(rows)


def _summary(rows: list[list[Any]]) -> Table:
    table = Table("汇总 Summary", "summary.csv", ["指标 Figure", "数值 Value"], widths=(60, 20))
    for label, value, fmt in rows:
        table.rows.append([label, (value, fmt) if fmt else value])
    return table


def tickets_table(conn: Connection, period: Period) -> Table:
    t = Ticket.__table__  # type: ignore[attr-defined]
    st = Staff.__table__  # type: ignore[attr-defined]
    ra = Rating.__table__  # type: ignore[attr-defined]
    first = first_replies()
    query = (
        sa.select(
            t.c.number,
            t.c.id,
            t.c.kind,
            t.c.status,
            t.c.lang,
            t.c.origin,
            t.c.created_at,
            t.c.due_at,
            first.c.first,
            t.c.closed_at,
            st.c.name,
            ra.c.level,
        )
        .select_from(
            t.outerjoin(first, first.c.ticket_id == t.c.id)
            .outerjoin(st, st.c.user_id == t.c.assignee_id)
            .outerjoin(ra, sa.and_(ra.c.service == "ticket", ra.c.service_id == t.c.id))
        )
        .where(t.c.created_at >= period.start, t.c.created_at < period.end)
        .order_by(t.c.created_at, t.c.id)
    )
    table = Table(
        "工单 Tickets",
        "tickets.csv",
        [
            "编号 Number",
            "类型 Type",
            "状态 Status",
            "语言 Language",
            "渠道 Channel",
            "受理时间 Received",
            "办理期限 Due",
            "首次答复 First reply",
            "办结时间 Closed",
            "按期办结 On time",
            "承办人 Assignee",
            "评价 Rating (1 非常满意 … 5 非常不满意)",
        ],
        formats=(None, None, None, None, None, WHEN, WHEN, WHEN, WHEN, None, None, None),
        widths=(14, 18, 14, 8, 8, 17, 17, 17, 17, 10, 14, 12),
    )
    t_kinds = {kind: _zh_en(label) for kind, label in KIND_LABELS.items()}
    t_statuses = {status: _zh_en(label) for status, label in STATUS_LABELS.items()}
    for number, tid, kind, status, lang, origin, created, due, replied, closed, assignee, level in conn.execute(query):
        closed_at = _local(closed) if status == TicketStatus.CLOSED else None
        on_time = None if closed_at is None else ("是 yes" if closed <= due else "否 no")
        table.rows.append(
            [
                number or f"#{tid}",
                t_kinds.get(kind, kind),
                t_statuses.get(status, status),
                lang,
                origin,
                _local(created),
                _local(due),
                _local(replied),
                closed_at,
                on_time,
                assignee,
                level,
            ]
        )
    return table


def ratings_table(conn: Connection, period: Period) -> Table:
    ra = Rating.__table__  # type: ignore[attr-defined]
    f = FollowUp.__table__  # type: ignore[attr-defined]
    t = Ticket.__table__  # type: ignore[attr-defined]
    query = (
        sa.select(
            ra.c.created_at,
            ra.c.service,
            ra.c.service_id,
            t.c.number,
            ra.c.level,
            f.c.due_at,
            f.c.called_at,
            f.c.outcome,
        )
        .select_from(
            ra.outerjoin(f, f.c.rating_id == ra.c.id).outerjoin(
                t, sa.and_(ra.c.service == "ticket", t.c.id == ra.c.service_id)
            )
        )
        .where(ra.c.created_at >= period.start, ra.c.created_at < period.end)
        .order_by(ra.c.created_at, ra.c.id)
    )
    table = Table(
        "评价 Ratings",
        "ratings.csv",
        [
            "评价时间 Rated",
            "服务 Service",
            "工单编号或会话 Ticket number or chat",
            "等级 Level",
            "评价 Rating",
            "回访期限 Call-back due",
            "回访时间 Called back",
            "回访结果 Outcome",
        ],
        formats=(WHEN, None, None, None, None, WHEN, WHEN, None),
        widths=(17, 16, 18, 8, 28, 17, 17, 16),
    )
    outcomes = {"resolved": "已整改 resolved", "explained": "已解释 explained", "wrongful": "误评 wrongful"}
    for created, service, service_id, number, level, due, called, outcome in conn.execute(query):
        table.rows.append(
            [
                _local(created),
                "工单 ticket" if service == "ticket" else "在线咨询 live chat",
                (number or f"#{service_id}") if service == "ticket" else f"#{service_id}",
                level,
                _zh_en(LEVEL_LABELS[level]) if level in LEVEL_LABELS else level,
                _local(due),
                _local(called),
                outcomes.get(outcome, outcome),
            ]
        )
    return table


def live_table(conn: Connection, period: Period) -> Table:
    s = LiveSession.__table__  # type: ignore[attr-defined]
    r = HelpRequest.__table__  # type: ignore[attr-defined]
    st = Staff.__table__  # type: ignore[attr-defined]
    query = (
        sa.select(
            s.c.id, r.c.created_at, s.c.started_at, s.c.ended_at, st.c.name, s.c.operator_id, s.c.outcome, r.c.lang
        )
        .select_from(s.join(r, r.c.id == s.c.request_id).outerjoin(st, st.c.user_id == s.c.operator_id))
        .where(s.c.started_at >= period.start, s.c.started_at < period.end)
        .order_by(s.c.started_at, s.c.id)
    )
    table = Table(
        "在线咨询 Live chats",
        "live_chats.csv",
        [
            "会话 Chat",
            "排队时间 Queued",
            "接入时间 Started",
            "等待（秒）Wait (s)",
            "结束时间 Ended",
            "客服 Operator",
            "结果 Outcome",
            "语言 Language",
        ],
        formats=(None, WHEN, WHEN, "0", WHEN, None, None, None),
        widths=(8, 17, 17, 12, 17, 14, 14, 8),
    )
    outcomes = {
        "resolved": "已解决 resolved",
        "unresolved": "未解决 unresolved",
        "ticket": "转工单 ticket",
        "no_reply": "用户未回复 no reply",
        "handed_back": "退回排队 handed back",
    }
    for sid, queued, started, ended, name, operator, outcome, lang in conn.execute(query):
        wait = (_aware(started) - _aware(queued)).total_seconds()
        table.rows.append(
            [
                sid,
                _local(queued),
                _local(started),
                round(wait),
                _local(ended),
                name or str(operator),
                outcomes.get(outcome, outcome),
                lang,
            ]
        )
    return table


def _aware(moment: datetime) -> datetime:
    """A time read back from the database, aware (UTC when the driver gave it naive)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def daily_table(conn: Connection, period: Period) -> Table:
    table = Table(
        "每日咨询 Daily questions",
        "daily_questions.csv",
        [
            "日期 Day",
            "提问 Typed questions",
            "直接解答 Answered",
            "追问澄清 Clarified",
            "未能解答 Not answered",
            "按钮查看 Opened by buttons",
            "有帮助 👍 Helpful",
            "没帮助 👎 Not helpful",
        ],
        formats=(DAY, None, None, None, None, None, None, None),
        widths=(12, 12, 12, 12, 12, 14, 14, 14),
    )
    for day, row in daily_questions(conn, period).items():
        answered, clarified, fallback = row.get("answer", 0), row.get("clarify", 0), row.get("fallback", 0)
        table.rows.append(
            [
                datetime.fromisoformat(day),
                answered + clarified + fallback,
                answered,
                clarified,
                fallback,
                row.get("browse", 0) + row.get("related", 0),
                row.get("up", 0),
                row.get("down", 0),
            ]
        )
    return table


def report_tables(
    engine: Engine, period: Period, now: datetime, calendar: WorkCalendar | None = None, kb: KnowledgeBase | None = None
) -> list[Table]:
    """Every table of the report of *period* as of *now*, the summary first."""
    figures = compute_figures(engine, period, now, calendar)
    with engine.connect() as conn:
        return [
            summary_table(figures, kb),
            tickets_table(conn, period),
            ratings_table(conn, period),
            live_table(conn, period),
            daily_table(conn, period),
        ]


def to_xlsx(tables: Sequence[Table]) -> bytes:
    """The tables as an Excel workbook, one sheet each (openpyxl, write-only: streamed, not kept as cells)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for table in tables:
        sheet = book.create_sheet(table.name)
        for index, width in enumerate(table.widths, 1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.freeze_panes = "A2"
        header = []
        for text in table.headers:
            cell = WriteOnlyCell(sheet, value=text)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        formats = list(table.formats)
        for row in table.rows:
            cells: list[Any] = []
            for index, value in enumerate(row):
                fmt = formats[index] if index < len(formats) else None
                if isinstance(value, tuple):  # the summary's (value, format)
                    value, fmt = value
                if fmt is None or value is None:
                    cells.append(value)
                    continue
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = fmt
                cells.append(cell)
            sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv_value(value: Any) -> Any:
    if isinstance(value, tuple):
        value = value[0]
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour, value.minute) != (0, 0) else value.date().isoformat()
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return "" if value is None else value


def to_csv_zip(tables: Sequence[Table]) -> bytes:
    """The tables as a zip of CSV files (UTF-8 with a byte-order mark, so that Excel reads the Chinese)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for table in tables:
            text = io.StringIO()
            writer = csv.writer(text)
            writer.writerow(table.headers)
            writer.writerows([_csv_value(v) for v in row] for row in table.rows)
            archive.writestr(table.file, "\ufeff" + text.getvalue())
    return out.getvalue()
