"""The supervisors' figures, computed by SQL on the database (SQLite and PostgreSQL alike).

Every figure is an aggregate query (``COUNT``/``SUM`` grouped by a column); nothing loads the rows of a table.
Medians and the 90th percentile are read the same way on both databases: the count of the durations first,
then the one or two middle values by ``ORDER BY duration LIMIT 2 OFFSET k`` (the duration is computed in SQL:
``julianday`` differences on SQLite, ``EXTRACT(EPOCH FROM …)`` on PostgreSQL), interpolated linearly as
PostgreSQL's ``percentile_cont`` does. Days are Beijing days (Asia/Shanghai, UTC+8 all year: China keeps no
summer time, so SQLite's ``date(t, '+8 hours')`` is exact).

A period is a range of Beijing days (``Period``); figures count what happened in it, except "overdue now",
which is the state at *now*. The figures come in sections, one per family (``Figures.questions``,
``.tickets``, ``.live``, ``.ratings``): a new family is a new section dataclass, a function filling it from
a connection, and a field of ``Figures``.
"""

from __future__ import annotations

import calendar as month_calendar
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.elements import ColumnElement

from bot.desk.outreach.sources import SourceFigures, source_figures
from bot.desk.ratings import BAD_LEVELS, LEVEL_LABELS
from bot.desk.tickets.common import OPEN_STATUSES
from bot.desk.workdays import SHANGHAI, WorkCalendar
from bot.store.models import FollowUp, HelpRequest, LiveSession, QuestionLog, Rating, Staff, Ticket, TicketMessage, User
from bot.store.statuses import HelpRequestStatus, TicketKind, TicketStatus

QUESTION_DECISIONS = ("answer", "clarify", "fallback")
"""``QuestionLog.decision`` of a typed question (``bot.answering.matching``)."""
BUTTON_DECISIONS = ("browse", "related")
"""``QuestionLog.decision`` of an entry opened by a button: /topics, or "see also" (``bot.answering.helpdesk``)."""
TOP = 10
"""How many top topics and top unanswered questions are listed."""
SATISFIED_LEVELS = (1, 2, 3)
"""满意率: 非常满意, 满意, 基本满意."""
GOOD_LEVELS = (1, 2)
"""好评率: 非常满意 and 满意."""
MAX_DAYS = 3660
"""The longest period accepted (about ten years)."""


# ----- the period ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """A range of Beijing days, *first* to *last* inclusive; ``kind`` is how it was asked for."""

    first: date
    last: date
    kind: str = "range"
    """``today``, ``week``, ``month`` (the current one), ``YYYY-MM`` given as a month, or ``range``."""

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError("the period ends before it starts")
        if (self.last - self.first).days > MAX_DAYS:
            raise ValueError("the period is too long")

    @property
    def start(self) -> datetime:
        """Its first moment (Beijing midnight), aware."""
        return datetime.combine(self.first, time(0), tzinfo=SHANGHAI)

    @property
    def end(self) -> datetime:
        """The moment after it (the Beijing midnight after its last day), aware: periods are half-open."""
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=SHANGHAI)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    @property
    def token(self) -> str:
        """A compact form ``Period.parse`` reads back (for a button): ``2026-05-01~2026-05-31``."""
        return f"{self.first.isoformat()}~{self.last.isoformat()}"

    @property
    def label(self) -> str:
        """``2026-05`` for a whole month, ``2026-05-06`` for one day, else ``2026-05-01 – 2026-05-20``."""
        if self.first.day == 1 and self.last == month_end(self.first):
            return f"{self.first:%Y-%m}"
        if self.first == self.last:
            return self.first.isoformat()
        return f"{self.first.isoformat()} – {self.last.isoformat()}"

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        first = date(year, month, 1)
        return cls(first, month_end(first), "month")

    @classmethod
    def parse(cls, text: str, now: datetime) -> Period:
        """``today``, ``week`` (this Monday to Sunday), ``last-week``, ``month`` (this month), ``last-month``
        (and the Chinese words), ``YYYY-MM`` (also ``YYYY年M月``), or ``FROM TO`` (``YYYY-MM-DD`` each, inclusive,
        either order; also ``FROM~TO``); empty: this month. Days are Beijing days as of
        *now*. ValueError for anything else."""
        words = text.replace("~", " ").split()
        today = now.astimezone(SHANGHAI).date()
        if not words:
            words = ["month"]
        if len(words) == 1:
            word = words[0].lower()
            if word in ("today", "今天", "今日"):
                return cls(today, today, "today")
            if word in ("week", "本周"):
                monday = today - timedelta(days=today.weekday())
                return cls(monday, monday + timedelta(days=6), "week")
            if word in ("month", "本月"):
                return cls(today.replace(day=1), month_end(today), "month")
            if word in ("last-week", "lastweek", "上周"):
                monday = today - timedelta(days=today.weekday() + 7)
                return cls(monday, monday + timedelta(days=6), "range")
            if word in ("last-month", "lastmonth", "上月", "上个月"):
                return previous_month(today)
            match = re.fullmatch(r"(\d{4})(?:[-/.]|年)(\d{1,2})月?", word)
            if match and 1 <= int(match.group(2)) <= 12 and 2000 <= int(match.group(1)) <= 2100:
                return cls.month(int(match.group(1)), int(match.group(2)))
            raise ValueError(f"not a period: {text!r}")
        if len(words) == 2:
            first, last = sorted((parse_day(words[0]), parse_day(words[1])))  # either order
            return cls(first, last, "range")
        raise ValueError(f"not a period: {text!r}")


