"""The live desk's timers: ``sweep(now)``, run every little while by the front end (the JobQueue in
Telegram). Users waiting longer than the policy's ``queue_wait`` are offered a ticket instead.

A silent session is handled by who owes the next message:

- the **operator** (the user wrote last, or nobody has written since the claim): after ``idle_remind`` the
  operator is reminded; ``idle_close`` later the user goes back to the front of the queue (told why and
  offered to the checked-in operators) and the supervisors are alerted. A chat is never closed on a user
  waiting for an answer.
- the **user** (the operator wrote last): after ``idle_remind`` the user is asked whether they are still
  there, and ``idle_close`` later the chat closes for lack of reply.

Each is told once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.desk.live.queue import LiveQueue, requeue
from bot.desk.live.shared import LivePolicy, finish, refocus, row_id, whole_minutes
from bot.notices import (
    Notice,
    OperatorSilent,
    QueueLongWait,
    SessionAutoClosed,
    SessionEnded,
    SessionIdle,
    SessionIdleOperator,
    SessionRequeued,
    SessionUserWaiting,
)
from bot.store.db import session_scope
from bot.store.models import HelpRequest, LiveSession, SessionMessage, Staff
from bot.store.statuses import HelpRequestStatus, SessionOutcome, SessionStatus


class LiveTimers:
    """What time does at the live desk: long-wait offers, idle reminders, auto-closing."""

    def __init__(self, engine: Engine, queue: LiveQueue, policy: LivePolicy | None = None) -> None:
        self.engine = engine
        self.queue = queue
        self.policy = policy or LivePolicy()

    def sweep(self, now: datetime) -> list[Notice]:
        """Timers: offer a ticket to users waiting too long; remind, then close, idle sessions."""
        notices: list[Notice] = []
        p = self.policy
        with session_scope(self.engine) as session:
            long_waits = session.exec(
                select(HelpRequest).where(
                    HelpRequest.status == HelpRequestStatus.WAITING,
                    col(HelpRequest.offered_ticket_at).is_(None),
                    col(HelpRequest.created_at) <= now - p.queue_wait,
                )
            ).all()
            for request in long_waits:
                request.offered_ticket_at = now
                assert request.id is not None
                notices.append(QueueLongWait(request.user_id, request.id))
            to_remind = session.exec(
                select(LiveSession).where(
                    LiveSession.status == SessionStatus.ACTIVE,
                    col(LiveSession.reminded_at).is_(None),
                    col(LiveSession.last_activity_at) <= now - p.idle_remind,
                )
            ).all()
            for row in to_remind:
                row.reminded_at = now
                if _operator_owes(session, row):
                    waited = whole_minutes(now - row.last_activity_at)
                    notices.append(
                        SessionUserWaiting(row.operator_id, row_id(row), waited, whole_minutes(p.idle_close))
                    )
                else:
                    notices.append(SessionIdle(row.user_id, row_id(row), whole_minutes(p.idle_close)))
                    notices.append(SessionIdleOperator(row.operator_id, row_id(row)))
            to_close = session.exec(
                select(LiveSession).where(
                    LiveSession.status == SessionStatus.ACTIVE,
                    col(LiveSession.reminded_at).is_not(None),
                    col(LiveSession.reminded_at) <= now - p.idle_close,
                )
            ).all()
            requeued = []
            for row in to_close:
                if _operator_owes(session, row):
                    requeued.append(requeue(session, row, now))
                    refocus(session, row.operator_id)
                    notices += self._unanswered_notices(session, row, now)
                else:
                    finish(session, row, SessionOutcome.NO_REPLY, now)
                    notices.append(SessionEnded(row.user_id, row_id(row), SessionOutcome.NO_REPLY))
                    notices.append(SessionAutoClosed(row.operator_id, row_id(row)))
            if requeued:
                session.flush()
                notices += self.queue.handed_back_notices(session, requeued, unanswered=True)
        if requeued:
            notices += self.queue.position_notices()
        return notices

    def _unanswered_notices(self, session: Session, row: LiveSession, now: datetime) -> list[Notice]:
        """The operator is told their chat went back to the queue; every supervisor, that they left it."""
        operator = session.get(Staff, row.operator_id)
        name = operator.name if operator is not None else str(row.operator_id)
        waited = whole_minutes(now - row.last_activity_at)
        notices: list[Notice] = [SessionRequeued(row.operator_id, row_id(row))]
        notices += [
            OperatorSilent(s.user_id, row_id(row), name, waited)
            for s in self.queue.staff.supervisors()
            if s.user_id != row.operator_id
        ]
        return notices


def _operator_owes(session: Session, row: LiveSession) -> bool:
    """Whether the operator owes the next message: the user wrote last, or nobody has written yet."""
    last = session.exec(
        select(SessionMessage.sender)
        .where(SessionMessage.session_id == row_id(row))
        .order_by(col(SessionMessage.id).desc())
        .limit(1)
    ).first()
    return last != "operator"
