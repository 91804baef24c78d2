"""Database tables (SQLModel). Times are stored as UTC and read back timezone-aware.

Status-like columns hold the values of the ``StrEnum``s in ``bot.store.statuses`` (kept as plain strings here:
a member is its string, so the schema needs no enum type).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlmodel import Field, SQLModel

from bot.store import limits


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware time")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _time(**kwargs: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), **kwargs))


def _optional_text(length: int) -> Any:
    """A nullable text column that a new row leaves out unless it is given (an insert of a ``model_dump``, as
    ``Helpdesk.meet`` makes, names only what was set)."""
    return Field(sa_column=Column(String(length), nullable=True))


def _user_fk(nullable: bool = False, index: bool = True) -> Any:
    return Field(sa_column=Column(BigInteger, ForeignKey("user.id"), nullable=nullable, index=index))


class User(SQLModel, table=True):
    """A Telegram user of the helpdesk (applicant or employer contact; staff are users too)."""

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    display_name: str = Field(default="", max_length=limits.DISPLAY_NAME)
    lang: str | None = Field(default=None, max_length=2)
    client_lang: str | None = Field(default=None, max_length=2)
    """The language of the user's Telegram client (used until they choose one)."""
    role: str | None = Field(default=None, max_length=16)
    subscribed: bool = False
    blocked: bool = False
    first_source: str | None = _optional_text(limits.ENTRY_SOURCE)
    """The deep link (``/start SOURCE``) the user first came by: a window, a briefing, a poster (issue 16)."""
    last_source: str | None = _optional_text(limits.ENTRY_SOURCE)
    """The latest deep link the user came by (the first one until they use another)."""
    created_at: datetime = _time(nullable=False)
    updated_at: datetime = _time(nullable=False)
    erased_at: datetime | None = _time(nullable=True)
    """When the user's personal data was erased at their request (``bot.privacy.rights``); empty otherwise."""


class QuestionLog(SQLModel, table=True):
    """Every free-text question, what the engine decided, and what the user did with it.

    Entries opened by a button are logged too, so 👍/👎 under them is kept: ``decision`` is ``browse`` for
    /topics and ``related`` for a "see also" button (score 0; see ``bot.answering.helpdesk``).
    """

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _user_fk()
    text: str = Field(sa_column=Column(String(limits.QUESTION_TEXT), nullable=False))
    lang: str = Field(max_length=2)
    decision: str = Field(max_length=8)
    entry_id: str | None = Field(default=None, max_length=64)
    candidates: str = Field(default="", max_length=256)
    score: float = 0.0
    chosen_entry: str | None = Field(default=None, max_length=64)
    feedback: int | None = None
    created_at: datetime = _time(nullable=False, index=True)


class Staff(SQLModel, table=True):
    """A member of helpdesk staff: an operator or a supervisor (supervisors manage staff)."""

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    role: str = Field(max_length=16)  # StaffRole: operator | supervisor
    name: str = Field(max_length=limits.STAFF_NAME)
    active: bool = True
    checked_in: bool = False
    checked_in_at: datetime | None = _time(nullable=True)
    created_at: datetime = _time(nullable=False)


class Ticket(SQLModel, table=True):
    """A 12345-style ticket: enquiry, help request, suggestion, complaint or report."""

    id: int | None = Field(default=None, primary_key=True)
    number: str | None = Field(default=None, max_length=20, unique=True, index=True)
    user_id: int = _user_fk()
    kind: str = Field(max_length=16, index=True)  # TicketKind: enquiry | help | suggestion | complaint | report
    status: str = Field(max_length=16, index=True)  # TicketStatus: new | in_progress | answered | closed
    description: str = Field(sa_column=Column(String(limits.DESCRIPTION), nullable=False))
    contact: str | None = Field(default=None, max_length=limits.CONTACT)
    reference: str | None = Field(default=None, max_length=limits.REFERENCE)
    lang: str = Field(max_length=2)
    assignee_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True, index=True))
    resolution: str | None = Field(default=None, sa_column=Column(String(limits.RESOLUTION), nullable=True))
    origin: str = Field(default="bot", max_length=16)
    created_at: datetime = _time(nullable=False)
    updated_at: datetime = _time(nullable=False)
    due_at: datetime = _time(nullable=False, index=True)
    due_provisional: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    """Counted across a year whose official holiday schedule is not known yet (``bot.desk.workdays``)."""
    closed_at: datetime | None = _time(nullable=True)
    erased_at: datetime | None = _time(nullable=True)
    """When its texts, contact and files were erased and it was unlinked from its user (``bot.privacy``)."""


