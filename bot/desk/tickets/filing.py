"""Filing a ticket: the persisted flow a user goes through step by step (type, description, contact,
reference, confirmation; ``FlowName.TICKET``), and creating a ticket directly for other origins (a live
chat turned into a ticket, a message left instead of waiting)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.answering.text import Lang, has_content, strip_control
from bot.desk.flows import FilingStep, FlowName, Flows, FlowState
from bot.desk.tickets.common import KINDS, TicketPolicy, TicketView, checked_text, new_ticket_notices, view_of
from bot.desk.tickets.deadlines import TicketDeadlines
from bot.errors import InvalidInput, NotFound, Reason
from bot.i18n import SHANGHAI
from bot.notices import Notice
from bot.store import limits
from bot.store.db import session_scope
from bot.store.models import Ticket, ensure_user
from bot.store.statuses import TicketStatus

REFERENCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-/]{2,39}$")
"""At most 40 characters: within ``limits.REFERENCE``, the column's length (checked again below)."""
REFERENCE_LABEL = re.compile(
    r"^(?:[^\x00-\x7f]+|(?:(?:work|permit|application|app|card|reference|ref|number|num|no|nr|id)\b\.?\s*)+)?"
    r"[\s:#.\-]*",
    re.IGNORECASE,
)
"""A label typed before the number: Chinese (工作许可证号, 申请编号：) or English ("Permit No.", "No. ", "#")."""
SKIP_WORDS = frozenset({"skip", "跳过", "无", "没有", "none", "no", "n/a", "不用", "略过"})
"""Typed instead of pressing Skip at an optional step (compared without case, blanks and end punctuation)."""
RECENTLY_FILED = timedelta(minutes=10)
"""How long after filing a button of the finished filing (Submit pressed again) still shows the ticket."""


