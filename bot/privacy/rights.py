"""A user's rights over their personal data (PIPL): a copy of everything stored about them, and its erasure.

Every table that holds something about a user has a ``Section`` in ``REGISTRY``: how to find the user's rows
(for the export), and how to erase or anonymise them (for the erasure), with why anything is kept. A new
table with a user's data gets a section (``register``); a table with nothing personal is named in
``NOT_PERSONAL`` with the reason (``tests/test_privacy.py`` checks every table is one or the other).

Erasing keeps what staff must keep, anonymised: a ticket's kind, status, dates and deadlines (for the
statistics and the deadline record), with its texts, contact, reference and files erased and the ticket moved
to the anonymous user (``ANONYMOUS_ID``), so nothing links it to the person any more; the same for live chats,
ratings, call-backs and questions. The audit log of staff actions is kept as it is (it holds no personal text;
``bot.desk.staff.audit``). A member of staff's data as a user is erased the same way; their staff record and
their actions stay. No Telegram here; time passed in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, delete, update
from sqlalchemy import select as select_rows
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from bot.desk.staff import audit
from bot.i18n import N_, Translator
from bot.store.db import session_scope
from bot.store.models import (
    Flow,
    FollowUp,
    HelpRequest,
    LiveSession,
    QuestionLog,
    Rating,
    SessionMessage,
    Staff,
    Ticket,
    TicketLink,
    TicketMessage,
    User,
    Work,
    WorkStep,
    ensure_user,
)
from bot.store.statuses import HelpRequestStatus, SessionStatus, TicketStatus

ANONYMOUS_ID = 0
"""The user anonymised tickets, chats, ratings and questions belong to (no Telegram user has id 0)."""
COMMAND_LINE = 0
"""The audit log's actor for what staff do from the command line (as ``python -m bot staff`` records it)."""
CONFIRM_WINDOW = timedelta(hours=1)
"""How long the confirmation button of /deletemydata works."""
ERASED_OUTCOME = "erased"
"""``FollowUp.outcome`` of a call-back still open when its user's data was erased (nobody left to call)."""

Rows = Callable[[Session, int], Sequence[SQLModel | Mapping[str, Any]]]
Eraser = Callable[[Session, int, datetime], int]


@dataclass(frozen=True)
class Section:
    """One table's part in the export and the erasure."""

    table: str
    """The table's name: the export's key."""
    title: str
    """Its heading in the readable export (``N_``)."""
    labels: Mapping[str, str]
    """The columns shown in the readable export, with their labels (``N_``); the JSON has every column."""
    rows: Rows | None
    """The user's rows (None: nothing of it is exported, e.g. the work journal)."""
    erase: Eraser
    """Erase or anonymise the user's rows in the caller's transaction; returns how many rows it changed."""
    kept: str | None = None
    """What is kept of it after erasure, and why (``N_``; told to the user), or None when nothing is."""
    hidden: frozenset[str] = frozenset()
    """Columns left out of the export (internal: e.g. other people's ids)."""


REGISTRY: list[Section] = []
"""Every table holding a user's data, in the order the export shows them."""

NOT_PERSONAL: Mapping[str, str] = {
    "auditlog": "staff actions (ids, statuses, types; never personal text): kept for accountability",
    "jobrun": "which scheduled job ran for which period",
    "alertsent": (
        "what was decided for staff, once each: deadline alerts and digests (staff ids, ticket numbers) and the "
        "monthly reports (the month and its recipients' staff ids); users' permit reminders are in permitreminder"
    ),
    "relaylink": "operators' copies of relayed messages (operator chat and message ids)",
    "queuecard": "the queue cards staff were sent (staff chat and message ids)",
    "operatorfocus": "which live chat an operator's messages go to",
    "workstep": "erased with its work (the work section)",
    "alembic_version": "the schema's revision",
}
"""Tables with nothing about a user that is not covered elsewhere, and why."""


def register(section: Section) -> Section:
    """Add *section* to the export and the erasure (after the ones already there)."""
    if any(s.table == section.table for s in REGISTRY):
        raise ValueError(f"a section for {section.table} is registered already")
    REGISTRY.append(section)
    return section


