"""Retention (PIPL: no longer than needed): what has been kept its time is erased or anonymised.

Each kind of record has its period (``bot.config``: ``HELPDESK_KEEP_*_DAYS``):

- questions: the question's text is erased ``questions`` days after it was asked (which answer it got and
  whether it helped stay, for the statistics);
- contacts: a ticket's contact (phone or e-mail) is removed ``contacts`` days after the ticket was closed;
- tickets: ``tickets`` days after closing, a ticket is anonymised (``bot.privacy.rights.anonymise_ticket``:
  texts, reference and files erased, unlinked from its user; kind, status, dates and deadlines stay);
- transcripts: ``transcripts`` days after a live chat ended, its messages are erased and it is unlinked.

The work journal prunes itself after 7 days (``bot.store.journal.KEEP``). A run is idempotent: what was
erased is not counted again. Time is passed in; ``dry_run`` counts without changing anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.privacy.rights import anonymise_session, anonymise_ticket
from bot.store.db import session_scope
from bot.store.models import LiveSession, QuestionLog, Ticket
from bot.store.statuses import SessionStatus, TicketStatus

KINDS = ("questions", "contacts", "tickets", "transcripts")
"""The kinds of record, in the order a run handles and reports them."""


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each kind of record is kept."""

    questions: timedelta = timedelta(days=180)
    contacts: timedelta = timedelta(days=30)
    tickets: timedelta = timedelta(days=3 * 365)
    transcripts: timedelta = timedelta(days=3 * 365)

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(
            questions=timedelta(days=settings.helpdesk_keep_questions_days),
            contacts=timedelta(days=settings.helpdesk_keep_contacts_days),
            tickets=timedelta(days=settings.helpdesk_keep_tickets_days),
            transcripts=timedelta(days=settings.helpdesk_keep_transcripts_days),
        )


class Retention:
    """Erases what has been kept its time."""

    def __init__(self, engine: Engine, policy: RetentionPolicy | None = None) -> None:
        self.engine = engine
        self.policy = policy or RetentionPolicy()

    def run(self, now: datetime, dry_run: bool = False) -> dict[str, int]:
        """Erase (or with *dry_run* only count) what has expired as of *now*, in one transaction; returns how
        many records of each kind (``KINDS``) were (or would be) erased."""
        with session_scope(self.engine) as session:
            counts = {
                "questions": self._questions(session, now, dry_run),
                "contacts": self._contacts(session, now, dry_run),
                "tickets": self._tickets(session, now, dry_run),
                "transcripts": self._transcripts(session, now, dry_run),
            }
            return counts

    def _questions(self, session: Session, now: datetime, dry_run: bool) -> int:
        expired = (col(QuestionLog.created_at) < now - self.policy.questions, col(QuestionLog.text) != "")
        if dry_run:
            return int(session.exec(select(func.count()).select_from(QuestionLog).where(*expired)).one())
        result = session.execute(update(QuestionLog).where(*expired).values(text=""))
        return int(result.rowcount)  # type: ignore[attr-defined]

    def _contacts(self, session: Session, now: datetime, dry_run: bool) -> int:
        expired = (
            col(Ticket.status) == TicketStatus.CLOSED,
            col(Ticket.closed_at) < now - self.policy.contacts,
            col(Ticket.contact).is_not(None),
        )
        if dry_run:
            return int(session.exec(select(func.count()).select_from(Ticket).where(*expired)).one())
        result = session.execute(update(Ticket).where(*expired).values(contact=None))
        return int(result.rowcount)  # type: ignore[attr-defined]

    def _tickets(self, session: Session, now: datetime, dry_run: bool) -> int:
        tickets = session.exec(
            select(Ticket).where(
                Ticket.status == TicketStatus.CLOSED,
                col(Ticket.closed_at) < now - self.policy.tickets,
                col(Ticket.erased_at).is_(None),
            )
        ).all()
        if not dry_run:
            for ticket in tickets:
                anonymise_ticket(session, ticket, now)
        return len(tickets)

    def _transcripts(self, session: Session, now: datetime, dry_run: bool) -> int:
        chats = session.exec(
            select(LiveSession).where(
                LiveSession.status == SessionStatus.ENDED,
                func.coalesce(LiveSession.ended_at, LiveSession.last_activity_at) < now - self.policy.transcripts,
                col(LiveSession.erased_at).is_(None),
            )
        ).all()
        if not dry_run:
            for live in chats:
                anonymise_session(session, live, now)
        return len(chats)
