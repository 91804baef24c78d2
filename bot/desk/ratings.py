"""好差评: one rating per service (a ticket or a live session), five levels, bad ones followed up.

Levels (国办发〔2019〕51号): 1 非常满意 very satisfied, 2 满意 satisfied, 3 基本满意 fairly satisfied,
4 不满意 dissatisfied, 5 非常不满意 very dissatisfied. Levels 4 and 5 are bad reviews: every one
alerts the supervisors for a call-back, and the user may add a comment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.desk.flows import FlowName, Flows, FlowState
from bot.desk.followups import FollowUps
from bot.desk.live.relay import transcript_tail
from bot.desk.staff import StaffRegistry
from bot.desk.tickets.common import checked_text
from bot.errors import Conflict, InvalidInput, NotFound, Reason
from bot.i18n import N_
from bot.notices import BadRating, Notice, TranscriptLine
from bot.store import limits
from bot.store.db import session_scope
from bot.store.models import FollowUp, HelpRequest, LiveSession, Rating, Ticket, User
from bot.store.statuses import TicketStatus

LEVEL_LABELS: Mapping[int, str] = {
    1: N_("Very satisfied (非常满意)"),
    2: N_("Satisfied (满意)"),
    3: N_("Fairly satisfied (基本满意)"),
    4: N_("Dissatisfied (不满意)"),
    5: N_("Very dissatisfied (非常不满意)"),
}
BAD_LEVELS = (4, 5)
ALERT_TRANSCRIPT = 10
"""How many of a live chat's last messages a bad-rating alert quotes (each at most 300 characters)."""
MAX_COMMENT = limits.RATING_COMMENT

OwnerCheck = Callable[[Session, int, int], bool]
"""(session, service_id, user_id) → may this user rate this service now?"""


@dataclass(frozen=True)
class RatingView:
    """A recorded rating."""

    id: int
    service: str
    service_id: int
    level: int
    comment: str | None

    @property
    def bad(self) -> bool:
        return self.level in BAD_LEVELS


def _ticket_closed_and_owned(session: Session, ticket_id: int, user_id: int) -> bool:
    ticket = session.get(Ticket, ticket_id)
    return ticket is not None and ticket.user_id == user_id and ticket.status == TicketStatus.CLOSED


class Ratings:
    """Recording ratings and alerting supervisors about bad ones."""

    def __init__(
        self,
        engine: Engine,
        staff: StaffRegistry,
        flows: Flows,
        owner_checks: Mapping[str, OwnerCheck] | None = None,
        followups: FollowUps | None = None,
    ) -> None:
        """Ratings of tickets, and of the further services named in *owner_checks* (service → who may rate);
        a bad one opens a follow-up in *followups* (回访)."""
        self.engine = engine
        self.followups = followups
        self.staff = staff
        self.flows = flows
        self.owner_checks: Mapping[str, OwnerCheck] = {"ticket": _ticket_closed_and_owned, **(owner_checks or {})}

    def rate(
        self, user_id: int, service: str, service_id: int, level: int, now: datetime
    ) -> tuple[RatingView, list[Notice]]:
        """Record the user's rating; a bad one starts the optional comment step and alerts supervisors."""
        if service not in self.owner_checks or level not in LEVEL_LABELS:
            raise InvalidInput(Reason.BAD_RATING)
        try:
            with session_scope(self.engine) as session:
                if not self.owner_checks[service](session, service_id, user_id):
                    raise NotFound(Reason.NOT_RATEABLE)
                exists = session.exec(
                    select(Rating).where(Rating.service == service, Rating.service_id == service_id)
                ).first()
                if exists is not None:
                    raise Conflict(Reason.ALREADY_RATED)
                row = Rating(service=service, service_id=service_id, user_id=user_id, level=level, created_at=now)
                session.add(row)
                session.flush()
                assert row.id is not None
                view = RatingView(row.id, service, service_id, level, None)
                if view.bad and self.followups is not None:  # with the rating, so never one without the other
                    self.followups.open_in(session, row, now)
        except IntegrityError as exc:  # two presses at once: the unique constraint keeps one
            raise Conflict(Reason.ALREADY_RATED) from exc
        notices: list[Notice] = []
        if view.bad:
            self.flows.set(user_id, FlowState(FlowName.RATING_COMMENT, "comment", {"rating": view.id}), now)
            notices = self._alert(view, user_id)
        return view, notices

    def _alert(self, view: RatingView, user_id: int) -> list[Notice]:
        """The bad-rating alert for each supervisor, with what a call-back needs: who the user is and how to
        reach them, and the ticket (number, contact) or the live chat's last messages."""
        with session_scope(self.engine) as session:
            user = session.get(User, user_id)
            name = user.display_name if user else ""
            lang, role = (user.lang or user.client_lang, user.role) if user else (None, None)
            contact = number = None
            lines: tuple[TranscriptLine, ...] = ()
            followup = session.exec(select(FollowUp).where(FollowUp.rating_id == view.id)).first()
            followup_id = followup.id if followup is not None else None
            if view.service == "ticket" and (ticket := session.get(Ticket, view.service_id)) is not None:
                contact, number, lang = ticket.contact, ticket.number, ticket.lang
            elif view.service == "session" and (chat := session.get(LiveSession, view.service_id)) is not None:
                request = session.get(HelpRequest, chat.request_id)
                lang = request.lang if request is not None else lang
                lines = transcript_tail(session, view.service_id, ALERT_TRANSCRIPT)
        return [
            BadRating(
                s.user_id,
                view.service,
                view.service_id,
                view.level,
                user_id,
                view.comment,
                view.id,
                name,
                lang,
                role,
                contact,
                number,
                lines,
                followup_id,
            )
            for s in self.staff.supervisors()
        ]

    def comment(self, user_id: int, text: str, now: datetime) -> tuple[RatingView, list[Notice]]:
        """The comment after a bad rating (ends the comment step); supervisors get it too."""
        state = self.flows.get(user_id)
        if state is None or state.name != FlowName.RATING_COMMENT:
            raise NotFound(Reason.RATING)
        text = checked_text(text, MAX_COMMENT, required=Reason.EMPTY)
        with session_scope(self.engine) as session:
            row = session.get(Rating, int(state.data.get("rating", 0)))
            if row is None or row.user_id != user_id:
                raise NotFound(Reason.RATING)
            row.comment = text
            assert row.id is not None
            view = RatingView(row.id, row.service, row.service_id, row.level, text)
        self.flows.clear(user_id)
        return view, self._alert(view, user_id)

    def skip_comment(self, user_id: int) -> None:
        """No comment after all."""
        state = self.flows.get(user_id)
        if state is not None and state.name == FlowName.RATING_COMMENT:
            self.flows.clear(user_id)

    def of(self, service: str, service_id: int) -> RatingView | None:
        """The rating of a service, if given."""
        with session_scope(self.engine) as session:
            row = session.exec(select(Rating).where(Rating.service == service, Rating.service_id == service_id)).first()
            if row is None or row.id is None:
                return None
            return RatingView(row.id, row.service, row.service_id, row.level, row.comment)