class TicketMessage(SQLModel, table=True):
    """A message on a ticket: from the user, a staff reply, or an internal note (never shown to users)."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    author_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    kind: str = Field(max_length=8)  # user | reply | note
    text: str = Field(default="", sa_column=Column(String(limits.MESSAGE), nullable=False, default=""))
    file_id: str | None = Field(default=None, max_length=limits.FILE_ID)
    file_kind: str | None = Field(default=None, max_length=16)  # photo | document
    file_name: str | None = Field(default=None, max_length=limits.FILE_NAME)
    created_at: datetime = _time(nullable=False)


class AuditLog(SQLModel, table=True):
    """Every staff action, who did it and when."""

    id: int | None = Field(default=None, primary_key=True)
    actor_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    action: str = Field(max_length=32)
    ticket_id: int | None = Field(default=None, index=True)
    detail: str = Field(default="", max_length=limits.AUDIT_DETAIL)
    created_at: datetime = _time(nullable=False)


class Rating(SQLModel, table=True):
    """A 好差评 rating: one per service (a ticket or a live session)."""

    __table_args__ = (UniqueConstraint("service", "service_id", name="one_rating_per_service"),)

    id: int | None = Field(default=None, primary_key=True)
    service: str = Field(max_length=8)  # ticket | session
    service_id: int
    user_id: int = _user_fk()
    level: int  # 1 very satisfied … 5 very dissatisfied
    comment: str | None = Field(default=None, max_length=limits.RATING_COMMENT)
    created_at: datetime = _time(nullable=False)


class Flow(SQLModel, table=True):
    """Where a user is in a multi-step conversation (filing a ticket, typing a reply…)."""

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    name: str = Field(max_length=32)
    step: str = Field(max_length=32)
    data: str = Field(default="{}", sa_column=Column(String(limits.FLOW_DATA), nullable=False, default="{}"))
    updated_at: datetime = _time(nullable=False)


class HelpRequest(SQLModel, table=True):
    """A user waiting for (or served by) a person: the live desk's queue."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _user_fk()
    status: str = Field(max_length=12, index=True)  # HelpRequestStatus: waiting | claimed | cancelled | ticket
    lang: str = Field(max_length=2)
    role: str | None = Field(default=None, max_length=16)
    operator_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = _time(nullable=False)
    claimed_at: datetime | None = _time(nullable=True)
    offered_ticket_at: datetime | None = _time(nullable=True)
    position_told: int = 0


class LiveSession(SQLModel, table=True):
    """A conversation between a user and an operator, relayed through the bot."""

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="helprequest.id", index=True)
    user_id: int = _user_fk()
    operator_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    status: str = Field(max_length=8, index=True)  # SessionStatus: active | ended
    started_at: datetime = _time(nullable=False)
    last_activity_at: datetime = _time(nullable=False)
    reminded_at: datetime | None = _time(nullable=True)
    ended_at: datetime | None = _time(nullable=True)
    outcome: str | None = Field(default=None, max_length=32)
    """A SessionOutcome: resolved | unresolved (an operator's /end; resolved also when the user ends it),
    ticket (/toticket), no_reply (idle timer), handed_back (check-out)."""
    erased_at: datetime | None = _time(nullable=True)
    """When its transcript was erased and it was unlinked from its user (``bot.privacy``)."""