def parse_day(text: str) -> date:
    """``YYYY-MM-DD`` (ASCII digits; ValueError otherwise)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(f"not a date: {text!r} (YYYY-MM-DD)")
    day = date.fromisoformat(text)
    if not 2000 <= day.year <= 2100:
        raise ValueError(f"not a date: {text!r}")
    return day


def month_end(day: date) -> date:
    return day.replace(day=month_calendar.monthrange(day.year, day.month)[1])


def previous_month(day: date) -> Period:
    """The whole month before *day*'s."""
    last = day.replace(day=1) - timedelta(days=1)
    return Period.month(last.year, last.month)


# ----- the figures -------------------------------------------------------------------------------------
def rate(part: int, whole: int) -> float | None:
    """*part* / *whole*, or None when there is nothing to divide by."""
    return part / whole if whole else None


@dataclass(frozen=True)
class QuestionFigures:
    """Questions typed (``asked``: answered, clarified or fell back) and entries opened by buttons."""

    asked: int = 0
    by_decision: Mapping[str, int] = field(default_factory=dict)
    """``answer``, ``clarify``, ``fallback`` (typed questions), ``browse`` and ``related`` (buttons)."""
    by_lang: Mapping[str, int] = field(default_factory=dict)
    """Typed questions by their language (``en``, ``zh``)."""
    by_role: Mapping[str, int] = field(default_factory=dict)
    """Typed questions by the asker's role (``applicant``, ``employer``; ``""`` not chosen)."""
    top_topics: tuple[tuple[str, int], ...] = ()
    """Entry ids shown most (answered, picked from a clarify, opened by a button), with how often."""
    thumbs_up: int = 0
    thumbs_down: int = 0
    """👍/👎 on anything logged in the period ("none of these" counts as 👎)."""
    top_unanswered: tuple[tuple[str, int], ...] = ()
    """The fallback questions' texts (stored masked), identical ones grouped, most frequent first (texts erased
    after their retention time are left out)."""

    @property
    def opened(self) -> int:
        return sum(self.by_decision.get(d, 0) for d in BUTTON_DECISIONS)

    @property
    def up_rate(self) -> float | None:
        """👍 / (👍 + 👎)."""
        return rate(self.thumbs_up, self.thumbs_up + self.thumbs_down)


@dataclass(frozen=True)
class TicketFigures:
    """Tickets received in the period, and what became of them by *now*."""

    received: int = 0
    by_kind: Mapping[str, int] = field(default_factory=dict)
    closed: int = 0
    """Of those received, how many are closed now."""
    closed_on_time: int = 0
    """Of those closed, how many were closed by their deadline."""
    overdue_now: int = 0
    """Open tickets (whenever received) past their deadline at *now*."""
    replied: int = 0
    """Of those received, how many have a staff reply."""
    first_reply_median: float | None = None
    """Seconds from receipt to the first staff reply (tickets replied to)."""
    close_median: float | None = None
    """Seconds from receipt to closing (tickets closed)."""

    @property
    def closed_rate(self) -> float | None:
        """办结率: closed / received."""
        return rate(self.closed, self.received)

    @property
    def on_time_rate(self) -> float | None:
        """按期办结率: closed by the deadline / closed."""
        return rate(self.closed_on_time, self.closed)


@dataclass(frozen=True)
class LiveFigures:
    """Live chats started in the period and the queue's requests made in it."""

    served: int = 0
    wait_median: float | None = None
    """Seconds from joining the queue to an operator taking the chat."""
    wait_p90: float | None = None
    abandoned: int = 0
    """Requests whose user left the queue (/cancel) before anyone took them."""
    left_message: int = 0
    """Requests whose user left a message (a ticket) instead of waiting on."""
    by_operator: tuple[tuple[int, str, int], ...] = ()
    """(operator id, name, chats), most chats first."""


