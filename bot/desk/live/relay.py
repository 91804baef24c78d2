"""The live desk's relay: the messages of a live session, both ways. Each one is recorded (the
transcript) before the front end passes it on, and the messages the bot showed are linked to their
session, so an operator's reply to one goes to that session.

The transcript is read back here too, for the sessions' transfers and tickets (``transcript_lines``,
``transcript_tail``, ``transcript``): in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.desk.live.shared import SessionView, active_session, operator_session, session_view
from bot.desk.staff import StaffRegistry
from bot.desk.tickets.common import checked_text
from bot.errors import NotFound, Reason
from bot.notices import TranscriptLine
from bot.store import limits
from bot.store.db import session_scope
from bot.store.models import LiveSession, RelayLink, SessionMessage

MAX_RELAY = limits.SESSION_MESSAGE


def transcript_tail(session: Session, session_id: int, count: int) -> tuple[TranscriptLine, ...]:
    """The session's last *count* messages, oldest first (each cut to 300 characters)."""
    messages = session.exec(
        select(SessionMessage)
        .where(SessionMessage.session_id == session_id)
        .order_by(col(SessionMessage.id).desc())
        .limit(count)
    ).all()
    return tuple(TranscriptLine(m.sender, m.text[:300]) for m in reversed(messages))


def transcript_lines(session: Session, session_id: int) -> tuple[TranscriptLine, ...]:
    """The whole session, oldest first: every message in full, with its photo or document if any (for the
    colleague a chat is transferred to, who must not have to ask again)."""
    messages = session.exec(
        select(SessionMessage).where(SessionMessage.session_id == session_id).order_by(col(SessionMessage.id))
    ).all()
    return tuple(TranscriptLine(m.sender, m.text, m.file_id, m.file_kind) for m in messages)


def transcript(session: Session, session_id: int, limit: int | None = None) -> str:
    """The session, a line a message: ``[sender] text``, with the kind of any file sent. With *limit*, the
    latest whole messages that fit in *limit* characters (a very long one alone: its end, from a word)."""
    messages = session.exec(
        select(SessionMessage).where(SessionMessage.session_id == session_id).order_by(col(SessionMessage.id))
    ).all()
    lines = [f"[{m.sender}] {m.text}" + (f" ({m.file_kind})" if m.file_id else "") for m in messages]
    text = "\n".join(lines)
    if limit is None or len(text) <= limit:
        return text
    kept: list[str] = []
    size = 0
    for line in reversed(lines):
        if size + len(line) + 1 > limit:
            break
        kept.append(line)
        size += len(line) + 1
    if kept:
        return "\n".join(reversed(kept))
    tail = lines[-1][-limit:]
    space = tail.find(" ")
    return tail[space + 1 :] if 0 <= space < len(tail) // 2 else tail


class LiveRelay:
    """Messages in live sessions: a user's, an operator's, and the links between shown messages and sessions."""

    def __init__(self, engine: Engine, staff: StaffRegistry) -> None:
        self.engine = engine
        self.staff = staff

    def _record(
        self,
        session: Session,
        row: LiveSession,
        sender: str,
        text: str,
        file_id: str | None,
        file_kind: str | None,
        now: datetime,
    ) -> None:
        text = checked_text(text, MAX_RELAY, required=None if file_id else Reason.EMPTY)
        assert row.id is not None
        session.add(
            SessionMessage(
                session_id=row.id, sender=sender, text=text, file_id=file_id, file_kind=file_kind, created_at=now
            )
        )
        row.last_activity_at, row.reminded_at = now, None

    def user_says(
        self, user_id: int, text: str, now: datetime, file_id: str | None = None, file_kind: str | None = None
    ) -> SessionView:
        """A user's message in their session (the caller relays it to ``operator_id``)."""
        with session_scope(self.engine) as session:
            row = active_session(session, user_id)
            if row is None:
                raise NotFound(Reason.SESSION)
            self._record(session, row, "user", text, file_id, file_kind, now)
            return session_view(session, row)

    def operator_says(
        self,
        operator_id: int,
        text: str,
        now: datetime,
        file_id: str | None = None,
        file_kind: str | None = None,
        session_id: int | None = None,
        reply_to: tuple[int, int] | None = None,
    ) -> SessionView:
        """An operator's message (the caller relays it to ``user_id`` under the operator's display name)."""
        self.staff.require(operator_id)
        with session_scope(self.engine) as session:
            row = operator_session(session, operator_id, session_id, reply_to)
            self._record(session, row, "operator", text, file_id, file_kind, now)
            return session_view(session, row)

    def link(self, chat_id: int, message_id: int, session_id: int) -> None:
        """Remember that the bot showed message *message_id* in *chat_id* for *session_id*."""
        with session_scope(self.engine) as session:
            if session.get(RelayLink, (chat_id, message_id)) is None:
                session.add(RelayLink(chat_id=chat_id, message_id=message_id, session_id=session_id))
