"""The live desk's queue: users asking for a person (or leaving), their places and estimated waits, the
offers to operators, claims, and operators checking in and out (or being removed from the staff: their
live chats are handed back just as at 签出).

Claims are atomic: a conditional UPDATE on the queue row lets exactly one operator win, on SQLite and
PostgreSQL alike. A claim starts the session (``bot.desk.live.sessions`` carries it on).

The offers ("cards", a ``QueueNew`` with its Claim button) are remembered as they are sent
(``remember_card``), so that once their request stops waiting — taken, the user left the queue, a ticket
instead — each is edited once to say so (``settle_cards``): nobody presses Claim on a user who is gone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, delete, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.answering.helpdesk import Helpdesk
from bot.answering.text import Lang
from bot.desk.flows import USER_FLOWS
from bot.desk.hours import DeskHours
from bot.desk.live.shared import (
    Closed,
    LivePolicy,
    QueueStatus,
    SessionView,
    active_session,
    checked_in,
    operator_live,
    past_questions,
    session_view,
    set_focus,
)
from bot.desk.staff import StaffRegistry, StaffView, audit, remove_member
from bot.errors import Conflict, NotAllowed, NotFound, Reason
from bot.notices import HandedBack, Notice, PastQuestion, QueueNew, QueuePosition, SessionStarted
from bot.store.db import session_scope
from bot.store.models import Flow, HelpRequest, LiveSession, OperatorFocus, QueueCard, Staff, User, ensure_user
from bot.store.statuses import HelpRequestStatus, SessionOutcome, SessionStatus

WAITING = (
    select(HelpRequest)
    .where(HelpRequest.status == HelpRequestStatus.WAITING)
    .order_by(col(HelpRequest.created_at), col(HelpRequest.id))
)
"""Everyone waiting, in queue order: arrival time (a user handed back keeps theirs), then id."""
CARD_KEPT = timedelta(days=30)
"""Cards older than this are forgotten (never edited): longer than anyone waits, even over Spring Festival."""


@dataclass(frozen=True)
class RequestState:
    """Where a help request stands (for a Claim that could not be granted)."""

    request_id: int
    user_id: int
    status: HelpRequestStatus
    operator_id: int | None
    operator: str
    """Who took the user (``claimed``: their id and name), else None and empty."""


@dataclass(frozen=True)
class CardView:
    """A card (a "user waiting" offer) whose request no longer waits, to be edited to say what became of it."""

    chat_id: int
    message_id: int
    request_id: int
    status: HelpRequestStatus
    """``claimed``, ``cancelled`` (the user left the queue) or ``ticket`` (a message left instead)."""
    operator: str
    """Who took the user (``claimed``), else empty."""
    name: str
    lang: str
    role: str | None
    history: tuple[PastQuestion, ...]


@dataclass(frozen=True)
class SettledCards:
    """The cards to edit now (each handed out once), and whether the message a button was pressed on is a card."""

    cards: tuple[CardView, ...]
    pressed_is_card: bool = False


def requeue(session: Session, live_row: LiveSession, now: datetime) -> HelpRequest:
    """End the live session *live_row* as handed back and queue its user again, ahead of everyone who came
    later (the new request keeps the original time). In the caller's transaction; nobody is told here."""
    live_row.status, live_row.outcome = SessionStatus.ENDED, SessionOutcome.HANDED_BACK
    live_row.ended_at = now
    request = session.get(HelpRequest, live_row.request_id)
    assert request is not None
    row = HelpRequest(
        user_id=request.user_id,
        status=HelpRequestStatus.WAITING,
        lang=request.lang,
        role=request.role,
        created_at=request.created_at,
    )
    session.add(row)
    return row


def hand_back(session: Session, operator_id: int, now: datetime) -> list[HelpRequest]:
    """End the operator's live sessions as handed back and queue their users again (``requeue``); the
    operator's focus goes. In the caller's transaction; returns the new waiting requests (nobody is told
    here: see ``LiveQueue``)."""
    again = [requeue(session, live_row, now) for live_row in session.exec(operator_live(operator_id)).all()]
    session.flush()
    focus = session.get(OperatorFocus, operator_id)
    if focus is not None:
        session.delete(focus)
    return again


def remove_operator(
    session: Session, user_id: int, now: datetime, actor_id: int | None = None
) -> tuple[StaffView, list[HelpRequest]]:
    """Remove a member of staff (``remove_member``: their row locked first, so a claim at the same moment
    waits and is then refused) and hand their live chats back (``hand_back``), in the caller's transaction.
    Without a front end to tell anyone (the command line), this is all of it."""
    member = remove_member(session, user_id, now, actor_id)
    again = hand_back(session, user_id, now)
    if again:
        audit(session, actor_id or 0, "hand_back", now, detail=f"{len(again)} sessions of {user_id}")
    return member, again


def live_chats(session: Session, operator_id: int) -> int:
    """How many live sessions the operator runs."""
    return len(session.exec(operator_live(operator_id)).all())


