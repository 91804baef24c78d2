"""Several instances on one PostgreSQL database: the ``UpdateDesk`` they share through the journal.

One instance (polling, or a single webhook) keeps each chat's unfinished works in memory
(``handlers.durable.UpdateDesk``). Behind a load balancer, a chat's updates reach different instances, so
``SharedUpdateDesk`` keeps nothing in memory: the journal's unfinished works are the queue, and

- **order per chat**: an instance handles a chat only while it holds the chat's PostgreSQL advisory lock
  (``bot.store.leases.ChatLocks``), and then handles every unfinished update work of the chat up to its own,
  in ``update_id`` order, whoever admitted them; a work is marked finished before the lock is released, so the
  instance that admitted it finds it done and does not handle it again. A lock alone would only exclude;
  reading the journal under it is what keeps the order (an update that reached the other instance first but
  is still waiting there is handled here, before the newer one).
- **timers once**: a scheduled job runs only where its lease is held (``bot.store.leases.Leases``; the
  holder renews it at each run, others take over when it expires).
- **deferred works**: resumed by whichever instance is free: a chat's by the one that gets its lock, a job
  run's by the one whose claim (``claim_job_work``) succeeds. A work handled again reads its recorded steps
  back, as after a crash: nothing is sent twice.

Why not the journal's order alone (no lock)? Two instances would run a chat's works at once; the advisory
lock makes one wait (with ``pg_try_advisory_lock`` and a short sleep: no thread is blocked).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import uuid
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any

from telegram import Update

from bot.ops import metrics
from bot.store.journal import JOB, NewWork, update_key
from bot.store.leases import (
    ChatLocks,
    Leases,
    SharedWork,
    chats_due,
    claim_job_work,
    instance_name,
    job_works_due,
    unfinished_updates,
)
from handlers.durable import RESUME_AT_ONCE, UpdateDesk, Waiting, chat_of

log = logging.getLogger(__name__)

LOCK_WAIT = (0.002, 0.2)
"""Seconds between attempts at a chat's lock held by another instance: from the first, doubling to the second."""
SETTLE = timedelta(seconds=5)
"""An update work admitted this long ago and never started is resumed by whoever is free (its instance died,
or is slow to get to it; handling it early is harmless, as it is done in order under the chat's lock)."""
JOB_ORPHANED = timedelta(minutes=10)
"""A job run not finished nor deferred this long after it started is resumed elsewhere (its instance died)."""
JOB_HOLD = timedelta(minutes=10)
"""A claimed job run is not claimed again for this long (its claimant is running it)."""
LEASE_MARGIN = 5.0
"""Seconds a job's lease outlasts its interval at least: a holder whose run starts a little late keeps it."""
ONE_OFF_LEASE = timedelta(minutes=5)
"""The lease of a job run once at start-up: another instance starting within it does not run it again."""


