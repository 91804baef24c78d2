"""Several instances, in process (``handlers/instances.py``): what one instance admitted and never handled
(it died after its 200) is handled by another, once, in order; a chat's works are read from the journal, so
an update received by the other instance is handled before a newer one received here."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.answering.knowledge import KnowledgeBase
from bot.config import Settings
from bot.services import build_services
from bot.store.journal import UPDATE, Journal, NewWork, update_key
from bot.store.models import Work
from handlers.app import build_application
from handlers.instances import SharedUpdateDesk
from handlers.webhook import SECRET_HEADER, WebServer
from tests.botapi import TOKEN, BotApiServer
from tests.dbs import postgres_engine
from tests.telegram_fixtures import Clock

pytestmark = pytest.mark.postgres
SECRET = "instances-secret"
ALICE, BOB = 1001, 1002


@pytest.fixture
def engine() -> Iterator[Engine]:
    with postgres_engine() as made:
        yield made


async def made(botapi: BotApiServer, text: str, user_id: int = ALICE) -> dict[str, Any]:
    await botapi.push_message(user_id, text, language_code="en")
    return dict(botapi._history[botapi.pushed[-1]])


class Instance:
    def __init__(self, app: Any, server: WebServer) -> None:
        self.app, self.server = app, server

    async def post(self, update: dict[str, Any]) -> tuple[int, str]:
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"http://127.0.0.1:{self.server.port}/hook", json=update, headers={SECRET_HEADER: SECRET}
            ) as response,
        ):
            return response.status, await response.text()


@pytest.fixture
async def start(botapi: BotApiServer, kb: KnowledgeBase, engine: Engine) -> AsyncIterator[Any]:
    running: list[Instance] = []

    async def starting(clock: Clock) -> Instance:
        config = Settings(  # type: ignore[call-arg]
            _env_file=None,
            telegram_bot_token=TOKEN,
            telegram_api_url=botapi.base_url,
            database_url="postgresql://unused",  # the engine is given
            helpdesk_hours="always",
            helpdesk_alert_seconds=0,
            helpdesk_resume_seconds=0.2,
        )
        services = build_services(config, kb, engine=engine)
        app = build_application(services, clock, webhook=True)
        assert isinstance(app.bot_data.desk, SharedUpdateDesk)
        server = WebServer(app, engine, "/hook", SECRET)
        await app.initialize()
        await app.start()
        await server.start("127.0.0.1", 0)
        instance = Instance(app, server)
        running.append(instance)
        return instance

    try:
        yield starting
    finally:
        for instance in running:
            await instance.server.stop()
            await instance.app.stop()
            await instance.app.shutdown()


def unfinished(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return [w.key for w in session.exec(select(Work).where(col(Work.done_at).is_(None), Work.kind == UPDATE))]


async def test_a_chats_update_received_by_the_other_instance_is_handled_first_and_an_orphan_is_resumed(
    botapi: BotApiServer, engine: Engine, start: Any
) -> None:
    clock = Clock()
    b = await start(clock)
    journal = Journal(engine)
    first = await made(botapi, "/start")
    # instance A recorded Alice's /start and answered 200; it has not handled it yet (or died)
    journal.admit([NewWork(update_key(first["update_id"]), UPDATE, ALICE, json.dumps(first))], clock())
    second = await made(botapi, "How long is a work permit valid?")
    assert (await b.post(second))[0] == 200  # B receives her next update: A's comes first, from the journal
    answer = await botapi.wait_for(ALICE, lambda m: "year" in m.text.lower(), timeout=10)
    before = [m.text for m in botapi.messages(ALICE)][:-1]
    assert len(before) == 2 and before[0].startswith("Hello") and before[1] == "Who are you asking for?"  # /start's
    assert (await b.post(first)) == (200, "duplicate")  # Telegram posting A's again: recorded already

    # Bob's update, admitted by A a minute ago and never handled (A died): B's resume job takes it
    orphan = await made(botapi, "/start", BOB)
    journal.admit(
        [NewWork(update_key(orphan["update_id"]), UPDATE, BOB, json.dumps(orphan))], clock() - timedelta(minutes=1)
    )
    await botapi.wait_for(BOB, lambda m: m.text.startswith("Hello"), timeout=10)
    for _ in range(100):
        if not unfinished(engine):
            break
        await asyncio.sleep(0.05)
    assert unfinished(engine) == []
    await asyncio.sleep(0.5)  # resume runs every 0.2 s: time to send something twice, were it to
    texts = [m.text for m in botapi.messages(ALICE)]
    assert texts == [*before, answer.text]  # nothing after the answer, nothing twice
    assert len([m for m in botapi.messages(BOB) if m.text.startswith("Hello")]) == 1