@dataclass(frozen=True)
class RatingFigures:
    """好差评 ratings given in the period, and the follow-ups (回访) of the bad ones."""

    by_level: Mapping[int, int] = field(default_factory=dict)
    called_back: int = 0
    """Bad ratings whose follow-up call-back is recorded."""
    resolved: int = 0
    """Bad ratings whose follow-up ended ``resolved`` (fixed)."""

    @property
    def total(self) -> int:
        return sum(self.by_level.values())

    @property
    def bad(self) -> int:
        return sum(self.by_level.get(level, 0) for level in BAD_LEVELS)

    @property
    def satisfied_rate(self) -> float | None:
        """满意率: the top three levels' share."""
        return rate(sum(self.by_level.get(level, 0) for level in SATISFIED_LEVELS), self.total)

    @property
    def good_rate(self) -> float | None:
        """好评率: 非常满意 and 满意's share."""
        return rate(sum(self.by_level.get(level, 0) for level in GOOD_LEVELS), self.total)

    @property
    def callback_rate(self) -> float | None:
        """回访率: bad ratings called back / bad ratings."""
        return rate(self.called_back, self.bad)

    @property
    def fix_rate(self) -> float | None:
        """整改率: bad ratings resolved / bad ratings."""
        return rate(self.resolved, self.bad)


@dataclass(frozen=True)
class Figures:
    """Every figure of a period, by family."""

    period: Period
    now: datetime
    working_days: int
    questions: QuestionFigures
    tickets: TicketFigures
    live: LiveFigures
    ratings: RatingFigures
    sources: tuple[SourceFigures, ...] = ()
    """Users and questions by the deep link users first came by (``bot.desk.outreach.sources``), busiest first."""


def compute_figures(engine: Engine, period: Period, now: datetime, calendar: WorkCalendar | None = None) -> Figures:
    """The figures of *period* as of *now* (one read-only connection, a handful of aggregate queries)."""
    working = sum(1 for day in period.days if calendar.is_working_day(day)) if calendar is not None else 0
    with engine.connect() as conn:
        return Figures(
            period=period,
            now=now,
            working_days=working,
            questions=question_figures(conn, period),
            tickets=ticket_figures(conn, period, now),
            live=live_figures(conn, period),
            ratings=rating_figures(conn, period),
            sources=tuple(source_figures(conn, period.start, period.end)),
        )


# ----- SQL helpers -----------------------------------------------------------------------------------------
def seconds_between(conn: Connection, later: Any, earlier: Any) -> ColumnElement[float]:
    """``later - earlier`` in seconds, as SQL for this database."""
    if conn.dialect.name == "sqlite":
        return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 86400.0
    return sa.cast(sa.extract("epoch", later - earlier), sa.Float)


def local_day(conn: Connection, moment: Any) -> ColumnElement[str]:
    """The Beijing day of a stored time, as ``YYYY-MM-DD`` text."""
    if conn.dialect.name == "sqlite":
        return sa.func.date(moment, "+8 hours")
    return sa.func.to_char(sa.func.timezone("Asia/Shanghai", moment), "YYYY-MM-DD")


def within(column: Any, period: Period) -> ColumnElement[bool]:
    return sa.and_(column >= period.start, column < period.end)


def percentile(conn: Connection, values: sa.Select[Any], fraction: float) -> float | None:
    """The *fraction* percentile (0.5: the median) of the one-column query *values*, interpolated linearly
    between the two nearest values as ``percentile_cont`` does; None when it has no rows. Two queries: the
    count, then at most two rows by an ordered ``LIMIT``/``OFFSET`` (portable; no row list is loaded)."""
    inner = values.subquery()
    value = inner.c[0]
    count = conn.execute(sa.select(sa.func.count()).select_from(inner).where(value.is_not(None))).scalar_one()
    if not count:
        return None
    position = (count - 1) * fraction
    low = math.floor(position)
    rows = conn.execute(sa.select(value).where(value.is_not(None)).order_by(value).limit(2).offset(low)).scalars().all()
    if len(rows) == 1 or position == low:
        return float(rows[0])
    return float(rows[0]) + (float(rows[1]) - float(rows[0])) * (position - low)


def _counts(conn: Connection, query: sa.Select[Any]) -> dict[Any, int]:
    return {key: int(n) for key, n in conn.execute(query).all()}


