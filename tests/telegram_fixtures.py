"""Fixtures that run the real Telegram Application against the stand-in Bot API (``tests/botapi.py``).

``botapi``           the stand-in server on 127.0.0.1 (a free port), stopped after the test
``clock``            a settable fixed clock (``clock.now = …``; ``clock.advance(hours=2)``)
``helpdesk_factory`` ``await helpdesk_factory(calendar=None, **settings)`` starts a helpdesk on a fresh SQLite file
                     (the working-day calendar defaults to the knowledge base's office files over the package)
``helpdesk_app``     one started helpdesk with the default settings
``no_errors``        use it (``pytestmark = pytest.mark.usefixtures("no_errors")``) to fail a test that logged
                     an error, made a call Telegram would refuse, or told someone "something went wrong"

A ``Helpdesk`` holds ``botapi``, ``services``, ``app`` and ``clock``; ``await desk.restart()`` stops the
application and builds a new one (new services, same database) — a process restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from telegram import Update
from telegram.ext import Application

from bot.answering.knowledge import KnowledgeBase
from bot.config import Settings
from bot.desk.workdays import WorkCalendar
from bot.i18n import translator
from bot.services import Services, build_services
from handlers.app import build_application
from tests.botapi import TOKEN, BotApiServer, CallbackAnswer, SentMessage

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 3, 10, 0, tzinfo=SHANGHAI)
"""A Tuesday morning, an ordinary working day."""
WAIT = 10.0
"""Generous upper bound for any single wait (they return as soon as the event happens)."""


class Clock:
    """A fixed, settable clock for the application (deadlines, timestamps)."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward, e.g. ``advance(days=3)``."""
        self.now += timedelta(**delta)
        return self.now


class Helpdesk:
    """The real application on a database, talking to the stand-in Bot API."""

    def __init__(
        self,
        botapi: BotApiServer,
        kb: KnowledgeBase,
        clock: Clock,
        database: Path,
        calendar: WorkCalendar | None = None,
        **settings: Any,
    ):
        self.botapi = botapi
        self.kb = kb
        self.clock = clock
        self.database = database
        self.calendar = calendar
        self.overrides = settings
        self._services: Services | None = None
        self._app: Application[Any, Any, Any, Any, Any, Any] | None = None

    @property
    def services(self) -> Services:
        assert self._services is not None, "the helpdesk is not running"
        return self._services

    @property
    def app(self) -> Application[Any, Any, Any, Any, Any, Any]:
        assert self._app is not None, "the helpdesk is not running"
        return self._app

    def settings(self) -> Settings:
        values: dict[str, Any] = {
            "telegram_bot_token": TOKEN,
            "telegram_api_url": self.botapi.base_url,
            "database_url": f"sqlite:///{self.database}",
            "helpdesk_hours": "always",
            "helpdesk_alert_seconds": 0,  # deadline alerts and the digest off unless a test turns them on
            **self.overrides,
        }
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    async def start(self) -> None:
        """Build and start the application as ``run_polling`` does (post_init sets the command menus)."""
        settings = self.settings()
        services = build_services(settings, self.kb, calendar=self.calendar)
        services.staff.bootstrap_supervisors(settings.supervisor_ids, self.clock())
        app = build_application(services, clock=self.clock)
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES)
        self._services, self._app = services, app

    async def stop(self) -> None:
        """Stop polling and the application, close the database (the process ends)."""
        app, services = self._app, self._services
        self._app = self._services = None
        if app is not None:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
            await app.shutdown()
        if services is not None:
            services.engine.dispose()

    async def restart(self, calendar: WorkCalendar | None = None, **settings: Any) -> None:
        """A new process on the same database (and optionally changed settings or holiday calendar)."""
        await self.stop()
        self.calendar = calendar or self.calendar
        self.overrides.update(settings)
        await self.start()

    # ----- conversation helpers --------------------------------------------------------------------------
    async def settle(self, timeout: float = WAIT) -> None:
        """Until every update pushed so far has been fetched and fully handled."""
        await self.botapi.wait_delivered(timeout)
        await asyncio.wait_for(self.app.update_queue.join(), timeout)

    async def send(self, user_id: int, text: str = "", **kwargs: Any) -> int:
        """The user sends a message (see ``BotApiServer.push_message``); its message_id."""
        return await self.botapi.push_message(user_id, text, **kwargs)

    async def ask(
        self,
        user_id: int,
        text: str = "",
        predicate: Callable[[SentMessage], bool] | None = None,
        **kwargs: Any,
    ) -> SentMessage:
        """The user sends a message; the bot's next message to them (matching *predicate*)."""
        await self.botapi.push_message(user_id, text, **kwargs)
        return await self.botapi.wait_for(user_id, predicate, WAIT)

    async def reply(self, user_id: int, predicate: Callable[[SentMessage], bool] | None = None) -> SentMessage:
        """The bot's next message to *user_id*."""
        return await self.botapi.wait_for(user_id, predicate, WAIT)

    async def press(
        self, user_id: int, message: SentMessage, callback_data: str, *, forged: bool = False
    ) -> CallbackAnswer:
        """Press a button and return the bot's answer to it (after the update was handled)."""
        query = await self.botapi.press(user_id, message, callback_data, forged=forged)
        answer = await self.botapi.wait_answer(query, WAIT)
        await self.settle()
        return answer

    async def click(self, user_id: int, message: SentMessage, label_substring: str) -> CallbackAnswer:
        """Press the button whose label contains *label_substring*."""
        _label, data = self.botapi.find_button(message, label_substring)
        assert data is not None
        return await self.press(user_id, message, data)

    async def drain(self, user_id: int) -> list[SentMessage]:
        """Handle everything pending, then return (and consume) what the bot has sent *user_id* since the cursor."""
        await self.settle()
        new = self.botapi.unread(user_id)
        self.botapi.mark(user_id)
        return new


