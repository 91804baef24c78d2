"""Every incoming message starts with ``Arrivals.arrive`` (``Services.arrivals``): who wrote, where they are,
and (for a plain question) the answer, in one transaction. On SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.answering.helpdesk import MAX_MESSAGE_CHARS
from bot.answering.knowledge import KnowledgeBase
from bot.config import Settings
from bot.desk.flows import FlowState
from bot.services import Services, build_services
from bot.store.db import make_engine
from bot.store.models import QuestionLog, User
from tests.dbs import postgres_engine

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 3, 10, 0, tzinfo=SH)  # a Tuesday morning: the desk is open
ALICE, LI, OP = 1001, 1002, 2001


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path}/arrival.sqlite3")
        yield engine
        engine.dispose()
    else:
        with postgres_engine() as engine:
            yield engine


@pytest.fixture
def desk(engine: Engine, kb: KnowledgeBase) -> Services:
    return build_services(Settings(helpdesk_hours="profile", database_url="sqlite://"), kb, engine)


def logged(desk: Services, user: int) -> list[QuestionLog]:
    with Session(desk.engine) as session:
        return list(session.exec(select(QuestionLog).where(QuestionLog.user_id == user)))


def stored_user(desk: Services, user: int) -> User:
    with Session(desk.engine) as session:
        row = session.get(User, user)
        assert row is not None
        return row


def test_first_contact_creates_the_user_in_their_clients_language(desk: Services) -> None:
    first = desk.arrivals.arrive(LI, "Li", "zh-hans", NOW)
    assert first.user.is_new and first.user.lang == "zh" and not first.user.lang_chosen
    again = desk.arrivals.arrive(LI, "Li", "zh-hans", NOW + timedelta(minutes=1))
    assert not again.user.is_new and again.user.lang == "zh"
    assert stored_user(desk, LI).created_at == NOW


def test_a_new_name_or_client_language_is_stored_and_a_returning_user_is_unblocked(desk: Services) -> None:
    desk.arrivals.arrive(ALICE, "Alice", "en", NOW)
    desk.helpdesk.mark_blocked(ALICE, NOW)
    later = NOW + timedelta(days=1)
    arrival = desk.arrivals.arrive(ALICE, "Alice\u0007 B.", "zh-TW", later)
    assert arrival.user.name == "Alice B." and arrival.user.lang == "zh"
    row = stored_user(desk, ALICE)
    assert (row.display_name, row.client_lang, row.blocked, row.updated_at) == ("Alice B.", "zh", False, later)
    # A chosen language wins over the client's, and an empty name keeps the stored one.
    desk.helpdesk.set_language(ALICE, "en", later)
    arrival = desk.arrivals.arrive(ALICE, "", "zh-hans", later)
    assert arrival.user.lang == "en" and arrival.user.name == "Alice B."


def test_a_question_is_answered_and_logged_on_arrival(desk: Services) -> None:
    arrival = desk.arrivals.arrive(ALICE, "Alice", "en", NOW, text="How long is the work permit valid?")
    assert arrival.answered is not None and arrival.flow is None and arrival.live_role is None
    assert arrival.answered.reply.match.decision == "answer"
    [row] = logged(desk, ALICE)
    assert row.id == arrival.answered.question_id and row.text == "How long is the work permit valid?"
    assert row.entry_id == arrival.answered.reply.match.entry


def test_the_reply_follows_the_chosen_language_else_the_questions_script(desk: Services) -> None:
    arrival = desk.arrivals.arrive(ALICE, "Alice", "en", NOW, text="工作许可证有效期多久")
    assert arrival.answered is not None and arrival.answered.reply.lang == "zh"
    desk.helpdesk.set_language(ALICE, "en", NOW)
    arrival = desk.arrivals.arrive(ALICE, "Alice", "en", NOW, text="工作许可证有效期多久")
    assert arrival.answered is not None and arrival.answered.reply.lang == "en"


def test_text_in_a_flow_or_a_live_chat_is_not_taken_for_a_question(desk: Services) -> None:
    desk.arrivals.arrive(ALICE, "Alice", "en", NOW)
    desk.flows.set(ALICE, FlowState("ticket", "description", {"kind": "enquiry"}), NOW)
    arrival = desk.arrivals.arrive(ALICE, "Alice", "en", NOW, text="My permit card was lost")
    assert arrival.answered is None and arrival.flow is not None and arrival.flow.step == "description"

    desk.staff.add(OP, "operator", "Li Na", NOW)
    desk.live_queue.check_in(OP, NOW)
    desk.arrivals.arrive(LI, "Li", "zh-hans", NOW)
    status, _notices = desk.live_queue.request(LI, "zh", None, NOW)
    desk.live_queue.claim(OP, status.request_id, NOW)  # type: ignore[union-attr]
    arrival = desk.arrivals.arrive(LI, "Li", "zh-hans", NOW, text="你好，我的材料被退回了")
    assert arrival.answered is None and arrival.live_role == "user"
    assert desk.arrivals.arrive(OP, "Li Na", "zh-hans", NOW, text="您好").live_role == "operator"
    assert logged(desk, ALICE) == [] and logged(desk, LI) == []


def test_text_the_helpdesk_cannot_take_is_left_to_the_question_path(desk: Services) -> None:
    for text in ("x" * (MAX_MESSAGE_CHARS + 1), "😀😀", "\u0000\u0007 "):
        arrival = desk.arrivals.arrive(ALICE, "Alice", "en", NOW, text=text)
        assert arrival.answered is None and arrival.flow is None and arrival.live_role is None
    assert logged(desk, ALICE) == []