# ----- anonymising one ticket or one live chat (also used by retention) -----------------------------------
def anonymise_ticket(session: Session, ticket: Ticket, now: datetime) -> None:
    """Erase a ticket's texts, contact, reference and files, its ratings' comments and call-back notes, the
    links of its messages in the user's chat, and move it to the anonymous user; kind, status, number, dates
    and deadlines stay (statistics)."""
    assert ticket.id is not None
    ensure_user(session, ANONYMOUS_ID, now)
    ticket.description, ticket.contact, ticket.reference, ticket.resolution = "", None, None, None
    ticket.user_id, ticket.erased_at = ANONYMOUS_ID, now
    session.add(ticket)
    session.execute(
        update(TicketMessage)
        .where(col(TicketMessage.ticket_id) == ticket.id)
        .values(text="", file_id=None, file_kind=None, file_name=None)
    )
    session.execute(delete(TicketLink).where(col(TicketLink.ticket_id) == ticket.id))
    _anonymise_ratings(session, "ticket", ticket.id)


def anonymise_session(session: Session, live: LiveSession, now: datetime) -> None:
    """Erase a live chat's transcript (both sides) and its rating's comment, and move it and its queue request to
    the anonymous user; who served it, when and how it ended stay."""
    assert live.id is not None
    ensure_user(session, ANONYMOUS_ID, now)
    session.execute(
        update(SessionMessage)
        .where(col(SessionMessage.session_id) == live.id)
        .values(text="", file_id=None, file_kind=None)
    )
    request = session.get(HelpRequest, live.request_id)
    if request is not None:
        request.user_id = ANONYMOUS_ID
        session.add(request)
    live.user_id, live.erased_at = ANONYMOUS_ID, now
    session.add(live)
    _anonymise_ratings(session, "session", live.id)


def _anonymise_ratings(session: Session, service: str, service_id: int) -> None:
    ratings = session.exec(select(Rating).where(Rating.service == service, Rating.service_id == service_id)).all()
    for rating in ratings:
        rating.comment, rating.user_id = None, ANONYMOUS_ID
        session.add(rating)
        session.execute(
            update(FollowUp).where(col(FollowUp.rating_id) == rating.id).values(notes=None, user_id=ANONYMOUS_ID)
        )


# ----- the sections -----------------------------------------------------------------------------------------
def _where(model: type[SQLModel], column: str) -> Rows:
    """The rows of *model* whose *column* is the user's id, oldest first."""

    def rows(session: Session, user_id: int) -> Sequence[SQLModel]:
        attribute = getattr(model, column)
        keys = [col(c) for c in model.__table__.primary_key.columns]  # type: ignore[attr-defined]
        return session.exec(select(model).where(attribute == user_id).order_by(*keys)).all()

    return rows


def _erase_user(session: Session, user_id: int, now: datetime) -> int:
    user = session.get(User, user_id)
    if user is None:
        return 0
    user.display_name, user.client_lang, user.role, user.subscribed = "", None, None, False
    user.erased_at = user.updated_at = now
    for column in ("first_source", "last_source"):  # where they came from (deep links), where it is recorded
        if hasattr(user, column):
            setattr(user, column, None)
    session.add(user)
    return 1