class SessionMessage(SQLModel, table=True):
    """One relayed message of a live session (kept to turn a conversation into a ticket)."""

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="livesession.id", index=True)
    sender: str = Field(max_length=8)  # user | operator
    text: str = Field(default="", sa_column=Column(String(limits.SESSION_MESSAGE), nullable=False, default=""))
    file_id: str | None = Field(default=None, max_length=limits.FILE_ID)
    file_kind: str | None = Field(default=None, max_length=16)
    created_at: datetime = _time(nullable=False)


class RelayLink(SQLModel, table=True):
    """A message the bot showed an operator, and the session it belongs to (for replying to it)."""

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    message_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    session_id: int = Field(foreign_key="livesession.id")


class TicketLink(SQLModel, table=True):
    """A message the bot sent a ticket's owner about that ticket (a staff reply, the ticket's view…), so the
    owner's Telegram reply to it goes to that ticket (as ``RelayLink`` does for live chats)."""

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    message_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    ticket_id: int = Field(foreign_key="ticket.id")


class QueueCard(SQLModel, table=True):
    """A "user waiting" card the bot sent (a ``QueueNew`` offer with its Claim button, to an operator or the staff
    chat), so it can be edited once its request stops waiting: taken by whom, or the user left the queue."""

    chat_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    message_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    request_id: int = Field(foreign_key="helprequest.id", index=True)
    settled: bool = False
    """Edited already (or being edited): each card is edited once."""
    created_at: datetime = _time(nullable=False)


class OperatorFocus(SQLModel, table=True):
    """The session an operator's plain messages go to."""

    operator_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    session_id: int = Field(foreign_key="livesession.id")


class JobRun(SQLModel, table=True):
    """A piece of scheduled work done once for a period (e.g. a weekly reminder): it is never done twice,
    across restarts and instances, because a second insert of the same (job, period) fails."""

    job: str = Field(primary_key=True, max_length=32)
    period: str = Field(primary_key=True, max_length=32)
    done_at: datetime = _time(nullable=False)


class AlertSent(SQLModel, table=True):
    """A deadline alert or digest (``bot.desk.tickets.alerts``) or a monthly report (``bot.desk.reports.monthly``)
    decided: one row per (kind, subject), written in the transaction that decides it, so it is never decided twice
    across restarts and instances."""

    __table_args__ = (UniqueConstraint("kind", "subject", name="one_alert_per_subject"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    """``due_soon``, ``overdue``, ``digest`` or ``monthly_report``."""
    subject: str = Field(max_length=32)
    """A ticket's id and deadline day (``12:2026-05-06``), the digest's day (``2026-05-06``) or the report's month
    (``2026-04``)."""
    ticket_id: int | None = None
    recipients: str = Field(sa_column=Column(Text, nullable=False))
    """Their Telegram ids, comma-separated (for the record; the notices carry them)."""
    notices: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    """The notices to send (pickled, as the journal keeps core results)."""
    decided_at: datetime = _time(nullable=False)
    taken_at: datetime | None = _time(nullable=True, index=True)
    """When a bot took it to send; empty while a decision of ``python -m bot jobs run-due`` waits for the bot."""


class Work(SQLModel, table=True):
    """A unit of work the helpdesk must finish: an update from Telegram, or a run of a scheduled job.

    An update is recorded here when it is fetched, before Telegram is told it arrived, so an update in
    flight at a crash is handled after the restart; its key (``u:<update_id>``) makes a re-delivered update
    a no-op. ``done_at`` is set once everything the work owed was done; ``next_attempt_at`` once a send it
    owed could not be made yet (Telegram or the network failing), so it is resumed later. See
    ``bot.store.journal``.
    """

    key: str = Field(primary_key=True, max_length=80)
    kind: str = Field(max_length=16)
    """``update``, or ``job`` (a scheduled job's run; ``name`` says which)."""
    name: str | None = Field(default=None, max_length=40)
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True, index=True))
    payload: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """The update as Telegram sent it (JSON), to handle it again after a restart."""
    created_at: datetime = _time(nullable=False)
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    next_attempt_at: datetime | None = _time(nullable=True)
    done_at: datetime | None = _time(nullable=True, index=True)


