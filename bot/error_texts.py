"""The core's refusals as polite sentences in the user's language: one text per ``Reason``.

The only place these texts live: the Telegram handlers and the terminal console both show a refusal with
``error_text`` (``tests/test_error_texts.py`` fails when a reason has no text in either language).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.answering.text import Lang
from bot.errors import HelpdeskError, Reason, Refusal
from bot.i18n import N_, translator
from bot.store.statuses import TicketKind

GENERIC_APOLOGY = N_("Sorry, that is not possible.")
"""For an error that carries no reason (a bug, or a setting): never the text of a ``Reason``."""

REASON_TEXTS: Mapping[Reason, str] = {
    # NotFound
    Reason.TICKET: N_("Sorry, I can't find that. It may have expired or belong to someone else."),
    Reason.FILING: N_("You are not filing a ticket at the moment. /ticket starts one."),
    Reason.STAFF: N_("No such member of staff."),
    Reason.SESSION: N_("You have no live chat at the moment. /sessions lists yours, /queue shows who is waiting."),
    Reason.REQUEST: N_("This request no longer exists."),
    Reason.OPERATOR: N_("That colleague is not checked in. /transfer lists who is."),
    Reason.RATING: N_("There is no rating waiting for your comment. Thank you all the same!"),
    Reason.NOT_RATEABLE: N_("Only your own closed tickets and finished chats can be rated."),
    Reason.QUESTION: N_("Sorry, I can't find that question any more. Please ask it again."),
    Reason.ENTRY: N_(
        "There is no knowledge-base entry with that id. Use the ids shown in /topics or in the user's recent questions."
    ),
    # NotAllowed
    Reason.STAFF_ONLY: N_("Sorry, this is only for helpdesk staff."),
    Reason.SUPERVISOR_ONLY: N_("Sorry, only supervisors can do this."),
    Reason.REOPEN_WINDOW_PASSED: N_("This ticket was closed too long ago to reopen. Please file a new one (/ticket)."),
    # Conflict
    Reason.TICKET_CLOSED: N_("This ticket is closed. You can reopen it from /mytickets."),
    Reason.ALREADY_CLOSED: N_("This ticket is already closed."),
    Reason.NOT_CLOSED: N_("This ticket is not closed."),
    Reason.ALREADY_CLAIMED: N_("Someone else has already taken this user."),
    Reason.ALREADY_RATED: N_("This service has already been rated. Thank you!"),
    Reason.ALREADY_REVIEWED: N_("This group of questions has been reviewed already. /gaps shows the rest."),
    Reason.NOTICE_NOT_DRAFT: N_("This notice has already been sent or cancelled. /notices lists the notices."),
    # InvalidInput
    Reason.TOO_LONG: N_("That is too long ({length} characters); the limit is {limit}. Please shorten it."),
    Reason.TOO_SHORT: N_("Please describe the matter in a little more detail (at least {minimum} characters)."),
    Reason.EMPTY: N_("There was nothing I could read in that message."),
    Reason.QUESTION_TOO_LONG: N_(
        "Your message is too long ({length} characters; the limit is {limit}). Please send a shorter question."
    ),
    Reason.QUESTION_EMPTY: N_("I can only read text questions. Please type your question about the work permit."),
    Reason.BAD_CONTACT: N_("That doesn't look like a phone number or an e-mail address. Please check it, or skip."),
    Reason.BAD_REFERENCE: N_("An application or permit number has 3–40 letters or digits. Please check it, or skip."),
    Reason.UNKNOWN_KIND: N_("There is no such ticket type. The types are: {kinds}."),
    Reason.USE_BUTTONS: N_("Please use the buttons above, or /cancel to stop."),
    Reason.CANNOT_SKIP: N_("This question cannot be skipped. Please answer it, or /cancel to stop."),
    Reason.NOT_READY: N_(
        "The ticket is not complete yet. Please answer the questions above first, or /cancel to stop."
    ),
    Reason.RESOLUTION_REQUIRED: N_("Please write the resolution; the user sees it when the ticket is closed."),
    Reason.USAGE: N_(
        "Please give a ticket number and then the text, for example: /note T2603-0001 Called the applicant."
    ),
    Reason.UNKNOWN_OUTCOME: N_("Usage: /end [resolved|unresolved]"),
    Reason.SAME_OPERATOR: N_("You are already handling this chat."),
    Reason.BAD_RATING: N_("That rating was not understood. Please use the rating buttons."),
    Reason.UNKNOWN_LANGUAGE: N_("Please choose English or Chinese."),
    Reason.UNKNOWN_ROLE: N_("Please choose whether you are an applicant or an employer."),
    Reason.UNKNOWN_STAFF_ROLE: N_("The role must be operator or supervisor."),
    Reason.STAFF_NAME_REQUIRED: N_("Please give the name of the member of staff."),
    Reason.BAD_TELEGRAM_ID: N_("A Telegram id is a positive number."),
    Reason.CANNOT_REMOVE_SELF: N_("You cannot remove yourself."),
    Reason.NOTICE_INCOMPLETE: N_("A notice needs a title and a text in both English and Chinese."),
    Reason.UNKNOWN_AUDIENCE: N_("The audience must be employers, applicants or all."),
}


def error_text(error: HelpdeskError, lang: Lang) -> str:
    """A domain error as a polite sentence in *lang* (the refusal's details filled in)."""
    _ = translator(lang).gettext
    if not isinstance(error, Refusal) or error.reason not in REASON_TEXTS:
        return _(GENERIC_APOLOGY)
    kinds = ("、" if lang == "zh" else ", ").join(TicketKind)
    values: dict[str, Any] = {"length": "", "limit": "", "minimum": "", "kinds": kinds}
    return _(REASON_TEXTS[error.reason]).format(**(values | error.details))
