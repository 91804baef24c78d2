"""Multi-step conversations kept in the database, so a restart mid-flow resumes where it was."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col

from bot.store.db import session_scope
from bot.store.models import Flow


class FlowName(StrEnum):
    """Every flow a user can be in (one at a time), as stored in ``Flow.name``.

    ``handlers.inbox.ROUTES`` says which handler takes the text and the media sent at each of them.
    """

    TICKET = "ticket"  # filing a ticket (/ticket), a step per question: FilingStep; kept by bot.desk.tickets.filing
    TICKET_MESSAGE = "ticket_message"  # a user's message (text or files) to their own ticket: TicketMessageStep
    STAFF_INPUT = "staff_input"  # staff typing a reply, note or resolution after the button: StaffStep
    RATING_COMMENT = "rating_comment"  # the optional comment after a bad rating; one step, "comment"
    FOLLOWUP_RECORD = "followup_record"  # a supervisor recording a call-back (回访); one step, "notes"
    NOTICE_DRAFT = "notice_draft"  # a supervisor writing a policy notice (/notice): NoticeStep
    CHECKLIST = "checklist"  # the materials checklist's questions (buttons only): bot.desk.outreach.checklist
    PERMIT_WATCH = "permit_watch"  # adding or changing a watched permit (/reminders): WatchStep (bot.desk.outreach)


USER_FLOWS = frozenset(
    {
        FlowName.TICKET,
        FlowName.TICKET_MESSAGE,
        FlowName.RATING_COMMENT,
        FlowName.CHECKLIST,
        FlowName.PERMIT_WATCH,
    }
)
"""The flows of a user's own errands. Asking for a person closes the one left open: the user has moved on, and
their messages in the live chat must reach the operator, not an abandoned step (``bot.desk.live.queue``)."""


class FilingStep(StrEnum):
    """The steps of ``FlowName.TICKET``, in the order they are asked."""

    KIND = "kind"  # which kind of ticket: buttons only
    DESCRIPTION = "description"  # the matter, typed in one message
    CONTACT = "contact"  # optional phone or e-mail, typed or skipped
    REFERENCE = "reference"  # optional application or permit number, typed or skipped
    CONFIRM = "confirm"  # the summary: submit, start over or cancel (buttons only)


class TicketMessageStep(StrEnum):
    """The steps of ``FlowName.TICKET_MESSAGE``: a message for a ticket, or messages waiting for the user to
    say which ticket they belong to (kept in the flow's data, so nothing sent is lost meanwhile)."""

    MESSAGE = "message"  # after "Add a message" / "Reply": the next message goes to the ticket in data["ticket"]
    ADD_TEXT = "add_text"  # free text after a staff reply: add it to that ticket, or answer it as a question?
    ADD_FILE = "add_file"  # a photo or document sent outside any flow: which open ticket does it go to?


class NoticeStep(StrEnum):
    """The steps of ``FlowName.NOTICE_DRAFT`` (``handlers.policy_notices``); data: ``{"notice": id}`` once drafted."""

    ENGLISH = "en"  # the English title (first line) and text
    CHINESE = "zh"  # the Chinese title and text
    AUDIENCE = "audience"  # who gets it: buttons only
    ENTRY = "entry"  # a knowledge-base entry id for the "more" button, typed, or "No link"


class StaffStep(StrEnum):
    """The steps of ``FlowName.STAFF_INPUT``: what the text a member of staff types next becomes."""

    REPLY = "reply"  # a reply to the user (text, or a photo or document with a caption)
    NOTE = "note"  # an internal note, never shown to the user (text only)
    CLOSE = "close"  # the resolution; the ticket is then closed (text only)


@dataclass(frozen=True)
class FlowState:
    """A user's current flow: its name, the step it waits at and the data gathered so far."""

    name: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)


FLOW_COLUMNS = (col(Flow.name), col(Flow.step), col(Flow.data))
"""What a flow state is made of (also read by ``bot.arrival`` in its routing query)."""
_FLOW = select(*FLOW_COLUMNS).where(col(Flow.user_id) == bindparam("user_id"))


def put_flow(session: Session, user_id: int, state: FlowState, now: datetime) -> FlowState:
    """Start or advance the user's flow in *session* (for a core call that changes more in the same
    transaction); ``Flows.set`` in its own."""
    row = session.get(Flow, user_id)
    payload = json.dumps(state.data, ensure_ascii=False)
    if row is None:
        session.add(Flow(user_id=user_id, name=state.name, step=state.step, data=payload, updated_at=now))
    else:
        row.name, row.step, row.data, row.updated_at = state.name, state.step, payload, now
    return state


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
            return put_flow(session, user_id, state, now)

    def clear(self, user_id: int) -> FlowState | None:
        """End the user's flow; returns the one that was running, if any."""
        with session_scope(self.engine) as session:
            row = session.get(Flow, user_id)
            if row is None:
                return None
            state = flow_state(row.name, row.step, row.data)
            session.delete(row)
            return state