class WorkStep(SQLModel, table=True):
    """One step of a work, done: a core call (its result) or a message sent (the messages, or the refusal).

    A step is recorded in the same transaction as a core call's effects, and right after Telegram has
    answered a send. When a work is handled again (after a crash, or to retry a send), the recorded
    steps are not done again: their results are read back.
    """

    work_key: str = Field(primary_key=True, max_length=80)
    seq: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    kind: str = Field(max_length=8)
    """``core``, ``send`` (delivered) or ``failed`` (refused by Telegram for good: blocked, bad request)."""
    result: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    error: str | None = Field(default=None, max_length=200)
    at: datetime = _time(nullable=False)


def ensure_user(session: Any, user_id: int, now: datetime) -> None:
    """Create the user row if this id has never been seen (work can start before /start)."""
    if session.get(User, user_id) is None:
        session.add(User(id=user_id, created_at=now, updated_at=now))
        session.flush()


class FollowUp(SQLModel, table=True):
    """好差评 回访: the call-back a bad rating (不满意 / 非常不满意) opens, with its own deadline
    (``bot.desk.followups``)."""

    id: int | None = Field(default=None, primary_key=True)
    rating_id: int = Field(sa_column=Column(Integer, ForeignKey("rating.id"), nullable=False, unique=True))
    service: str = Field(max_length=8)  # ticket | session (the rated service)
    service_id: int
    user_id: int = _user_fk()  # who gave the rating: the one to call back
    opened_at: datetime = _time(nullable=False)
    due_at: datetime = _time(nullable=False)
    assignee_id: int | None = _user_fk(nullable=True, index=False)
    called_by: int | None = _user_fk(nullable=True, index=False)
    called_at: datetime | None = _time(nullable=True, index=True)
    """When the call-back was recorded; empty while the follow-up is open."""
    outcome: str | None = Field(default=None, max_length=16)  # resolved | explained | wrongful
    notes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """What the user said and what was fixed, as the caller typed it."""


