"""Entry points: where a user came from (issue 16 §4).

A deep link ``https://t.me/<bot>?start=SOURCE`` (printed as a QR code at a window, on a poster, at a briefing:
``python -m bot qr SOURCE``) opens the bot with ``/start SOURCE``. The user keeps the FIRST source they came by
(``User.first_source``: what brought them to the helpdesk, never overwritten) and the LATEST
(``User.last_source``: e.g. a later briefing). Figures by source count users by their first source, and the
questions they asked in the period (``figures_by_source``). A SOURCE is 1–32 of ``A-Z a-z 0-9 _ -`` (what
Telegram allows in a ``start`` parameter, shortened to our column); anything else is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import col

from bot.answering.text import Lang
from bot.i18n import translator
from bot.store import limits
from bot.store.db import session_scope
from bot.store.models import QuestionLog, User, ensure_user

SOURCE_RE = re.compile(rf"[A-Za-z0-9_-]{{1,{limits.ENTRY_SOURCE}}}")
QUESTION_DECISIONS = ("answer", "clarify", "fallback")
"""``QuestionLog.decision`` of a typed question (not an entry opened from /topics or "see also")."""


def parse_source(text: str | None) -> str | None:
    """The source named by a ``/start`` parameter, or None when it is not one (wrong characters, too long)."""
    if text is None or not SOURCE_RE.fullmatch(text):
        return None
    return text


def deep_link(username: str, source: str) -> str:
    """The link that opens the bot *username* with ``/start source``."""
    if parse_source(source) is None:
        raise ValueError(f"not a source: {source!r} (1-{limits.ENTRY_SOURCE} of A-Z a-z 0-9 _ -)")
    return f"https://t.me/{username.lstrip('@')}?start={source}"


@dataclass(frozen=True)
class EntrySources:
    """Recording the source a user came by."""

    engine: Engine

    def record(self, user_id: int, parameter: str | None, now: datetime) -> str | None:
        """Record the source in a ``/start`` *parameter*: the first one kept, the latest updated. Returns the
        source, or None (nothing recorded) when the parameter is not one."""
        source = parse_source(parameter)
        if source is None:
            return None
        with session_scope(self.engine) as session:
            ensure_user(session, user_id, now)
            user = session.get(User, user_id)
            assert user is not None
            if user.first_source is None:
                user.first_source = source
            if user.last_source != source:
                user.last_source = source
                user.updated_at = now
        return source


@dataclass(frozen=True)
class SourceFigures:
    """One source's figures in a period: users who first came by it then, and questions its users asked then."""

    source: str | None
    """None: users who came without a deep link."""
    new_users: int
    questions: int
    askers: int
    """Users of this source who asked at least one question in the period."""


def source_figures(conn: Connection, start: datetime, end: datetime) -> list[SourceFigures]:
    """Per first source (None: no deep link): the users first seen in [*start*, *end*) and the questions typed
    in it by users of that source; busiest first, "no source" last. Two aggregate queries on *conn*."""
    source = col(User.first_source)
    asked = sa.and_(
        col(QuestionLog.created_at) >= start,
        col(QuestionLog.created_at) < end,
        col(QuestionLog.decision).in_(QUESTION_DECISIONS),
    )
    users = {
        key: int(count)
        for key, count in conn.execute(
            sa.select(source, sa.func.count())
            .where(col(User.created_at) >= start, col(User.created_at) < end)
            .group_by(source)
        ).all()
    }
    questions = {
        key: (int(count), int(askers))
        for key, count, askers in conn.execute(
            sa.select(source, sa.func.count(), sa.func.count(sa.distinct(col(QuestionLog.user_id))))
            .select_from(QuestionLog)
            .join(User, col(QuestionLog.user_id) == col(User.id))
            .where(asked)
            .group_by(source)
        ).all()
    }
    rows = [SourceFigures(key, users.get(key, 0), *questions.get(key, (0, 0))) for key in set(users) | set(questions)]
    return sorted(rows, key=lambda r: (r.source is None, -r.new_users, -r.questions, r.source or ""))


def figures_by_source(engine: Engine, start: datetime, end: datetime) -> list[SourceFigures]:
    """``source_figures`` on a connection of its own."""
    with engine.connect() as conn:
        return source_figures(conn, start, end)


def source_lines(rows: Sequence[SourceFigures], lang: Lang) -> list[str]:
    """The "by source" section of /stats as plain lines (the caller escapes them): a heading, then one line a
    source, "no deep link" last; nothing at all when no one in the period came by a deep link."""
    if not any(r.source is not None for r in rows):
        return []
    t = translator(lang)
    _ = t.gettext
    lines = [_("Where users came from (deep links, python -m bot qr):")]
    for row in rows:
        lines.append(
            _("{source} — new users: {users}; questions: {questions} (asked by {askers})").format(
                source=row.source if row.source is not None else _("no deep link"),
                users=t.number(row.new_users),
                questions=t.number(row.questions),
                askers=t.number(row.askers),
            )
        )
    return lines
