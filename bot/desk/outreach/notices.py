"""Policy notices to subscribers (issue 16 §1): drafted in English and Chinese, confirmed by a supervisor, sent
once to each subscriber of the chosen audience, in their language.

- **Drafting**: a supervisor's ``/notice`` flow in Telegram, or ``python -m bot notice draft FILE.toml`` (no
  author: the command line has no Telegram user). A draft has a title and a text in each language, an
  audience (``Audience``) and optionally a knowledge-base entry for a "more" button. Drafts can be edited and
  cancelled until they are confirmed.
- **Confirming** turns the draft into ``sending`` and, in the same transaction, makes one ``NoticeDelivery``
  row per recipient (subscribed, not blocked, of the audience), unique per (notice, user): who gets it is
  decided once, at confirmation, so a restart mid-send neither skips nor adds anyone.
- **Sending** (``handlers.policy_notices``) takes batches of deliveries (``take``: claimed in the step's
  transaction, so two runs or two instances never take the same one), sends each and records its outcome
  (``mark``) right after Telegram's answer; a refusal because the user blocked the bot marks the user blocked.
  When none is pending, ``finish`` counts the outcome and returns the report for the supervisor who confirmed.

No Telegram here; time is passed in. Every action is a supervisor's (``StaffRegistry.require``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import col

from bot.answering.text import Lang
from bot.desk.staff import StaffRegistry, audit
from bot.desk.tickets.common import checked_text
from bot.errors import Conflict, InvalidInput, NotFound, Reason
from bot.i18n import N_
from bot.store import limits
from bot.store.db import begin, session_scope
from bot.store.models import NoticeDelivery, PolicyNotice, User

BATCH = 100
"""Deliveries one sending run takes (about three seconds at Telegram's 30 messages a second)."""
LISTED = 10
"""Notices ``/notices`` lists, newest first."""


class Audience(StrEnum):
    """``PolicyNotice.audience``: who among the subscribers gets a notice."""

    EMPLOYERS = "employers"  # users who said they are an employer's HR contact (User.role "employer")
    APPLICANTS = "applicants"  # everyone else: applying for themselves, or no role chosen
    ALL = "all"  # every subscriber


AUDIENCE_LABELS: Mapping[str, str] = {
    Audience.EMPLOYERS: N_("Employers' HR contacts"),
    Audience.APPLICANTS: N_("Applicants"),
    Audience.ALL: N_("Everyone subscribed"),
}


class NoticeStatus(StrEnum):
    """``PolicyNotice.status``: draft → sending → done, or draft → cancelled."""

    DRAFT = "draft"
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"


class DeliveryStatus(StrEnum):
    """``NoticeDelivery.status``."""

    PENDING = "pending"  # not sent yet (``claimed_at`` set once a sending run has taken it)
    SENT = "sent"  # Telegram accepted it
    FAILED = "failed"  # Telegram refused it for good (the chat does not exist, …)
    BLOCKED = "blocked"  # the user blocked the bot (they are marked blocked too)
    SKIPPED = "skipped"  # the user unsubscribed between the confirmation and their turn


@dataclass(frozen=True)
class NoticeText:
    """A notice in one language: its title (one line) and its text."""

    title: str
    body: str

    @staticmethod
    def from_message(text: str) -> NoticeText:
        """A supervisor's message: the first non-empty line is the title, the rest the text."""
        lines = text.strip().splitlines()
        title = lines[0].strip() if lines else ""
        return NoticeText(title, "\n".join(lines[1:]).strip())


@dataclass(frozen=True)
class NoticeView:
    """A policy notice as the front ends see it."""

    id: int
    en: NoticeText
    zh: NoticeText
    entry_id: str | None
    audience: str
    status: str
    created_by: int | None
    created_at: datetime
    confirmed_by: int | None
    confirmed_at: datetime | None
    finished_at: datetime | None
    recipients: int
    sent: int
    failed: int
    blocked: int
    pending: int = 0
    """Deliveries not sent yet (while sending)."""

    def text(self, lang: Lang) -> NoticeText:
        return self.zh if lang == "zh" else self.en

    @property
    def complete(self) -> bool:
        """Both languages have a title and a text."""
        return all((self.en.title, self.en.body, self.zh.title, self.zh.body))

    @property
    def skipped(self) -> int:
        """Recipients who unsubscribed before their turn (once done)."""
        return max(0, self.recipients - self.sent - self.failed - self.blocked - self.pending)


@dataclass(frozen=True)
class Delivery:
    """One message to send: which delivery, of which notice, to whom, in which language."""

    id: int
    notice_id: int
    user_id: int
    lang: Lang


@dataclass(frozen=True)
class Batch:
    """What a sending run took: its deliveries and the notices they are of."""

    deliveries: tuple[Delivery, ...]
    notices: Mapping[int, NoticeView]


@dataclass(frozen=True)
class NoticeReport:
    """A notice has gone out: the outcome, for the supervisor who confirmed it (``user_id``)."""

    user_id: int
    notice: NoticeView


def _view(row: PolicyNotice, pending: int = 0) -> NoticeView:
    assert row.id is not None
    return NoticeView(
        row.id,
        NoticeText(row.title_en, row.body_en),
        NoticeText(row.title_zh, row.body_zh),
        row.entry_id,
        row.audience,
        row.status,
        row.created_by,
        row.created_at,
        row.confirmed_by,
        row.confirmed_at,
        row.finished_at,
        row.recipients,
        row.sent,
        row.failed,
        row.blocked,
        pending,
    )


def _audience_filter(audience: str) -> list[Any]:
    """The conditions on ``User`` of the subscribers *audience* reaches."""
    conditions: list[Any] = [col(User.subscribed), ~col(User.blocked)]
    if audience == Audience.EMPLOYERS:
        conditions.append(col(User.role) == "employer")
    elif audience == Audience.APPLICANTS:
        conditions.append(sa.or_(col(User.role).is_(None), col(User.role) != "employer"))
    return conditions


def _checked(text: NoticeText | None) -> NoticeText | None:
    if text is None:
        return None
    return NoticeText(checked_text(text.title, limits.NOTICE_TITLE), checked_text(text.body, limits.NOTICE_BODY))


def read_draft_file(text: str) -> dict[str, Any]:
    """A draft written as TOML (``python -m bot notice draft FILE.toml``)::

        audience = "employers"          # employers | applicants | all
        entry = "cancellation"          # optional: a knowledge-base entry for the "more" button
        [en]
        title = "…"
        body = \"\"\"…\"\"\"
        [zh]
        title = "…"
        body = \"\"\"…\"\"\"

    The arguments of ``PolicyNotices.draft`` (``en``, ``zh``, ``audience``, ``entry_id``); ValueError names
    what is missing or malformed.
    """
    data = tomllib.loads(text)
    texts: dict[str, NoticeText] = {}
    for lang in ("en", "zh"):
        part = data.get(lang)
        if (
            not isinstance(part, dict)
            or not isinstance(part.get("title"), str)
            or not isinstance(part.get("body"), str)
        ):
            raise ValueError(f"[{lang}] needs a title and a body (strings)")
        texts[lang] = NoticeText(part["title"], part["body"])
    audience = data.get("audience")
    if audience not in tuple(Audience):
        raise ValueError("audience must be one of: " + ", ".join(Audience))
    entry = data.get("entry")
    if entry is not None and not isinstance(entry, str):
        raise ValueError("entry must be a knowledge-base entry id (a string)")
    return {"en": texts["en"], "zh": texts["zh"], "audience": audience, "entry_id": entry or None}


UNCHANGED: Any = object()
"""``edit``'s default: leave that part as it is."""


class PolicyNotices:
    """Drafting, confirming, sending and listing policy notices (see the module's docstring)."""

    def __init__(self, engine: Engine, staff: StaffRegistry, entries: Collection[str]) -> None:
        self.engine = engine
        self.staff = staff
        self.entries = entries
        """The knowledge base's entry ids (a "more" button must name one)."""

    # ----- drafting ----------------------------------------------------------------------------------
    def _entry(self, entry_id: str | None) -> str | None:
        entry_id = (entry_id or "").strip() or None
        if entry_id is not None and entry_id not in self.entries:
            raise NotFound(Reason.ENTRY)
        return entry_id

    def draft(
        self,
        actor_id: int | None,
        en: NoticeText | None,
        zh: NoticeText | None,
        audience: str,
        entry_id: str | None,
        now: datetime,
    ) -> NoticeView:
        """A new draft (*actor_id* None: from the command line). Either language may still be missing."""
        if actor_id is not None:
            self.staff.require(actor_id, supervisor=True)
        if audience not in AUDIENCE_LABELS:
            raise InvalidInput(Reason.UNKNOWN_AUDIENCE)
        en, zh, entry_id = _checked(en), _checked(zh), self._entry(entry_id)
        with session_scope(self.engine) as session:
            row = PolicyNotice(
                title_en=en.title if en else "",
                body_en=en.body if en else "",
                title_zh=zh.title if zh else "",
                body_zh=zh.body if zh else "",
                entry_id=entry_id,
                audience=audience,
                status=NoticeStatus.DRAFT,
                created_by=actor_id,
                created_at=now,
            )
            session.add(row)
            session.flush()
            if actor_id is not None:
                audit(session, actor_id, "notice_drafted", now, detail=f"notice {row.id}")
            return _view(row)

    def edit(
        self,
        actor_id: int,
        notice_id: int,
        now: datetime,
        *,
        en: NoticeText | None = UNCHANGED,
        zh: NoticeText | None = UNCHANGED,
        audience: str = UNCHANGED,
        entry_id: str | None = UNCHANGED,
    ) -> NoticeView:
        """Change a draft: its English or Chinese text, its audience, or its "more" entry (None: no button)."""
        self.staff.require(actor_id, supervisor=True)
        if audience is not UNCHANGED and audience not in AUDIENCE_LABELS:
            raise InvalidInput(Reason.UNKNOWN_AUDIENCE)
        if en is not UNCHANGED:
            en = _checked(en)
        if zh is not UNCHANGED:
            zh = _checked(zh)
        if entry_id is not UNCHANGED:
            entry_id = self._entry(entry_id)
        with session_scope(self.engine) as session:
            row = session.get(PolicyNotice, notice_id, with_for_update=True)
            if row is None:
                raise NotFound(Reason.ENTRY)
            if row.status != NoticeStatus.DRAFT:
                raise Conflict(Reason.NOTICE_NOT_DRAFT)
            if en is not UNCHANGED and en is not None:
                row.title_en, row.body_en = en.title, en.body
            if zh is not UNCHANGED and zh is not None:
                row.title_zh, row.body_zh = zh.title, zh.body
            if audience is not UNCHANGED:
                row.audience = audience
            if entry_id is not UNCHANGED:
                row.entry_id = entry_id
            return _view(row)

    def get(self, actor_id: int, notice_id: int) -> NoticeView:
        """A notice, for a supervisor (with its deliveries not sent yet)."""
        self.staff.require(actor_id, supervisor=True)
        with session_scope(self.engine) as session:
            row = session.get(PolicyNotice, notice_id)
            if row is None:
                raise NotFound(Reason.ENTRY)
            return _view(row, self._pending(session.connection(), [notice_id]).get(notice_id, 0))

    def reach(self, audience: str) -> int:
        """How many subscribers *audience* reaches now (the preview says it)."""
        query = sa.select(sa.func.count()).select_from(User).where(*_audience_filter(audience))
        with begin(self.engine) as connection:
            return int(connection.execute(query).scalar_one())

    def listing(self, actor_id: int, limit: int = LISTED) -> list[NoticeView]:
        """The latest notices, newest first, for a supervisor (drafts and cancelled ones too)."""
        self.staff.require(actor_id, supervisor=True)
        return self.recent(limit)

    def recent(self, limit: int = LISTED) -> list[NoticeView]:
        """The latest notices, newest first (``listing`` without the check: the command line's)."""
        with session_scope(self.engine) as session:
            query = sa.select(PolicyNotice).order_by(col(PolicyNotice.id).desc()).limit(limit)
            rows = list(session.execute(query).scalars())
            pending = self._pending(session.connection(), [r.id for r in rows if r.status == NoticeStatus.SENDING])
            return [_view(row, pending.get(row.id or 0, 0)) for row in rows]

    @staticmethod
    def _pending(connection: Connection, notice_ids: list[Any]) -> dict[int, int]:
        if not notice_ids:
            return {}
        query = (
            sa.select(col(NoticeDelivery.notice_id), sa.func.count())
            .where(col(NoticeDelivery.notice_id).in_(notice_ids), col(NoticeDelivery.status) == DeliveryStatus.PENDING)
            .group_by(col(NoticeDelivery.notice_id))
        )
        return {int(notice): int(count) for notice, count in connection.execute(query)}

    # ----- confirming ----------------------------------------------------------------------------------
    @staticmethod
    def _settle(
        connection: Connection, actor_id: int, notice_id: int, status: NoticeStatus, now: datetime
    ) -> PolicyNotice:
        """Move a draft to *status* (a conditional update: of two presses at once, one wins) and return it."""
        table = PolicyNotice.__table__  # type: ignore[attr-defined]
        row = connection.execute(sa.select(table).where(table.c.id == notice_id)).first()
        if row is None:
            raise NotFound(Reason.ENTRY)
        if status == NoticeStatus.SENDING and not all((row.title_en, row.body_en, row.title_zh, row.body_zh)):
            raise InvalidInput(Reason.NOTICE_INCOMPLETE)
        changes: dict[str, Any] = {"status": status}
        if status == NoticeStatus.SENDING:
            changes |= {"confirmed_by": actor_id, "confirmed_at": now}
        moved = connection.execute(
            sa.update(table).where(table.c.id == notice_id, table.c.status == NoticeStatus.DRAFT).values(**changes)
        )
        if moved.rowcount != 1:
            raise Conflict(Reason.NOTICE_NOT_DRAFT)
        return PolicyNotice(**{**row._asdict(), **changes})

    def confirm(self, actor_id: int, notice_id: int, now: datetime) -> NoticeView:
        """Send the draft: its recipients are the audience's subscribers now, one delivery each, made in this
        transaction. ``Conflict`` if it was confirmed or cancelled already (a second press)."""
        self.staff.require(actor_id, supervisor=True)
        with session_scope(self.engine) as session:
            connection = session.connection()
            row = self._settle(connection, actor_id, notice_id, NoticeStatus.SENDING, now)
            recipients = (
                sa.select(sa.literal(notice_id), col(User.id), sa.literal(str(DeliveryStatus.PENDING)))
                .where(*_audience_filter(row.audience))
                .order_by(col(User.id))
            )
            connection.execute(sa.insert(NoticeDelivery).from_select(["notice_id", "user_id", "status"], recipients))
            count = connection.execute(  # counted, not the INSERT's rowcount (which drivers report differently)
                sa.select(sa.func.count()).where(col(NoticeDelivery.notice_id) == notice_id)
            ).scalar_one()
            connection.execute(
                sa.update(PolicyNotice).where(col(PolicyNotice.id) == notice_id).values(recipients=count)
            )
            audit(session, actor_id, "notice_confirmed", now, detail=f"notice {notice_id} {row.audience} {count}")
            row.recipients = count
            return _view(row, count)

    def cancel(self, actor_id: int, notice_id: int, now: datetime) -> NoticeView:
        """Drop a draft (nothing was sent). ``Conflict`` once it is confirmed or cancelled."""
        self.staff.require(actor_id, supervisor=True)
        with session_scope(self.engine) as session:
            row = self._settle(session.connection(), actor_id, notice_id, NoticeStatus.CANCELLED, now)
            audit(session, actor_id, "notice_cancelled", now, detail=f"notice {notice_id}")
            return _view(row)

    # ----- sending -----------------------------------------------------------------------------------
    def take(self, now: datetime, size: int = BATCH) -> Batch:
        """Claim up to *size* pending deliveries no run has taken (oldest first), with their notices and each
        recipient's language. Recipients who unsubscribed since the confirmation are skipped here, and those
        known to have blocked the bot are marked blocked without a send."""
        table = NoticeDelivery.__table__  # type: ignore[attr-defined]
        free = sa.and_(table.c.status == DeliveryStatus.PENDING, table.c.claimed_at.is_(None))
        oldest = sa.select(table.c.id).where(free).order_by(table.c.id).limit(size)
        with begin(self.engine) as connection:
            claimed = connection.execute(
                sa.update(table)
                .where(table.c.id.in_(oldest), free)
                .values(claimed_at=now)
                .returning(table.c.id, table.c.notice_id, table.c.user_id)
            ).all()
            if not claimed:
                return Batch((), {})
            users = {
                row.id: row
                for row in connection.execute(
                    sa.select(
                        col(User.id), col(User.lang), col(User.client_lang), col(User.subscribed), col(User.blocked)
                    ).where(col(User.id).in_({row.user_id for row in claimed}))
                )
            }
            deliveries: list[Delivery] = []
            gone: dict[int, DeliveryStatus] = {}
            for row in sorted(claimed, key=lambda r: r.id):
                user = users.get(row.user_id)
                if user is None or not user.subscribed:
                    gone[row.id] = DeliveryStatus.SKIPPED
                elif user.blocked:
                    gone[row.id] = DeliveryStatus.BLOCKED
                else:
                    chosen = user.lang or user.client_lang
                    deliveries.append(Delivery(row.id, row.notice_id, row.user_id, "zh" if chosen == "zh" else "en"))
            for status in (DeliveryStatus.SKIPPED, DeliveryStatus.BLOCKED):
                ids = [delivery for delivery, outcome in gone.items() if outcome == status]
                if ids:
                    connection.execute(sa.update(table).where(table.c.id.in_(ids)).values(status=status, sent_at=now))
            notice_ids = {row.notice_id for row in claimed}
            notices = connection.execute(
                sa.select(PolicyNotice.__table__).where(col(PolicyNotice.id).in_(notice_ids))  # type: ignore[attr-defined]
            ).all()
            views = {row.id: _view(PolicyNotice(**row._asdict())) for row in notices}
            return Batch(tuple(deliveries), views)

    def mark(self, delivery_id: int, status: DeliveryStatus, now: datetime) -> None:
        """Record a delivery's outcome (once: a delivery already marked stays as it is); a user who blocked the
        bot is marked blocked, so nothing more is sent to them until they return."""
        table = NoticeDelivery.__table__  # type: ignore[attr-defined]
        with begin(self.engine) as connection:
            done = connection.execute(
                sa.update(table)
                .where(table.c.id == delivery_id, table.c.status == DeliveryStatus.PENDING)
                .values(status=status, sent_at=now)
                .returning(table.c.user_id)
            ).first()
            if done is not None and status == DeliveryStatus.BLOCKED:
                connection.execute(
                    sa.update(User).where(col(User.id) == done.user_id).values(blocked=True, updated_at=now)
                )

    def finish(self, now: datetime) -> list[NoticeReport]:
        """Close the notices being sent that have no delivery pending: count the outcome and return a report
        for the supervisor who confirmed each (once: the notice moves from ``sending`` to ``done`` here)."""
        table = PolicyNotice.__table__  # type: ignore[attr-defined]
        deliveries = NoticeDelivery.__table__  # type: ignore[attr-defined]
        reports: list[NoticeReport] = []
        with begin(self.engine) as connection:
            sending = [
                row.id
                for row in connection.execute(sa.select(table.c.id).where(table.c.status == NoticeStatus.SENDING))
            ]
            if not sending:
                return []
            pending = self._pending(connection, sending)
            for notice_id in sending:
                if pending.get(notice_id):
                    continue
                counts: dict[str, int] = dict(
                    connection.execute(
                        sa.select(deliveries.c.status, sa.func.count())
                        .where(deliveries.c.notice_id == notice_id)
                        .group_by(deliveries.c.status)
                    ).all()
                )
                moved = connection.execute(
                    sa.update(table)
                    .where(table.c.id == notice_id, table.c.status == NoticeStatus.SENDING)
                    .values(
                        status=NoticeStatus.DONE,
                        finished_at=now,
                        sent=counts.get(DeliveryStatus.SENT, 0),
                        failed=counts.get(DeliveryStatus.FAILED, 0),
                        blocked=counts.get(DeliveryStatus.BLOCKED, 0),
                    )
                    .returning(*table.c)
                ).first()
                if moved is not None:
                    view = _view(PolicyNotice(**moved._asdict()))
                    if view.confirmed_by is not None:
                        reports.append(NoticeReport(view.confirmed_by, view))
        return reports

    def has_work(self) -> tuple[bool, bool]:
        """Whether a sending run has anything to do: (deliveries no run has taken, a notice ready to close)."""
        deliveries = NoticeDelivery.__table__  # type: ignore[attr-defined]
        notices = PolicyNotice.__table__  # type: ignore[attr-defined]
        pending = deliveries.c.status == DeliveryStatus.PENDING
        free = sa.select(deliveries.c.id).where(pending, deliveries.c.claimed_at.is_(None)).limit(1)
        open_ = sa.select(deliveries.c.id).where(pending, deliveries.c.notice_id == notices.c.id)
        ready = sa.select(notices.c.id).where(notices.c.status == NoticeStatus.SENDING, ~sa.exists(open_)).limit(1)
        with begin(self.engine) as connection:
            return connection.execute(free).first() is not None, connection.execute(ready).first() is not None

    def deliveries(self, notice_id: int) -> dict[int, str]:
        """Each recipient of a notice and their delivery's status (for tests and the command line)."""
        query = sa.select(col(NoticeDelivery.user_id), col(NoticeDelivery.status)).where(
            col(NoticeDelivery.notice_id) == notice_id
        )
        with begin(self.engine) as connection:
            return {int(user): str(status) for user, status in connection.execute(query)}
