"""The staff registry: operators and supervisors, and the audit log of what staff do."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.answering.text import Lang, strip_control
from bot.errors import InvalidInput, NotAllowed, NotFound, Reason
from bot.i18n import N_, translator
from bot.store import limits
from bot.store.db import session_scope
from bot.store.models import AuditLog, Staff, ensure_user
from bot.store.statuses import StaffRole

STAFF_ROLES: tuple[StaffRole, ...] = tuple(StaffRole)
ROLE_LABELS: Mapping[str, str] = {StaffRole.OPERATOR: N_("operator"), StaffRole.SUPERVISOR: N_("supervisor")}
FIRST_SUPERVISOR_NAME = N_("Supervisor {id}")
"""The name of a supervisor made from HELPDESK_SUPERVISORS (stored in English, shown in the reader's language
by ``shown_name``) until a supervisor gives them a real one with /staff add."""


def parse_role(word: str, lang: Lang) -> str:
    """The role a supervisor typed after /staff add: ``operator``/``supervisor`` or its label in *lang* (客服,
    主管); anything else as it is (``StaffRegistry.add`` refuses it)."""
    word = word.strip().lower()
    _ = translator(lang).gettext
    return next((role for role, label in ROLE_LABELS.items() if word in (role, _(label).lower())), word)


def shown_name(name: str, user_id: int, lang: Lang) -> str:
    """A member of staff's name for a reader of *lang*: a real name as it is, the placeholder name of a
    supervisor from HELPDESK_SUPERVISORS ("Supervisor 7002") in *lang*."""
    if name != FIRST_SUPERVISOR_NAME.format(id=user_id):
        return name
    return translator(lang).gettext(FIRST_SUPERVISOR_NAME).format(id=user_id)


@dataclass(frozen=True)
class StaffView:
    """A member of staff as the front ends see them."""

    user_id: int
    role: StaffRole
    name: str
    checked_in: bool

    @property
    def is_supervisor(self) -> bool:
        return self.role == StaffRole.SUPERVISOR


def _view(row: Staff) -> StaffView:
    return StaffView(row.user_id, StaffRole(row.role), row.name, row.checked_in)


def audit(
    session: Session, actor_id: int, action: str, now: datetime, ticket_id: int | None = None, detail: str = ""
) -> None:
    """Record a staff action (never personal data in *detail*: ids, statuses, types only)."""
    detail = detail[: limits.AUDIT_DETAIL]
    session.add(AuditLog(actor_id=actor_id, action=action, ticket_id=ticket_id, detail=detail, created_at=now))


def remove_member(session: Session, user_id: int, now: datetime, actor_id: int | None = None) -> StaffView:
    """Make the member of staff inactive (and checked out), in the caller's transaction.

    The staff row is locked first (``FOR UPDATE`` on PostgreSQL; SQLite has one writer anyway), so a
    claim or a transfer to this member running at the same moment waits and then sees them removed.
    """
    row = session.get(Staff, user_id, with_for_update=True)
    if row is None or not row.active:
        raise NotFound(Reason.STAFF)
    if actor_id == user_id:
        raise InvalidInput(Reason.CANNOT_REMOVE_SELF)
    row.active = False
    row.checked_in = False
    audit(session, actor_id or 0, "staff_remove", now, detail=str(user_id))
    return _view(row)


class StaffRegistry:
    """Who is staff, with which role; supervisors manage the list."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, user_id: int) -> StaffView | None:
        """The active staff member with this Telegram id, or None."""
        with session_scope(self.engine) as session:
            row = session.get(Staff, user_id)
            return _view(row) if row is not None and row.active else None

    def require(self, user_id: int, supervisor: bool = False) -> StaffView:
        """The staff member, or ``NotAllowed`` for anyone else (or a non-supervisor when one is needed)."""
        member = self.get(user_id)
        if member is None:
            raise NotAllowed(Reason.STAFF_ONLY)
        if supervisor and not member.is_supervisor:
            raise NotAllowed(Reason.SUPERVISOR_ONLY)
        return member

    def list(self) -> list[StaffView]:
        """Active staff, supervisors first, then by name."""
        with session_scope(self.engine) as session:
            rows = session.exec(select(Staff).where(Staff.active == True)).all()  # noqa: E712
            return sorted((_view(r) for r in rows), key=lambda s: (not s.is_supervisor, s.name.lower()))

    def supervisors(self) -> builtins.list[StaffView]:
        """Active supervisors (they receive bad-rating alerts)."""
        return [s for s in self.list() if s.is_supervisor]

    def add(self, user_id: int, role: str, name: str, now: datetime, actor_id: int | None = None) -> StaffView:
        """Add (or update) a member of staff. *actor_id* is the supervisor doing it (None: command line)."""
        if role not in STAFF_ROLES:
            raise InvalidInput(Reason.UNKNOWN_STAFF_ROLE)
        name = " ".join(strip_control(name).split())[: limits.STAFF_NAME]
        if not name:
            raise InvalidInput(Reason.STAFF_NAME_REQUIRED)
        if user_id <= 0:
            raise InvalidInput(Reason.BAD_TELEGRAM_ID)
        with session_scope(self.engine) as session:
            ensure_user(session, user_id, now)
            row = session.get(Staff, user_id)
            if row is None:
                row = Staff(user_id=user_id, role=role, name=name, created_at=now)
                session.add(row)
            else:
                row.role, row.name, row.active = role, name, True
            audit(session, actor_id or 0, "staff_add", now, detail=f"{user_id} as {role}")
            return _view(row)

    def remove(self, user_id: int, now: datetime, actor_id: int | None = None) -> StaffView:
        """Remove a member of staff (kept inactive for the audit trail), and nothing else.

        The front ends use ``LiveQueue.remove_staff`` instead: it also hands the member's live chats back
        to the queue in the same transaction (``remove_member`` is the part shared with it).
        """
        with session_scope(self.engine) as session:
            return remove_member(session, user_id, now, actor_id)

    def bootstrap_supervisors(self, user_ids: builtins.list[int], now: datetime) -> None:
        """Make the ids in HELPDESK_SUPERVISORS supervisors, unless they already are staff."""
        for user_id in user_ids:
            if self.get(user_id) is None:
                self.add(user_id, StaffRole.SUPERVISOR, FIRST_SUPERVISOR_NAME.format(id=user_id), now)