# ----- the families ----------------------------------------------------------------------------------------
def question_figures(conn: Connection, period: Period) -> QuestionFigures:
    q = QuestionLog.__table__  # type: ignore[attr-defined]
    u = User.__table__  # type: ignore[attr-defined]
    in_period = within(q.c.created_at, period)
    role = sa.func.coalesce(u.c.role, "").label("role")
    groups = conn.execute(  # one pass: decision × language × role, with the 👍/👎 of each group
        sa.select(
            q.c.decision,
            q.c.lang,
            role,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.case((q.c.feedback > 0, 1), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((q.c.feedback < 0, 1), else_=0)), 0),
        )
        .select_from(q.outerjoin(u, u.c.id == q.c.user_id))
        .where(in_period)
        .group_by(q.c.decision, q.c.lang, role)
    ).all()
    by_decision: dict[str, int] = {}
    by_lang: dict[str, int] = {}
    by_role: dict[str, int] = {}
    up = down = 0
    for decision, lang, asker, count, ups, downs in groups:
        by_decision[decision] = by_decision.get(decision, 0) + int(count)
        up, down = up + int(ups), down + int(downs)
        if decision in QUESTION_DECISIONS:  # typed questions only
            by_lang[lang] = by_lang.get(lang, 0) + int(count)
            by_role[asker] = by_role.get(asker, 0) + int(count)
    shown = sa.func.coalesce(q.c.chosen_entry, q.c.entry_id).label("shown")
    n = sa.func.count().label("n")
    topics = conn.execute(
        sa.select(shown, n).where(in_period, shown.is_not(None)).group_by(shown).order_by(n.desc(), shown).limit(TOP)
    ).all()
    unanswered = conn.execute(
        sa.select(q.c.text, n)
        .where(in_period, q.c.decision == "fallback", q.c.text != "")  # "": erased (bot.privacy.retention)
        .group_by(q.c.text)
        .order_by(n.desc(), q.c.text)
        .limit(TOP)
    ).all()
    return QuestionFigures(
        asked=sum(by_decision.get(d, 0) for d in QUESTION_DECISIONS),
        by_decision=by_decision,
        by_lang=by_lang,
        by_role=by_role,
        top_topics=tuple((str(e), int(c)) for e, c in topics),
        thumbs_up=int(up),
        thumbs_down=int(down),
        top_unanswered=tuple((str(t), int(c)) for t, c in unanswered),
    )


def first_replies() -> sa.Subquery:
    """Each ticket's first reply from staff: ``ticket_id`` and ``first`` (its time)."""
    m = TicketMessage.__table__  # type: ignore[attr-defined]
    return (
        sa.select(m.c.ticket_id, sa.func.min(m.c.created_at).label("first"))
        .where(m.c.kind == "reply")
        .group_by(m.c.ticket_id)
        .subquery()
    )


def ticket_figures(conn: Connection, period: Period, now: datetime) -> TicketFigures:
    t = Ticket.__table__  # type: ignore[attr-defined]
    received = within(t.c.created_at, period)
    by_kind = _counts(conn, sa.select(t.c.kind, sa.func.count()).where(received).group_by(t.c.kind))
    is_closed = sa.and_(t.c.status == TicketStatus.CLOSED, t.c.closed_at.is_not(None))
    closed, on_time = conn.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(sa.case((is_closed, 1), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((sa.and_(is_closed, t.c.closed_at <= t.c.due_at), 1), else_=0)), 0),
        ).where(received)
    ).one()
    overdue = conn.execute(
        sa.select(sa.func.count()).select_from(t).where(t.c.status.in_(OPEN_STATUSES), t.c.due_at < now)
    ).scalar_one()
    first_reply = first_replies()
    reply_wait = (
        sa.select(seconds_between(conn, first_reply.c.first, t.c.created_at).label("s"))
        .select_from(t.join(first_reply, first_reply.c.ticket_id == t.c.id))
        .where(received)
    )
    replied = conn.execute(sa.select(sa.func.count()).select_from(reply_wait.subquery())).scalar_one()
    close_time = sa.select(seconds_between(conn, t.c.closed_at, t.c.created_at).label("s")).where(received, is_closed)
    return TicketFigures(
        received=sum(by_kind.values()),
        by_kind=by_kind,
        closed=int(closed),
        closed_on_time=int(on_time),
        overdue_now=int(overdue),
        replied=int(replied),
        first_reply_median=percentile(conn, reply_wait, 0.5),
        close_median=percentile(conn, close_time, 0.5),
    )


