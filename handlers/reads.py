"""Slow read-only core calls (a large /stats, its charts, the monthly workbook) off the event loop.

``handlers.context.core`` runs core calls on the loop itself when the application has no worker threads
(SQLite, ``BotData.use_workers``): right for the many short calls, wrong for a read that takes a second, which
would stall every other chat meanwhile. These run such a read on a thread:

- ``read``: not a journaled step at all. For reads whose result is sent and not needed again (chart images, a
  workbook): a work handled again reads again, and its sends already made are not made twice (they are
  steps). The bytes stay out of the work journal.
- ``read_step``: a journaled step like ``core`` (handled again, the recorded result is returned), but the
  read runs on a thread, outside the step's transaction; only its result is recorded, in a transaction of
  its own. For a read-only call whose (small) result the rest of the work depends on (the /stats figures).

A read on a thread cannot share the loop's connection: an in-memory SQLite database (one connection, tests
and trials) is read on the loop as before.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from sqlalchemy.pool import StaticPool

from handlers.context import HelpdeskContext, on_core_threads
from handlers.durable import CURRENT

T = TypeVar("T")


async def _off_loop(context: HelpdeskContext, call: Callable[[], T]) -> T:
    """Run *call* on the application's worker threads, else on a thread of its own, else (one shared
    connection) on the loop."""
    workers = context.bot_data.workers
    if workers is not None:
        return await asyncio.get_running_loop().run_in_executor(workers, call)
    if isinstance(context.services.engine.pool, StaticPool):
        return call()
    return await asyncio.to_thread(call)


async def read(context: HelpdeskContext, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run the read-only core call ``func(*args, **kwargs)`` off the loop; not journaled (see the module)."""
    return await _off_loop(context, functools.partial(func, *args, **kwargs))


async def read_step(context: HelpdeskContext, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run the read-only core call ``func(*args, **kwargs)`` off the loop as a journaled step whose record is
    its result (see the module); outside a work, simply off the loop."""
    work = CURRENT.get()
    if work is None:
        return await read(context, func, *args, **kwargs)
    seq, record = work.next_step()
    if record is not None:
        return cast(T, work.journal.result(record))
    result = await read(context, func, *args, **kwargs)
    return await on_core_threads(
        context, functools.partial(work.journal.step, work.key, seq, work.clock(), lambda: result)
    )
