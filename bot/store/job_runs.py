"""Scheduled work done once per period, however many times or places it is triggered.

A job claims ``(job, period)`` in the ``JobRun`` table before it acts: a restart, a missed trigger run
again later, or a second instance on the same database finds the claim and does nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.store.db import session_scope
from bot.store.models import JobRun


def claim(engine: Engine, job: str, period: str, now: datetime) -> bool:
    """Record that *job* is done for *period*; False when it already was (here or by another instance)."""
    try:
        with session_scope(engine) as session:
            if session.get(JobRun, (job, period)) is not None:
                return False
            session.add(JobRun(job=job, period=period, done_at=now))
    except IntegrityError:  # another instance claimed it between our read and our insert
        return False
    return True
