"""Typed context: handlers reach the core through ``context.services``, and call it with ``core(context, ...)``."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from telegram.ext import CallbackContext, ExtBot

from bot.answering.helpdesk import Helpdesk
from bot.services import Services
from handlers.durable import CURRENT

if TYPE_CHECKING:
    from handlers.durable import UpdateDesk

T = TypeVar("T")


class BotData:
    """Application-wide state: the core services, the clock and the threads that run core calls
    (set once when the application is built; each application has its own)."""

    services: Services
    clock: Callable[[], datetime]
    workers: ThreadPoolExecutor | None
    desk: UpdateDesk
    """The journal of updates and job runs (``handlers.durable``)."""
    """The threads that run this application's core calls; None runs them on the event loop itself."""

    def __init__(self) -> None:
        self.clock = lambda: datetime.now(UTC)
        self.workers = None

    def use_workers(self, count: int) -> None:
        """How many threads run core calls; 0 runs them on the event loop itself (what SQLite gets).

        SQLite has a single writer, so one thread was all it could use, and a stalled database stalled
        every handler behind that thread anyway. But a thread costs: it shares the interpreter lock with
        the event loop, and each SQLite statement gives the lock up and has to win it back from a busy
        loop. Measured in ``scripts/bench_telegram.py``, that doubled the CPU time of each call; run on the
        loop, a question (routing, matching and logging, about a millisecond) costs what it costs.
        PostgreSQL gets threads: its calls wait on the network, and many can wait at once.
        """
        old = self.workers
        self.workers = ThreadPoolExecutor(max_workers=count, thread_name_prefix="core") if count else None
        if old is not None:
            old.shutdown(wait=False)


class HelpdeskContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """The context every handler receives."""

    @property
    def services(self) -> Services:
        return self.bot_data.services

    @property
    def helpdesk(self) -> Helpdesk:
        return self.bot_data.services.helpdesk

    def now(self) -> datetime:
        """The current time (from the application's clock, fixed in tests)."""
        return self.bot_data.clock()


async def core(context: HelpdeskContext, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run a blocking core call ``func(*args, **kwargs)`` (database work): on the threads of the *context*'s
    application, or on the loop (see ``BotData.use_workers``).

    Within a work (an update or a job run, ``handlers.durable``) the call is a journaled step: its result
    is recorded with its effects, and when the work is handled again the recorded result is returned
    instead of calling it a second time.
    """
    call: Callable[[], T]
    work = CURRENT.get()
    if work is None:
        call = functools.partial(func, *args, **kwargs)
    else:
        seq, record = work.next_step()
        if record is not None:
            return cast(T, work.journal.result(record))
        call = functools.partial(work.journal.step, work.key, seq, work.clock(), func, *args, **kwargs)
    return await on_core_threads(context, call)


async def on_core_threads(context: HelpdeskContext, call: Callable[[], T]) -> T:
    """Run *call* where the *context*'s application runs core calls: its threads, or the loop itself."""
    workers = context.bot_data.workers
    if workers is None:
        return call()
    return await asyncio.get_running_loop().run_in_executor(workers, call)
