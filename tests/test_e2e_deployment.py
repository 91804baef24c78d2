"""The bot as deployed: on the production event loop (uvloop), and on PostgreSQL, where core calls run on
worker threads instead of the event loop. One conversation each, end to end through the stand-in Bot API."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from bot.i18n import translator
from bot.store.models import QuestionLog
from handlers import context as handler_context
from handlers.app import new_event_loop
from tests.dbs import postgres_engine
from tests.telegram_fixtures import Helpdesk, HelpdeskFactory

ALICE, LI = 1001, 1002
pytestmark = pytest.mark.usefixtures("no_errors")


def test_bot_run_uses_uvloop() -> None:
    loop = new_event_loop()
    try:
        assert type(loop).__module__.startswith("uvloop")
    finally:
        loop.close()


async def conversation(desk: Helpdesk) -> None:
    """Start, a question in each language, feedback: what every user does first."""
    welcome = await desk.ask(LI, "/start", language_code="zh-hans")
    assert "外国人来华工作许可" in welcome.text and (await desk.reply(LI)).data == ["role:applicant", "role:employer"]
    answer = await desk.ask(ALICE, "How long is the work permit valid?", language_code="en")
    assert translator("en").gettext("Was this helpful?") in answer.text
    answer_zh = await desk.ask(LI, "工作许可证有效期多久", language_code="zh-hans")
    assert translator("zh").gettext("Was this helpful?") in answer_zh.text
    with Session(desk.services.engine) as session:
        rows = list(session.exec(select(QuestionLog).order_by(QuestionLog.id)))  # type: ignore[arg-type]
    assert [(r.user_id, r.entry_id) for r in rows] == [(ALICE, "validity-period"), (LI, "validity-period")]
    thanks = await desk.press(ALICE, answer, f"fb:{rows[0].id}:1")
    assert thanks.text == translator("en").gettext("Thank you for your feedback!")


@pytest.mark.production_loop
async def test_a_conversation_on_the_production_loop(helpdesk_app: Helpdesk) -> None:
    assert type(asyncio.get_running_loop()).__module__.startswith("uvloop")
    assert helpdesk_app.app.bot_data.workers is None  # SQLite: core calls on the loop
    await conversation(helpdesk_app)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with postgres_engine() as engine:
        yield engine.url.render_as_string(hide_password=False)


@pytest.mark.postgres
async def test_a_conversation_on_postgresql_with_core_threads(
    postgres_url: str, helpdesk_factory: HelpdeskFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: set[str] = set()
    ask = handler_context.core

    async def watched(context, func, *args, **kwargs):  # type: ignore[no-untyped-def]
        def run():  # type: ignore[no-untyped-def]
            threads.add(threading.current_thread().name)
            return func(*args, **kwargs)

        return await ask(context, run)

    for module in ("handlers.common", "handlers.questions"):
        monkeypatch.setattr(f"{module}.core", watched)
    desk = await helpdesk_factory(database_url=postgres_url)
    assert desk.services.engine.dialect.name == "postgresql"
    await conversation(desk)
    assert threads and all(name.startswith("core") for name in threads)
