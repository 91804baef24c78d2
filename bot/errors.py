"""The helpdesk's error hierarchy.

HelpdeskError
├── KnowledgeBaseError     the knowledge base (or a profile) is missing or invalid; lists every problem
├── ConfigError            a setting is missing or malformed
└── Refusal                the core refused a request; ``reason`` (a ``Reason``) says why, ``details`` fill the text
    ├── NotFound           a ticket, user or session the caller named does not exist (or is not theirs)
    ├── NotAllowed         the caller may not do this (not staff, not their ticket, wrong role)
    ├── InvalidInput       user input was rejected
    └── Conflict           the action lost a race or no longer applies (already claimed, already rated…)

Every ``Reason`` has a text in each language (``bot.error_texts.error_text``): the handlers and the console
show refusals with it; anything else is a bug and goes to the error handler.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class HelpdeskError(Exception):
    """Base of every error the core raises on purpose."""


class Reason(StrEnum):
    """Why the core refused something: a stable code (the value is the string that was always used).

    Each member says which error carries it and when it is raised; ``bot.error_texts`` has its text.
    """

    # ----- NotFound ---------------------------------------------------------------------------------
    # TICKET: no ticket with that number or id, or it is someone else's (never confirmed to a user).
    TICKET = "ticket"
    # FILING: the user is not filing a ticket (the filing flow ended or was replaced).
    FILING = "filing"
    # STAFF: no active member of staff with that id (/staff remove, reassigning a ticket).
    STAFF = "staff"
    # SESSION: the operator has no such active live chat (none focused, an ended one replied to), or the
    # user is not in a live chat.
    SESSION = "session"
    # REQUEST: the queue request being claimed does not exist.
    REQUEST = "request"
    # OPERATOR: the colleague a live chat is transferred to is not staff or not checked in.
    OPERATOR = "operator"
    # RATING: no rating of the user's is waiting for a comment.
    RATING = "rating"
    # NOT_RATEABLE: the ticket or live chat being rated is not the user's, or not closed / ended yet.
    NOT_RATEABLE = "not_rateable"
    # QUESTION: the logged question a button refers to does not exist or is not the user's.
    QUESTION = "question"
    # ENTRY: no knowledge-base entry with that id (or it was not offered under that answer).
    ENTRY = "entry"

    # ----- NotAllowed -------------------------------------------------------------------------------
    # STAFF_ONLY: a staff command or button used by someone who is not (or no longer) staff.
    STAFF_ONLY = "staff_only"
    # SUPERVISOR_ONLY: a supervisor's action (adding or removing staff) by an operator.
    SUPERVISOR_ONLY = "supervisor_only"
    # REOPEN_WINDOW_PASSED: a user reopening their ticket more than ``reopen_days`` after it was closed.
    REOPEN_WINDOW_PASSED = "reopen_window_passed"

    # ----- Conflict ---------------------------------------------------------------------------------
    # TICKET_CLOSED: a message, reply, take or reassignment on a closed ticket.
    TICKET_CLOSED = "ticket_closed"
    # ALREADY_CLOSED: closing a ticket that is already closed.
    ALREADY_CLOSED = "already_closed"
    # NOT_CLOSED: reopening a ticket that is not closed.
    NOT_CLOSED = "not_closed"
    # ALREADY_CLAIMED: another operator claimed the waiting user first.
    ALREADY_CLAIMED = "already_claimed"
    # ALREADY_RATED: a second rating of the same ticket or live chat.
    ALREADY_RATED = "already_rated"
    # ALREADY_REVIEWED: a knowledge-gap group reviewed already (another tap, or a colleague was first).
    ALREADY_REVIEWED = "already_reviewed"
    # NOTICE_NOT_DRAFT: editing, confirming or cancelling a policy notice that was confirmed or cancelled already.
    NOTICE_NOT_DRAFT = "notice_not_draft"

    # ----- InvalidInput -----------------------------------------------------------------------------
    # TOO_LONG: a ticket text, message, resolution, relayed message or comment over its limit
    # (details: ``limit``, ``length``).
    TOO_LONG = "too_long"
    # TOO_SHORT: a ticket description under the minimum, or without words (details: ``minimum``).
    TOO_SHORT = "too_short"
    # EMPTY: a message, note, relayed message or comment with nothing in it.
    EMPTY = "empty"
    # QUESTION_TOO_LONG: a free-text question over ``MAX_MESSAGE_CHARS`` (details: ``limit``, ``length``).
    QUESTION_TOO_LONG = "question_too_long"
    # QUESTION_EMPTY: a free-text question with nothing to match (emoji only, blanks, control codes).
    QUESTION_EMPTY = "question_empty"
    # BAD_CONTACT: the contact given while filing is neither a valid phone number nor an e-mail address.
    BAD_CONTACT = "bad_contact"
    # BAD_REFERENCE: the application or permit number given while filing is not 3–40 letters or digits.
    BAD_REFERENCE = "bad_reference"
    # UNKNOWN_KIND: a ticket type that does not exist (a forged button, staff's /kind).
    UNKNOWN_KIND = "unknown_kind"
    # USE_BUTTONS: text (or an old button) at a filing step that takes a button (details: ``step``).
    USE_BUTTONS = "use_buttons"
    # CANNOT_SKIP: Skip at a filing step that is not optional (details: ``step``).
    CANNOT_SKIP = "cannot_skip"
    # NOT_READY: submitting a filing before every step is done (details: ``step``).
    NOT_READY = "not_ready"
    # RESOLUTION_REQUIRED: closing a ticket without a resolution.
    RESOLUTION_REQUIRED = "resolution_required"
    # USAGE: a console staff command without its ticket number and text.
    USAGE = "usage"
    # UNKNOWN_OUTCOME: /end with an outcome other than resolved or unresolved.
    UNKNOWN_OUTCOME = "unknown_outcome"
    # SAME_OPERATOR: an operator transferring a live chat to themselves.
    SAME_OPERATOR = "same_operator"
    # BAD_RATING: a rating of an unknown service or level (a forged button).
    BAD_RATING = "bad_rating"
    # UNKNOWN_LANGUAGE: a language other than English or Chinese.
    UNKNOWN_LANGUAGE = "unknown_language"
    # UNKNOWN_ROLE: a user role other than applicant or employer.
    UNKNOWN_ROLE = "unknown_role"
    # UNKNOWN_STAFF_ROLE: adding staff with a role other than operator or supervisor.
    UNKNOWN_STAFF_ROLE = "unknown_staff_role"
    # STAFF_NAME_REQUIRED: adding staff without a name.
    STAFF_NAME_REQUIRED = "staff_name_required"
    # BAD_TELEGRAM_ID: adding staff with a Telegram id that is not a positive number.
    BAD_TELEGRAM_ID = "bad_telegram_id"
    # CANNOT_REMOVE_SELF: a supervisor removing themselves from the staff.
    CANNOT_REMOVE_SELF = "cannot_remove_self"
    # NOTICE_INCOMPLETE: confirming a policy notice without its title and text in both languages.
    NOTICE_INCOMPLETE = "notice_incomplete"
    # UNKNOWN_AUDIENCE: a policy notice's audience other than employers, applicants or all.
    UNKNOWN_AUDIENCE = "unknown_audience"


@dataclass(frozen=True)
class KnowledgeProblem:
    """One problem in the knowledge base: where (file, entry, field) and what."""

    file: str
    entry: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.entry:
            where += f" [{self.entry}]"
        if self.field:
            where += f" {self.field}"
        return f"{where}: {self.message}"


class KnowledgeBaseError(HelpdeskError):
    """The knowledge base cannot be used; ``problems`` says where and why."""

    def __init__(self, problems: list[KnowledgeProblem]) -> None:
        self.problems = problems
        first = str(problems[0]) if problems else "unknown problem"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"knowledge base invalid: {first}{more}")


class ConfigError(HelpdeskError):
    """A setting is missing or malformed."""


class Refusal(HelpdeskError):
    """The core refused a request: ``reason`` says why, ``details`` fill the localised message."""

    def __init__(self, reason: Reason, **details: Any) -> None:
        self.reason = Reason(reason)
        self.details = details
        super().__init__(self.reason)


class NotFound(Refusal):
    """The thing asked for does not exist, or is not visible to the caller."""


class NotAllowed(Refusal):
    """The caller is not allowed to do this."""


class InvalidInput(Refusal):
    """Input rejected."""


class Conflict(Refusal):
    """The action no longer applies (lost a race, already done)."""
