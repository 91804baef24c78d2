"""Several instances on one PostgreSQL database (issue 17 §5): job leases, per-chat locks, shared works.

- **Job leases** (``Leases``, table ``instancelease``): a scheduled job runs only where its lease is held. A run
  takes the lease when it has expired (or renews its own) with one conditional ``UPDATE … WHERE expires_at <= now
  OR holder = me`` (a row lock: of two instances racing, the second re-reads the row after the first commits
  and finds it held), or inserts the first row (``ON CONFLICT DO NOTHING``). The holder keeps it by renewing
  at each run; when it stops (or dies), another instance takes it once the lease has expired.
- **Per-chat locks** (``ChatLocks``): a PostgreSQL session advisory lock per chat, ``pg_try_advisory_lock(chat)``,
  all held on one dedicated connection per instance (a session may hold many), taken before a chat's works are
  handled and released after. A session lock (not ``pg_advisory_xact_lock``) because handling a work spans
  several transactions and the Bot API calls between them; if the process dies its connection closes and
  the lock goes with it.
- **Shared works**: the journal's unfinished works are the shared queue. A chat's are read in ``update_id``
  order (``unfinished_updates``) by whoever holds the chat's lock; a deferred job run is claimed by pushing
  its next attempt forward in one conditional ``UPDATE`` (``claim_job_work``), so one instance resumes it.

SQLite has one writer and no advisory locks: it is single-instance (``bot run`` refuses several-instance
mode on it).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import col

from bot.store.journal import JOB, UPDATE
from bot.store.models import InstanceLease, Work


def instance_name() -> str:
    """A name for this process, unique across hosts and restarts (host, pid, a random part)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Leases:
    """Who runs each scheduled job for now (see the module's docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def take(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Take (or renew) the lease *name* for *holder* until ``now + ttl``; False when another holds it."""
        until = now + ttl
        lease = InstanceLease.__table__  # type: ignore[attr-defined]
        with self.engine.begin() as connection:
            taken = connection.execute(
                sa.update(lease)
                .where(
                    lease.c.name == name,
                    sa.or_(lease.c.expires_at <= now, lease.c.holder == holder),
                )
                .values(holder=holder, expires_at=until)
            ).rowcount
            if taken:
                return True
            insert = (postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert)(lease)
            statement = insert.values(name=name, holder=holder, expires_at=until).on_conflict_do_nothing()
            return connection.execute(statement.returning(lease.c.name)).first() is not None

    def release(self, holder: str, names: Iterable[str] | None = None) -> int:
        """Give up *holder*'s leases (all, or *names*) so another instance takes them at once; how many."""
        lease = InstanceLease.__table__  # type: ignore[attr-defined]
        query = sa.delete(lease).where(lease.c.holder == holder)
        if names is not None:
            query = query.where(lease.c.name.in_(list(names)))
        with self.engine.begin() as connection:
            return connection.execute(query).rowcount or 0

    def holder(self, name: str, now: datetime) -> str | None:
        """Who holds lease *name* now (None: nobody, or it expired)."""
        lease = InstanceLease.__table__  # type: ignore[attr-defined]
        with self.engine.connect() as connection:
            row = connection.execute(sa.select(lease).where(lease.c.name == name)).first()
        return row.holder if row is not None and row.expires_at > now else None


LOCK_SPACE = 0x4844_0000_0000_0000
"""Added to a chat id to make its advisory lock key ("HD" in the top bytes), away from small keys other
software on the same database may use. Chat ids are below 2**53 in magnitude, so the sum fits a bigint."""


