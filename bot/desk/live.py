"""线上帮办: the live desk. Operators check in and out, users queue for a person, an operator claims
them, and messages are relayed both ways until the session ends with a 好差评 rating.

Everything lives in the database (queue, sessions, relay links, focus), so a restart keeps every
user's place and live sessions continue. Claims are atomic: a conditional UPDATE on the queue row
lets exactly one operator win, on SQLite and PostgreSQL alike. Timers call ``sweep(now)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, or_, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col, func, select

from bot.answering.helpdesk import Helpdesk
from bot.answering.text import Lang, strip_control
from bot.desk.hours import DeskHours
from bot.desk.staff import StaffRegistry, audit
from bot.desk.tickets import TicketDesk, TicketView
from bot.errors import Conflict, InvalidInput, NotFound, Reason
from bot.notices import (
    HandedBack,
    Notice,
    PastQuestion,
    QueueLongWait,
    QueueNew,
    QueuePosition,
    SessionAutoClosed,
    SessionEnded,
    SessionIdle,
    SessionIdleOperator,
    SessionLeft,
    SessionStarted,
    SessionTicket,
    SessionTransferred,
    SessionTransferredToYou,
    TranscriptLine,
)
from bot.store.db import session_scope
from bot.store.models import (
    HelpRequest,
    LiveSession,
    OperatorFocus,
    RelayLink,
    SessionMessage,
    Staff,
    User,
    ensure_user,
)
from bot.store.statuses import HelpRequestStatus, SessionOutcome, SessionStatus, TicketKind

MAX_RELAY = 4000
OPERATOR_OUTCOMES = (SessionOutcome.RESOLVED, SessionOutcome.UNRESOLVED)


@dataclass(frozen=True)
class LivePolicy:
    """Timers and options of the live desk."""

    queue_wait: timedelta = timedelta(minutes=10)
    idle_remind: timedelta = timedelta(minutes=5)
    idle_close: timedelta = timedelta(minutes=5)
    """After the reminder, this much more silence closes the session."""
    default_handling: timedelta = timedelta(minutes=6)
    auto_assign: bool = False
    staff_chat_id: int | None = None


@dataclass(frozen=True)
class QueueStatus:
    """A waiting user's place in the queue."""

    request_id: int
    position: int
    estimate: timedelta
    lang: str = "en"

    @property
    def minutes(self) -> int:
        """The estimate in whole minutes, at least 1."""
        return max(1, round(self.estimate.total_seconds() / 60))


@dataclass(frozen=True)
class SessionView:
    """A live session as the front ends need it."""

    id: int
    user_id: int
    operator_id: int
    operator_name: str
    status: SessionStatus
    lang: Lang
    user_name: str = ""


@dataclass(frozen=True)
class Closed:
    """The desk is closed; it opens again at ``opens``."""

    opens: datetime


def _lang(value: str | None) -> Lang:
    return "zh" if value == "zh" else "en"


def _session_id(row: LiveSession) -> int:
    """The id of a session row that has been flushed (always, once loaded)."""
    assert row.id is not None
    return row.id


LIVE_ROLE = (
    select(func.max(case((col(LiveSession.operator_id) == bindparam("user_id"), 2), else_=1)))
    .where(
        LiveSession.status == SessionStatus.ACTIVE,
        or_(col(LiveSession.operator_id) == bindparam("user_id"), col(LiveSession.user_id) == bindparam("user_id")),
    )
    .scalar_subquery()
)
"""2 when the user runs an active live session, 1 when they are served in one, else NULL."""
LIVE_ROLES = {2: "operator", 1: "user"}
_CHAT_ROLE = select(LIVE_ROLE)