class PermitWatch(SQLModel, table=True):
    """A work permit a user watches for its expiry (``bot.desk.outreach.reminders``): a label of their own
    (an employee's name or initials, never a passport number), the expiry date and, optionally, the day the
    employment ends (then the reminder is the duty to cancel within 10 working days)."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _user_fk()
    label: str = Field(max_length=limits.PERMIT_LABEL)
    expires_on: date = Field(sa_column=Column(Date, nullable=False, index=True))
    employment_ends_on: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    created_at: datetime = _time(nullable=False)
    updated_at: datetime = _time(nullable=False)


class PermitReminder(SQLModel, table=True):
    """A permit reminder decided: one row per (watch, kind, lead, day it is about), written in the transaction
    that decides it, so each reminder is sent once across restarts and instances; ``taken_at`` empty while a
    decision of ``python -m bot jobs run-due`` waits for the bot to send it."""

    __table_args__ = (UniqueConstraint("watch_id", "kind", "lead", "target", name="one_permit_reminder"),)

    id: int | None = Field(default=None, primary_key=True)
    watch_id: int = Field(sa_column=Column(Integer, ForeignKey("permitwatch.id"), nullable=False, index=True))
    kind: str = Field(max_length=8)
    """``expiry`` (extend the permit) or ``cancel`` (the employment ends: cancel it)."""
    lead: int
    """Days before the expiry (or the end of employment) the reminder is for; 0: the day employment ends."""
    target: date = Field(sa_column=Column(Date, nullable=False))
    """The expiry date, or the day employment ends: a date changed since is a new reminder."""
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    notice: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    """The notice to send (pickled, as ``AlertSent.notices``)."""
    decided_at: datetime = _time(nullable=False)
    taken_at: datetime | None = _time(nullable=True, index=True)
    """When a bot took it to send; empty while a decision of the command line waits for the bot."""


class InstanceLease(SQLModel, table=True):
    """Several instances on one database: who runs a scheduled job for now (``bot.store.leases``).

    One row per job name: the instance holding it and until when. A run takes (or renews) the lease first;
    another instance's run finds it held and does nothing, so each timer fires once across instances.
    """

    name: str = Field(primary_key=True, max_length=80)
    holder: str = Field(max_length=120)
    expires_at: datetime = _time(nullable=False)


class GapReview(SQLModel, table=True):
    """A knowledge-gap group reviewed by staff (``bot.answering.gaps``): accepted as alternate questions of an
    entry, as out of scope, or rejected. The group does not come back in /gaps: questions like ``key`` are left
    out. ``examples`` holds the group's questions masked (``bot.privacy.redact``), never who asked."""

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(sa_column=Column(Integer, nullable=False, unique=True))
    """The group's first question (``QuestionLog.id``; no foreign key: the question log may be pruned)."""
    key: str = Field(sa_column=Column(String(limits.QUESTION_TEXT), nullable=False))
    """The first question masked and normalised: what later questions are compared with."""
    decision: str = Field(max_length=16)  # alternate | out_of_scope | rejected
    entry_id: str | None = Field(default=None, max_length=64)
    lang: str = Field(max_length=2)
    examples: str = Field(sa_column=Column(Text, nullable=False))
    """The group's distinct questions, masked, as a JSON list."""
    count: int
    """How many questions the group had when it was reviewed."""
    reviewer_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    reviewed_at: datetime = _time(nullable=False, index=True)


class PolicyNotice(SQLModel, table=True):
    """A policy notice to subscribers (``bot.desk.outreach.notices``), in English and Chinese: drafted by a
    supervisor (or ``python -m bot notice draft``), confirmed by one, then sent to its audience."""

    id: int | None = Field(default=None, primary_key=True)
    title_en: str = Field(default="", max_length=limits.NOTICE_TITLE)
    body_en: str = Field(default="", sa_column=Column(String(limits.NOTICE_BODY), nullable=False, default=""))
    title_zh: str = Field(default="", max_length=limits.NOTICE_TITLE)
    body_zh: str = Field(default="", sa_column=Column(String(limits.NOTICE_BODY), nullable=False, default=""))
    entry_id: str | None = Field(default=None, max_length=64)
    """A knowledge-base entry for the "more" button under the notice (its answer, as /topics opens it)."""
    audience: str = Field(max_length=16)  # Audience: employers | applicants | all
    status: str = Field(max_length=12, index=True)  # NoticeStatus: draft | sending | done | cancelled
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    """The supervisor who drafted it; empty for a draft from the command line."""
    created_at: datetime = _time(nullable=False)
    confirmed_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    """The supervisor who confirmed it: the one told the outcome."""
    confirmed_at: datetime | None = _time(nullable=True)
    finished_at: datetime | None = _time(nullable=True)
    recipients: int = 0
    """Deliveries made at confirmation (the audience then)."""
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    """The outcome, counted when the last delivery is done."""


class NoticeDelivery(SQLModel, table=True):
    """One recipient of a confirmed policy notice, made at confirmation: sent once (``claimed_at`` says a
    sending run has it; ``status`` is committed right after Telegram's answer)."""

    __table_args__ = (UniqueConstraint("notice_id", "user_id", name="one_delivery_per_user"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(sa_column=Column(Integer, ForeignKey("policynotice.id"), nullable=False))
    user_id: int = _user_fk()
    status: str = Field(max_length=8, index=True)  # DeliveryStatus: pending | sent | failed | blocked
    claimed_at: datetime | None = _time(nullable=True)
    sent_at: datetime | None = _time(nullable=True)
