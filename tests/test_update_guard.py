"""One update the library cannot parse must not stop polling or flood the log (``handlers/updates.py``).

python-telegram-bot parses a getUpdates batch as a whole: one malformed update made ``Bot.get_updates`` log
the raw batch at CRITICAL and fail, and the Updater asked for the same batch again, forever. The real
Application runs here against the stand-in Bot API, which serves malformed updates as given (``push_raw``).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from telegram import Update
from telegram.ext import ExtBot

from handlers.transport import AiohttpRequest
from handlers.updates import GuardedBot, SkipReport
from tests.botapi import TOKEN, BotApiServer
from tests.telegram_fixtures import WAIT, HelpdeskFactory

PASSPORT = "E12345678"
SENDER, OTHER = 777, 1001
_CHAT = {"id": SENDER, "type": "private", "first_name": "Pat"}
_DATE = 1772503200
MALFORMED: dict[str, dict[str, Any]] = {
    # shapes that make Update.de_json raise in python-telegram-bot 22; each carries a passport number
    "chat not an object": {"message": {"message_id": 1, "date": _DATE, "chat": f"not an object {PASSPORT}"}},
    "sender not an object": {
        "message": {"message_id": 1, "date": _DATE, "chat": _CHAT, "from": PASSPORT, "text": f"passport {PASSPORT}"}
    },
    "no date": {"message": {"message_id": 1, "chat": _CHAT, "text": f"my passport number is {PASSPORT}"}},
    "entities not a list": {
        "message": {"message_id": 1, "date": _DATE, "chat": _CHAT, "text": f"passport {PASSPORT}", "entities": PASSPORT}
    },
    "message not an object": {"message": [PASSPORT]},
}
LIBRARY_CRITICAL = ("Error while parsing updates", "Something went wrong processing the data", "Error while getting")


def guard_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "handlers.updates"]


def assert_no_payload_logged(caplog: pytest.LogCaptureFixture) -> None:
    """Nothing logged carries the update's contents, and the library's CRITICAL lines never appear."""
    assert PASSPORT not in caplog.text  # messages, arguments and tracebacks as formatted
    for record in caplog.records:
        assert PASSPORT not in record.getMessage()
        assert "not an object" not in record.getMessage()
        assert record.levelno < logging.CRITICAL, record.getMessage()
        assert not any(line in record.getMessage() for line in LIBRARY_CRITICAL), record.getMessage()


@pytest.mark.parametrize("payload", MALFORMED.values(), ids=MALFORMED.keys())
def test_each_payload_really_breaks_the_library(payload: dict[str, Any]) -> None:
    """Without this the tests below would prove nothing (a newer library may accept some shape)."""
    with pytest.raises(Exception):  # noqa: B017 - whatever the library raises
        Update.de_json({"update_id": 5, **payload}, None)


async def test_the_library_alone_fails_on_the_batch_the_guard_reads(botapi: BotApiServer) -> None:
    """Against the same batch: plain ExtBot fails as a whole; GuardedBot returns the good update only."""
    bad = await botapi.push_raw(MALFORMED["chat not an object"])
    good = await botapi.push_message(OTHER, "hello")
    assert good
    plain = ExtBot(TOKEN, base_url=botapi.base_url, request=AiohttpRequest(), get_updates_request=AiohttpRequest(1))
    async with plain:
        with pytest.raises(Exception):  # noqa: B017
            await plain.get_updates(timeout=0)
    guarded = GuardedBot(
        TOKEN, base_url=botapi.base_url, request=AiohttpRequest(), get_updates_request=AiohttpRequest(1)
    )
    async with guarded:
        updates = await guarded.get_updates(timeout=0)
        assert [u.update_id for u in updates] == [bad + 1]
        assert updates[0].effective_user is not None and updates[0].effective_user.id == OTHER
        assert guarded.skipped.total == 1


@pytest.mark.usefixtures("no_errors")
@pytest.mark.parametrize("payload", MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_malformed_update_is_skipped_and_others_are_answered(
    helpdesk_factory: HelpdeskFactory, botapi: BotApiServer, caplog: pytest.LogCaptureFixture, payload: dict[str, Any]
) -> None:
    caplog.set_level(logging.INFO)
    desk = await helpdesk_factory()
    bad = await botapi.push_raw(payload)
    reply = await desk.ask(OTHER, "/start")
    assert reply.chat_id == OTHER
    await desk.settle()
    assert botapi.fetched[bad] == 1  # acknowledged the first time: never fetched again
    assert botapi.messages(SENDER) == []
    lines = guard_lines(caplog)
    assert len(lines) == 1 and f"update_id {bad}" in lines[0], lines
    assert_no_payload_logged(caplog)


@pytest.mark.usefixtures("no_errors")
async def test_a_malformed_last_update_is_acknowledged_on_its_own(
    helpdesk_factory: HelpdeskFactory, botapi: BotApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing after it to carry the offset along: the guard acknowledges it; a restart does not fetch it."""
    caplog.set_level(logging.INFO)
    desk = await helpdesk_factory()
    await desk.ask(OTHER, "/start")
    bad = await botapi.push_raw(MALFORMED["no date"])
    await botapi.wait_delivered(WAIT)  # confirmed by the next getUpdates offset
    await desk.restart()
    await desk.ask(OTHER, "/help")
    await desk.settle()
    assert botapi.fetched[bad] == 1
    assert_no_payload_logged(caplog)


@pytest.mark.usefixtures("no_errors")
async def test_many_malformed_updates_make_one_log_line_per_interval(
    helpdesk_factory: HelpdeskFactory, botapi: BotApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    desk = await helpdesk_factory()
    ids = [await botapi.push_raw(payload) for payload in MALFORMED.values()]
    await desk.ask(OTHER, "/start")
    await desk.settle()
    assert all(botapi.fetched[i] == 1 for i in ids), botapi.fetched
    lines = guard_lines(caplog)
    assert len(lines) == 1 and "skipped 1 update(s)" in lines[0] and f"update_id {ids[0]}" in lines[0], lines
    await desk.stop()  # the rest are reported on shutdown, as a count
    lines = guard_lines(caplog)
    assert len(lines) == 2, lines
    assert f"skipped {len(ids) - 1} update(s)" in lines[1] and f"update_id {ids[1]} to {ids[-1]}" in lines[1], lines
    assert_no_payload_logged(caplog)


def test_skip_report_logs_at_most_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    now = [100.0]
    report = SkipReport(interval=10, clock=lambda: now[0])
    for update_id in (5, 6, 7):
        report.record(update_id, TypeError(f"contents {PASSPORT}"))
    assert guard_lines(caplog) == [
        "skipped 1 update(s) from Telegram that could not be parsed (update_id 5; TypeError; contents not logged)"
    ]
    now[0] += 5
    report.flush()
    assert len(guard_lines(caplog)) == 1  # still within the interval
    now[0] += 5
    report.flush()
    report.flush()  # nothing new: no line
    assert guard_lines(caplog)[1:] == [
        "skipped 2 update(s) from Telegram that could not be parsed (update_id 6 to 7; TypeError; contents not logged)"
    ]
    report.record(None, KeyError(PASSPORT))
    now[0] += 10
    report.record(9, AttributeError())
    assert guard_lines(caplog)[2:] == [
        "skipped 2 update(s) from Telegram that could not be parsed "
        "(update_id unknown to 9; AttributeError, KeyError; contents not logged)"
    ]
    assert report.total == 5
    assert PASSPORT not in caplog.text
