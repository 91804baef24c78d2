"""Nothing lost, nothing twice, through the real Application and the stand-in Bot API.

- Every update of a whole conversation (a question, a ticket filed, replied to, noted, closed and rated,
  a live chat claimed, relayed both ways, ended and rated) delivered again by Telegram changes nothing.
- A send that fails for now (5xx, 429) is tried again; one that keeps failing defers the work, later
  messages of that chat wait behind it, and everything arrives once, in order, when Telegram is back —
  also across a restart.
- An update recorded but not handled when the process stopped is handled after the restart, once.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from bot.__main__ import main
from bot.config import get_settings
from bot.store.journal import Journal, NewWork, update_key
from bot.store.models import (
    AuditLog,
    LiveSession,
    QuestionLog,
    Rating,
    SessionMessage,
    Ticket,
    TicketMessage,
    Work,
    WorkStep,
)
from tests.telegram_fixtures import Helpdesk, HelpdeskFactory
from tests.test_e2e_tickets import file_ticket

ALICE, BOB = 1001, 1003
OPERATOR, SUPERVISOR = 2001, 2002
QUESTION = "How long is a work permit valid?"
pytestmark = pytest.mark.usefixtures("no_errors")
FAST = {"telegram_retry_delays": (0.01, 0.02, 0.04)}
"""Short waits between attempts, so a test is not slowed by them (the default waits seconds)."""


@pytest.fixture
async def desk(helpdesk_factory: HelpdeskFactory) -> Helpdesk:
    desk = await helpdesk_factory(helpdesk_supervisors=str(SUPERVISOR), **FAST)
    desk.services.staff.add(OPERATOR, "operator", "Li Na", desk.clock(), SUPERVISOR)
    for member in (OPERATOR, SUPERVISOR):
        await desk.send(member, "/start", language_code="en")
    await desk.settle()
    for member in (OPERATOR, SUPERVISOR):
        desk.botapi.mark(member)
    return desk


def everything_sent(desk: Helpdesk) -> dict[int, list[tuple[str, str, tuple[str, ...]]]]:
    """Every chat's messages and edits so far: kind, text and buttons."""
    return {
        chat: [(m.kind, m.text, tuple(m.data)) for m in desk.botapi.messages(chat, None)]
        for chat in desk.botapi.chats()
    }


def row_counts(desk: Helpdesk) -> dict[str, int]:
    tables = (QuestionLog, Ticket, TicketMessage, AuditLog, Rating, LiveSession, SessionMessage)
    with Session(desk.services.engine) as session:
        return {t.__name__: len(session.exec(select(t)).all()) for t in tables}


async def whole_conversation(desk: Helpdesk) -> None:
    """A question; a ticket filed, noted, replied to, closed and rated; a live chat claimed, relayed both
    ways, ended and rated."""
    answer = await desk.ask(ALICE, QUESTION, language_code="en")
    assert "year" in answer.text.lower()
    await file_ticket(desk, BOB)
    number = ticket_number(desk)
    assert (await desk.ask(SUPERVISOR, f"/note {number} called the user")).text == f"Note added to {number}."
    assert (await desk.ask(SUPERVISOR, f"/reply {number} Please bring your passport.")).text.startswith("Reply sent")
    assert (await desk.reply(BOB)).text.endswith("Please bring your passport.")
    await desk.ask(SUPERVISOR, f"/close {number} answered")
    rating = await desk.reply(BOB, lambda m: any(d.startswith("rt:") for d in m.data))
    await desk.press(BOB, rating, rating.data[4])
    await desk.reply(BOB)
    # the live desk
    await desk.ask(OPERATOR, "/checkin", language_code="en")
    await desk.ask(ALICE, "/human", language_code="en")
    offer = await desk.reply(OPERATOR, lambda m: any(d.startswith("cl:") for d in m.data))
    await desk.press(OPERATOR, offer, offer.data[0])
    await desk.reply(ALICE, lambda m: "Li Na" in m.text)
    await desk.send(ALICE, "My permit expires next week, what should I do?", language_code="en")
    await desk.reply(OPERATOR, lambda m: "expires next week" in m.text)
    await desk.send(OPERATOR, "Apply for the extension now, online.", language_code="en")
    await desk.reply(ALICE, lambda m: "Apply for the extension now" in m.text)
    await desk.ask(OPERATOR, "/end", language_code="en")
    stars = await desk.reply(ALICE, lambda m: any(d.startswith("rt:") for d in m.data))
    await desk.press(ALICE, stars, stars.data[4])
    await desk.settle()


def ticket_number(desk: Helpdesk) -> str:
    with Session(desk.services.engine) as session:
        ticket = session.exec(select(Ticket)).one()
    return ticket.number