class LiveQueue:
    """The queue for a person and the operators' presence: request, leave, claim, check in and out."""

    def __init__(
        self,
        engine: Engine,
        staff: StaffRegistry,
        helpdesk: Helpdesk,
        hours: DeskHours,
        policy: LivePolicy | None = None,
    ) -> None:
        self.engine = engine
        self.staff = staff
        self.helpdesk = helpdesk
        self.hours = hours
        self.policy = policy or LivePolicy()

    # ----- helpers -----------------------------------------------------------------------
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
        operators = max(1, len(checked_in(session)))
        estimate = self._average_handling(session) * math.ceil(position / operators)
        return QueueStatus(request.id, position, estimate, request.lang or "en")

    def _queue(self, session: Session) -> list[tuple[HelpRequest, QueueStatus]]:
        """Everyone waiting, in order, with their status (a constant number of queries)."""
        rows = session.exec(WAITING).all()
        operators = max(1, len(checked_in(session)))
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

    def _dispatch_notices(self, session: Session, request: HelpRequest, only: int | None = None) -> list[Notice]:
        """Offer a waiting user to every checked-in operator (and the staff chat), or to operator *only*,
        with their context."""
        assert request.id is not None
        history = past_questions(self.helpdesk, session, request.user_id, with_chosen=True)
        user = session.get(User, request.user_id)
        name = user.display_name if user else ""
        if only is not None:
            targets = [only]
        else:
            targets = [s.user_id for s in checked_in(session)]
            if self.policy.staff_chat_id is not None:
                targets.append(self.policy.staff_chat_id)
        return [
            QueueNew(target, request.id, request.lang, request.role, request.user_id, name, history)
            for target in targets
        ]

    def _card_views(self, session: Session, cards: list[tuple[int, int, int]]) -> tuple[CardView, ...]:
        """The cards (chat, message, request) as they are to be shown now, their requests read once each."""
        views: list[CardView] = []
        known: dict[int, tuple[HelpRequest, str, str, tuple[PastQuestion, ...]]] = {}
        for chat_id, message_id, request_id in cards:
            if request_id not in known:
                request = session.get(HelpRequest, request_id)
                assert request is not None
                user = session.get(User, request.user_id)
                operator = session.get(Staff, request.operator_id) if request.operator_id is not None else None
                history = past_questions(self.helpdesk, session, request.user_id, with_chosen=True)
                known[request_id] = (
                    request,
                    user.display_name if user else "",
                    operator.name if operator else "",
                    history,
                )
            request, name, operator_name, history = known[request_id]
            views.append(
                CardView(
                    chat_id,
                    message_id,
                    request_id,
                    HelpRequestStatus(request.status),
                    operator_name,
                    name,
                    request.lang,
                    request.role,
                    history,
                )
            )
        return tuple(views)

    def _waiting_row(self, session: Session, user_id: int) -> HelpRequest | None:
        return session.exec(
            select(HelpRequest).where(HelpRequest.user_id == user_id, HelpRequest.status == HelpRequestStatus.WAITING)
        ).first()

    # ----- the cards (offers with a Claim button) --------------------------------------------
    def remember_card(self, chat_id: int, message_id: int, request_id: int, now: datetime) -> tuple[CardView, ...]:
        """Remember that the card for *request_id* was sent as *message_id* in *chat_id*. If the request stopped
        waiting while the card was on its way, the card is returned, to be edited at once.

        The request's row is locked first (PostgreSQL), so a claim or a leave at the same moment either sees
        this card (and settles it) or has committed before it is read here."""
        with session_scope(self.engine) as session:
            session.execute(delete(QueueCard).where(col(QueueCard.created_at) < now - CARD_KEPT))
            request = session.get(HelpRequest, request_id, with_for_update=True)
            if request is None or session.get(QueueCard, (chat_id, message_id)) is not None:
                return ()
            stale = request.status != HelpRequestStatus.WAITING
            session.add(
                QueueCard(chat_id=chat_id, message_id=message_id, request_id=request_id, settled=stale, created_at=now)
            )
            return self._card_views(session, [(chat_id, message_id, request_id)]) if stale else ()

    def settle_cards(self, user_id: int, pressed: tuple[int, int] | None = None) -> SettledCards:
        """The cards of *user_id*'s requests that no longer wait and still show a Claim button, each handed out
        once (a conditional UPDATE: two callers at the same moment never both edit one); and whether *pressed*
        (chat, message) is a card at all."""
        with session_scope(self.engine) as session:
            done = select(HelpRequest.id).where(
                HelpRequest.user_id == user_id, HelpRequest.status != HelpRequestStatus.WAITING
            )
            rows = session.execute(
                update(QueueCard)
                .where(col(QueueCard.request_id).in_(done), col(QueueCard.settled) == False)  # noqa: E712
                .values(settled=True)
                .returning(col(QueueCard.chat_id), col(QueueCard.message_id), col(QueueCard.request_id))
            ).all()
            cards = self._card_views(session, sorted((c, m, r) for c, m, r in rows))
            is_card = pressed is not None and session.get(QueueCard, pressed) is not None
            return SettledCards(cards, is_card)

    def request_state(self, request_id: int) -> RequestState | None:
        """Where help request *request_id* stands (None: there is no such request)."""
        with session_scope(self.engine) as session:
            request = session.get(HelpRequest, request_id)
            if request is None:
                return None
            operator = session.get(Staff, request.operator_id) if request.operator_id is not None else None
            status = HelpRequestStatus(request.status)
            name = operator.name if operator else ""
            return RequestState(request_id, request.user_id, status, request.operator_id, name)

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
            notices = []
            for request in session.exec(WAITING).all():
                notices += self._dispatch_notices(session, request, only=operator_id)
            return changed, notices

    def handed_back_notices(
        self, session: Session, requests: list[HelpRequest], unanswered: bool = False
    ) -> list[Notice]:
        """Each handed-back user is told (*unanswered*: their operator did not answer them in time); the
        checked-in operators (and the staff chat) are offered them."""
        notices: list[Notice] = []
        for request in requests:
            notices.append(HandedBack(request.user_id, unanswered))
            notices += self._dispatch_notices(session, request)
        return notices

    def closed_until(self, now: datetime) -> datetime | None:
        """When the desk opens next, if it is closed at *now* (None while it is open): users asking for a
        person meanwhile are offered to leave a message instead of being queued."""
        return None if self.hours.is_open(now) else self.hours.next_opening(now)

    def position_notices(self) -> list[Notice]:
        """Tell every waiting user whose place changed (see ``_position_notices``)."""
        return self._position_notices()

    def check_out(self, operator_id: int, now: datetime) -> tuple[int, list[Notice]]:
        """签出. The operator's live sessions go back to the queue (front); their users are told."""
        self.staff.require(operator_id)
        with session_scope(self.engine) as session:
            row = session.get(Staff, operator_id)
            assert row is not None
            row.checked_in = False
            again = hand_back(session, operator_id, now)
            notices = self.handed_back_notices(session, again)
            audit(session, operator_id, "check_out", now, detail=f"{len(again)} sessions handed back")
        return len(again), notices + self._position_notices()

    def remove_staff(
        self, user_id: int, now: datetime, actor_id: int | None = None
    ) -> tuple[StaffView, int, list[Notice]]:
        """Remove a member of staff (*actor_id*: the supervisor; None: command line) and, in the same
        transaction, hand their live chats back to the front of the queue as 签出 does. Returns the member,
        how many chats went back, and the notices: the users told, the checked-in operators offered them."""
        with session_scope(self.engine) as session:
            member, again = remove_operator(session, user_id, now, actor_id)
            notices = self.handed_back_notices(session, again)
        return member, len(again), notices + self._position_notices()

    def operators_online(self) -> list[tuple[int, str, int]]:
        """(id, name, live sessions) of checked-in operators, least busy first."""
        with session_scope(self.engine) as session:
            busy: dict[int, int] = dict(
                session.exec(
                    select(LiveSession.operator_id, func.count())
                    .where(LiveSession.status == SessionStatus.ACTIVE)
                    .group_by(col(LiveSession.operator_id))
                ).all()
            )
            out = [(s.user_id, s.name, busy.get(s.user_id, 0)) for s in checked_in(session)]
            return sorted(out, key=lambda o: (o[2], o[1]))

    # ----- the queue ---------------------------------------------------------------------
    def request(
        self, user_id: int, lang: Lang, role: str | None, now: datetime
    ) -> tuple[QueueStatus | SessionView | Closed, list[Notice]]:
        """/human: queue the user (or say when the desk opens, or that they are already served)."""
        with session_scope(self.engine) as session:
            live = active_session(session, user_id)
            if live is not None:
                return session_view(session, live), []
            waiting = self._waiting_row(session, user_id)
            if waiting is not None:
                return self._status(session, waiting), []
        if not self.hours.is_open(now):
            return Closed(self.hours.next_opening(now)), []
        with session_scope(self.engine) as session:
            ensure_user(session, user_id, now)
            session.exec(delete(Flow).where(col(Flow.user_id) == user_id, col(Flow.name).in_(USER_FLOWS)))
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
            waiting = self._waiting_row(session, user_id)
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
            # Still staff? Their row locked (as removal locks it): removed meanwhile, the claim is undone.
            operator = session.get(Staff, operator_id, with_for_update=True)
            if operator is None or not operator.active:
                raise NotAllowed(Reason.STAFF_ONLY)
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
            set_focus(session, operator_id, live.id)
            audit(session, operator_id, "claim", now, detail=f"request {request_id}")
            notices: list[Notice] = [SessionStarted(request.user_id, member.name)]
            view = session_view(session, live)
        return view, notices + self._position_notices()
