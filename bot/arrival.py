"""Arrival: the first thing done with every incoming message, in one transaction.

Who wrote, the flow they are in and their part in a live chat are read with one statement; when the
message is a plain question (no flow, no live chat) it is answered and logged in the same transaction.
It runs for every message, so the commonest message costs one database round trip.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import bindparam
from sqlalchemy.engine import Engine
from sqlmodel import col

from bot.answering.helpdesk import USER_COLUMNS, Answered, Helpdesk, UserView
from bot.desk.flows import FLOW_COLUMNS, Flows, FlowState, flow_state
from bot.desk.live.shared import LIVE_ROLE, LIVE_ROLES, live_role
from bot.errors import InvalidInput
from bot.store.db import begin
from bot.store.models import Flow, User

_ROUTING = (
    sa.select(*USER_COLUMNS, *FLOW_COLUMNS, LIVE_ROLE.label("live"))
    .select_from(User)
    .outerjoin(Flow, col(Flow.user_id) == col(User.id))
    .where(col(User.id) == bindparam("user_id"))
)
"""Everything routing needs in one statement: the user, their flow and their part in a live chat."""


@dataclass(frozen=True)
class Arrival:
    """Who wrote, the flow they are in, and their part in a live chat ("operator", "user" or None).

    ``answered`` is set when the message was a question, answered and logged already (see ``Arrivals.arrive``).
    """

    user: UserView
    flow: FlowState | None
    live_role: str | None
    answered: Answered | None = None


class Arrivals:
    """Routing incoming messages: the reads (and the answer to a question) that every message starts with."""

    def __init__(self, engine: Engine, helpdesk: Helpdesk, flows: Flows) -> None:
        self.engine = engine
        self.helpdesk = helpdesk
        self.flows = flows

    def arrive(
        self, user_id: int, display_name: str, client_lang: str | None, now: datetime, text: str | None = None
    ) -> Arrival:
        """Everything needed to route an incoming message, in one transaction (it runs for every message).

        With the *text* of a text message from someone in no flow and no live chat, that text is a
        question: it is answered and logged in the same transaction, so the commonest message costs one
        round trip. Text the helpdesk cannot take (too long, nothing to read) is left to the front end's
        question path, which says why.
        """
        with begin(self.engine) as connection:
            row = connection.execute(_ROUTING, {"user_id": user_id}).first()
            user = self.helpdesk.greet(connection, user_id, row, display_name, client_lang, now)
            if row is None:  # first contact: no user row to join on (staff may exist without one)
                flow, role = self.flows.get(user_id, connection), live_role(connection, user_id)
            else:
                flow = flow_state(row.name, row.step, row.data) if row.name is not None else None
                role = LIVE_ROLES.get(row.live or 0)
            answered = None
            if text is not None and flow is None and role is None:
                lang = user.lang if user.lang_chosen else None
                with contextlib.suppress(InvalidInput):  # the question path tells the user why
                    answered = self.helpdesk.ask(user_id, text, lang, now, connection)
            return Arrival(user, flow, role, answered)
