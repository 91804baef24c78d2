"""What the live desk's parts share: the views and the policy, the staff and role queries, which session
an operator means (focus), and ending a session.

Nothing here opens a transaction: every function works in the caller's ``Session`` (or ``Connection``),
so each use case of the queue, the sessions, the relay and the timers stays one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, or_
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.answering.helpdesk import Helpdesk
from bot.answering.text import Lang
from bot.errors import NotFound, Reason
from bot.notices import PastQuestion
from bot.store.models import HelpRequest, LiveSession, OperatorFocus, RelayLink, Staff, User
from bot.store.statuses import SessionOutcome, SessionStatus


@dataclass(frozen=True)
class LivePolicy:
    """Timers and options of the live desk."""

    queue_wait: timedelta = timedelta(minutes=10)
    idle_remind: timedelta = timedelta(minutes=5)
    idle_close: timedelta = timedelta(minutes=5)
    """After the reminder, this much more silence closes the session."""
    default_handling: timedelta = timedelta(minutes=6)
    auto_assign: bool = False
    staff_chat_id: int | None = None


def whole_minutes(span: timedelta) -> int:
    """*span* in whole minutes, at least 1 (what users are told)."""
    return max(1, round(span.total_seconds() / 60))


@dataclass(frozen=True)
class QueueStatus:
    """A waiting user's place in the queue."""

    request_id: int
    position: int
    estimate: timedelta
    lang: str = "en"

    @property
    def minutes(self) -> int:
        """The estimate in whole minutes, at least 1."""
        return whole_minutes(self.estimate)


@dataclass(frozen=True)
class SessionView:
    """A live session as the front ends need it."""

    id: int
    user_id: int
    operator_id: int
    operator_name: str
    status: SessionStatus
    lang: Lang
    user_name: str = ""


@dataclass(frozen=True)
class Closed:
    """The desk is closed; it opens again at ``opens``."""

    opens: datetime


def request_lang(value: str | None) -> Lang:
    """The language of a help request (``HelpRequest.lang``; English unless Chinese)."""
    return "zh" if value == "zh" else "en"


def row_id(row: LiveSession) -> int:
    """The id of a session row that has been flushed (always, once loaded)."""
    assert row.id is not None
    return row.id


def session_view(session: Session, row: LiveSession) -> SessionView:
    """*row* as the front ends see it: with the operator's and the user's names and the request's language."""
    assert row.id is not None
    operator = session.get(Staff, row.operator_id)
    request = session.get(HelpRequest, row.request_id)
    user = session.get(User, row.user_id)
    return SessionView(
        row.id,
        row.user_id,
        row.operator_id,
        operator.name if operator else "",
        SessionStatus(row.status),
        request_lang(request.lang if request else None),
        user.display_name if user else "",
    )


def past_questions(helpdesk: Helpdesk, session: Session, user_id: int, with_chosen: bool) -> tuple[PastQuestion, ...]:
    """The user's recent questions, for an operator taking over. *with_chosen*: where no entry was
    answered, name the one the user chose (the queue's offers do; a transfer names answered entries only)."""
    return tuple(
        PastQuestion(q.text[:200], q.decision, (q.entry_id or q.chosen_entry) if with_chosen else q.entry_id)
        for q in helpdesk.recent_questions(user_id, session=session)
    )


# ----- staff and roles ---------------------------------------------------------------------------
def checked_in(session: Session) -> list[Staff]:
    """The active members of staff who are checked in (签入)."""
    return list(session.exec(select(Staff).where(Staff.active == True, Staff.checked_in == True)).all())  # noqa: E712


LIVE_ROLE = (
    select(func.max(case((col(LiveSession.operator_id) == bindparam("user_id"), 2), else_=1)))
    .where(
        LiveSession.status == SessionStatus.ACTIVE,
        or_(col(LiveSession.operator_id) == bindparam("user_id"), col(LiveSession.user_id) == bindparam("user_id")),
    )
    .scalar_subquery()
)
"""2 when the user runs an active live session, 1 when they are served in one, else NULL."""
LIVE_ROLES = {2: "operator", 1: "user"}
_CHAT_ROLE = select(LIVE_ROLE)


def live_role(connection: Connection, user_id: int) -> str | None:
    """ "operator" when *user_id* runs a live session, "user" when they are served in one, else None (one query)."""
    return LIVE_ROLES.get(connection.execute(_CHAT_ROLE, {"user_id": user_id}).scalar() or 0)


# ----- sessions and focus ------------------------------------------------------------------------
def active_session(session: Session, user_id: int) -> LiveSession | None:
    """The live session the user is served in, if any."""
    return session.exec(
        select(LiveSession).where(LiveSession.user_id == user_id, LiveSession.status == SessionStatus.ACTIVE)
    ).first()


def operator_live(operator_id: int) -> SelectOfScalar[LiveSession]:
    """The statement selecting the live sessions the operator runs."""
    return select(LiveSession).where(LiveSession.operator_id == operator_id, LiveSession.status == SessionStatus.ACTIVE)


def operator_session(
    session: Session, operator_id: int, session_id: int | None, reply_to: tuple[int, int] | None = None
) -> LiveSession:
    """The session an operator means: explicit id, the relayed message they replied to, or their focus."""
    if session_id is None and reply_to is not None:
        link = session.get(RelayLink, reply_to)
        session_id = link.session_id if link is not None else None
    if session_id is None:
        focus = session.get(OperatorFocus, operator_id)
        session_id = focus.session_id if focus is not None else None
    row = session.get(LiveSession, session_id) if session_id is not None else None
    if row is None or row.operator_id != operator_id or row.status != SessionStatus.ACTIVE:
        raise NotFound(Reason.SESSION)
    return row


def set_focus(session: Session, operator_id: int, session_id: int) -> None:
    """Make *session_id* the session the operator's plain messages go to."""
    row = session.get(OperatorFocus, operator_id)
    if row is None:
        session.add(OperatorFocus(operator_id=operator_id, session_id=session_id))
    else:
        row.session_id = session_id


def refocus(session: Session, operator_id: int) -> None:
    """After a session left the operator: focus another of theirs, or none."""
    focus = session.get(OperatorFocus, operator_id)
    other = session.exec(operator_live(operator_id)).first()
    if other is not None and other.id is not None:
        set_focus(session, operator_id, other.id)
    elif focus is not None:
        session.delete(focus)


def finish(session: Session, row: LiveSession, outcome: SessionOutcome, now: datetime) -> None:
    """End the session *row* with *outcome*; its operator's focus moves on."""
    row.status, row.ended_at, row.outcome = SessionStatus.ENDED, now, outcome
    refocus(session, row.operator_id)