async def test_every_update_delivered_again_changes_nothing(desk: Helpdesk) -> None:
    await whole_conversation(desk)
    before, counts = everything_sent(desk), row_counts(desk)
    assert counts["SessionMessage"] >= 2 and counts["Rating"] == 2 and counts["TicketMessage"] >= 2
    pushed = desk.botapi.pushed
    await desk.botapi.redeliver(pushed)
    await desk.botapi.wait_fetched(pushed, times=2)
    await desk.settle()
    assert everything_sent(desk) == before
    assert row_counts(desk) == counts


async def test_delivered_again_after_a_restart_changes_nothing(desk: Helpdesk) -> None:
    """The acknowledgement lost in a crash: after the restart Telegram sends the same updates again."""
    await whole_conversation(desk)
    before, counts = everything_sent(desk), row_counts(desk)
    await desk.restart()
    pushed = desk.botapi.pushed
    await desk.botapi.redeliver(pushed)
    await desk.botapi.wait_fetched(pushed, times=2)
    await desk.settle()
    assert everything_sent(desk) == before
    assert row_counts(desk) == counts


async def test_a_5xx_and_a_429_are_tried_again(desk: Helpdesk) -> None:
    desk.botapi.fail_next("sendMessage", 502)
    desk.botapi.fail_next("sendMessage", 500)
    desk.botapi.fail_next("sendMessage", 429, retry_after=1)
    answer = await desk.ask(ALICE, QUESTION, language_code="en")
    assert "year" in answer.text.lower()
    assert len(desk.botapi.messages(ALICE)) == 1
    desk.botapi.errors.clear()  # the refusals asked for above


def owed(desk: Helpdesk) -> list[Any]:
    """The works not finished (those finished are marked lazily: at the next getUpdates, here at once)."""
    desk.app.bot_data.desk.flush()
    return Journal(desk.services.engine).unfinished()


async def test_telegram_down_for_a_while_defers_and_keeps_the_order(desk: Helpdesk) -> None:
    """The answer to the first question cannot be sent (Telegram failing longer than the bot's attempts):
    the second question waits behind it; when Telegram is back both arrive, once each, in order."""
    for _attempt in range(4):  # the first try and the three retries of FAST
        desk.botapi.fail_next("sendMessage", 502)
    await desk.send(ALICE, QUESTION, language_code="en")
    await desk.settle()
    assert desk.botapi.messages(ALICE) == []
    [waiting] = owed(desk)
    assert waiting.chat_id == ALICE and waiting.attempts == 1 and waiting.next_attempt_at is not None
    with Session(desk.services.engine) as session:
        logged = session.exec(select(QuestionLog)).all()
    assert len(logged) == 1  # the question was answered and logged; only the message is owed

    # A second question arrives while the first answer is owed: it waits; Telegram is back by now.
    await desk.send(ALICE, "What is a category A talent?", language_code="en")
    await desk.settle()
    texts = [m.text for m in desk.botapi.messages(ALICE)]
    assert len(texts) == 2 and "year" in texts[0].lower()  # the first answer first
    assert owed(desk) == []
    with Session(desk.services.engine) as session:
        assert len(session.exec(select(QuestionLog)).all()) == 2  # the first question was not asked twice
    desk.botapi.errors.clear()


async def test_a_deferred_answer_is_sent_after_a_restart(desk: Helpdesk) -> None:
    for _attempt in range(4):
        desk.botapi.fail_next("sendMessage", 500)
    await desk.send(ALICE, QUESTION, language_code="en")
    await desk.settle()
    assert desk.botapi.messages(ALICE) == [] and len(owed(desk)) == 1
    await desk.restart()  # the unfinished work is finished first
    answer = await desk.reply(ALICE)
    assert "year" in answer.text.lower()
    await desk.settle()
    assert len(desk.botapi.messages(ALICE)) == 1 and owed(desk) == []
    with Session(desk.services.engine) as session:
        assert len(session.exec(select(QuestionLog)).all()) == 1
    desk.botapi.errors.clear()


async def test_a_deferred_work_is_resumed_when_its_time_comes(helpdesk_factory: HelpdeskFactory) -> None:
    desk = await helpdesk_factory(helpdesk_resume_seconds=0.05, **FAST)
    for _attempt in range(4):
        desk.botapi.fail_next("sendMessage", 502)
    await desk.send(ALICE, QUESTION, language_code="en")
    await desk.settle()
    assert desk.botapi.messages(ALICE) == []
    desk.clock.advance(seconds=31)  # the first resumption is due 30 s later
    answer = await desk.reply(ALICE)
    assert "year" in answer.text.lower()
    desk.botapi.errors.clear()