class SharedUpdateDesk(UpdateDesk):
    """``UpdateDesk`` for several instances on one PostgreSQL database (see the module's docstring)."""

    def __init__(self, journal: Any, clock: Any, holder: str | None = None) -> None:
        super().__init__(journal, clock)
        self.holder = holder or instance_name()
        self.chat_locks = ChatLocks(journal.engine)
        self.leases = Leases(journal.engine)
        self.intervals: dict[str, float] = {}
        """Seconds between a job's runs, by name (0: once): how long its lease lasts (``lease_for``)."""

    # ----- fetching ----------------------------------------------------------------------------------
    def load_unfinished(self) -> int:
        """Nothing is kept in memory: the journal is the queue. How many works are unfinished (for the log)."""
        count = len(self.journal.unfinished())
        if count:
            log.info("%d unfinished work(s) in the shared journal: resumed by whichever instance is free", count)
        return count

    # ----- the chat's lock ---------------------------------------------------------------------------
    async def _lock(self, chat_id: int) -> None:
        delay, longest = LOCK_WAIT
        while not self.chat_locks.try_lock(chat_id):
            await asyncio.sleep(delay)
            delay = min(delay * 2, longest)

    def _unlock(self, chat_id: int) -> None:
        try:
            self.chat_locks.unlock(chat_id)
        except Exception as exc:  # the lock connection is gone: so is every lock it held
            log.warning("could not release a chat's lock (%s): the connection was dropped", type(exc).__name__)

    def _finish(self) -> None:
        """Mark the works finished now, before the chat's lock goes (another instance must see them done)."""
        done, self.done = self.done, []
        if done:
            try:
                self.journal.finish(done, self.clock())
            except Exception as exc:  # handled again elsewhere, every step read back: nothing is repeated
                log.warning("could not mark %d finished work(s): %s", len(done), type(exc).__name__)

    # ----- running -----------------------------------------------------------------------------------
    async def handle(self, update: object, body: Awaitable[Any]) -> None:
        """Handle an admitted update: under the chat's lock, the chat's unfinished works up to this one, in
        ``update_id`` order (this one is skipped if another instance has handled it meanwhile)."""
        if not isinstance(update, Update):
            await body
            return
        chat_id = chat_of(update)
        self.fresh.discard(update_key(update.update_id))
        lock = self.locks[chat_id]
        try:
            async with lock:
                await self._lock(chat_id)
                try:
                    await self._catch_up_shared(chat_id, due_only=False, own=(update, body))
                finally:
                    self._unlock(chat_id)
        except Exception as exc:  # the database failing (a handler's own errors are the application's)
            log.warning("database error (%s): update %d is handled later", type(exc).__name__, update.update_id)
        finally:
            if inspect.iscoroutine(body) and inspect.getcoroutinestate(body) == inspect.CORO_CREATED:
                body.close()  # not run here: handled elsewhere already, or waiting behind a deferred work
        if not lock.locked() and not lock._waiters:  # type: ignore[attr-defined]
            self.locks.pop(chat_id, None)

    async def _catch_up_shared(
        self, chat_id: int, due_only: bool, own: tuple[Update, Awaitable[Any]] | None = None
    ) -> bool:
        """With the chat's lock held: run its unfinished update works in order (up to *own*'s, if given);
        False when one is deferred (the later ones wait behind it, in the journal)."""
        last = own[0].update_id if own is not None else None
        for work in unfinished_updates(self.journal.engine, chat_id):
            if last is not None and work.update_id is not None and work.update_id > last:
                break
            if due_only and work.next_attempt_at is not None and work.next_attempt_at > self.clock():
                return False
            if own is not None and work.update_id == last:
                update, body = own
            else:
                read = self._read(Waiting(work.key, payload=work.payload))
                if read is None or self.process is None:
                    log.warning("unfinished work %s could not be read back; it is dropped", work.key)
                    self.done.append(work.key)
                    self._finish()
                    continue
                update, body = read, self.process(read)
            deferred = await self.run(work.key, body)
            if deferred is not None:
                self._defer(Waiting(work.key, update, attempts=work.attempts), deferred)
                return False
            self._finish()
        return True

    async def resume_due(self, due_only: bool = True) -> None:
        """Resume what is due in the shared journal: each chat whose lock is free here and elsewhere (in
        order), and each job run this instance claims. At start-up (*due_only* False) the same: another
        instance may be handling the rest."""
        now = self.clock()
        gate = asyncio.Semaphore(RESUME_AT_ONCE)

        async def catch_up(chat_id: int) -> None:
            lock = self.locks[chat_id]
            if lock.locked():
                return  # this instance is at it
            async with gate, lock:
                try:
                    if not self.chat_locks.try_lock(chat_id):
                        return  # another instance is at it
                    try:
                        await self._catch_up_shared(chat_id, due_only=True)
                    finally:
                        self._unlock(chat_id)
                except Exception as exc:  # the database failing: tried again at the next look
                    log.warning("database error (%s) while resuming a chat's works", type(exc).__name__)

        await asyncio.gather(*(catch_up(chat_id) for chat_id in chats_due(self.journal.engine, now, SETTLE)))
        for work in job_works_due(self.journal.engine, now, JOB_ORPHANED):
            await self._resume_job(work)

    async def _resume_job(self, work: SharedWork) -> None:
        body = self.jobs.get(work.name or "")
        if not claim_job_work(self.journal.engine, work, self.clock(), JOB_HOLD):
            return  # another instance claimed it
        if body is None:
            log.warning("unfinished run %s of an unknown job; it is dropped", work.key)
            self.done.append(work.key)
            self._finish()
            return
        deferred = await self.run(work.key, body())
        if deferred is not None:
            self._defer(Waiting(work.key, job=work.name, attempts=work.attempts), deferred)
        self._finish()

    # ----- scheduled jobs ----------------------------------------------------------------------------
    def lease_for(self, name: str) -> timedelta:
        """How long a run of job *name* holds its lease: one and a half of its intervals, and at least 5 s more
        than one (a one-off: 5 min). The holder renews it at each run; if it dies, another instance takes the
        job over when the lease has expired."""
        every = self.intervals.get(name, 0.0)
        return timedelta(seconds=max(every * 1.5, every + LEASE_MARGIN)) if every > 0 else ONE_OFF_LEASE

    async def run_job(self, name: str) -> None:
        """Run job *name* if this instance holds (or now takes) its lease; else another instance runs it."""
        if not self.leases.take(f"job:{name}", self.holder, self.clock(), self.lease_for(name)):
            metrics.JOB_RUNS.labels(name, "skipped").inc()
            return
        metrics.JOB_RUNS.labels(name, "run").inc()
        key = f"j:{name}:{uuid.uuid4().hex}"
        self.journal.admit([NewWork(key, JOB, None, None, name)], self.clock())
        deferred = await self.run(key, self.jobs[name](), fresh=True)
        if deferred is not None:
            self._defer(Waiting(key, job=name), deferred)  # resumed by whoever claims it (``resume_due``)
        self._finish()

    def flush(self) -> None:
        """At shutdown: mark what is finished, give up this instance's leases (another takes its jobs at
        once) and drop the lock connection."""
        super().flush()
        try:
            self.leases.release(self.holder)
        except Exception as exc:
            log.warning("could not release the job leases: %s", type(exc).__name__)
        self.chat_locks.close()
