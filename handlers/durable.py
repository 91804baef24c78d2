"""Durable handling on the Telegram side: every update and job run is a journaled work (``bot.store.journal``).

- ``UpdateDesk`` records each update as it is fetched, before Telegram is told it arrived (``GuardedBot``
  calls ``admit``), drops an update Telegram delivers again, and knows the works left unfinished (in flight
  at a crash, or waiting for Telegram) so they are finished first, in order per chat.
- While a work runs, ``CURRENT`` holds it: ``handlers.context.core`` runs core calls as journaled steps,
  and ``sent`` records each message Telegram accepted or refused for good. Handled again, the work reads
  back what was done and carries on from the first step not done — nothing is done twice.
- A send that fails for now (429, 5xx, the network), after the bot's own retries (``GuardedBot._do_post``),
  raises ``DeliveryDeferred``: the work stops there and is resumed later (``resume_due``), and later
  updates of the same chat wait behind it, so a chat's messages keep their order.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import Chat, Message, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.ops import metrics
from bot.store.journal import JOB, UPDATE, Journal, NewWork, StepRecord, update_key

log = logging.getLogger(__name__)

RESUME_AT_ONCE = 16
"""Chats whose unfinished works are resumed at the same time (each chat's works in order)."""
RESUME_DELAYS = (30.0, 60.0, 120.0, 300.0, 600.0)
"""Seconds before a deferred work is tried again, by attempt (then every 10 minutes)."""


class DeliveryDeferred(Exception):
    """The work cannot go on for now — a message could not be sent (Telegram or the network failing), or
    the database could not be reached — and is resumed later from the step that failed."""

    def __init__(self, chat_id: int | None, error: Exception) -> None:
        super().__init__(f"work deferred ({type(error).__name__})" + (f" at a send to {chat_id}" if chat_id else ""))
        self.chat_id = chat_id
        self.error = error


def defer_current(error: Exception) -> bool:
    """Defer the work being handled because of *error* (say the database could not be reached); False
    outside a work."""
    work = CURRENT.get()
    if work is None:
        return False
    work.deferred = DeliveryDeferred(None, error)
    return True


def is_transient(error: BaseException) -> bool:
    """Worth trying again: flood control, a timeout, a 5xx or a network failure (not a refusal)."""
    if isinstance(error, (RetryAfter, TimedOut)):
        return True
    return isinstance(error, NetworkError) and not isinstance(error, BadRequest)


@dataclass
class WorkContext:
    """The work being handled: its key, its recorded steps (when handled again) and the next step's number."""

    key: str
    journal: Journal
    clock: Callable[[], datetime]
    recorded: dict[int, StepRecord] = field(default_factory=dict)
    seq: int = 0
    deferred: DeliveryDeferred | None = None
    again: bool = False
    """Handled again (after a crash or a deferral): a button press was answered the first time, if ever it
    could be, and Telegram refuses an answer to an old press anyway (``handlers.common.answer_query``)."""

    def next_step(self) -> tuple[int, StepRecord | None]:
        self.seq += 1
        return self.seq, self.recorded.get(self.seq)


CURRENT: ContextVar[WorkContext | None] = ContextVar("current_work", default=None)


def _described(refusal: Forbidden | BadRequest) -> str:
    """Telegram's description of a refusal, starting with its kind ("Forbidden: bot was blocked by the user")."""
    kind = "Forbidden" if isinstance(refusal, Forbidden) else "Bad Request"
    return refusal.message if refusal.message.startswith(kind) else f"{kind}: {refusal.message}"


def _refusal(error: str) -> TelegramError:
    """A recorded refusal, raised again when the work is handled again."""
    return Forbidden(error) if error.startswith("Forbidden") else BadRequest(error)


async def sent(bot: Any, chat_id: int | None, send: Callable[[], Awaitable[Sequence[Message] | Message | bool]]) -> Any:
    """Make the Bot API call *send* (messages to *chat_id*, or an edit) as a step of the current work.

    Done before: its recorded result (rebuilt messages) or refusal. Accepted now: recorded. Refused for
    good (Forbidden, BadRequest): recorded, and raised for the caller to handle. Failing for now: the work
    is deferred (``DeliveryDeferred``). Outside a work, the call is simply made.
    """
    work = CURRENT.get()
    if work is None:
        return await send()
    seq, record = work.next_step()
    if record is not None:
        if record.error is not None:
            raise _refusal(record.error)
        return _restore(bot, record.result)
    try:
        result = await send()
    except (Forbidden, BadRequest) as exc:
        metrics.SEND_FAILURES.labels("refused").inc()
        work.journal.record_send(work.key, seq, chat_id, work.clock(), None, _described(exc))
        raise
    except TelegramError as exc:
        if not is_transient(exc):
            raise
        metrics.SEND_FAILURES.labels("deferred").inc()
        work.deferred = DeliveryDeferred(chat_id, exc)
        raise work.deferred from exc
    work.journal.record_send(work.key, seq, chat_id, work.clock(), _dump(result))
    return result


def _dump(result: Sequence[Message] | Message | bool) -> bytes:
    """What a send's record keeps: the messages' chat and message ids (what callers use), not their text."""
    if isinstance(result, bool):
        return json.dumps({"bool": result}).encode()
    messages = [result] if isinstance(result, Message) else list(result)
    ids = [[m.chat_id, m.message_id] for m in messages]
    return json.dumps({"one" if isinstance(result, Message) else "many": ids}).encode()


def _restore(bot: Any, blob: bytes | None) -> Any:
    data = json.loads(blob or b"{}")
    if "bool" in data:
        return data["bool"]
    messages = []
    for chat_id, message_id in data.get("one") or data.get("many") or []:
        message = Message(message_id, _EPOCH, Chat(chat_id, Chat.PRIVATE))
        message.set_bot(bot)
        messages.append(message)
    return messages[0] if "one" in data else messages


_EPOCH = datetime.fromtimestamp(0, UTC)


def chat_of(update: object) -> int:
    """The chat an update belongs to (0 for the few that have none): updates of one chat run in order."""
    if isinstance(update, Update) and update.effective_chat is not None:
        return update.effective_chat.id
    return 0


@dataclass
class Waiting:
    """An unfinished work: an update (parsed, or its JSON from the journal) or a job run (by name)."""

    key: str
    update: Update | None = None
    payload: str | None = None
    job: str | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None


Process = Callable[[Update], Awaitable[Any]]
JobBody = Callable[[], Awaitable[Any]]


class UpdateDesk:
    """Which updates are new, which works are unfinished, and running a work (see the module's docstring).

    ``attach`` gives it the bot (to read a recorded update back) and the function that handles an update.
    """

    def __init__(self, journal: Journal, clock: Callable[[], datetime]) -> None:
        self.journal = journal
        self.clock = clock
        self.bot: Any = None
        self.process: Process | None = None
        self.jobs: dict[str, JobBody] = {}
        """Scheduled jobs by name, each a function that starts a run (``run_job``): a run left unfinished
        is resumed through its name."""
        self.fresh: set[str] = set()
        """Keys admitted by this process and not started: they have no steps to read back."""
        self.done: list[str] = []
        """Works finished since the last ``admit`` (marked in its transaction: one write fewer per update)."""
        self.waiting: defaultdict[int, list[Waiting]] = defaultdict(list)
        """Unfinished update works by chat, oldest first: they run before anything newer of that chat."""
        self.waiting_jobs: list[Waiting] = []
        self.locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    def attach(self, bot: Any, process: Process) -> None:
        self.bot = bot
        self.process = process

    # ----- fetching ----------------------------------------------------------------------------------
    def admit(self, updates: Sequence[tuple[Update, dict[str, Any]]]) -> list[Update]:
        """Record fetched updates (update, raw JSON) before they are acknowledged; those not seen before."""
        works = [
            NewWork(update_key(u.update_id), UPDATE, chat_of(u), json.dumps(raw, ensure_ascii=False))
            for u, raw in updates
        ]
        done, self.done = self.done, []
        try:
            new = self.journal.admit(works, self.clock(), done)
        except Exception:
            self.done = done + self.done
            raise
        self.fresh |= new
        dropped = len(works) - len(new)
        if dropped:
            log.info("%d update(s) delivered again by Telegram were recorded already: not handled twice", dropped)
        return [u for u, _raw in updates if update_key(u.update_id) in new]

    def flush(self) -> None:
        """Mark the finished works now (at shutdown; otherwise the next ``admit`` does it). If the database
        cannot be reached, the next start looks at them again and finds every step done."""
        done, self.done = self.done, []
        if done:
            try:
                self.journal.finish(done, self.clock())
            except Exception as exc:
                log.warning("could not mark %d finished work(s) at shutdown: %s", len(done), type(exc).__name__)

    def load_unfinished(self) -> int:
        """At start-up: the works the last run left unfinished (they run first); how many."""
        self.waiting.clear()
        self.waiting_jobs = []
        for work in self.journal.unfinished():
            waiting = Waiting(work.key, None, work.payload, work.name, work.attempts, None)
            if work.kind == UPDATE:
                self.waiting[work.chat_id or 0].append(waiting)
            else:
                self.waiting_jobs.append(waiting)
        count = sum(map(len, self.waiting.values())) + len(self.waiting_jobs)
        if count:
            log.info("%d unfinished work(s) from the last run: they are finished first", count)
        return count

    # ----- running -----------------------------------------------------------------------------------
    async def run(self, key: str, body: Awaitable[Any], fresh: bool = False) -> DeliveryDeferred | None:
        """Run *body* as work *key*; None when it finished, else the send that was deferred."""
        recorded = {} if fresh else self.journal.steps(key)
        work = WorkContext(key, self.journal, self.clock, recorded, again=not fresh)
        token = CURRENT.set(work)
        try:
            await body
        except DeliveryDeferred:  # a job's body (a handler's is caught by the application's error handling)
            pass
        finally:
            CURRENT.reset(token)
        outcome = "done" if work.deferred is None else "deferred"
        metrics.WORKS.labels(JOB if key.startswith("j:") else UPDATE, outcome).inc()
        if work.deferred is None:
            self.done.append(key)
        return work.deferred

    def _defer(self, waiting: Waiting, reason: DeliveryDeferred) -> None:
        delay = RESUME_DELAYS[min(waiting.attempts, len(RESUME_DELAYS) - 1)]
        if isinstance(reason.error, RetryAfter):
            retry = reason.error.retry_after
            delay = max(delay, retry.total_seconds() if isinstance(retry, timedelta) else float(retry))
        waiting.attempts += 1
        waiting.next_attempt_at = self.clock() + timedelta(seconds=delay)
        try:
            self.journal.defer(waiting.key, waiting.next_attempt_at)
        except Exception as exc:  # the database is what failed: the work waits here, and in the journal as unfinished
            log.warning("could not record the deferral of %s: %s", waiting.key, type(exc).__name__)
        log.warning(
            "a send failed for now (%s); work %s is tried again in %.0f s",
            type(reason.error).__name__,
            waiting.key,
            delay,
        )

    async def handle(self, update: object, body: Awaitable[Any]) -> None:
        """Handle a fetched update in its chat's order: the chat's unfinished works first, then this one.

        If an older work of the chat is still waiting for Telegram, this one waits behind it (recorded,
        resumed with it), so a chat never gets a newer answer before an older one.
        """
        chat_id = chat_of(update)
        lock = self.locks[chat_id]
        async with lock:
            if not isinstance(update, Update):
                await body
            else:
                key = update_key(update.update_id)
                fresh = key in self.fresh
                self.fresh.discard(key)
                waiting = Waiting(key, update)
                if not await self._catch_up(chat_id, due_only=False):
                    body.close()  # type: ignore[attr-defined]  # it runs when the older ones have
                    self.waiting[chat_id].append(waiting)
                else:
                    deferred = await self.run(key, body, fresh)
                    if deferred is not None:
                        self._defer(waiting, deferred)
                        self.waiting[chat_id].append(waiting)
        if not lock.locked() and not lock._waiters:  # type: ignore[attr-defined]
            self.locks.pop(chat_id, None)

    async def _catch_up(self, chat_id: int, due_only: bool) -> bool:
        """Run the chat's unfinished works in order; False if one is still waiting for Telegram."""
        queue = self.waiting.get(chat_id)
        while queue:
            waiting = queue[0]
            if due_only and waiting.next_attempt_at is not None and waiting.next_attempt_at > self.clock():
                return False
            update = waiting.update or self._read(waiting)
            if update is None or self.process is None:
                log.warning("unfinished work %s could not be read back; it is dropped", waiting.key)
                self.done.append(waiting.key)
                queue.pop(0)
                continue
            waiting.update = update
            deferred = await self.run(waiting.key, self.process(update))
            if deferred is not None:
                self._defer(waiting, deferred)
                return False
            queue.pop(0)
        self.waiting.pop(chat_id, None)
        return True

    def _read(self, waiting: Waiting) -> Update | None:
        if waiting.payload is None:
            return None
        try:
            return Update.de_json(json.loads(waiting.payload), self.bot)
        except Exception:  # a library upgrade in between changed what it accepts
            return None

    async def resume_due(self, due_only: bool = True) -> None:
        """Resume the unfinished works whose next attempt is due (with *due_only* False: all of them), each
        chat in its order, up to ``RESUME_AT_ONCE`` chats at a time."""
        gate = asyncio.Semaphore(RESUME_AT_ONCE)

        async def catch_up(chat_id: int) -> None:
            async with gate, self.locks[chat_id]:
                await self._catch_up(chat_id, due_only)

        await asyncio.gather(*(catch_up(chat_id) for chat_id in list(self.waiting)))
        for waiting in list(self.waiting_jobs):
            if due_only and waiting.next_attempt_at is not None and waiting.next_attempt_at > self.clock():
                continue
            body = self.jobs.get(waiting.job or "")
            if body is None:
                log.warning("unfinished run %s of an unknown job; it is dropped", waiting.key)
                self.done.append(waiting.key)
                self.waiting_jobs.remove(waiting)
                continue
            deferred = await self.run(waiting.key, body())
            if deferred is None:
                self.waiting_jobs.remove(waiting)
            else:
                self._defer(waiting, deferred)

    # ----- scheduled jobs ----------------------------------------------------------------------------
    async def run_job(self, name: str) -> None:
        """Run the scheduled job *name* as a new work (recorded first, so a crash or a failed send resumes it)."""
        key = f"j:{name}:{uuid.uuid4().hex}"
        self.journal.admit([NewWork(key, JOB, None, None, name)], self.clock())
        deferred = await self.run(key, self.jobs[name](), fresh=True)
        if deferred is not None:
            waiting = Waiting(key, job=name)
            self._defer(waiting, deferred)
            self.waiting_jobs.append(waiting)
