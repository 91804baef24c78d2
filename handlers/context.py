"""Typed context: handlers reach the core through ``context.bot_data.helpdesk``."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

from telegram.ext import CallbackContext, ExtBot

from bot.helpdesk import Helpdesk
from bot.services import Services

T = TypeVar("T")


class BotData:
    """Application-wide state: the core services (set once when the application is built)."""

    services: Services
    clock: Callable[[], datetime]

    def __init__(self) -> None:
        self.clock = lambda: datetime.now(UTC)


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


_executor: ThreadPoolExecutor | None = None


def use_workers(count: int) -> None:
    """How many threads run core calls. One for SQLite: it has a single writer, and threads that wait
    for its lock back off in sleeps of up to 100 ms, which costs far more than queueing in-process."""
    global _executor
    old, _executor = _executor, ThreadPoolExecutor(max_workers=count, thread_name_prefix="core")
    if old is not None:
        old.shutdown(wait=False)


async def core(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking core call (database work) off the event loop, on the core's worker threads."""
    if _executor is None:
        use_workers(4)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor, functools.partial(func, *args, **kwargs))
