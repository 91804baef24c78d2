"""Webhook mode (``handlers/webhook.py``): the secret token, admission into the journal before the 200, a
duplicate acknowledged once, ``/healthz`` (200, and 503 with the database gone), ``/metrics``, and the whole
start-up (setWebhook with the secret and allowed_updates; Telegram — the stand-in — posting updates)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, select

from bot.answering.knowledge import KnowledgeBase
from bot.config import Settings
from bot.services import build_services
from bot.store.models import Work
from handlers.app import build_application
from handlers.instances import SharedUpdateDesk
from handlers.webhook import (
    SECRET_HEADER,
    WebhookConfigError,
    WebServer,
    add_metrics_server,
    serve_webhook,
    webhook_settings,
)
from tests.botapi import TOKEN, BotApiServer
from tests.telegram_fixtures import Clock

SECRET = "s3cret_Token-1"
ALICE = 1001


def settings(botapi: BotApiServer, database: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": TOKEN,
        "telegram_api_url": botapi.base_url,
        "database_url": f"sqlite:///{database}",
        "helpdesk_hours": "always",
        "helpdesk_alert_seconds": 0,
        "telegram_webhook_url": "https://bot.example.org/tg/hook",
        "telegram_webhook_secret": SECRET,
        "telegram_webhook_port": 1,
        **extra,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def made(botapi: BotApiServer, text: str, user_id: int = ALICE) -> dict[str, Any]:
    """An update as Telegram would post it (made by the stand-in, so that it knows the chat)."""
    await botapi.push_message(user_id, text, language_code="en")
    return dict(botapi._history[botapi.pushed[-1]])


class Served:
    """The application (webhook mode, not started) with its web server on a free port."""

    def __init__(self, app: Any, server: WebServer, engine: Any) -> None:
        self.app, self.server, self.engine = app, server, engine
        self.url = f"http://127.0.0.1:{server.port}"

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> tuple[int, str]:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.url}/tg/hook", json=update, headers=headers) as response,
        ):
            return response.status, await response.text()

    async def get(self, path: str) -> tuple[int, str]:
        async with aiohttp.ClientSession() as session, session.get(f"{self.url}{path}") as response:
            return response.status, await response.text()

    def works(self) -> list[str]:
        with Session(self.engine) as session:
            return [w.key for w in session.exec(select(Work).where(Work.kind == "update"))]


@pytest.fixture
async def served(botapi: BotApiServer, kb: KnowledgeBase, tmp_path: Path) -> AsyncIterator[Served]:
    config = settings(botapi, tmp_path / "hook.sqlite3")
    services = build_services(config, kb)
    app = build_application(services, Clock(), webhook=True)
    assert app.updater is None
    server = WebServer(app, services.engine, "/tg/hook", SECRET)
    await app.initialize()
    await app.start()
    await server.start("127.0.0.1", 0)
    try:
        yield Served(app, server, services.engine)
    finally:
        await server.stop()
        await app.stop()
        await app.shutdown()
        services.engine.dispose()


async def test_a_wrong_or_missing_secret_token_is_refused_and_nothing_is_recorded(
    served: Served, botapi: BotApiServer
) -> None:
    update = await made(botapi, "/start")
    assert (await served.post(update, secret="wrong"))[0] == 403
    assert (await served.post(update, secret=None))[0] == 403
    assert (await served.post(update, secret=SECRET + "x"))[0] == 403
    assert served.works() == []


async def test_an_update_is_recorded_before_the_200_and_a_duplicate_is_acknowledged_once(
    served: Served, botapi: BotApiServer
) -> None:
    update = await made(botapi, "/start")
    key = f"u:{update['update_id']}"
    status, _ = await served.post(update)
    assert status == 200
    assert key in served.works()  # recorded (committed) before Telegram was told: a crash now loses nothing
    welcome = await botapi.wait_for(ALICE, timeout=10)
    await asyncio.wait_for(served.app.update_queue.join(), 10)
    status, text = await served.post(update)  # Telegram posts it again (our 200 was lost)
    assert (status, text) == (200, "duplicate")
    await asyncio.wait_for(served.app.update_queue.join(), 10)
    await asyncio.sleep(0.2)  # time to send a second welcome, were the duplicate handled
    assert [m for m in botapi.messages(ALICE) if m.text == welcome.text] == [welcome]
    assert served.works() == [key]


async def test_an_unparsable_update_is_acknowledged_and_skipped(served: Served) -> None:
    status, text = await served.post({"update_id": 9, "message": {"message_id": "x", "chat": 5}})
    assert (status, text) == (200, "skipped")
    assert served.works() == []


async def test_healthz_is_200_with_the_database_and_503_without(served: Served, tmp_path: Path) -> None:
    assert await served.get("/healthz") == (200, "ok")
    gone = create_engine(f"sqlite:///{tmp_path}/missing/none.sqlite3")  # the directory does not exist
    broken = WebServer(served.app, gone)
    await broken.start("127.0.0.1", 0)
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{broken.port}/healthz") as response,
        ):
            assert response.status == 503
    finally:
        await broken.stop()


async def test_metrics_expose_the_counters_and_the_backlog(served: Served, botapi: BotApiServer) -> None:
    await served.post(await made(botapi, "How long is a work permit valid?"))
    await botapi.wait_for(ALICE, timeout=10)
    await asyncio.wait_for(served.app.update_queue.join(), 10)
    status, text = await served.get("/metrics")
    assert status == 200
    for name in (
        'helpdesk_works_total{kind="update",outcome="done"}',
        'helpdesk_answer_decisions_total{decision="answer"}',
        'helpdesk_updates_received_total{result="admitted"}',
        'helpdesk_send_failures_total{kind="refused"}',
        "helpdesk_update_queue_length",
        "helpdesk_journal_unfinished_works",
        "helpdesk_journal_deferred_works",
        "helpdesk_live_queue_waiting",
        "helpdesk_database_up 1.0",
    ):
        assert name in text, name
    answered = next(
        line for line in text.splitlines() if line.startswith('helpdesk_answer_decisions_total{decision="answer"}')
    )
    assert float(answered.split()[-1]) >= 1


def test_webhook_mode_requires_a_secret_and_a_url(botapi: BotApiServer, tmp_path: Path) -> None:
    with pytest.raises(WebhookConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        webhook_settings(settings(botapi, tmp_path / "x.sqlite3", telegram_webhook_secret=""))
    with pytest.raises(WebhookConfigError, match="A-Z"):
        webhook_settings(settings(botapi, tmp_path / "x.sqlite3", telegram_webhook_secret="no spaces allowed"))
    with pytest.raises(WebhookConfigError, match="TELEGRAM_WEBHOOK_URL"):
        webhook_settings(settings(botapi, tmp_path / "x.sqlite3", telegram_webhook_url=""))
    assert webhook_settings(settings(botapi, tmp_path / "x.sqlite3")) == ("https://bot.example.org/tg/hook", SECRET)


async def test_the_bot_sets_its_webhook_and_telegram_posts_updates_to_it(
    botapi: BotApiServer, kb: KnowledgeBase, tmp_path: Path, unused_tcp_port: int
) -> None:
    """The whole start-up: setWebhook (secret, allowed_updates), then Telegram posting with the token."""
    url = f"http://127.0.0.1:{unused_tcp_port}/tg/hook"
    config = settings(botapi, tmp_path / "run.sqlite3", telegram_webhook_url=url, telegram_webhook_port=unused_tcp_port)
    services = build_services(config, kb)
    app = build_application(services, Clock(), webhook=True)
    assert not isinstance(app.bot_data.desk, SharedUpdateDesk)  # SQLite: one instance
    stop = asyncio.Event()
    running = asyncio.create_task(serve_webhook(app, config, services.engine, stop))
    try:
        await botapi.push_message(ALICE, "/start")
        await botapi.wait_for(ALICE, timeout=15)
        assert botapi.webhook is not None
        assert botapi.webhook["url"] == url and botapi.webhook["secret_token"] == SECRET
        assert botapi.allowed_updates is not None and "callback_query" in botapi.allowed_updates
        assert all(status == 200 for _id, status in botapi.webhook_posts)
    finally:
        stop.set()
        await asyncio.wait_for(running, 15)
        services.engine.dispose()


async def test_polling_mode_serves_metrics_and_healthz_on_metrics_port(
    botapi: BotApiServer, kb: KnowledgeBase, tmp_path: Path, unused_tcp_port: int
) -> None:
    config = settings(botapi, tmp_path / "poll.sqlite3", telegram_webhook_url=None, metrics_port=unused_tcp_port)
    services = build_services(config, kb)
    app = build_application(services, Clock())
    add_metrics_server(app, services.engine, "127.0.0.1", unused_tcp_port)
    await app.initialize()
    assert app.post_init is not None and app.post_stop is not None
    await app.post_init(app)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{unused_tcp_port}/healthz") as response:
                assert response.status == 200
            async with session.get(f"http://127.0.0.1:{unused_tcp_port}/metrics") as response:
                assert response.status == 200 and "helpdesk_works_total" in await response.text()
            async with session.post(f"http://127.0.0.1:{unused_tcp_port}/tg/hook", json={}) as response:
                assert response.status in (404, 405)  # no webhook in polling mode
    finally:
        await app.post_stop(app)
        await app.shutdown()
        services.engine.dispose()
