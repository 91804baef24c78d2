"""The longest value each text column holds, in characters: the one place these numbers live.

The models (``bot.store.models``) take their column lengths from here and the core checks input against the
same names, so validation cannot accept what the database would refuse (PostgreSQL enforces ``VARCHAR(n)``;
SQLite does not, which is how a limit that drifted went unnoticed). ``tests/test_limits.py`` checks every
limit against its column. Changing a number here changes the schema: write a migration (README, "Schema
migrations").
"""

from __future__ import annotations

CONTACT = 254
"""``ticket.contact``: an e-mail address (RFC 5321 allows 254 characters) or an E.164 phone number."""
REFERENCE = 64
"""``ticket.reference``: an application or permit number (the filing flow accepts 3–40 characters)."""
DESCRIPTION = 4000
"""``ticket.description``; ``HELPDESK_MAX_DESCRIPTION`` may not exceed it."""
RESOLUTION = 4000
"""``ticket.resolution``: what staff wrote when closing the ticket."""
MESSAGE = 4000
"""``ticketmessage.text``: a message, reply or note on a ticket."""
SESSION_MESSAGE = 4000
"""``sessionmessage.text``: one relayed message of a live chat."""
QUESTION_TEXT = 1000
"""``questionlog.text``: a logged free-text question (cut to this length when logged)."""
DISPLAY_NAME = 128
"""``user.display_name``: the user's Telegram name (cut to this length)."""
STAFF_NAME = 64
"""``staff.name``: the name users see in live chats (cut to this length)."""
AUDIT_DETAIL = 256
"""``auditlog.detail`` (cut to this length)."""
RATING_COMMENT = 1000
"""``rating.comment``."""
FILE_ID = 256
"""``ticketmessage.file_id``, ``sessionmessage.file_id``: Telegram file ids."""
FILE_NAME = 256
"""``ticketmessage.file_name``."""
FLOW_DATA = 8000
"""``flow.data``: a flow's JSON (a filing holds a description, a contact and a reference)."""
ENTRY_SOURCE = 32
"""``user.first_source`` / ``last_source``: a deep link's ``start`` parameter (``bot.desk.outreach.sources``)."""
PERMIT_LABEL = 40
"""``permitwatch.label``: the name a user gives a permit they watch (an employee's name or initials)."""
NOTICE_TITLE = 120
"""``policynotice.title_en`` / ``title_zh``: a policy notice's title (one line)."""
NOTICE_BODY = 2000
"""``policynotice.body_en`` / ``body_zh``: a policy notice's text (one message with its title and footer)."""

COLUMNS: dict[str, int] = {
    "ticket.contact": CONTACT,
    "ticket.reference": REFERENCE,
    "ticket.description": DESCRIPTION,
    "ticket.resolution": RESOLUTION,
    "ticketmessage.text": MESSAGE,
    "ticketmessage.file_id": FILE_ID,
    "ticketmessage.file_name": FILE_NAME,
    "sessionmessage.text": SESSION_MESSAGE,
    "sessionmessage.file_id": FILE_ID,
    "questionlog.text": QUESTION_TEXT,
    "user.display_name": DISPLAY_NAME,
    "staff.name": STAFF_NAME,
    "auditlog.detail": AUDIT_DETAIL,
    "rating.comment": RATING_COMMENT,
    "flow.data": FLOW_DATA,
    "user.first_source": ENTRY_SOURCE,
    "user.last_source": ENTRY_SOURCE,
    "permitwatch.label": PERMIT_LABEL,
    "policynotice.title_en": NOTICE_TITLE,
    "policynotice.title_zh": NOTICE_TITLE,
    "policynotice.body_en": NOTICE_BODY,
    "policynotice.body_zh": NOTICE_BODY,
}
"""Each limit and the ``table.column`` it is the length of (the test compares them with the schema)."""