async def test_an_update_recorded_but_not_handled_is_handled_after_the_restart(desk: Helpdesk) -> None:
    """As at a crash between getUpdates and the handler: the update is in the journal, nothing was done."""
    await desk.ask(ALICE, "What is a category A talent?", language_code="en")  # (the stand-in knows her chat)
    desk.botapi.mark(ALICE)
    await desk.stop()
    engine = sa.create_engine(f"sqlite:///{desk.database}")
    update: dict[str, Any] = {
        "update_id": 999,
        "message": {
            "message_id": 1,
            "date": 1772503200,
            "chat": {"id": ALICE, "type": "private", "first_name": "Alice"},
            "from": {"id": ALICE, "is_bot": False, "first_name": "Alice", "language_code": "en"},
            "text": QUESTION,
        },
    }
    Journal(engine).admit([NewWork(update_key(999), chat_id=ALICE, payload=json.dumps(update))], desk.clock())
    engine.dispose()
    await desk.start()
    answer = await desk.reply(ALICE)
    assert "year" in answer.text.lower()
    await desk.settle()
    with Session(desk.services.engine) as session:
        assert len(session.exec(select(QuestionLog)).all()) == 2
        work = session.get(Work, update_key(999))
        steps = session.exec(select(WorkStep).where(WorkStep.work_key == update_key(999))).all()
    assert work is not None
    assert Counter(s.kind for s in steps) == Counter({"core": 1, "send": 1})


async def test_a_refused_message_is_recorded_and_shown_to_supervisors(
    desk: Helpdesk, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    await desk.ask(ALICE, QUESTION, language_code="en")
    desk.botapi.block(ALICE)
    await desk.send(ALICE, "What is a category A talent?", language_code="en")
    await desk.settle()
    shown = await desk.ask(SUPERVISOR, "/deliveries", language_code="en")
    assert "Messages owed, waiting for Telegram: 0." in shown.text
    assert "(the user blocked the bot, the chat does not exist): 1." in shown.text
    assert f"· {ALICE} · Forbidden: " in shown.text
    refused = await desk.ask(OPERATOR, "/deliveries", language_code="en")
    assert refused.text == "Sorry, only supervisors can do this."
    # the same from the command line (the bot stopped; its clock is in March 2026)
    await desk.stop()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{desk.database}")
    get_settings.cache_clear()
    try:
        assert main(["deliveries", "--days", "3650"]) == 0
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert "Owed, not yet sent: 0" in out and "Refused by Telegram for good in the last 3650 day(s): 1" in out
    assert f"chat {ALICE}\tForbidden: " in out


async def test_a_database_hiccup_defers_the_update_and_loses_nothing(
    helpdesk_factory: HelpdeskFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database cannot be reached while a question is handled: no apology, no answer yet; when the
    work is tried again, the question is answered (and logged) once."""
    desk = await helpdesk_factory(helpdesk_resume_seconds=0.05, **FAST)
    arrivals = desk.services.arrivals
    real = arrivals.arrive
    failures = [OperationalError("SELECT …", {}, Exception("could not connect to server"))]

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return real(*args, **kwargs)

    monkeypatch.setattr(arrivals, "arrive", flaky)
    await desk.send(ALICE, QUESTION, language_code="en")
    await desk.settle()
    assert desk.botapi.messages(ALICE) == [] and not failures
    desk.clock.advance(seconds=31)
    answer = await desk.reply(ALICE)
    assert "year" in answer.text.lower()
    await desk.settle()
    assert len(desk.botapi.messages(ALICE)) == 1
    with Session(desk.services.engine) as session:
        assert len(session.exec(select(QuestionLog)).all()) == 1


async def test_a_message_sent_is_not_sent_again_when_the_work_resumes(desk: Helpdesk) -> None:
    """A staff /reply: the user's notice goes out, the confirmation to staff cannot (Telegram failing in
    that chat). When the work is resumed, the staff member is told once and the user is not told twice."""
    await file_ticket(desk, BOB)
    number = ticket_number(desk)
    desk.botapi.mark(BOB)
    desk.botapi.fail_in_chat(SUPERVISOR, 4)  # the first try and FAST's three retries
    await desk.send(SUPERVISOR, f"/reply {number} Please bring your passport.", language_code="en")
    await desk.settle()
    assert [m.text for m in desk.botapi.unread(BOB)][-1].endswith("Please bring your passport.")
    assert desk.botapi.unread(SUPERVISOR) == [] and len(owed(desk)) == 1
    await desk.restart()  # or its time comes: either way it is resumed from the step that failed
    confirmed = await desk.reply(SUPERVISOR)
    assert confirmed.text.startswith("Reply sent")
    await desk.settle()
    assert len(desk.botapi.unread(BOB)) == 1  # the notice, once
    assert owed(desk) == []
    with Session(desk.services.engine) as session:
        replies = session.exec(select(TicketMessage).where(TicketMessage.kind == "reply")).all()
    assert len(replies) == 1
    desk.botapi.errors.clear()
