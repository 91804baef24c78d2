"""Multi-step conversations kept in the database, so a restart mid-flow resumes where it was."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import col

from bot.store.db import session_scope
from bot.store.models import Flow


@dataclass(frozen=True)
class FlowState:
    """A user's current flow: its name, the step it waits at and the data gathered so far."""

    name: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)


FLOW_COLUMNS = (col(Flow.name), col(Flow.step), col(Flow.data))
"""What a flow state is made of (also read by ``Services.arrive`` in its routing query)."""
_FLOW = select(*FLOW_COLUMNS).where(col(Flow.user_id) == bindparam("user_id"))


def flow_state(name: str, step: str, data: str) -> FlowState:
    """The state stored in a flow row (data that is not a JSON object reads as empty)."""
    try:
        parsed = json.loads(data)
    except json.JSONDecodeError:
        parsed = {}
    return FlowState(name, step, parsed if isinstance(parsed, dict) else {})


class Flows:
    """Read and write users' flow state."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, user_id: int, connection: Connection | None = None) -> FlowState | None:
        """The user's flow, or None (on the caller's *connection* when given: this runs for every message)."""
        if connection is None:
            with self.engine.connect() as own:
                return self.get(user_id, own)
        row = connection.execute(_FLOW, {"user_id": user_id}).first()
        return None if row is None else flow_state(row.name, row.step, row.data)

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
