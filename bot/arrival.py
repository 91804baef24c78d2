"""Arrival: the first thing done with every incoming message, in one transaction.

Who wrote, the flow they are in, their part in a live chat, the open ticket a Telegram reply points at
and their one recently answered ticket are read with one statement; when the message is a plain question
(no flow, no live chat, not a reply about a ticket) it is answered and logged in the same transaction.
It runs for every message, so the commonest message costs one database round trip.

A user whose ticket staff answered recently often writes back without pressing "Reply" ("好的，谢谢，
12月2日我们会去。"): text the knowledge base does not clearly answer is then not logged as a question but
offered for that ticket (``Arrival.offer_ticket``); the front end asks the user.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import bindparam
from sqlalchemy.engine import Engine
from sqlmodel import col

from bot.answering.answers import Reply
from bot.answering.helpdesk import USER_COLUMNS, Answered, Helpdesk, UserView
from bot.desk.flows import FLOW_COLUMNS, Flows, FlowState, flow_state
from bot.desk.live.shared import LIVE_ROLE, LIVE_ROLES, live_role
from bot.desk.tickets.owners import ANSWERED_TICKET, REPLIED_TICKET
from bot.errors import InvalidInput
from bot.store.db import begin
from bot.store.models import Flow, User

_ROUTING = (
    sa.select(
        *USER_COLUMNS,
        *FLOW_COLUMNS,
        LIVE_ROLE.label("live"),
        REPLIED_TICKET.label("replied_ticket"),
        ANSWERED_TICKET.label("answered_ticket"),
    )
    .select_from(User)
    .outerjoin(Flow, col(Flow.user_id) == col(User.id))
    .where(col(User.id) == bindparam("user_id"))
)
"""Everything routing needs in one statement: the user, their flow, their part in a live chat, the open ticket
the message replies about and their one ticket answered recently."""


def clearly_answered(reply: Reply) -> bool:
    """Whether *reply* answers a question from the knowledge base (not a guess, a fallback or small talk)."""
    return reply.match.decision == "answer" and not reply.small_talk


@dataclass(frozen=True)
class Arrival:
    """Who wrote, the flow they are in, and their part in a live chat ("operator", "user" or None).

    ``answered`` is set when the message was a question, answered and logged already (see ``Arrivals.arrive``).
    """

    user: UserView
    flow: FlowState | None
    live_role: str | None
    answered: Answered | None = None
    replied_ticket: int | None = None
    """The user's open ticket that the bot message they replied to was about (the message goes to it)."""
    offer_ticket: int | None = None
    """Set instead of ``answered`` when the text is not clearly a question and staff answered this ticket of
    the user's recently: the text was not logged; ask whether it is for the ticket."""


class Arrivals:
    """Routing incoming messages: the reads (and the answer to a question) that every message starts with."""

    def __init__(
        self, engine: Engine, helpdesk: Helpdesk, flows: Flows, answered_within: timedelta = timedelta(days=7)
    ) -> None:
        self.engine = engine
        self.helpdesk = helpdesk
        self.flows = flows
        self.answered_within = answered_within
        """How recent a staff reply must be for a free message to be offered for its ticket (the reopen window)."""

    def arrive(
        self,
        user_id: int,
        display_name: str,
        client_lang: str | None,
        now: datetime,
        text: str | None = None,
        reply_to: int | None = None,
    ) -> Arrival:
        """Everything needed to route an incoming message, in one transaction (it runs for every message).

        With the *text* of a text message from someone in no flow and no live chat, that text is a
        question: it is answered and logged in the same transaction, so the commonest message costs one
        round trip. Not so when the message is a Telegram reply (*reply_to*: the message id replied to) to a
        message about one of their open tickets (``replied_ticket``: it goes to the ticket), nor when staff
        answered one ticket of theirs recently and the knowledge base does not clearly answer the text
        (``offer_ticket``). Text the helpdesk cannot take (too long, nothing to read) is left to the front
        end's question path, which says why.
        """
        params = {"user_id": user_id, "reply_to": reply_to, "answered_since": now - self.answered_within}
        with begin(self.engine) as connection:
            row = connection.execute(_ROUTING, params).first()
            user = self.helpdesk.greet(connection, user_id, row, display_name, client_lang, now)
            replied = offer = None
            if row is None:  # first contact: no user row to join on (staff may exist without one); no tickets
                flow, role = self.flows.get(user_id, connection), live_role(connection, user_id)
            else:
                flow = flow_state(row.name, row.step, row.data) if row.name is not None else None
                role = LIVE_ROLES.get(row.live or 0)
                replied, offer = row.replied_ticket, row.answered_ticket
            answered = offered = None
            if text is not None and flow is None and role is None and replied is None:
                lang = user.lang if user.lang_chosen else None
                offered = offer
                with contextlib.suppress(InvalidInput):  # the question path tells the user why
                    if offer is None:
                        answered = self.helpdesk.ask(user_id, text, lang, now, connection)
                    else:
                        clean, reply = self.helpdesk.consider(text, lang)
                        if clearly_answered(reply):
                            answered = self.helpdesk.log_question(user_id, clean, reply, now, connection)
                            offered = None
            return Arrival(user, flow, role, answered, replied, offered)
