"""The helpdesk's question-answering and user use cases, free of Telegram.

Every method takes the acting user's id and ``now`` (an aware datetime) and returns plain values.
Front ends (Telegram handlers, the console) render those values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy import bindparam, insert, update
from sqlalchemy.engine import Connection, Engine, Row
from sqlmodel import Session, col, select

from bot.answering.answers import Answerer, Reply
from bot.answering.knowledge import KnowledgeBase
from bot.answering.matching import Match
from bot.answering.text import Lang, detect_lang, has_content, strip_control
from bot.errors import InvalidInput, NotFound, Reason
from bot.i18n import negotiate
from bot.privacy.redact import mask_personal
from bot.store import limits
from bot.store.db import begin, session_scope
from bot.store.models import QuestionLog, User

ROLES = ("applicant", "employer")
MAX_MESSAGE_CHARS = 4000
"""Longest free text we accept from a user (Telegram's own limit is 4096)."""


@dataclass(frozen=True)
class UserView:
    """What the front ends need to know about a user."""

    id: int
    lang: Lang
    lang_chosen: bool
    role: str | None
    subscribed: bool
    is_new: bool
    name: str = ""


@dataclass(frozen=True)
class Answered:
    """A reply to a free-text question and the id of its log row (for buttons)."""

    reply: Reply
    question_id: int


USER_COLUMNS = (
    col(User.id),
    col(User.display_name),
    col(User.lang),
    col(User.client_lang),
    col(User.role),
    col(User.subscribed),
    col(User.blocked),
)
"""What ``meet`` reads of a user (also read by ``bot.arrival`` in its routing query)."""
_USER = sa.select(*USER_COLUMNS).where(col(User.id) == bindparam("user_id"))


_LOG_QUESTION = insert(QuestionLog)
_QUESTION = sa.select(
    col(QuestionLog.user_id),
    col(QuestionLog.text),
    col(QuestionLog.decision),
    col(QuestionLog.entry_id),
    col(QuestionLog.chosen_entry),
).where(col(QuestionLog.id) == bindparam("question_id"))
BROWSE = "browse"
"""``QuestionLog.decision`` of an entry opened from /topics (``text`` is the entry's title)."""
RELATED = "related"
"""``QuestionLog.decision`` of an entry opened by a "see also" button (``text`` is the question it came from,
``candidates`` the entry whose answer listed it)."""


class _UserFields(Protocol):
    """What a user view is made of: a ``User`` or a row of ``_USER``."""

    @property
    def id(self) -> int: ...
    @property
    def display_name(self) -> str: ...
    @property
    def lang(self) -> str | None: ...
    @property
    def client_lang(self) -> str | None: ...
    @property
    def role(self) -> str | None: ...
    @property
    def subscribed(self) -> bool: ...


def _view(user: _UserFields, is_new: bool) -> UserView:
    chosen = user.lang or user.client_lang
    lang: Lang = "zh" if chosen == "zh" else "en"
    return UserView(user.id, lang, user.lang is not None, user.role, user.subscribed, is_new, user.display_name)


class Helpdesk:
    """Question answering, users' settings and feedback, backed by the database."""

    def __init__(self, kb: KnowledgeBase, engine: Engine, answerer: Answerer | None = None) -> None:
        self.kb = kb
        self.engine = engine
        self.answerer = answerer or Answerer(kb)

    # ----- users -------------------------------------------------------------------------
    def meet(
        self,
        user_id: int,
        display_name: str,
        client_lang: str | None,
        now: datetime,
        connection: Connection | None = None,
    ) -> UserView:
        """Get or create the user; their language is their choice, else their client's.

        Runs for every update, so it reads one row with a plain SELECT and writes only when something changed.
        """
        if connection is None:
            with begin(self.engine) as own:
                return self.meet(user_id, display_name, client_lang, now, own)
        row = connection.execute(_USER, {"user_id": user_id}).first()
        return self.greet(connection, user_id, row, display_name, client_lang, now)

    def greet(
        self,
        connection: Connection,
        user_id: int,
        row: Row[*tuple[Any, ...]] | None,
        display_name: str,
        client_lang: str | None,
        now: datetime,
    ) -> UserView:
        """``meet`` with the user's row (``USER_COLUMNS``) already read: create, update or just view it."""
        name = strip_control(display_name)[: limits.DISPLAY_NAME]
        client: str | None = negotiate(client_lang) if client_lang else None
        if row is None:
            user = User(id=user_id, display_name=name, client_lang=client, created_at=now, updated_at=now)
            connection.execute(insert(User), user.model_dump())
            return _view(user, True)
        name, client = name or row.display_name, client or row.client_lang
        if row.blocked or name != row.display_name or client != row.client_lang:
            changes: dict[str, Any] = {"blocked": False, "display_name": name, "client_lang": client, "updated_at": now}
            connection.execute(update(User).where(col(User.id) == user_id).values(**changes))
            return _view(User(**(row._asdict() | changes)), False)
        return _view(row, False)

    def user(self, user_id: int) -> UserView | None:
        """The user's settings, or None for someone who never wrote."""
        with session_scope(self.engine) as session:
            user = session.get(User, user_id)
            return None if user is None else _view(user, False)

    def set_language(self, user_id: int, lang: str, now: datetime) -> UserView:
        """Store the user's language choice ("en" or "zh")."""
        if lang not in ("en", "zh"):
            raise InvalidInput(Reason.UNKNOWN_LANGUAGE)
        return self._update(user_id, now, lang=lang)

    def set_role(self, user_id: int, role: str, now: datetime) -> UserView:
        """Store whether the user is an applicant or an employer's HR contact."""
        if role not in ROLES:
            raise InvalidInput(Reason.UNKNOWN_ROLE)
        return self._update(user_id, now, role=role)

    def set_subscribed(self, user_id: int, subscribed: bool, now: datetime) -> UserView:
        """Subscribe to (or leave) policy notices."""
        return self._update(user_id, now, subscribed=subscribed)

    def mark_blocked(self, user_id: int, now: datetime) -> None:
        """Remember that the user blocked the bot (sends to them will fail until they return)."""
        with session_scope(self.engine) as session:
            user = session.get(User, user_id)
            if user is not None and not user.blocked:
                user.blocked = True
                user.updated_at = now

    def subscribers(self) -> list[UserView]:
        """Users who want policy notices and have not blocked the bot."""
        with session_scope(self.engine) as session:
            rows = session.exec(select(User).where(User.subscribed, User.blocked == False)).all()  # noqa: E712
            return [_view(u, False) for u in rows]

    def _update(self, user_id: int, now: datetime, **changes: object) -> UserView:
        with session_scope(self.engine) as session:
            user = session.get(User, user_id)
            if user is None:
                user = User(id=user_id, created_at=now, updated_at=now)
                session.add(user)
            for key, value in changes.items():
                setattr(user, key, value)
            user.updated_at = now
            return _view(user, False)

    # ----- questions ---------------------------------------------------------------------
    def ask(
        self, user_id: int, text: str, lang: Lang | None, now: datetime, connection: Connection | None = None
    ) -> Answered:
        """Answer a free-text question and log it with the decision and score.

        *lang* is the user's chosen language; without one, the reply follows the question's script.
        Raises ``InvalidInput(Reason.QUESTION_TOO_LONG)`` for text over ``MAX_MESSAGE_CHARS`` and
        ``InvalidInput(Reason.QUESTION_EMPTY)`` for text with nothing to match (emoji only, blanks, control codes).
        """
        if connection is None:
            with begin(self.engine) as own:
                return self.ask(user_id, text, lang, now, own)
        clean, reply = self.consider(text, lang)
        return self.log_question(user_id, clean, reply, now, connection)

    def consider(self, text: str, lang: Lang | None) -> tuple[str, Reply]:
        """The reply *text* would get, without logging it (``ask`` does both; ``bot.arrival`` first looks
        whether it clearly answers before logging). Returns the cleaned text too; raises as ``ask``."""
        clean = strip_control(text)
        if len(clean) > MAX_MESSAGE_CHARS:
            raise InvalidInput(Reason.QUESTION_TOO_LONG, limit=MAX_MESSAGE_CHARS, length=len(text))
        if not has_content(clean):
            raise InvalidInput(Reason.QUESTION_EMPTY)
        return clean, self.answerer.ask(clean, lang or detect_lang(clean))

    def log_question(self, user_id: int, clean: str, reply: Reply, now: datetime, connection: Connection) -> Answered:
        """Log the question *clean* with *reply*'s decision and score, in the caller's transaction. The text is
        stored masked (``bot.privacy.redact``: no phone numbers, e-mail addresses or passport numbers)."""
        match = reply.match
        values = {
            "user_id": user_id,
            "text": mask_personal(clean)[: limits.QUESTION_TEXT],
            "lang": match.lang,
            "decision": match.decision,
            "entry_id": match.entry,
            "candidates": ",".join(match.candidates),
            "score": match.score,
            "created_at": now,
        }
        # A plain INSERT with its parameters apart (no ORM, a cached statement): this runs for every question.
        result = connection.execute(_LOG_QUESTION, values)
        question_id = result.inserted_primary_key[0]  # type: ignore[index]
        return Answered(reply, int(question_id))

    def choose(self, user_id: int, question_id: int, entry_id: str, lang: Lang) -> Answered:
        """The user picked *entry_id* among the clarify choices of their question."""
        with session_scope(self.engine) as session:
            row = session.get(QuestionLog, question_id)
            if row is None or row.user_id != user_id or entry_id not in row.candidates.split(","):
                raise NotFound(Reason.QUESTION)
            if entry_id not in self.kb.entries:
                raise NotFound(Reason.ENTRY)
            row.chosen_entry = entry_id
            match = Match(row.text, lang, "answer", entry_id, (entry_id,), row.score)
        return Answered(self.answerer.entry_reply(entry_id, match), question_id)

    def browse(self, user_id: int, entry_id: str, lang: Lang, now: datetime) -> Answered:
        """An entry opened from /topics: its answer, logged (decision ``browse``) so that 👍/👎 under it
        is recorded like any answer's. One transaction."""
        if entry_id not in self.kb.entries:
            raise NotFound(Reason.ENTRY)
        with begin(self.engine) as connection:
            return self._log_entry(connection, user_id, BROWSE, self.kb.title(entry_id, lang), entry_id, "", lang, now)

    def see_also(self, user_id: int, question_id: int, entry_id: str, lang: Lang, now: datetime) -> Answered:
        """A "see also" button under the answer to *question_id*: *entry_id*'s answer, logged as a question of
        its own (decision ``related``) so that 👍/👎 under it is recorded. One transaction.

        Raises ``NotFound`` unless the question is the user's and its answer offered *entry_id* (stale or forged).
        """
        with begin(self.engine) as connection:
            row = connection.execute(_QUESTION, {"question_id": question_id}).first()
            if row is None or row.user_id != user_id:
                raise NotFound(Reason.QUESTION)
            shown = row.chosen_entry if row.decision == "clarify" else row.entry_id
            if shown not in self.kb.entries or entry_id not in self.answerer.see_also_ids(shown):
                raise NotFound(Reason.ENTRY)
            return self._log_entry(connection, user_id, RELATED, row.text, entry_id, shown, lang, now)

    def _log_entry(
        self,
        connection: Connection,
        user_id: int,
        decision: str,
        text: str,
        entry_id: str,
        source: str,
        lang: Lang,
        now: datetime,
    ) -> Answered:
        """Log an entry the user opened by a button (no matching: score 0) and compose its answer."""
        values = {
            "user_id": user_id,
            "text": text[: limits.QUESTION_TEXT],
            "lang": lang,
            "decision": decision,
            "entry_id": entry_id,
            "candidates": source,
            "score": 0.0,
            "created_at": now,
        }
        result = connection.execute(_LOG_QUESTION, values)
        question_id = result.inserted_primary_key[0]  # type: ignore[index]
        match = Match(text, lang, "answer", entry_id, (entry_id,), 1.0)
        return Answered(self.answerer.entry_reply(entry_id, match), int(question_id))

    def none_of_these(self, user_id: int, question_id: int) -> None:
        """The user said none of the clarify choices fits (counts as negative feedback)."""
        self.feedback(user_id, question_id, helpful=False)

    def feedback(self, user_id: int, question_id: int, helpful: bool) -> bool:
        """Record 👍/👎 on an answer; returns False if it was already recorded the same way."""
        with session_scope(self.engine) as session:
            row = session.get(QuestionLog, question_id)
            if row is None or row.user_id != user_id:
                raise NotFound(Reason.QUESTION)
            value = 1 if helpful else -1
            if row.feedback == value:
                return False
            row.feedback = value
            return True

    def recent_questions(self, user_id: int, limit: int = 5, session: Session | None = None) -> list[QuestionLog]:
        """The user's latest questions, newest last (shown to staff taking over a conversation).

        Pass the caller's *session* when it has one open: a second connection per call can starve the pool.
        """
        if session is None:
            with session_scope(self.engine) as own:
                return self.recent_questions(user_id, limit, own)
        rows = session.exec(
            select(QuestionLog)
            .where(QuestionLog.user_id == user_id)
            .order_by(QuestionLog.id.desc())  # type: ignore[union-attr]
            .limit(limit)
        ).all()
        return list(reversed(rows))

    def entry(self, entry_id: str, lang: Lang) -> Reply:
        """An entry's answer, not logged (an operator sending it by id; /topics logs it: ``browse``)."""
        if entry_id not in self.kb.entries:
            raise NotFound(Reason.ENTRY)
        match = Match("", lang, "answer", entry_id, (entry_id,), 1.0)
        return self.answerer.entry_reply(entry_id, match)