class ChatLocks:
    """PostgreSQL session advisory locks, one per chat, held on one dedicated connection of this instance.

    The connection is taken out of the pool for good and put in autocommit mode: a lock or an unlock is one
    statement, one round trip. Calls are short (``pg_try_advisory_lock`` never waits) and made from one
    thread (the event loop): the caller waits between attempts without blocking anything. If the
    connection fails, every lock it held is gone with it; the next call opens a new one.
    """

    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("several instances need PostgreSQL (SQLite is single-instance)")
        self.engine = engine
        self._connection: Any = None
        self.held: set[int] = set()

    def _cursor(self) -> Any:
        if self._connection is None:
            self._connection = self.engine.raw_connection()
            self._connection.driver_connection.autocommit = True  # never back to the pool: see close()
            self.held.clear()
        return self._connection.driver_connection.cursor()

    def _call(self, function: str, chat_id: int) -> bool:
        try:
            with self._cursor() as cursor:
                cursor.execute(f"SELECT {function}(%s)", (LOCK_SPACE + chat_id,))
                row = cursor.fetchone()
        except Exception:
            self.close()
            raise
        return bool(row and row[0])

    def try_lock(self, chat_id: int) -> bool:
        """Take chat *chat_id*'s lock if no other session holds it (never waits)."""
        if self._call("pg_try_advisory_lock", chat_id):
            self.held.add(chat_id)
            return True
        return False

    def unlock(self, chat_id: int) -> None:
        """Release chat *chat_id*'s lock (on failure the connection is dropped, which releases them all)."""
        self.held.discard(chat_id)
        self._call("pg_advisory_unlock", chat_id)

    def close(self) -> None:
        """Drop the connection: PostgreSQL releases every lock it held."""
        connection, self._connection = self._connection, None
        self.held.clear()
        if connection is not None:
            connection.invalidate()  # closed, not back to the pool: a pooled session would keep its locks


@dataclass(frozen=True)
class SharedWork:
    """An unfinished work as several instances share it."""

    key: str
    update_id: int | None
    name: str | None
    payload: str | None
    attempts: int
    next_attempt_at: datetime | None


def _update_id(key: str) -> int | None:
    number = key.removeprefix("u:")
    return int(number) if number != key and number.lstrip("-").isdigit() else None


def unfinished_updates(engine: Engine, chat_id: int) -> list[SharedWork]:
    """Chat *chat_id*'s unfinished update works (whoever admitted them), in ``update_id`` order."""
    work = Work.__table__  # type: ignore[attr-defined]
    query = sa.select(work.c.key, work.c.payload, work.c.attempts, work.c.next_attempt_at).where(
        work.c.done_at.is_(None), work.c.kind == UPDATE, work.c.chat_id == chat_id
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    works = [SharedWork(r.key, _update_id(r.key), None, r.payload, r.attempts, r.next_attempt_at) for r in rows]
    return sorted(works, key=lambda w: (w.update_id is None, w.update_id or 0, w.key))


def chats_due(engine: Engine, now: datetime, settle: timedelta) -> list[int]:
    """Chats with unfinished update works to resume: one deferred whose next attempt is due, or one never
    deferred that was admitted before ``now - settle`` (its instance died, or is slow to get to it)."""
    due = sa.or_(
        col(Work.next_attempt_at) <= now,
        sa.and_(col(Work.next_attempt_at).is_(None), col(Work.created_at) <= now - settle),
    )
    query = sa.select(col(Work.chat_id)).where(col(Work.done_at).is_(None), col(Work.kind) == UPDATE, due).distinct()
    with engine.connect() as connection:
        return sorted(row[0] or 0 for row in connection.execute(query))


def job_works_due(engine: Engine, now: datetime, orphaned: timedelta) -> list[SharedWork]:
    """Unfinished job runs to resume: deferred and due, or never deferred and older than *orphaned* (the
    instance running it died)."""
    query = (
        sa.select(Work)
        .where(
            col(Work.done_at).is_(None),
            col(Work.kind) == JOB,
            sa.or_(
                col(Work.next_attempt_at) <= now,
                sa.and_(col(Work.next_attempt_at).is_(None), col(Work.created_at) <= now - orphaned),
            ),
        )
        .order_by(col(Work.created_at), col(Work.key))
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [SharedWork(r.key, None, r.name, r.payload, r.attempts, r.next_attempt_at) for r in rows]


def claim_job_work(engine: Engine, work: SharedWork, now: datetime, hold: timedelta) -> bool:
    """Claim the job run *work* (as ``job_works_due`` read it) for ``hold``: its next attempt moves to
    ``now + hold`` only if nobody changed it since; False when another instance claimed it first."""
    same = (
        col(Work.next_attempt_at).is_(None)
        if work.next_attempt_at is None
        else col(Work.next_attempt_at) == work.next_attempt_at
    )
    with engine.begin() as connection:
        claimed = connection.execute(
            sa.update(Work)
            .where(col(Work.key) == work.key, col(Work.done_at).is_(None), same)
            .values(next_attempt_at=now + hold)
        ).rowcount
    return bool(claimed)
