"""The owner's side of tickets: their list, one of their tickets, adding a message to it, closing it,
and reopening it within the reopen window. Another person's ticket is never confirmed to exist.

A message reaches a ticket four ways: after its "Add a message" / "Reply" button (``FlowName.TICKET_MESSAGE``,
step ``message``); as a Telegram reply to a message the bot sent about the ticket (``link`` records them,
``REPLIED_TICKET`` finds the ticket on arrival); free text after a staff reply that the knowledge base does
not clearly answer (``offer_text``: add it, or answer it as a question?); a photo or document sent outside
any flow (``offer_file``: which open ticket?). Offered messages wait in the flow's data until the user
chooses (``add_pending`` / ``drop_pending``), so nothing sent is lost.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.desk.flows import FlowName, FlowState, TicketMessageStep, flow_state, put_flow
from bot.desk.staff import StaffRegistry
from bot.desk.tickets.common import (
    CLOSED_BY_USER,
    TicketPolicy,
    TicketView,
    add_message,
    checked_text,
    load_ticket,
    open_status,
    read_ticket,
    require_open,
    ticket_number,
    view_of,
)
from bot.desk.tickets.common import (
    ticket_id as id_of,
)
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound, Reason
from bot.notices import Notice, TicketReopenedByUser, TicketUserMessage
from bot.store import limits
from bot.store.db import session_scope
from bot.store.models import Flow, Ticket, TicketLink, UTCDateTime
from bot.store.statuses import TicketStatus

OFFERED_TICKETS = 3
"""At most this many open tickets offered for a photo or document (the newest)."""
MAX_PENDING = 10
"""At most this many messages kept while the user chooses (an album of photos arrives as several)."""

REPLIED_TICKET = (
    select(col(TicketLink.ticket_id))
    .join(Ticket, col(Ticket.id) == col(TicketLink.ticket_id))
    .where(
        col(TicketLink.chat_id) == bindparam("user_id"),
        col(TicketLink.message_id) == bindparam("reply_to"),
        col(Ticket.user_id) == bindparam("user_id"),
        col(Ticket.status) != TicketStatus.CLOSED,
    )
    .scalar_subquery()
)
"""The user's open ticket that the bot message they replied to (``reply_to``, NULL for none) was about, else
NULL; read by ``bot.arrival`` in its routing statement."""
ANSWERED_TICKET = (
    select(case((func.count() == 1, func.max(col(Ticket.id)))))
    .where(
        col(Ticket.user_id) == bindparam("user_id"),
        col(Ticket.status) == TicketStatus.ANSWERED,
        col(Ticket.updated_at) >= bindparam("answered_since", type_=UTCDateTime()),
    )
    .scalar_subquery()
)
"""The user's one ticket answered by staff since ``answered_since``, else NULL (none, or several: which one
a free message is about cannot be guessed); read by ``bot.arrival`` in its routing statement."""


@dataclass(frozen=True)
class Pending:
    """A message kept until the user says which ticket it goes to: text, or a photo or document (caption)."""

    text: str = ""
    file_id: str | None = None
    file_kind: str | None = None
    file_name: str | None = None

    def stored(self) -> dict[str, str]:
        """As kept in the flow's data (JSON)."""
        fields = {"text": self.text, "file_id": self.file_id, "file_kind": self.file_kind, "file_name": self.file_name}
        return {key: value for key, value in fields.items() if value}

    @classmethod
    def read(cls, raw: object) -> Pending | None:
        """A kept message from the flow's data; None for anything malformed."""
        if not isinstance(raw, Mapping) or not all(isinstance(v, str) for v in raw.values()):
            return None
        return cls(str(raw.get("text", "")), raw.get("file_id"), raw.get("file_kind"), raw.get("file_name"))


@dataclass(frozen=True)
class AddOffer:
    """Messages waiting for the user's choice: the step (``TicketMessageStep.ADD_TEXT`` or ``ADD_FILE``), the
    tickets offered as (id, number), and the messages kept."""

    step: str
    tickets: tuple[tuple[int, str], ...]
    pending: tuple[Pending, ...]

    @classmethod
    def of(cls, state: FlowState) -> AddOffer:
        raw_tickets = state.data.get("tickets")
        raw_pending = state.data.get("pending")
        tickets = tuple(
            (int(t[0]), str(t[1]))
            for t in (raw_tickets if isinstance(raw_tickets, list) else [])
            if isinstance(t, list) and len(t) == 2 and isinstance(t[0], int)
        )
        pending = tuple(p for p in map(Pending.read, raw_pending if isinstance(raw_pending, list) else []) if p)
        return cls(state.step, tickets, pending)

    def state(self) -> FlowState:
        data: dict[str, Any] = {
            "tickets": [list(t) for t in self.tickets],
            "pending": [p.stored() for p in self.pending],
        }
        return FlowState(FlowName.TICKET_MESSAGE, self.step, data)

    @property
    def texts(self) -> tuple[str, ...]:
        """The texts kept (the messages to answer as questions when the user says they are not for the ticket)."""
        return tuple(p.text for p in self.pending if p.file_id is None and p.text)