def _erase_questions(session: Session, user_id: int, now: datetime) -> int:
    ensure_user(session, ANONYMOUS_ID, now)
    texts = set(session.exec(select(QuestionLog.text).where(QuestionLog.user_id == user_id)).all())
    _scrub_gap_reviews(session, texts - {""})
    result = session.execute(
        update(QuestionLog).where(col(QuestionLog.user_id) == user_id).values(text="", user_id=ANONYMOUS_ID)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _scrub_gap_reviews(session: Session, texts: set[str]) -> None:
    """Take the user's (masked) questions out of the knowledge-gap reviews' examples (``bot.answering.gaps``);
    a review whose first question was theirs is named by its next example, or dropped when none is left."""
    table = _table("gapreview")
    if table is None or not texts:
        return
    from bot.answering.gaps import gap_key

    keys = {gap_key(text) for text in texts}
    for row in session.execute(select_rows(table.c.id, table.c.key, table.c.examples)).all():
        examples = json.loads(row.examples or "[]")
        left = [e for e in examples if e not in texts]
        if left == examples and row.key not in keys:
            continue
        if not left:
            session.execute(delete(table).where(table.c.id == row.id))
            continue
        key = row.key if row.key not in keys else gap_key(left[0])
        values = {"examples": json.dumps(left, ensure_ascii=False), "key": key, "count": len(left)}
        session.execute(update(table).where(table.c.id == row.id).values(**values))


def _erase_tickets(session: Session, user_id: int, now: datetime) -> int:
    tickets = session.exec(select(Ticket).where(Ticket.user_id == user_id)).all()
    for ticket in tickets:
        if ticket.status != TicketStatus.CLOSED:  # nobody left to answer: closed now, which the record shows
            ticket.status, ticket.closed_at, ticket.updated_at = TicketStatus.CLOSED, now, now
        anonymise_ticket(session, ticket, now)
    return len(tickets)


def _ticket_messages(session: Session, user_id: int) -> Sequence[SQLModel]:
    """The messages of the user's tickets: theirs and staff replies (internal notes are staff's work)."""
    return session.exec(
        select(TicketMessage)
        .join(Ticket, col(Ticket.id) == col(TicketMessage.ticket_id))
        .where(Ticket.user_id == user_id, TicketMessage.kind != "note")
        .order_by(col(TicketMessage.id))
    ).all()


def _erased_with_tickets(session: Session, user_id: int, now: datetime) -> int:
    return 0  # erased with their ticket (``anonymise_ticket``), which the ticket section does first


def _erase_sessions(session: Session, user_id: int, now: datetime) -> int:
    chats = session.exec(select(LiveSession).where(LiveSession.user_id == user_id)).all()
    for live in chats:
        anonymise_session(session, live, now)
    return len(chats)


def _session_messages(session: Session, user_id: int) -> Sequence[SQLModel]:
    return session.exec(
        select(SessionMessage)
        .join(LiveSession, col(LiveSession.id) == col(SessionMessage.session_id))
        .where(LiveSession.user_id == user_id)
        .order_by(col(SessionMessage.id))
    ).all()


def _erase_requests(session: Session, user_id: int, now: datetime) -> int:
    ensure_user(session, ANONYMOUS_ID, now)
    result = session.execute(
        update(HelpRequest).where(col(HelpRequest.user_id) == user_id).values(user_id=ANONYMOUS_ID)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _erase_ratings(session: Session, user_id: int, now: datetime) -> int:
    ensure_user(session, ANONYMOUS_ID, now)
    result = session.execute(
        update(Rating).where(col(Rating.user_id) == user_id).values(comment=None, user_id=ANONYMOUS_ID)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _erase_followups(session: Session, user_id: int, now: datetime) -> int:
    ensure_user(session, ANONYMOUS_ID, now)
    rows = session.exec(select(FollowUp).where(FollowUp.user_id == user_id)).all()
    for row in rows:
        if row.called_at is None:  # nobody left to call back
            row.called_at, row.outcome = now, ERASED_OUTCOME
        row.notes, row.user_id = None, ANONYMOUS_ID
        session.add(row)
    return len(rows)


def _erase_flow(session: Session, user_id: int, now: datetime) -> int:
    result = session.execute(delete(Flow).where(col(Flow.user_id) == user_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


def _erase_links(session: Session, user_id: int, now: datetime) -> int:
    result = session.execute(delete(TicketLink).where(col(TicketLink.chat_id) == user_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


def _erase_journal(session: Session, user_id: int, now: datetime) -> int:
    """The finished works of the user's chat: the updates as Telegram sent them (their messages, their name)
    and the recorded results. Unfinished ones (this very update, a message still owed) are left to finish;
    the journal deletes them a week after (``bot.store.journal.KEEP``)."""
    keys = select(Work.key).where(col(Work.chat_id) == user_id, col(Work.done_at).is_not(None))
    session.execute(delete(WorkStep).where(col(WorkStep.work_key).in_(keys)))
    result = session.execute(
        update(Work)
        .where(col(Work.chat_id) == user_id, col(Work.done_at).is_not(None), col(Work.payload).is_not(None))
        .values(payload=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _keep_staff(session: Session, user_id: int, now: datetime) -> int:
    return 0


KEPT_TICKETS = N_(
    "Your tickets' number, type, status, dates and deadlines, with nothing linking them to you: the helpdesk "
    "must be able to count its tickets and show it met its deadlines."
)
KEPT_QUESTIONS = N_(
    "Which answer each question got and whether it helped, without the question or your id: for the "
    "helpdesk's statistics."
)

register(
    Section(
        "user",
        N_("Your profile"),
        {
            "id": N_("Telegram id"),
            "display_name": N_("Name"),
            "lang": N_("Language"),
            "role": N_("Asking for"),
            "subscribed": N_("Subscribed to policy notices"),
            "created_at": N_("First contact"),
        },
        _where(User, "id"),
        _erase_user,
        N_("Your Telegram id and language, so that the bot can still talk to you and knows your data was erased."),
    )
)
register(
    Section(
        "questionlog",
        N_("Your questions"),
        {"created_at": N_("Asked"), "text": N_("Question"), "decision": N_("Answer"), "entry_id": N_("Topic")},
        _where(QuestionLog, "user_id"),
        _erase_questions,
        KEPT_QUESTIONS,
    )
)
register(
    Section(
        "ticket",
        N_("Your tickets"),
        {
            "number": N_("Number"),
            "kind": N_("Type"),
            "status": N_("Status"),
            "created_at": N_("Filed"),
            "due_at": N_("Due"),
            "closed_at": N_("Closed"),
            "description": N_("Description"),
            "contact": N_("Contact"),
            "reference": N_("Reference"),
            "resolution": N_("Resolution"),
        },
        _where(Ticket, "user_id"),
        _erase_tickets,
        KEPT_TICKETS,
        hidden=frozenset({"assignee_id"}),
    )
)
register(
    Section(
        "ticketmessage",
        N_("Messages on your tickets"),
        {
            "ticket_id": N_("Ticket"),
            "created_at": N_("Sent"),
            "kind": N_("From"),
            "text": N_("Text"),
            "file_id": N_("Attachment (Telegram file id)"),
            "file_name": N_("File name"),
        },
        _ticket_messages,
        _erased_with_tickets,
        hidden=frozenset({"author_id"}),
    )
)
register(
    Section(
        "helprequest",
        N_("Your requests to talk to a person"),
        {"created_at": N_("Asked"), "status": N_("Status"), "claimed_at": N_("Taken")},
        _where(HelpRequest, "user_id"),
        _erase_requests,
        hidden=frozenset({"operator_id"}),
    )
)
register(
    Section(
        "livesession",
        N_("Your live chats"),
        {"started_at": N_("Started"), "ended_at": N_("Ended"), "status": N_("Status"), "outcome": N_("Outcome")},
        _where(LiveSession, "user_id"),
        _erase_sessions,
        N_("When each live chat took place and how it ended, without its messages or your id: for the statistics."),
        hidden=frozenset({"operator_id"}),
    )
)
register(
    Section(
        "sessionmessage",
        N_("Live chat messages"),
        {
            "session_id": N_("Live chat"),
            "created_at": N_("Sent"),
            "sender": N_("From"),
            "text": N_("Text"),
            "file_id": N_("Attachment (Telegram file id)"),
        },
        _session_messages,
        _erased_with_tickets,
    )
)
register(
    Section(
        "rating",
        N_("Your ratings"),
        {"service": N_("Rated"), "service_id": N_("Its id"), "level": N_("Rating"), "comment": N_("Comment")},
        _where(Rating, "user_id"),
        _erase_ratings,
        N_("Each rating's level and date, without your comment or your id: the service's satisfaction figures."),
    )
)
register(
    Section(
        "followup",
        N_("Call-backs after your ratings"),
        {
            "opened_at": N_("Opened"),
            "due_at": N_("Due"),
            "called_at": N_("Called back"),
            "outcome": N_("Outcome"),
            "notes": N_("Notes"),
        },
        _where(FollowUp, "user_id"),
        _erase_followups,
        hidden=frozenset({"assignee_id", "called_by"}),
    )
)
register(
    Section(
        "flow",
        N_("What you were doing"),
        {"name": N_("Step"), "data": N_("What you had typed"), "updated_at": N_("Updated")},
        _where(Flow, "user_id"),
        _erase_flow,
    )
)
register(Section("ticketlink", "", {}, None, _erase_links))
register(
    Section(
        "work",
        "",
        {},
        None,
        _erase_journal,
        N_(
            "The delivery journal's record of your last messages to the bot (this one included) until they are "
            "handled; it deletes them by itself 7 days later."
        ),
    )
)
register(
    Section(
        "staff",
        N_("Your staff record"),
        {"role": N_("Role"), "name": N_("Name"), "created_at": N_("Since")},
        _where(Staff, "user_id"),
        _keep_staff,
        N_("Your staff record and the audit log of your staff actions: the helpdesk must show who did what."),
    )
)


# ----- tables known by name only (added by other features; a section only where the table exists) ---------
def _table(name: str) -> Table | None:
    return SQLModel.metadata.tables.get(name)


def _table_rows(name: str, column: str = "user_id") -> Rows:
    """The rows of table *name* whose *column* is the user's id (none when the table does not exist)."""

    def rows(session: Session, user_id: int) -> Sequence[Mapping[str, Any]]:
        table = _table(name)
        if table is None:
            return []
        order = list(table.primary_key.columns)
        statement = select_rows(table).where(table.c[column] == user_id).order_by(*order)
        return [dict(row) for row in session.execute(statement).mappings()]

    return rows


def _table_delete(name: str, column: str = "user_id", unless: Mapping[str, str] | None = None) -> Eraser:
    """Delete table *name*'s rows of the user (keeping those whose columns hold the values of *unless*)."""

    def erase(session: Session, user_id: int, now: datetime) -> int:
        table = _table(name)
        if table is None:
            return 0
        statement = delete(table).where(table.c[column] == user_id)
        for key, value in (unless or {}).items():
            statement = statement.where(table.c[key] != value)
        return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]

    return erase


def _erase_permit_reminders(session: Session, user_id: int, now: datetime) -> int:
    """The reminders decided for the user's watched permits (before the watches themselves go)."""
    reminders, watches = _table("permitreminder"), _table("permitwatch")
    if reminders is None or watches is None:
        return 0
    mine = select_rows(watches.c.id).where(watches.c.user_id == user_id)
    statement = delete(reminders).where((reminders.c.watch_id.in_(mine)) | (reminders.c.user_id == user_id))
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


register(Section("permitreminder", "", {}, None, _erase_permit_reminders))
register(
    Section(
        "permitwatch",
        N_("Permits you watch for expiry"),
        {"label": N_("Label"), "expires_on": N_("Expires"), "employment_ends_on": N_("Employment ends")},
        _table_rows("permitwatch"),
        _table_delete("permitwatch"),
    )
)
register(
    Section(
        "noticedelivery",
        N_("Policy notices sent to you"),
        {"notice_id": N_("Notice"), "status": N_("Status"), "sent_at": N_("Sent")},
        _table_rows("noticedelivery"),
        _table_delete("noticedelivery"),  # those not sent yet too: nothing more goes to someone erased
    )
)
NOT_PERSONAL = {
    **NOT_PERSONAL,
    "policynotice": "the notices supervisors write (their ids as author)",
    "gapreview": "masked questions staff reviewed, never who asked; the user's are taken out with their questions",
    "instancelease": "which instance runs which scheduled job",
}


# ----- export and erasure ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PersonalData:
    """Everything stored about a user: each section's rows as plain values (JSON-ready)."""

    user_id: int
    made_at: datetime
    sections: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def to_json(self) -> str:
        """The machine-readable copy."""
        document = {"telegram_id": self.user_id, "exported_at": self.made_at.isoformat(), "data": self.sections}
        return json.dumps(document, ensure_ascii=False, indent=2)

    def to_text(self, t: Translator) -> str:
        """The readable copy in the user's language: each section with its rows, labelled."""
        _ = t.gettext
        lines = [
            _("Everything the helpdesk stores about you (Telegram id {id}), as of {when}.").format(
                id=self.user_id, when=t.datetime(self.made_at)
            ),
            _("The JSON file next to this one has the same data in full, machine-readable."),
        ]
        for section in REGISTRY:
            rows = self.sections.get(section.table)
            if section.rows is None or not rows:
                continue
            lines += ["", f"== {_(section.title)} ({len(rows)}) =="]
            for row in rows:
                lines.append("")
                for column, label in section.labels.items():
                    value = row.get(column)
                    if value is None or value == "":
                        continue
                    lines.append(f"{_(label)}: {_readable(value, t)}")
        return "\n".join(lines) + "\n"


def _readable(value: Any, t: Translator) -> str:
    if isinstance(value, bool):
        return t.gettext("yes") if value else t.gettext("no")
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return t.datetime(datetime.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return None
    return value


def _row(section: Section, row: SQLModel | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(row, SQLModel):
        columns = row.__table__.columns  # type: ignore[attr-defined]
        return {c.name: _plain(getattr(row, c.key)) for c in columns if c.name not in section.hidden}
    return {name: _plain(value) for name, value in row.items() if name not in section.hidden}


@dataclass(frozen=True)
class Erasure:
    """What erasing a user's data did: rows changed per table, and what was kept and why (``N_`` texts)."""

    user_id: int
    refused: str | None = None
    """``live`` when the user is in a live chat or waiting for one (erasing would cut it), ``done`` when their
    data was erased already after the confirmation they answer (a second tap): nothing was done."""
    changed: dict[str, int] = field(default_factory=dict)
    kept: tuple[str, ...] = ()


def export_user(session: Session, user_id: int, now: datetime) -> PersonalData:
    """Everything stored about *user_id*, in the caller's transaction."""
    data = PersonalData(user_id, now)
    for section in REGISTRY:
        if section.rows is not None:
            data.sections[section.table] = [_row(section, row) for row in section.rows(session, user_id)]
    return data


def in_live_desk(session: Session, user_id: int) -> bool:
    """Whether the user waits for a person or is in a live chat."""
    waiting = session.exec(
        select(HelpRequest.id).where(HelpRequest.user_id == user_id, HelpRequest.status == HelpRequestStatus.WAITING)
    ).first()
    chatting = session.exec(
        select(LiveSession.id).where(LiveSession.user_id == user_id, LiveSession.status == SessionStatus.ACTIVE)
    ).first()
    return waiting is not None or chatting is not None


def erase_user(session: Session, user_id: int, now: datetime) -> Erasure:
    """Erase or anonymise everything about *user_id* (each section in turn), in the caller's transaction."""
    if in_live_desk(session, user_id):
        return Erasure(user_id, refused="live")
    changed = {section.table: section.erase(session, user_id, now) for section in REGISTRY}
    staff = session.get(Staff, user_id) is not None
    kept = tuple(  # told only about what applies to them
        section.kept
        for section in REGISTRY
        if section.kept is not None
        and (changed[section.table] or section.table in ("user", "work") or (section.table == "staff" and staff))
    )
    return Erasure(user_id, None, {k: v for k, v in changed.items() if v}, kept)


def confirmation_valid(issued: datetime, now: datetime) -> bool:
    """Whether a /deletemydata confirmation issued at *issued* may still be pressed at *now*."""
    return issued <= now + timedelta(minutes=1) and now - issued <= CONFIRM_WINDOW


class PersonalDataRights:
    """The export and the erasure over one database, for the user themselves or for staff on request."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def export(self, user_id: int, now: datetime, actor_id: int | None = None) -> PersonalData:
        """A copy of everything about *user_id*; *actor_id* is the member of staff exporting it on the user's
        request (``COMMAND_LINE`` from the command line; recorded in the audit log), None for the user."""
        with session_scope(self.engine) as session:
            if actor_id is not None:
                audit(session, actor_id, "user_export", now, detail=str(user_id))
            return export_user(session, user_id, now)

    def erase(
        self, user_id: int, now: datetime, actor_id: int | None = None, asked_at: datetime | None = None
    ) -> Erasure:
        """Erase *user_id*'s personal data (see the module); *actor_id* as in ``export``. With *asked_at* (when
        the user was asked to confirm), a second confirmation of the same request does nothing (``done``)."""
        with session_scope(self.engine) as session:
            user = session.get(User, user_id)
            if asked_at is not None and user is not None and user.erased_at is not None and user.erased_at >= asked_at:
                return Erasure(user_id, refused="done")
            result = erase_user(session, user_id, now)
            if actor_id is not None and result.refused is None:
                audit(session, actor_id, "user_erase", now, detail=str(user_id))
            return result

    def known(self, user_id: int) -> bool:
        """Whether anything is stored about *user_id* (a user row)."""
        with session_scope(self.engine) as session:
            return session.get(User, user_id) is not None
