"""Multi-step conversations kept in the database, so a restart mid-flow resumes where it was."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.db import session_scope
from bot.models import Flow


@dataclass(frozen=True)
class FlowState:
    """A user's current flow: its name, the step it waits at and the data gathered so far."""

    name: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)


class Flows:
    """Read and write users' flow state."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, user_id: int, session: Session | None = None) -> FlowState | None:
        """The user's flow, or None (in the caller's *session* when given)."""
        if session is None:
            with session_scope(self.engine) as own:
                return self.get(user_id, own)
        row = session.get(Flow, user_id)
        if row is None:
            return None
        try:
            data = json.loads(row.data)
        except json.JSONDecodeError:
            data = {}
        return FlowState(row.name, row.step, data if isinstance(data, dict) else {})

    def set(self, user_id: int, state: FlowState, now: datetime) -> FlowState:
        """Start or advance the user's flow (one flow per user: a new one replaces the old)."""
        with session_scope(self.engine) as session:
            row = session.get(Flow, user_id)
            payload = json.dumps(state.data, ensure_ascii=False)
            if row is None:
                session.add(Flow(user_id=user_id, name=state.name, step=state.step, data=payload, updated_at=now))
            else:
                row.name, row.step, row.data, row.updated_at = state.name, state.step, payload, now
        return state

    def clear(self, user_id: int) -> FlowState | None:
        """End the user's flow; returns the one that was running, if any."""
        with session_scope(self.engine) as session:
            row = session.get(Flow, user_id)
            if row is None:
                return None
            state = FlowState(row.name, row.step, json.loads(row.data or "{}"))
            session.delete(row)
            return state
