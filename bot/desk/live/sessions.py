"""The live desk's sessions: a conversation an operator has claimed (``bot.desk.live.queue``), until it
ends. Which session an operator means (their focus, or the relayed message they reply to), listing
theirs, ending one (the operator's /end or the user's /cancel), transferring it to a colleague, turning
it into a ticket (the operator's /toticket, or the user's follow-up of a chat ended unresolved); and who
is in a live chat at all (``chat_role``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, select

from bot.answering.helpdesk import Helpdesk
from bot.desk.live.relay import transcript, transcript_lines
from bot.desk.live.shared import (
    SessionView,
    active_session,
    finish,
    live_role,
    operator_live,
    operator_session,
    past_questions,
    refocus,
    request_lang,
    row_id,
    session_view,
    set_focus,
)
from bot.desk.staff import StaffRegistry, audit
from bot.desk.tickets.common import TicketView, load_ticket, view_of
from bot.desk.tickets.filing import TicketFiling
from bot.desk.tickets.work import TicketWork
from bot.errors import InvalidInput, NotAllowed, NotFound, Reason
from bot.notices import (
    Notice,
    SessionEnded,
    SessionLeft,
    SessionTicket,
    SessionTransferred,
    SessionTransferredToYou,
    SessionUnresolved,
)
from bot.numbers import parse_id
from bot.store import limits
from bot.store.db import session_scope
from bot.store.models import AuditLog, HelpRequest, LiveSession, Staff, User
from bot.store.statuses import SessionOutcome, SessionStatus, TicketKind

OPERATOR_OUTCOMES = (SessionOutcome.RESOLVED, SessionOutcome.UNRESOLVED)
FOLLOW_UP = "follow_up_ticket"
"""The audit action of a user turning a chat ended unresolved into a ticket (its detail names the session)."""
TICKET_TRANSCRIPT = limits.DESCRIPTION - 200
"""How much of a conversation a ticket made from it keeps (its latest whole messages), under its heading."""


class LiveSessions:
    """Claimed conversations: focus, listing, ending, transferring, to a ticket; who is in a live chat."""

    def __init__(
        self, engine: Engine, staff: StaffRegistry, helpdesk: Helpdesk, filing: TicketFiling, ticket_work: TicketWork
    ) -> None:
        self.engine = engine
        self.staff = staff
        self.helpdesk = helpdesk
        self.filing = filing
        self.ticket_work = ticket_work

    # ----- who and which -----------------------------------------------------------------
    def chat_role(self, user_id: int, connection: Connection | None = None) -> str | None:
        """ "operator" when *user_id* runs a live session, "user" when they are served in one, else None.

        One query: every incoming message asks this to route it (relay or question).
        """
        if connection is None:
            with self.engine.connect() as own:
                return self.chat_role(user_id, own)
        return live_role(connection, user_id)

    def focus(self, operator_id: int, session_id: int) -> SessionView:
        """Make *session_id* the session the operator's plain messages go to."""
        with session_scope(self.engine) as session:
            row = operator_session(session, operator_id, session_id)
            set_focus(session, operator_id, session_id)
            return session_view(session, row)

    def current_session(
        self, operator_id: int, reply_to: tuple[int, int] | None = None, session_id: int | None = None
    ) -> SessionView:
        """The session an operator's next message goes to (*session_id*, the one replied to, else their focus)."""
        with session_scope(self.engine) as session:
            return session_view(session, operator_session(session, operator_id, session_id, reply_to))

    def user_session(self, user_id: int) -> SessionView | None:
        """The live chat the user is served in, if any (an old queue button pressed meanwhile says so)."""
        with session_scope(self.engine) as session:
            row = active_session(session, user_id)
            return session_view(session, row) if row is not None else None

    def operator_sessions(self, operator_id: int) -> list[SessionView]:
        """The operator's live sessions."""
        with session_scope(self.engine) as session:
            rows = session.exec(operator_live(operator_id)).all()
            return [session_view(session, r) for r in rows]

    # ----- ending and handing on ---------------------------------------------------------
    def end(
        self,
        operator_id: int,
        outcome: str,
        now: datetime,
        session_id: int | None = None,
        reply_to: tuple[int, int] | None = None,
    ) -> tuple[SessionView, list[Notice]]:
        """End the operator's session (by id, the relayed message replied to, or their focus) with an
        outcome; the user is asked for a rating."""
        if outcome not in OPERATOR_OUTCOMES:
            raise InvalidInput(Reason.UNKNOWN_OUTCOME)
        self.staff.require(operator_id)
        with session_scope(self.engine) as session:
            row = operator_session(session, operator_id, session_id, reply_to)
            audit(session, operator_id, "end_session", now, detail=f"session {row.id}: {outcome}")
            finish(session, row, SessionOutcome(outcome), now)
            view = session_view(session, row)
            notices: list[Notice] = [SessionEnded(row.user_id, row_id(row), outcome)]
            if outcome == SessionOutcome.UNRESOLVED:  # the user may have it followed up (``follow_up``)
                notices.append(SessionUnresolved(row.user_id, row_id(row)))
            return view, notices

    def user_ends(self, user_id: int, now: datetime) -> tuple[SessionView, list[Notice]]:
        """The user ends their own session (/cancel); the operator is told, the user asked for a rating."""
        with session_scope(self.engine) as session:
            row = active_session(session, user_id)
            if row is None:
                raise NotFound(Reason.SESSION)
            finish(session, row, SessionOutcome.RESOLVED, now)
            view = session_view(session, row)
            ended = row_id(row)
            return view, [
                SessionLeft(row.operator_id, ended),
                SessionEnded(user_id, ended, SessionOutcome.RESOLVED),
            ]

    def transfer(
        self, operator_id: int, to_operator: int, now: datetime, session_id: int | None = None
    ) -> tuple[SessionView, list[Notice]]:
        """Hand the session to another checked-in operator (who gets the user's context)."""
        target = self.staff.get(to_operator)
        if target is None or not target.checked_in:
            raise NotFound(Reason.OPERATOR)
        if to_operator == operator_id:
            raise InvalidInput(Reason.SAME_OPERATOR)
        with session_scope(self.engine) as session:
            # Both still staff, their rows locked in id order (as removal locks them): a colleague removed
            # meanwhile is not handed the chat, and a chat being handed back is not moved. (This is the
            # operator's staff check: a ``staff.require`` before it would only cost another transaction.)
            staff = {i: session.get(Staff, i, with_for_update=True) for i in sorted((operator_id, to_operator))}
            me, them = staff[operator_id], staff[to_operator]
            if me is None or not me.active:
                raise NotAllowed(Reason.STAFF_ONLY)
            if them is None or not them.active or not them.checked_in:
                raise NotFound(Reason.OPERATOR)
            row = operator_session(session, operator_id, session_id)
            assert row.id is not None
            row.operator_id, row.last_activity_at, row.reminded_at = to_operator, now, None
            refocus(session, operator_id)
            set_focus(session, to_operator, row.id)
            audit(session, operator_id, "transfer", now, detail=f"session {row.id} to {to_operator}")
            view = session_view(session, row)
            request = session.get(HelpRequest, row.request_id)
            user = session.get(User, row.user_id)
            history = past_questions(self.helpdesk, session, row.user_id, with_chosen=False)
            lines = transcript_lines(session, row.id)  # all of it: the colleague must not have to ask again
            lang = request_lang(request.lang if request else None)
            role = (request.role if request else None) or (user.role if user else None)
            name = user.display_name if user else ""
            notices: list[Notice] = [
                SessionTransferredToYou(to_operator, row.id, row.user_id, lang, history, lines, name, role),
                SessionTransferred(row.user_id, target.name),
            ]
            return view, notices

    def to_ticket(
        self, operator_id: int, now: datetime, session_id: int | None = None
    ) -> tuple[TicketView, list[Notice]]:
        """Turn the conversation into a help-request ticket (assigned to the operator) and end the session;
        the user is told, and the other staff on duty that a ticket arrived."""
        self.staff.require(operator_id)
        with session_scope(self.engine) as session:
            row = operator_session(session, operator_id, session_id)
            request = session.get(HelpRequest, row.request_id)
            lang = request_lang(request.lang if request else None)
            # The latest whole messages if it is very long.
            description = f"Live chat #{row.id}\n" + transcript(session, row_id(row), TICKET_TRANSCRIPT)
            finish(session, row, SessionOutcome.TICKET, now)
            ended, user_id = row_id(row), row.user_id
        ticket, arrived = self.filing.open_ticket(
            user_id, TicketKind.HELP, description, lang, now, origin="live", creator=operator_id
        )
        ticket = self.ticket_work.take(operator_id, ticket.id, now)
        return ticket, [SessionTicket(user_id, ticket.number, ended), *arrived]

    def follow_up(self, user_id: int, session_id: int, now: datetime) -> tuple[TicketView, bool, list[Notice]]:
        """The user of chat *session_id*, which their operator ended unresolved, has it followed up: the
        conversation becomes a help-request ticket (unassigned, for whoever works the tickets; the staff on
        duty are told it arrived). Returns the ticket, whether it is new (pressed again: the ticket made the
        first time) and the notices.

        A ticket rather than the filing flow: the conversation is already the description, so the user is
        not asked to write it again, and staff see everything that was said."""
        with session_scope(self.engine) as session:
            row = session.get(LiveSession, session_id)
            if (
                row is None
                or row.user_id != user_id
                or row.status != SessionStatus.ENDED
                or row.outcome != SessionOutcome.UNRESOLVED
            ):
                raise NotFound(Reason.SESSION)
            earlier = session.exec(
                select(AuditLog).where(
                    AuditLog.actor_id == user_id,
                    AuditLog.action == FOLLOW_UP,
                    col(AuditLog.detail).startswith(f"session {session_id} ticket "),
                )
            ).first()
            request = session.get(HelpRequest, row.request_id)
            lang = request_lang(request.lang if request else None)
            description = f"Live chat #{session_id} (ended unresolved)\n" + transcript(
                session, session_id, TICKET_TRANSCRIPT
            )
            made = parse_id(earlier.detail.rpartition(" ")[2]) if earlier is not None else None
            if made is not None:
                return view_of(load_ticket(session, made)), False, []
        ticket, notices = self.filing.open_ticket(user_id, TicketKind.HELP, description, lang, now, origin="live")
        with session_scope(self.engine) as session:  # not tied to the ticket: its history lists staff actions
            audit(session, user_id, FOLLOW_UP, now, detail=f"session {session_id} ticket {ticket.id}")
        return ticket, True, notices


def session_rateable(session: Session, session_id: int, user_id: int) -> bool:
    """A session may be rated by its user once it has ended (the ratings' owner check)."""
    row = session.get(LiveSession, session_id)
    return row is not None and row.user_id == user_id and row.status == SessionStatus.ENDED