class LiveDesk:
    """The live desk's use cases."""

    def __init__(
        self,
        engine: Engine,
        staff: StaffRegistry,
        helpdesk: Helpdesk,
        tickets: TicketDesk,
        hours: DeskHours,
        policy: LivePolicy | None = None,
    ) -> None:
        self.engine = engine
        self.staff = staff
        self.helpdesk = helpdesk
        self.tickets = tickets
        self.hours = hours
        self.policy = policy or LivePolicy()

    # ----- helpers -----------------------------------------------------------------------
    def _session_view(self, session: Session, row: LiveSession) -> SessionView:
        assert row.id is not None
        operator = session.get(Staff, row.operator_id)
        request = session.get(HelpRequest, row.request_id)
        user = session.get(User, row.user_id)
        return SessionView(
            row.id,
            row.user_id,
            row.operator_id,
            operator.name if operator else "",
            SessionStatus(row.status),
            _lang(request.lang if request else None),
            user.display_name if user else "",
        )

    def _checked_in(self, session: Session) -> list[Staff]:
        return list(session.exec(select(Staff).where(Staff.active == True, Staff.checked_in == True)).all())  # noqa: E712

    def _average_handling(self, session: Session) -> timedelta:
        rows = session.exec(
            select(LiveSession)
            .where(LiveSession.status == SessionStatus.ENDED)
            .order_by(col(LiveSession.id).desc())
            .limit(20)
        ).all()
        spans = [r.ended_at - r.started_at for r in rows if r.ended_at is not None]
        return sum(spans, timedelta()) / len(spans) if spans else self.policy.default_handling

    def _status(self, session: Session, request: HelpRequest) -> QueueStatus:
        assert request.id is not None
        # Queue order is arrival time (a user handed back keeps theirs), then id.
        ahead = session.exec(
            select(func.count())
            .select_from(HelpRequest)
            .where(
                HelpRequest.status == HelpRequestStatus.WAITING,
                or_(
                    col(HelpRequest.created_at) < request.created_at,
                    and_(col(HelpRequest.created_at) == request.created_at, col(HelpRequest.id) < request.id),
                ),
            )
        ).one()
        position = int(ahead) + 1
        operators = max(1, len(self._checked_in(session)))
        estimate = self._average_handling(session) * math.ceil(position / operators)
        return QueueStatus(request.id, position, estimate, request.lang or "en")

    def _queue(self, session: Session) -> list[tuple[HelpRequest, QueueStatus]]:
        """Everyone waiting, in order, with their status (a constant number of queries)."""
        rows = session.exec(
            select(HelpRequest)
            .where(HelpRequest.status == HelpRequestStatus.WAITING)
            .order_by(col(HelpRequest.created_at), col(HelpRequest.id))
        ).all()
        operators = max(1, len(self._checked_in(session)))
        average = self._average_handling(session)
        out = []
        for index, request in enumerate(rows):
            assert request.id is not None
            position = index + 1
            out.append(
                (
                    request,
                    QueueStatus(request.id, position, average * math.ceil(position / operators), request.lang or "en"),
                )
            )
        return out

    def _position_notices(self) -> list[Notice]:
        """Tell every waiting user whose place changed.

        Runs in its own short transaction after the change that moved the queue has committed. The rows
        to change are locked in id order first (PostgreSQL; SQLite has one writer anyway), then one
        conditional UPDATE … RETURNING marks them: concurrent claims never deadlock, and each change
        is told once even when two claims announce at the same moment.
        """
        with session_scope(self.engine) as session:
            changed = {
                request.id: status
                for request, status in self._queue(session)
                if status.position != request.position_told
            }
            if not changed:
                return []
            ids = sorted(i for i in changed if i is not None)
            session.execute(
                select(HelpRequest.id)
                .where(col(HelpRequest.id).in_(ids))
                .order_by(col(HelpRequest.id))
                .with_for_update()
            )
            new_position = case({i: changed[i].position for i in ids}, value=col(HelpRequest.id))
            rows = session.execute(
                update(HelpRequest)
                .where(
                    col(HelpRequest.id).in_(ids),
                    col(HelpRequest.status) == HelpRequestStatus.WAITING,
                    or_(col(HelpRequest.position_told).is_(None), col(HelpRequest.position_told) != new_position),
                )
                .values(position_told=new_position)
                .returning(col(HelpRequest.id), col(HelpRequest.user_id))
            ).all()
        return [
            QueuePosition(user_id, changed[request_id].position, changed[request_id].minutes)
            for request_id, user_id in sorted(rows, key=lambda r: changed[r[0]].position)
        ]

    def _active_session_row(self, session: Session, user_id: int) -> LiveSession | None:
        return session.exec(
            select(LiveSession).where(LiveSession.user_id == user_id, LiveSession.status == SessionStatus.ACTIVE)
        ).first()

    def _dispatch_notices(self, session: Session, request: HelpRequest, only: int | None = None) -> list[Notice]:
        """Offer a waiting user to every checked-in operator (and the staff chat), or to operator *only*,
        with their context."""
        assert request.id is not None
        history = tuple(
            PastQuestion(q.text[:200], q.decision, q.entry_id or q.chosen_entry)
            for q in self.helpdesk.recent_questions(request.user_id, session=session)
        )
        user = session.get(User, request.user_id)
        name = user.display_name if user else ""
        if only is not None:
            targets = [only]
        else:
            targets = [s.user_id for s in self._checked_in(session)]
            if self.policy.staff_chat_id is not None:
                targets.append(self.policy.staff_chat_id)
        return [
            QueueNew(target, request.id, request.lang, request.role, request.user_id, name, history)
            for target in targets
        ]

    # ----- presence ----------------------------------------------------------------------
    def check_in(self, operator_id: int, now: datetime) -> tuple[bool, list[Notice]]:
        """签入. Returns whether it changed anything, and the waiting users offered to this operator."""
        self.staff.require(operator_id)
        with session_scope(self.engine) as session:
            row = session.get(Staff, operator_id)
            assert row is not None
            changed = not row.checked_in
            row.checked_in, row.checked_in_at = True, now
            audit(session, operator_id, "check_in", now)
            session.flush()
            waiting = session.exec(
                select(HelpRequest)
                .where(HelpRequest.status == HelpRequestStatus.WAITING)
                .order_by(col(HelpRequest.created_at), col(HelpRequest.id))
            ).all()
            notices = []
            for request in waiting:
                notices += self._dispatch_notices(session, request, only=operator_id)
            return changed, notices

    def check_out(self, operator_id: int, now: datetime) -> tuple[int, list[Notice]]:
        """签出. The operator's live sessions go back to the queue (front); their users are told."""
        self.staff.require(operator_id)
        notices: list[Notice] = []
        with session_scope(self.engine) as session:
            row = session.get(Staff, operator_id)
            assert row is not None
            row.checked_in = False
            live = session.exec(
                select(LiveSession).where(
                    LiveSession.operator_id == operator_id, LiveSession.status == SessionStatus.ACTIVE
                )
            ).all()
            for live_row in live:
                live_row.status, live_row.outcome = SessionStatus.ENDED, SessionOutcome.HANDED_BACK
                live_row.ended_at = now
                request = session.get(HelpRequest, live_row.request_id)
                assert request is not None
                # Back in the queue ahead of everyone who came later: a new row keeps its original time.
                again = HelpRequest(
                    user_id=request.user_id,
                    status=HelpRequestStatus.WAITING,
                    lang=request.lang,
                    role=request.role,
                    created_at=request.created_at,
                )
                session.add(again)
                session.flush()
                notices.append(HandedBack(request.user_id))
                notices += self._dispatch_notices(session, again)
            focus = session.get(OperatorFocus, operator_id)
            if focus is not None:
                session.delete(focus)
            audit(session, operator_id, "check_out", now, detail=f"{len(live)} sessions handed back")
        return len(live), notices + self._position_notices()

    def operators_online(self) -> list[tuple[int, str, int]]:
        """(id, name, live sessions) of checked-in operators, least busy first."""
        with session_scope(self.engine) as session:
            out = []
            for s in self._checked_in(session):
                busy = session.exec(
                    select(func.count())
                    .select_from(LiveSession)
                    .where(LiveSession.operator_id == s.user_id, LiveSession.status == SessionStatus.ACTIVE)
                ).one()
                out.append((s.user_id, s.name, int(busy)))
            return sorted(out, key=lambda o: (o[2], o[1]))

    # ----- the queue ---------------------------------------------------------------------
    def request(
        self, user_id: int, lang: Lang, role: str | None, now: datetime
    ) -> tuple[QueueStatus | SessionView | Closed, list[Notice]]:
        """/human: queue the user (or say when the desk opens, or that they are already served)."""
        with session_scope(self.engine) as session:
            live = self._active_session_row(session, user_id)
            if live is not None:
                return self._session_view(session, live), []
            waiting = session.exec(
                select(HelpRequest).where(
                    HelpRequest.user_id == user_id, HelpRequest.status == HelpRequestStatus.WAITING
                )
            ).first()
            if waiting is not None:
                return self._status(session, waiting), []
        if not self.hours.is_open(now):
            return Closed(self.hours.next_opening(now)), []
        with session_scope(self.engine) as session:
            ensure_user(session, user_id, now)
            request = HelpRequest(
                user_id=user_id, status=HelpRequestStatus.WAITING, lang=lang, role=role, created_at=now
            )
            session.add(request)
            session.flush()
            status = self._status(session, request)
            request.position_told = status.position
            notices = self._dispatch_notices(session, request)
        if self.policy.auto_assign:
            online = self.operators_online()
            if online:
                try:
                    view, claim_notices = self.claim(online[0][0], status.request_id, now)
                    return view, claim_notices
                except Conflict:
                    pass
        return status, notices

    def queue_status(self, user_id: int) -> QueueStatus | None:
        """The user's place in the queue, if waiting."""
        with session_scope(self.engine) as session:
            waiting = session.exec(
                select(HelpRequest).where(
                    HelpRequest.user_id == user_id, HelpRequest.status == HelpRequestStatus.WAITING
                )
            ).first()
            return None if waiting is None else self._status(session, waiting)

    def leave(
        self, user_id: int, now: datetime, status: HelpRequestStatus = HelpRequestStatus.CANCELLED
    ) -> tuple[bool, list[Notice]]:
        """The user leaves the queue (/cancel, or a ticket instead); others move up and are told."""
        with session_scope(self.engine) as session:
            rows = session.exec(
                select(HelpRequest).where(
                    HelpRequest.user_id == user_id, HelpRequest.status == HelpRequestStatus.WAITING
                )
            ).all()
            for row in rows:
                row.status = status
        return bool(rows), self._position_notices() if rows else []

    def waiting(self) -> list[QueueStatus]:
        """Everyone waiting, in order."""
        with session_scope(self.engine) as session:
            return [status for _request, status in self._queue(session)]

    def claim(self, operator_id: int, request_id: int, now: datetime) -> tuple[SessionView, list[Notice]]:
        """An operator takes a waiting user. Exactly one of several simultaneous claims wins;
        the others get ``Conflict(Reason.ALREADY_CLAIMED)``."""
        member = self.staff.require(operator_id)
        with session_scope(self.engine) as session:
            result = session.execute(
                update(HelpRequest)
                .where(col(HelpRequest.id) == request_id, col(HelpRequest.status) == HelpRequestStatus.WAITING)
                .values(status=HelpRequestStatus.CLAIMED, operator_id=operator_id, claimed_at=now)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                if session.get(HelpRequest, request_id) is None:
                    raise NotFound(Reason.REQUEST)
                raise Conflict(Reason.ALREADY_CLAIMED)
            request = session.get(HelpRequest, request_id)
            assert request is not None
            session.refresh(request)
            live = LiveSession(
                request_id=request_id,
                user_id=request.user_id,
                operator_id=operator_id,
                status=SessionStatus.ACTIVE,
                started_at=now,
                last_activity_at=now,
            )
            session.add(live)
            session.flush()
            assert live.id is not None
            self._focus(session, operator_id, live.id)
            audit(session, operator_id, "claim", now, detail=f"request {request_id}")
            notices: list[Notice] = [SessionStarted(request.user_id, member.name)]
            view = self._session_view(session, live)
        return view, notices + self._position_notices()

    # ----- sessions ----------------------------------------------------------------------
    def _focus(self, session: Session, operator_id: int, session_id: int) -> None:
        row = session.get(OperatorFocus, operator_id)
        if row is None:
            session.add(OperatorFocus(operator_id=operator_id, session_id=session_id))
        else:
            row.session_id = session_id

    def focus(self, operator_id: int, session_id: int) -> SessionView:
        """Make *session_id* the session the operator's plain messages go to."""
        with session_scope(self.engine) as session:
            row = session.get(LiveSession, session_id)
            if row is None or row.operator_id != operator_id or row.status != SessionStatus.ACTIVE:
                raise NotFound(Reason.SESSION)
            self._focus(session, operator_id, session_id)
            return self._session_view(session, row)

    def chat_role(self, user_id: int, connection: Connection | None = None) -> str | None:
        """ "operator" when *user_id* runs a live session, "user" when they are served in one, else None.

        One query: every incoming message asks this to route it (relay or question).
        """
        if connection is None:
            with self.engine.connect() as own:
                return self.chat_role(user_id, own)
        return LIVE_ROLES.get(connection.execute(_CHAT_ROLE, {"user_id": user_id}).scalar() or 0)

    def current_session(self, operator_id: int, reply_to: tuple[int, int] | None = None) -> SessionView:
        """The session an operator's next message goes to (the one replied to, else their focus)."""
        with session_scope(self.engine) as session:
            return self._session_view(session, self._operator_session(session, operator_id, None, reply_to))

    def operator_sessions(self, operator_id: int) -> list[SessionView]:
        """The operator's live sessions."""
        with session_scope(self.engine) as session:
            rows = session.exec(
                select(LiveSession).where(
                    LiveSession.operator_id == operator_id, LiveSession.status == SessionStatus.ACTIVE
                )
            ).all()
            return [self._session_view(session, r) for r in rows]

    def _operator_session(
        self, session: Session, operator_id: int, session_id: int | None, reply_to: tuple[int, int] | None = None
    ) -> LiveSession:
        """The session an operator means: explicit id, the relayed message they replied to, or their focus."""
        if session_id is None and reply_to is not None:
            link = session.get(RelayLink, reply_to)
            session_id = link.session_id if link is not None else None
        if session_id is None:
            focus = session.get(OperatorFocus, operator_id)
            session_id = focus.session_id if focus is not None else None
        row = session.get(LiveSession, session_id) if session_id is not None else None
        if row is None or row.operator_id != operator_id or row.status != SessionStatus.ACTIVE:
            raise NotFound(Reason.SESSION)
        return row

    def link(self, chat_id: int, message_id: int, session_id: int) -> None:
        """Remember that the bot showed message *message_id* in *chat_id* for *session_id*."""
        with session_scope(self.engine) as session:
            if session.get(RelayLink, (chat_id, message_id)) is None:
                session.add(RelayLink(chat_id=chat_id, message_id=message_id, session_id=session_id))

    def _record(
        self,
        session: Session,
        row: LiveSession,
        sender: str,
        text: str,
        file_id: str | None,
        file_kind: str | None,
        now: datetime,
    ) -> None:
        text = strip_control(text).strip()
        if len(text) > MAX_RELAY:
            raise InvalidInput(Reason.TOO_LONG, limit=MAX_RELAY, length=len(text))
        if not text and not file_id:
            raise InvalidInput(Reason.EMPTY)
        assert row.id is not None
        session.add(
            SessionMessage(
                session_id=row.id, sender=sender, text=text, file_id=file_id, file_kind=file_kind, created_at=now
            )
        )
        row.last_activity_at, row.reminded_at = now, None

    def user_says(
        self, user_id: int, text: str, now: datetime, file_id: str | None = None, file_kind: str | None = None
    ) -> SessionView:
        """A user's message in their session (the caller relays it to ``operator_id``)."""
        with session_scope(self.engine) as session:
            row = self._active_session_row(session, user_id)
            if row is None:
                raise NotFound(Reason.SESSION)
            self._record(session, row, "user", text, file_id, file_kind, now)
            return self._session_view(session, row)

    def operator_says(
        self,
        operator_id: int,
        text: str,
        now: datetime,
        file_id: str | None = None,
        file_kind: str | None = None,
        session_id: int | None = None,
        reply_to: tuple[int, int] | None = None,
    ) -> SessionView:
        """An operator's message (the caller relays it to ``user_id`` under the operator's display name)."""
        self.staff.require(operator_id)
        with session_scope(self.engine) as session:
            row = self._operator_session(session, operator_id, session_id, reply_to)
            self._record(session, row, "operator", text, file_id, file_kind, now)
            return self._session_view(session, row)

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
            row = self._operator_session(session, operator_id, session_id, reply_to)
            row.status, row.ended_at, row.outcome = SessionStatus.ENDED, now, SessionOutcome(outcome)
            audit(session, operator_id, "end_session", now, detail=f"session {row.id}: {outcome}")
            self._refocus(session, operator_id)
            view = self._session_view(session, row)
            return view, [SessionEnded(row.user_id, _session_id(row), outcome)]

    def _refocus(self, session: Session, operator_id: int) -> None:
        focus = session.get(OperatorFocus, operator_id)
        other = session.exec(
            select(LiveSession).where(
                LiveSession.operator_id == operator_id, LiveSession.status == SessionStatus.ACTIVE
            )
        ).first()
        if other is not None and other.id is not None:
            self._focus(session, operator_id, other.id)
        elif focus is not None:
            session.delete(focus)

    def transfer(
        self, operator_id: int, to_operator: int, now: datetime, session_id: int | None = None
    ) -> tuple[SessionView, list[Notice]]:
        """Hand the session to another checked-in operator (who gets the user's context)."""
        target = self.staff.get(to_operator)
        if target is None or not target.checked_in:
            raise NotFound(Reason.OPERATOR)
        if to_operator == operator_id:
            raise InvalidInput(Reason.SAME_OPERATOR)
        self.staff.require(operator_id)
        with session_scope(self.engine) as session:
            row = self._operator_session(session, operator_id, session_id)
            assert row.id is not None
            row.operator_id, row.last_activity_at, row.reminded_at = to_operator, now, None
            self._refocus(session, operator_id)
            self._focus(session, to_operator, row.id)
            audit(session, operator_id, "transfer", now, detail=f"session {row.id} to {to_operator}")
            view = self._session_view(session, row)
            request = session.get(HelpRequest, row.request_id)
            history = tuple(
                PastQuestion(q.text[:200], q.decision, q.entry_id)
                for q in self.helpdesk.recent_questions(row.user_id, session=session)
            )
            messages = session.exec(
                select(SessionMessage)
                .where(SessionMessage.session_id == row.id)
                .order_by(col(SessionMessage.id).desc())
                .limit(10)
            ).all()
            transcript = tuple(TranscriptLine(m.sender, m.text[:300]) for m in reversed(messages))
            lang = request.lang if request else "en"
            notices: list[Notice] = [
                SessionTransferredToYou(to_operator, row.id, row.user_id, lang, history, transcript),
                SessionTransferred(row.user_id, target.name),
            ]
            return view, notices

    def to_ticket(
        self, operator_id: int, now: datetime, session_id: int | None = None
    ) -> tuple[TicketView, list[Notice]]:
        """Turn the conversation into a help-request ticket (assigned to the operator) and end the session."""
        self.staff.require(operator_id)
        with session_scope(self.engine) as session:
            row = self._operator_session(session, operator_id, session_id)
            messages = session.exec(
                select(SessionMessage).where(SessionMessage.session_id == row.id).order_by(col(SessionMessage.id))
            ).all()
            request = session.get(HelpRequest, row.request_id)
            lang = _lang(request.lang if request else None)
            lines = [f"[{m.sender}] {m.text}" + (f" ({m.file_kind})" if m.file_id else "") for m in messages]
            description = f"Live chat #{row.id}\n" + "\n".join(lines)[-3800:]  # the latest part if very long
            row.status, row.ended_at, row.outcome = SessionStatus.ENDED, now, SessionOutcome.TICKET
            self._refocus(session, operator_id)
            session_id_done, user_id = _session_id(row), row.user_id
        ticket = self.tickets.create(user_id, TicketKind.HELP, description, lang, now, origin="live")
        ticket = self.tickets.take(operator_id, ticket.id, now)
        return ticket, [SessionTicket(user_id, ticket.number, session_id_done)]

    def user_ends(self, user_id: int, now: datetime) -> tuple[SessionView, list[Notice]]:
        """The user ends their own session (/cancel); the operator is told, the user asked for a rating."""
        with session_scope(self.engine) as session:
            row = self._active_session_row(session, user_id)
            if row is None:
                raise NotFound(Reason.SESSION)
            row.status, row.ended_at, row.outcome = SessionStatus.ENDED, now, SessionOutcome.RESOLVED
            self._refocus(session, row.operator_id)
            view = self._session_view(session, row)
            session_id = _session_id(row)
            return view, [
                SessionLeft(row.operator_id, session_id),
                SessionEnded(user_id, session_id, SessionOutcome.RESOLVED),
            ]

    # ----- timers ------------------------------------------------------------------------
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
                minutes = max(1, round(p.idle_close.total_seconds() / 60))
                notices.append(SessionIdle(row.user_id, _session_id(row), minutes))
                notices.append(SessionIdleOperator(row.operator_id, _session_id(row)))
            to_close = session.exec(
                select(LiveSession).where(
                    LiveSession.status == SessionStatus.ACTIVE,
                    col(LiveSession.reminded_at).is_not(None),
                    col(LiveSession.reminded_at) <= now - p.idle_close,
                )
            ).all()
            for row in to_close:
                row.status, row.ended_at, row.outcome = SessionStatus.ENDED, now, SessionOutcome.NO_REPLY
                self._refocus(session, row.operator_id)
                notices.append(SessionEnded(row.user_id, _session_id(row), SessionOutcome.NO_REPLY))
                notices.append(SessionAutoClosed(row.operator_id, _session_id(row)))
        return notices


def session_rateable(session: Session, session_id: int, user_id: int) -> bool:
    """A session may be rated by its user once it has ended (the ratings' owner check)."""
    row = session.get(LiveSession, session_id)
    return row is not None and row.user_id == user_id and row.status == SessionStatus.ENDED
