"""Every notice the helpdesk sends: something the core tells a person later, outside the reply to what
they just did. The core returns notices; a front end renders each one in the recipient's language
(Telegram: ``handlers.notify``; the terminal console: ``console.desk``).

Each notice is a frozen dataclass: ``user_id`` (the recipient's chat) first, then the data. ``Notice`` is
their union, so ``typing.get_args(Notice)`` lists them all.

Tickets (``bot.desk.tickets``):
    TicketReply            → the owner: staff replied (text, maybe a photo or document), with Reply/Close buttons.
    TicketClosed           → the owner: the ticket is closed with a resolution; asks for a rating.
    TicketReopenedByStaff  → the owner: staff reopened their ticket.
    TicketUserMessage      → the assignee: the owner added a message to the ticket.
    TicketReopenedByUser   → the assignee: the owner reopened the ticket.
    TicketAssigned         → a member of staff: a colleague gave them the ticket.
    TicketDueLater         → the owner: a newly known holiday schedule moved the deadline later.
    TicketNew              → the staff on duty (else each supervisor), and the staff chat: a new ticket, with Open.
Ratings (``bot.desk.ratings``):
    BadRating              → each supervisor: a user gave a bad rating (and maybe a comment): who, how to reach
                             them, the ticket (with Open) or the chat's last messages; call them back.
Holiday calendar (``bot.desk.calendar_upkeep``):
    CalendarUnknown        → each supervisor, weekly: a year's official holiday schedule still has to be entered.
Deadlines (``bot.desk.tickets.alerts``; on working days, from the digest hour, each once):
    TicketDueSoon          → the assignee (else the staff on duty, else each supervisor): an open ticket is due by
                             the end of the next working day, with Open.
    TicketOverdue          → each supervisor: an open ticket passed its deadline, with Open.
    MorningDigest          → each supervisor (or HELPDESK_DIGEST_TO), once a working day: new, due today, overdue,
                             bad ratings waiting for a call-back (open follow-ups).
Permit reminders (``bot.desk.outreach.reminders``; from the reminder hour, each once):
    PermitReminder         → the user watching a permit (/reminders): it expires soon (extend it), or the
                             employment ends (cancel it within 10 working days), with the answer's button.
Live desk, queue (``bot.desk.live.queue``; the long-wait offer from ``bot.desk.live.timers``):
    QueueNew               → each checked-in operator (and the staff chat): a user waits, with a Claim button.
    QueuePosition          → a waiting user: their place in the queue and the estimated wait changed.
    QueueLongWait          → a waiting user: sorry for the wait; leave a message (a ticket) or keep waiting.
Live desk, sessions (``bot.desk.live.sessions``; started and handed back by ``.queue``, idle and
closed for silence by ``.timers``):
    SessionStarted         → the user: an operator has taken their chat.
    SessionEnded           → the user: the chat ended (or was closed for silence); asks for a rating.
    SessionUnresolved      → the user: the operator ended the chat unresolved; offers to follow it up as a ticket.
    HandedBack             → the user: their operator checked out (or did not answer in time); back at the front.
    SessionTransferred     → the user: another operator continues the chat.
    SessionTransferredToYou → the new operator: a chat was transferred to them, with the user's context and the
                           whole conversation (its photos and documents sent after it).
    SessionTicket          → the user: the chat was recorded as a ticket.
    SessionIdle            → the user: are you still there? The chat closes soon without new messages.
    SessionIdleOperator    → the operator: the chat has been silent for a while and will close by itself.
    SessionUserWaiting     → the operator: the user has waited for an answer; reply, or the chat goes back.
    SessionRequeued        → the operator: the chat went back to the queue, its user waiting unanswered.
    OperatorSilent         → each supervisor: an operator left a user unanswered; the user is back in the queue.
    SessionAutoClosed      → the operator: the chat was closed after a period without messages.
    SessionLeft            → the operator: the user ended the chat.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple, TypeAlias


class PastQuestion(NamedTuple):
    """One of a user's recent questions, for the operator taking over: what the bot did with it."""

    text: str
    decision: str
    """``answer``, ``clarify``, ``fallback``, ``browse`` or ``related`` (``bot.store.models.QuestionLog``)."""
    entry: str | None
    """The knowledge-base entry answered or opened, if any."""


class TranscriptLine(NamedTuple):
    """One message of a live chat, for the operator it is transferred to."""

    sender: str
    """``user`` or ``operator``."""
    text: str
    file_id: str | None = None
    """A photo or document sent with the message (its Telegram file id), if any."""
    file_kind: str | None = None
    """``photo`` or ``document`` when *file_id* is set."""


