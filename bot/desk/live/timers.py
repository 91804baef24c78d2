"""The live desk's timers: ``sweep(now)``, run every little while by the front end (the JobQueue in
Telegram). Users waiting longer than the policy's ``queue_wait`` are offered a ticket instead; silent
sessions get a reminder after ``idle_remind`` and are closed ``idle_close`` after it. Each is told once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.desk.live.shared import LivePolicy, finish, row_id, whole_minutes
from bot.notices import Notice, QueueLongWait, SessionAutoClosed, SessionEnded, SessionIdle, SessionIdleOperator
from bot.store.db import session_scope
from bot.store.models import HelpRequest, LiveSession
from bot.store.statuses import HelpRequestStatus, SessionOutcome, SessionStatus


class LiveTimers:
    """What time does at the live desk: long-wait offers, idle reminders, auto-closing."""

    def __init__(self, engine: Engine, policy: LivePolicy | None = None) -> None:
        self.engine = engine
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
                notices.append(SessionIdle(row.user_id, row_id(row), whole_minutes(p.idle_close)))
                notices.append(SessionIdleOperator(row.operator_id, row_id(row)))
            to_close = session.exec(
                select(LiveSession).where(
                    LiveSession.status == SessionStatus.ACTIVE,
                    col(LiveSession.reminded_at).is_not(None),
                    col(LiveSession.reminded_at) <= now - p.idle_close,
                )
            ).all()
            for row in to_close:
                finish(session, row, SessionOutcome.NO_REPLY, now)
                notices.append(SessionEnded(row.user_id, row_id(row), SessionOutcome.NO_REPLY))
                notices.append(SessionAutoClosed(row.operator_id, row_id(row)))
        return notices