def live_figures(conn: Connection, period: Period) -> LiveFigures:
    s = LiveSession.__table__  # type: ignore[attr-defined]
    r = HelpRequest.__table__  # type: ignore[attr-defined]
    st = Staff.__table__  # type: ignore[attr-defined]
    started = within(s.c.started_at, period)
    served = conn.execute(sa.select(sa.func.count()).select_from(s).where(started)).scalar_one()
    wait = (
        sa.select(seconds_between(conn, s.c.started_at, r.c.created_at).label("s"))
        .select_from(s.join(r, r.c.id == s.c.request_id))
        .where(started)
    )
    requests = _counts(
        conn,
        sa.select(r.c.status, sa.func.count()).where(within(r.c.created_at, period)).group_by(r.c.status),
    )
    n = sa.func.count().label("n")
    operators = conn.execute(
        sa.select(s.c.operator_id, sa.func.coalesce(sa.func.max(st.c.name), ""), n)
        .select_from(s.outerjoin(st, st.c.user_id == s.c.operator_id))
        .where(started)
        .group_by(s.c.operator_id)
        .order_by(n.desc(), s.c.operator_id)
    ).all()
    return LiveFigures(
        served=int(served),
        wait_median=percentile(conn, wait, 0.5),
        wait_p90=percentile(conn, wait, 0.9),
        abandoned=requests.get(HelpRequestStatus.CANCELLED, 0),
        left_message=requests.get(HelpRequestStatus.TICKET, 0),
        by_operator=tuple((int(op), str(name), int(c)) for op, name, c in operators),
    )


def rating_figures(conn: Connection, period: Period) -> RatingFigures:
    ra = Rating.__table__  # type: ignore[attr-defined]
    f = FollowUp.__table__  # type: ignore[attr-defined]
    given = within(ra.c.created_at, period)
    by_level = _counts(conn, sa.select(ra.c.level, sa.func.count()).where(given).group_by(ra.c.level))
    called, resolved = conn.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(sa.case((f.c.called_at.is_not(None), 1), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((f.c.outcome == "resolved", 1), else_=0)), 0),
        )
        .select_from(ra.join(f, f.c.rating_id == ra.c.id))
        .where(given, ra.c.level.in_(BAD_LEVELS))
    ).one()
    return RatingFigures(
        by_level={level: by_level.get(level, 0) for level in LEVEL_LABELS},
        called_back=int(called),
        resolved=int(resolved),
    )


# ----- daily and weekly series (charts, the workbook) ------------------------------------------------------
def daily_questions(conn: Connection, period: Period) -> dict[str, dict[str, int]]:
    """Beijing day (``YYYY-MM-DD``) → decision → questions logged; plus ``up`` and ``down`` (👍/👎)."""
    q = QuestionLog.__table__  # type: ignore[attr-defined]
    day = local_day(conn, q.c.created_at).label("day")
    rows = conn.execute(
        sa.select(
            day,
            q.c.decision,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(sa.case((q.c.feedback > 0, 1), else_=0)), 0),
            sa.func.coalesce(sa.func.sum(sa.case((q.c.feedback < 0, 1), else_=0)), 0),
        )
        .where(within(q.c.created_at, period))
        .group_by(day, q.c.decision)
    ).all()
    days: dict[str, dict[str, int]] = {d.isoformat(): {} for d in period.days}
    for name, decision, count, up, down in rows:
        row = days.setdefault(str(name), {})
        row[str(decision)] = row.get(str(decision), 0) + int(count)
        row["up"] = row.get("up", 0) + int(up)
        row["down"] = row.get("down", 0) + int(down)
    return days


def weekly_tickets(conn: Connection, period: Period) -> dict[date, dict[str, int]]:
    """The Monday of each week → ticket kind → tickets received (by Beijing day, summed into weeks)."""
    t = Ticket.__table__  # type: ignore[attr-defined]
    day = local_day(conn, t.c.created_at).label("day")
    rows = conn.execute(
        sa.select(day, t.c.kind, sa.func.count()).where(within(t.c.created_at, period)).group_by(day, t.c.kind)
    ).all()
    weeks: dict[date, dict[str, int]] = {}
    for d in period.days:
        weeks.setdefault(d - timedelta(days=d.weekday()), {})
    for name, kind, count in rows:
        monday = date.fromisoformat(str(name))
        monday -= timedelta(days=monday.weekday())
        week = weeks.setdefault(monday, {})
        week[str(kind)] = week.get(str(kind), 0) + int(count)
    return weeks


TICKET_KINDS: Sequence[str] = tuple(TicketKind)