# ----- tickets -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TicketReply:
    """To the owner: staff replied to their ticket (the attachment, if any, follows the text)."""

    user_id: int
    number: str
    ticket_id: int
    text: str
    file_id: str | None = None
    file_kind: str | None = None
    """``photo`` or ``document`` when *file_id* is set."""
    staff_name: str = ""
    """The replying member of staff's display name: the user sees who answered, as in a live chat."""


@dataclass(frozen=True)
class TicketClosed:
    """To the owner: the ticket is closed with *resolution*; they are asked for a rating."""

    user_id: int
    number: str
    ticket_id: int
    resolution: str


@dataclass(frozen=True)
class TicketReopenedByStaff:
    """To the owner: staff reopened their ticket."""

    user_id: int
    number: str


@dataclass(frozen=True)
class TicketUserMessage:
    """To the assignee: the owner added a message to the ticket."""

    user_id: int
    number: str


@dataclass(frozen=True)
class TicketReopenedByUser:
    """To the assignee: the owner reopened the ticket."""

    user_id: int
    number: str


@dataclass(frozen=True)
class TicketAssigned:
    """To a member of staff: a colleague gave them the ticket."""

    user_id: int
    number: str


@dataclass(frozen=True)
class TicketDueLater:
    """To the owner: the deadline moved later (a year's official holiday schedule became known)."""

    user_id: int
    number: str
    ticket_id: int
    due: datetime


@dataclass(frozen=True)
class TicketNew:
    """To a member of staff on duty (else a supervisor), or the staff chat: ticket *number* has arrived."""

    user_id: int
    ticket_id: int
    number: str
    kind: str
    """A ``TicketKind``."""
    due: datetime
    origin: str = "bot"
    """How it came: ``bot`` (filed), ``queue`` or ``out_of_hours`` (a message left), ``live`` (a live chat)."""


# ----- ratings and the holiday calendar -----------------------------------------------------------------
@dataclass(frozen=True)
class BadRating:
    """To a supervisor: a bad rating (level 4 or 5) to follow up with a call-back."""

    user_id: int
    service: str
    """``ticket`` or ``session``."""
    service_id: int
    level: int
    rater_id: int
    """The user who gave the rating."""
    comment: str | None
    rating_id: int
    name: str = ""
    """The user's first name in Telegram (may be empty)."""
    lang: str | None = None
    """The user's language (``en`` or ``zh``) for the call-back."""
    role: str | None = None
    """``applicant``, ``employer`` or not given."""
    contact: str | None = None
    """The phone number or e-mail address the user gave on the ticket, if any."""
    number: str | None = None
    """The ticket's number (a ticket's rating); *service_id* is its id."""
    transcript: tuple[TranscriptLine, ...] = ()
    """A live chat's last messages (a chat's rating)."""
    followup_id: int | None = None
    """The follow-up (回访) the rating opened (``bot.desk.followups``): its buttons take and record it."""


@dataclass(frozen=True)
class CalendarUnknown:
    """To a supervisor, once a week: the official holiday schedule for *year* is not entered yet."""

    user_id: int
    year: int
    file: str
    """The file to fill in, e.g. ``knowledge/calendar/2027.toml``."""
    provisional: int
    """How many tickets have a provisional deadline so far."""


# ----- deadlines -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TicketDueSoon:
    """To the assignee (else the staff on duty, else each supervisor): an open ticket is due by the end of
    the next working day (or of today, for one filed too late to be told the day before)."""

    user_id: int
    ticket_id: int
    number: str
    kind: str
    """A ``TicketKind``."""
    due: datetime


@dataclass(frozen=True)
class TicketOverdue:
    """To each supervisor: an open ticket passed its deadline."""

    user_id: int
    ticket_id: int
    number: str
    kind: str
    """A ``TicketKind``."""
    due: datetime
    assignee: str = ""
    """The display name of the member of staff who has it; empty when nobody has taken it."""


@dataclass(frozen=True)
class MorningDigest:
    """To each supervisor (or the ids of HELPDESK_DIGEST_TO), once a working day at the digest hour."""

    user_id: int
    day: date
    new: int
    """Tickets filed since the previous digest (the previous working day at the digest hour)."""
    due_today: int
    due_today_numbers: tuple[str, ...]
    """The first of them (``bot.desk.tickets.alerts.LISTED``), soonest deadline first."""
    overdue: int
    overdue_numbers: tuple[str, ...]
    bad_ratings: int
    """Bad ratings waiting for a call-back: the follow-ups still open (``bot.desk.followups``)."""


# ----- the live desk: the queue -------------------------------------------------------------------------
@dataclass(frozen=True)
class QueueNew:
    """To an operator (or the staff chat): a user waits for a person; they can claim request *request_id*."""

    user_id: int
    request_id: int
    lang: str
    """The waiting user's language (``en`` or ``zh``)."""
    role: str | None
    """``applicant``, ``employer`` or not given."""
    requester_id: int
    """The waiting user."""
    name: str
    history: tuple[PastQuestion, ...]