def validate_contact(text: str) -> str:
    """A phone number (E.164, Chinese numbers without +86 accepted) or an e-mail address, normalised;
    never longer than ``limits.CONTACT`` (the column), so a ticket with it can always be stored."""
    text = strip_control(text).strip()
    if len(text) > limits.CONTACT * 2:  # nothing that long can be either; spare the parsers
        raise InvalidInput(Reason.BAD_CONTACT)
    if "@" in text:
        try:
            address = validate_email(text, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise InvalidInput(Reason.BAD_CONTACT) from exc
        if len(address) > limits.CONTACT:
            raise InvalidInput(Reason.BAD_CONTACT)
        return address
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(Reason.BAD_CONTACT) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(Reason.BAD_CONTACT)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_reference(text: str) -> str:
    """An application or permit number: letters, digits, dashes, 3–40 characters. Typed as people type it,
    it is normalised first: full-width characters made ASCII, a label before it dropped ("工作许可证号
    912310000012345", "No. 9123 1000 0012 345") and the spaces inside taken out."""
    text = unicodedata.normalize("NFKC", strip_control(text)).strip()
    if len(text) > limits.REFERENCE * 2:  # nothing that long is a number with a label; spare the pattern
        raise InvalidInput(Reason.BAD_REFERENCE)
    text = "".join(REFERENCE_LABEL.sub("", text, count=1).split())
    if len(text) > limits.REFERENCE or not REFERENCE_RE.fullmatch(text):
        raise InvalidInput(Reason.BAD_REFERENCE)
    return text


def says_skip(text: str) -> bool:
    """Whether *text* is one of ``SKIP_WORDS`` (typed instead of pressing Skip)."""
    return strip_control(text).strip().strip(".!。！").strip().casefold() in SKIP_WORDS


@dataclass(frozen=True)
class Filing:
    """Where a user's ticket filing stands: the step it waits at and what was given so far."""

    step: str  # a FilingStep (bot.desk.flows)
    kind: str | None
    description: str | None
    contact: str | None
    reference: str | None

    @classmethod
    def of(cls, state: FlowState) -> Filing:
        d = state.data
        return cls(state.step, d.get("kind"), d.get("description"), d.get("contact"), d.get("reference"))


@dataclass(frozen=True)
class FilingStanding:
    """Where a user stands with filing: the filing in progress, else the ticket they just filed, else neither."""

    filing: Filing | None = None
    filed: TicketView | None = None


@dataclass(frozen=True)
class TicketFiling:
    """Filing tickets: the user's flow, and creating a ticket with its number and deadline."""

    engine: Engine
    flows: Flows
    deadlines: TicketDeadlines
    policy: TicketPolicy = field(default_factory=TicketPolicy)

    def start_filing(
        self, user_id: int, now: datetime, kind: str | None = None, description: str | None = None, origin: str = "bot"
    ) -> Filing:
        """Begin filing; with *kind* the type step is skipped, with *description* the text is prefilled."""
        data: dict[str, Any] = {"origin": origin}
        step = FilingStep.KIND
        if kind is not None:
            if kind not in KINDS:
                raise InvalidInput(Reason.UNKNOWN_KIND)
            data["kind"] = kind
            step = FilingStep.DESCRIPTION
        if description:
            data["description"] = self._check_description(description)
            step = FilingStep.CONTACT if kind else FilingStep.KIND
        return Filing.of(self.flows.set(user_id, FlowState(FlowName.TICKET, step, data), now))

    def current(self, user_id: int) -> Filing | None:
        """The user's filing in progress, or None."""
        state = self.flows.get(user_id)
        return Filing.of(state) if state is not None and state.name == FlowName.TICKET else None

    def standing(
        self, user_id: int, now: datetime, within: timedelta = RECENTLY_FILED, origin: str = "bot"
    ) -> FilingStanding:
        """The user's filing in progress; without one, their latest ticket filed through the flow started
        from *origin* no longer than *within* before *now* (a button of a filing that is already done)."""
        filing = self.current(user_id)
        if filing is not None:
            return FilingStanding(filing=filing)
        with session_scope(self.engine) as session:
            ticket = session.exec(
                select(Ticket)
                .where(Ticket.user_id == user_id, Ticket.origin == origin, col(Ticket.created_at) >= now - within)
                .order_by(col(Ticket.created_at).desc(), col(Ticket.id).desc())
                .limit(1)
            ).first()
            return FilingStanding(filed=view_of(ticket) if ticket is not None else None)

    def _require_filing(self, user_id: int) -> FlowState:
        state = self.flows.get(user_id)
        if state is None or state.name != FlowName.TICKET:
            raise NotFound(Reason.FILING)
        return state

    def _advance(self, user_id: int, state: FlowState, now: datetime, **changes: Any) -> Filing:
        data = {**state.data, **changes}
        for step in (FilingStep.KIND, FilingStep.DESCRIPTION, FilingStep.CONTACT, FilingStep.REFERENCE):
            if step not in data:
                return Filing.of(self.flows.set(user_id, FlowState(FlowName.TICKET, step, data), now))
        return Filing.of(self.flows.set(user_id, FlowState(FlowName.TICKET, FilingStep.CONFIRM, data), now))

    def choose_kind(self, user_id: int, kind: str, now: datetime) -> Filing:
        """The type button."""
        if kind not in KINDS:
            raise InvalidInput(Reason.UNKNOWN_KIND)
        state = self._require_filing(user_id)
        return self._advance(user_id, state, now, kind=kind)

    def _check_description(self, text: str) -> str:
        text = checked_text(text, self.policy.max_description)
        if not has_content(text) or len(text) < self.policy.min_description:
            raise InvalidInput(Reason.TOO_SHORT, minimum=self.policy.min_description)
        return text

    def give_text(self, user_id: int, text: str, now: datetime) -> Filing:
        """Typed text at the current step (description, contact or reference)."""
        state = self._require_filing(user_id)
        if state.step == FilingStep.DESCRIPTION:
            return self._advance(user_id, state, now, description=self._check_description(text))
        if state.step in (FilingStep.CONTACT, FilingStep.REFERENCE) and says_skip(text):
            return self._advance(user_id, state, now, **{state.step: None})  # "skip", "无"… typed, not pressed
        if state.step == FilingStep.CONTACT:
            return self._advance(user_id, state, now, contact=validate_contact(text))
        if state.step == FilingStep.REFERENCE:
            return self._advance(user_id, state, now, reference=validate_reference(text))
        raise InvalidInput(Reason.USE_BUTTONS, step=state.step)

    def skip(self, user_id: int, now: datetime) -> Filing:
        """Skip the optional contact or reference step."""
        state = self._require_filing(user_id)
        if state.step not in (FilingStep.CONTACT, FilingStep.REFERENCE):
            raise InvalidInput(Reason.CANNOT_SKIP, step=state.step)
        return self._advance(user_id, state, now, **{state.step: None})

    def submit(self, user_id: int, lang: Lang, now: datetime) -> tuple[TicketView, list[Notice]]:
        """Submit the filing: the ticket gets its number and due date; the flow ends; staff are told."""
        state = self._require_filing(user_id)
        filing = Filing.of(state)
        if state.step != FilingStep.CONFIRM or filing.kind is None or filing.description is None:
            raise InvalidInput(Reason.NOT_READY, step=state.step)
        view, notices = self.open_ticket(
            user_id,
            filing.kind,
            filing.description,
            lang,
            now,
            contact=filing.contact,
            reference=filing.reference,
            origin=str(state.data.get("origin", "bot")),
        )
        self.flows.clear(user_id)
        return view, notices

    def create(
        self,
        user_id: int,
        kind: str,
        description: str,
        lang: Lang,
        now: datetime,
        *,
        contact: str | None = None,
        reference: str | None = None,
        origin: str = "bot",
    ) -> TicketView:
        """Create a ticket (``open_ticket``) without telling staff (tests, imports)."""
        view, _notices = self.open_ticket(
            user_id, kind, description, lang, now, contact=contact, reference=reference, origin=origin
        )
        return view

    def open_ticket(
        self,
        user_id: int,
        kind: str,
        description: str,
        lang: Lang,
        now: datetime,
        *,
        contact: str | None = None,
        reference: str | None = None,
        origin: str = "bot",
        creator: int | None = None,
    ) -> tuple[TicketView, list[Notice]]:
        """Create a ticket directly (the filing flow, a live session turned into a ticket, a left message), and
        the notices telling staff it arrived (``new_ticket_notices``; not *creator*, who made it)."""
        if kind not in KINDS:
            raise InvalidInput(Reason.UNKNOWN_KIND)
        due = self.deadlines.due(kind, now, origin)
        with session_scope(self.engine) as session:
            ensure_user(session, user_id, now)
            ticket = Ticket(
                user_id=user_id,
                kind=kind,
                status=TicketStatus.NEW,
                description=description[: limits.DESCRIPTION],
                contact=contact,
                reference=reference,
                lang=lang,
                origin=origin,
                created_at=now,
                updated_at=now,
                due_at=due.at,
                due_provisional=due.provisional,
            )
            session.add(ticket)
            session.flush()
            ticket.number = f"T{now.astimezone(SHANGHAI):%y%m}-{ticket.id:04d}"
            skip = (user_id,) if creator is None else (user_id, creator)
            return view_of(ticket), new_ticket_notices(session, ticket, self.policy.staff_chat_id, skip)