OFFER_STEPS = (TicketMessageStep.ADD_TEXT, TicketMessageStep.ADD_FILE)


def _end_offer(session: Session, user_id: int) -> None:
    row = session.get(Flow, user_id)
    if row is not None:
        session.delete(row)


def _offer_in(session: Session, user_id: int) -> AddOffer | None:
    """The user's offer waiting for their choice, read in *session*; None when they are not at one."""
    row = session.get(Flow, user_id)
    if row is None or row.name != FlowName.TICKET_MESSAGE or row.step not in OFFER_STEPS:
        return None
    return AddOffer.of(flow_state(row.name, row.step, row.data))


@dataclass(frozen=True)
class OwnTickets:
    """What a user does with their own tickets."""

    engine: Engine
    staff: StaffRegistry
    policy: TicketPolicy = field(default_factory=TicketPolicy)

    def mine(self, user_id: int, limit: int = 20) -> list[TicketView]:
        """The user's tickets, newest first."""
        with session_scope(self.engine) as session:
            rows = session.exec(
                select(Ticket).where(Ticket.user_id == user_id).order_by(col(Ticket.id).desc()).limit(limit)
            ).all()
            return [view_of(t) for t in rows]

    def get(self, user_id: int, number_or_id: str | int) -> TicketView:
        """The user's ticket with its messages, never internal notes; ``NotFound`` for other people's tickets.
        A member of staff sees any ticket, notes included (the same view as ``TicketWork.get``)."""
        return read_ticket(self.engine, self.staff, user_id, number_or_id)

    def _own(self, session: Session, user_id: int, number_or_id: str | int) -> Ticket:
        ticket = load_ticket(session, number_or_id)
        if ticket.user_id != user_id:
            raise NotFound(Reason.TICKET)
        return ticket

    def _checked(self, item: Pending) -> Pending:
        """*item* with its text checked like any message on a ticket (a file may come without text)."""
        text = checked_text(item.text, self.policy.max_message, required=None if item.file_id else Reason.EMPTY)
        return Pending(text, item.file_id, item.file_kind, item.file_name)

    def _add(
        self, session: Session, ticket: Ticket, user_id: int, items: Iterable[Pending], now: datetime
    ) -> list[Notice]:
        """Add the owner's *items* to their open *ticket* (answered → open again); the assignee is told once."""
        require_open(ticket)
        for item in items:
            add_message(session, ticket, user_id, "user", item.text, now, item.file_id, item.file_kind, item.file_name)
        if ticket.status == TicketStatus.ANSWERED:
            ticket.status = open_status(ticket)
        ticket.updated_at = now
        return [TicketUserMessage(ticket.assignee_id, ticket_number(ticket))] if ticket.assignee_id else []

    def add_user_message(
        self,
        user_id: int,
        number_or_id: str | int,
        now: datetime,
        text: str = "",
        file_id: str | None = None,
        file_kind: str | None = None,
        file_name: str | None = None,
    ) -> tuple[TicketView, list[Notice]]:
        """The owner adds text, a photo or a document to their open ticket; the assignee is told."""
        item = self._checked(Pending(text, file_id, file_kind, file_name))
        with session_scope(self.engine) as session:
            ticket = self._own(session, user_id, number_or_id)
            notices = self._add(session, ticket, user_id, [item], now)
            return view_of(ticket), notices

    # ----- messages that reach a ticket without its button ------------------------------------------------
    def link(self, chat_id: int, message_ids: Iterable[int], ticket_id: int) -> None:
        """Remember that the bot's messages *message_ids* in *chat_id* were about *ticket_id* (a Telegram reply
        to one of them goes to the ticket; only its owner's reply, and only while it is open)."""
        with session_scope(self.engine) as session:
            for message_id in message_ids:
                if session.get(TicketLink, (chat_id, message_id)) is None:
                    session.add(TicketLink(chat_id=chat_id, message_id=message_id, ticket_id=ticket_id))

    def offer_text(self, user_id: int, ticket_id: int, text: str, now: datetime) -> AddOffer | None:
        """Keep *text* (free text after staff answered *ticket_id*) while the user says whether it is for the
        ticket; None when it cannot be (the ticket closed meanwhile, or the text is too long for a message):
        then it is a question."""
        try:
            item = self._checked(Pending(text))
        except InvalidInput:
            return None
        with session_scope(self.engine) as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None or ticket.user_id != user_id or ticket.status == TicketStatus.CLOSED:
                return None
            offer = AddOffer(TicketMessageStep.ADD_TEXT, ((ticket_id, ticket_number(ticket)),), (item,))
            put_flow(session, user_id, offer.state(), now)
            return offer

    def offer_file(self, user_id: int, item: Pending, now: datetime) -> AddOffer | None:
        """Keep a photo or document sent outside any flow while the user picks one of their open tickets (the
        newest ``OFFERED_TICKETS``); None when they have none (or the caption is too long)."""
        try:
            item = self._checked(item)
        except InvalidInput:
            return None
        with session_scope(self.engine) as session:
            rows = session.exec(
                select(Ticket)
                .where(col(Ticket.user_id) == user_id, col(Ticket.status) != TicketStatus.CLOSED)
                .order_by(col(Ticket.id).desc())
                .limit(OFFERED_TICKETS)
            ).all()
            if not rows:
                return None
            tickets = tuple((id_of(t), ticket_number(t)) for t in rows)
            offer = AddOffer(TicketMessageStep.ADD_FILE, tickets, (item,))
            put_flow(session, user_id, offer.state(), now)
            return offer

    def keep(self, user_id: int, item: Pending, now: datetime) -> AddOffer | None:
        """One more message while an offer waits (more text, another photo of an album): kept with the others.
        None when nothing was kept: no offer waits, or it is full (``MAX_PENDING`` messages, or as much text as
        the flow's column holds)."""
        item = self._checked(item)
        with session_scope(self.engine) as session:
            offer = _offer_in(session, user_id)
            if offer is None or len(offer.pending) >= MAX_PENDING:
                return None
            offer = AddOffer(offer.step, offer.tickets, (*offer.pending, item))
            state = offer.state()
            if len(json.dumps(state.data, ensure_ascii=False)) > limits.FLOW_DATA:  # what the flow's column holds
                return None
            put_flow(session, user_id, state, now)
            return offer

    def current_offer(self, user_id: int) -> AddOffer | None:
        """The offer waiting for the user's choice, if any."""
        with session_scope(self.engine) as session:
            return _offer_in(session, user_id)

    def add_pending(self, user_id: int, ticket_id: int, now: datetime) -> tuple[TicketView, list[Notice], int]:
        """The user chose *ticket_id* (one of those offered): every kept message is added to it and the offer
        ends, in one transaction. Returns the ticket, the notices and how many messages were added.
        ``NotFound`` when no offer waits or the ticket was not offered; ``Conflict`` when it closed meanwhile."""
        with session_scope(self.engine) as session:
            offer = _offer_in(session, user_id)
            if offer is None or ticket_id not in {t for t, _number in offer.tickets}:
                raise NotFound(Reason.TICKET)
            ticket = self._own(session, user_id, ticket_id)
            notices = self._add(session, ticket, user_id, offer.pending, now)
            _end_offer(session, user_id)
            return view_of(ticket), notices, len(offer.pending)

    def drop_pending(self, user_id: int) -> AddOffer:
        """The user said no: the offer ends, and its kept messages are returned (texts are then answered as
        questions). ``NotFound`` when no offer waits."""
        with session_scope(self.engine) as session:
            offer = _offer_in(session, user_id)
            if offer is None:
                raise NotFound(Reason.TICKET)
            _end_offer(session, user_id)
            return offer

    def close_own(self, user_id: int, number_or_id: str | int, now: datetime) -> TicketView:
        """The owner closes their ticket (the matter is settled)."""
        with session_scope(self.engine) as session:
            ticket = self._own(session, user_id, number_or_id)
            if ticket.status == TicketStatus.CLOSED:
                raise Conflict(Reason.ALREADY_CLOSED)
            ticket.status, ticket.closed_at, ticket.updated_at = TicketStatus.CLOSED, now, now
            ticket.resolution = ticket.resolution or CLOSED_BY_USER
            return view_of(ticket)

    def reopen_own(self, user_id: int, number_or_id: str | int, now: datetime) -> tuple[TicketView, list[Notice]]:
        """The owner reopens their closed ticket within the reopen window."""
        with session_scope(self.engine) as session:
            ticket = self._own(session, user_id, number_or_id)
            if ticket.status != TicketStatus.CLOSED or ticket.closed_at is None:
                raise Conflict(Reason.NOT_CLOSED)
            if now > ticket.closed_at + timedelta(days=self.policy.reopen_days):
                raise NotAllowed(Reason.REOPEN_WINDOW_PASSED)
            ticket.status = open_status(ticket)
            ticket.closed_at, ticket.updated_at = None, now
            notices: list[Notice] = (
                [TicketReopenedByUser(ticket.assignee_id, ticket_number(ticket))] if ticket.assignee_id else []
            )
            return view_of(ticket), notices