@dataclass(frozen=True)
class QueuePosition:
    """To a waiting user: their new place in the queue and the estimated wait."""

    user_id: int
    position: int
    minutes: int


@dataclass(frozen=True)
class QueueLongWait:
    """To a waiting user: sorry for the long wait; they may leave a message (a ticket) instead."""

    user_id: int
    request_id: int


# ----- the live desk: sessions --------------------------------------------------------------------------
@dataclass(frozen=True)
class SessionStarted:
    """To the user: *operator* has taken their chat."""

    user_id: int
    operator: str


@dataclass(frozen=True)
class SessionEnded:
    """To the user: the chat ended with *outcome* (``resolved``, ``unresolved``, ``no_reply``); rate it."""

    user_id: int
    session_id: int
    outcome: str


@dataclass(frozen=True)
class SessionUnresolved:
    """To the user: the operator ended chat *session_id* as unresolved; they may have it followed up as a
    help-request ticket (a button)."""

    user_id: int
    session_id: int


@dataclass(frozen=True)
class HandedBack:
    """To the user: their operator checked out (or, *unanswered*, did not answer them in time); they are
    back at the front of the queue."""

    user_id: int
    unanswered: bool = False


@dataclass(frozen=True)
class SessionTransferred:
    """To the user: *operator* continues the chat."""

    user_id: int
    operator: str


@dataclass(frozen=True)
class SessionTransferredToYou:
    """To the operator taking over chat *session_id*: the user's context and the last messages."""

    user_id: int
    session_id: int
    client_id: int
    """The user in the chat."""
    lang: str
    """The user's language (``en`` or ``zh``)."""
    history: tuple[PastQuestion, ...]
    transcript: tuple[TranscriptLine, ...]
    """The whole conversation so far, oldest first."""
    name: str = ""
    """The user's first name as Telegram gave it."""
    role: str | None = None
    """``applicant``, ``employer`` or not given."""


@dataclass(frozen=True)
class SessionTicket:
    """To the user: the chat was recorded as ticket *number*."""

    user_id: int
    number: str
    session_id: int


@dataclass(frozen=True)
class SessionIdle:
    """To the user: still there? The chat closes in *minutes* without new messages."""

    user_id: int
    session_id: int
    minutes: int


@dataclass(frozen=True)
class SessionIdleOperator:
    """To the operator: chat *session_id* has been silent and will close by itself."""

    user_id: int
    session_id: int


@dataclass(frozen=True)
class SessionUserWaiting:
    """To the operator: the user in chat *session_id* has waited *minutes* for an answer; without one
    within *requeue_minutes* the chat goes back to the queue."""

    user_id: int
    session_id: int
    minutes: int
    requeue_minutes: int


@dataclass(frozen=True)
class SessionRequeued:
    """To the operator: chat *session_id* went back to the queue, its user having waited for an answer."""

    user_id: int
    session_id: int


@dataclass(frozen=True)
class OperatorSilent:
    """To a supervisor: *operator* left the user of chat *session_id* without an answer for *minutes*; the
    user is back at the front of the queue."""

    user_id: int
    session_id: int
    operator: str
    minutes: int


@dataclass(frozen=True)
class SessionAutoClosed:
    """To the operator: chat *session_id* was closed after a period without messages."""

    user_id: int
    session_id: int


@dataclass(frozen=True)
class SessionLeft:
    """To the operator: the user ended chat *session_id*."""

    user_id: int
    session_id: int


@dataclass(frozen=True)
class PermitReminder:
    """To the user watching a permit (``/reminders``): it expires on *expires_on* (kind ``expiry``: extend it
    before), or the employment ends on *ends_on* (kind ``cancel``: the employer cancels it by *cancel_by*,
    10 working days later). *days* is how many days were left when it was decided."""

    user_id: int
    watch_id: int
    label: str
    kind: str
    days: int
    expires_on: date
    ends_on: date | None = None
    cancel_by: date | None = None


Notice: TypeAlias = (
    TicketReply
    | TicketClosed
    | TicketReopenedByStaff
    | TicketUserMessage
    | TicketReopenedByUser
    | TicketAssigned
    | TicketDueLater
    | TicketNew
    | BadRating
    | CalendarUnknown
    | TicketDueSoon
    | TicketOverdue
    | MorningDigest
    | QueueNew
    | QueuePosition
    | QueueLongWait
    | SessionStarted
    | SessionEnded
    | SessionUnresolved
    | HandedBack
    | SessionTransferred
    | SessionTransferredToYou
    | SessionTicket
    | SessionIdle
    | SessionIdleOperator
    | SessionUserWaiting
    | SessionRequeued
    | OperatorSilent
    | SessionAutoClosed
    | SessionLeft
    | PermitReminder
)
"""Something to tell a person later, rendered by the front end in the recipient's language."""
