"""Typed context: handlers reach the core through ``context.bot_data.helpdesk``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
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


async def core(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking core call (database work) off the event loop."""
    return await asyncio.to_thread(func, *args, **kwargs)
