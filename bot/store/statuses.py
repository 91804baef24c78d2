"""The closed sets of values stored in the tables' string columns (``bot.store.models``).

Each is a ``StrEnum``: a member *is* its string, so rows written before these existed read back unchanged
(no migration) and a plain string from the database compares equal to the member.
"""

from __future__ import annotations

from enum import StrEnum


class TicketKind(StrEnum):
    """``Ticket.kind``: the 12345 type of a ticket, which sets its deadline (``DEFAULT_DEADLINES``)."""

    # ENQUIRY: 咨询, a question about the rules or an application.
    ENQUIRY = "enquiry"
    # HELP: 求助, a request for help with a case; also what a live chat becomes (/toticket, a left message).
    HELP = "help"
    # SUGGESTION: 建议, an idea for the service.
    SUGGESTION = "suggestion"
    # COMPLAINT: 投诉, a complaint about the service.
    COMPLAINT = "complaint"
    # REPORT: 举报, a report of wrongdoing.
    REPORT = "report"


class TicketStatus(StrEnum):
    """``Ticket.status``: new → in_progress → answered → closed (``bot.desk.tickets``)."""

    # NEW: filed and nobody has taken it yet; also a reopened ticket, or one the user wrote to after an
    # answer, that has no assignee.
    NEW = "new"
    # IN_PROGRESS: a member of staff took it (take, reassign, a live chat turned into it); also a reopened
    # ticket, or one the user wrote to after an answer, that has an assignee.
    IN_PROGRESS = "in_progress"
    # ANSWERED: staff replied to the user; the user writing again makes it NEW or IN_PROGRESS.
    ANSWERED = "answered"
    # CLOSED: closed with a resolution, by staff or by the user; the user is asked for a rating. The user may
    # reopen it within ``reopen_days``, staff at any time.
    CLOSED = "closed"


class StaffRole(StrEnum):
    """``Staff.role``."""

    # OPERATOR: works tickets and live chats.
    OPERATOR = "operator"
    # SUPERVISOR: an operator who also manages the staff list and receives bad-rating alerts.
    SUPERVISOR = "supervisor"


class HelpRequestStatus(StrEnum):
    """``HelpRequest.status``: a user's place in the live desk's queue."""

    # WAITING: in the queue for a person (also a user handed back when their operator checked out: a new
    # row keeping the original time).
    WAITING = "waiting"
    # CLAIMED: an operator took the user; a ``LiveSession`` runs from it.
    CLAIMED = "claimed"
    # CANCELLED: the user left the queue (/cancel).
    CANCELLED = "cancelled"
    # TICKET: the user left the queue to file a ticket instead ("leave a message" after a long wait).
    TICKET = "ticket"


class SessionStatus(StrEnum):
    """``LiveSession.status``."""

    # ACTIVE: the user and the operator are chatting; messages are relayed.
    ACTIVE = "active"
    # ENDED: over (see ``SessionOutcome`` for how); the user may rate it.
    ENDED = "ended"


class SessionOutcome(StrEnum):
    """``LiveSession.outcome``: how an ended live chat ended."""

    # RESOLVED: the operator's /end (the default), or the user ended the chat themselves (/cancel).
    RESOLVED = "resolved"
    # UNRESOLVED: the operator's /end unresolved.
    UNRESOLVED = "unresolved"
    # TICKET: the operator turned the chat into a help-request ticket (/toticket).
    TICKET = "ticket"
    # NO_REPLY: closed by the idle timer after a reminder went unanswered.
    NO_REPLY = "no_reply"
    # HANDED_BACK: the operator checked out; the user went back to the front of the queue.
    HANDED_BACK = "handed_back"