HelpdeskFactory = Callable[..., Awaitable[Helpdesk]]
ERROR_TEXTS = frozenset(
    translator(lang).gettext("Sorry, something went wrong on our side. Please try again in a moment.")
    for lang in ("en", "zh")
)
"""What the application's error handler tells a user: never expected in a test."""


@pytest.fixture
def no_errors(botapi: BotApiServer, caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest) -> Iterator[None]:
    """After the test: no error logged, no "something went wrong" sent, no call Telegram refused.

    403 (a user blocked the bot) and 429 (flood control) are Telegram's answers the bot must live with.
    A test that provokes other refusals on purpose clears ``botapi.errors`` itself; an ``xfail`` test
    (a known bug) is not checked.
    """
    caplog.set_level(logging.WARNING)
    yield
    if request.node.get_closest_marker("xfail") is not None:
        return
    records = caplog.get_records("setup") + caplog.get_records("call") + caplog.get_records("teardown")
    logged = [r.getMessage() for r in records if r.levelno >= logging.ERROR]
    assert logged == [], logged
    refused = [e for e in botapi.errors if e.error_code not in (403, 429)]
    assert refused == [], refused
    apologies = [m for chat in botapi.chats() for m in botapi.messages(chat) if m.text in ERROR_TEXTS]
    assert apologies == [], apologies


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def botapi() -> AsyncIterator[BotApiServer]:
    server = BotApiServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def helpdesk_factory(
    botapi: BotApiServer, kb: KnowledgeBase, clock: Clock, tmp_path: Path
) -> AsyncIterator[HelpdeskFactory]:
    started: list[Helpdesk] = []

    async def factory(calendar: WorkCalendar | None = None, **settings: Any) -> Helpdesk:
        desk = Helpdesk(botapi, kb, clock, tmp_path / f"hd{len(started) or ''}.sqlite3", calendar, **settings)
        started.append(desk)
        await desk.start()
        return desk

    try:
        yield factory
    finally:
        for desk in reversed(started):
            await desk.stop()


@pytest.fixture
async def helpdesk_app(helpdesk_factory: HelpdeskFactory) -> Helpdesk:
    return await helpdesk_factory()
