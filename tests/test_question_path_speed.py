"""The question path's shortcuts (issue 13, throughput) change nothing a user sees: a question asked again gets
the reply it got the first time, an answer's keyboard goes out as the same JSON, and a sent message read back
without its keyboard still carries what callers use (its ids)."""

from __future__ import annotations

import json

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from bot.answering.answers import CACHED_QUESTION_CHARS, Answerer
from bot.answering.knowledge import KnowledgeBase
from bot.answering.text import Lang
from handlers.render import keyboard
from handlers.transport import AiohttpRequest
from tests.botapi import TOKEN, BotApiServer

QUESTIONS: list[tuple[str, Lang | None]] = [
    ("how long is the work permit valid", None),
    ("工作许可证有效期多久", None),
    ("how long is the work permit valid", "zh"),
    ("hello", None),
    ("can I get a tourist visa for Japan", None),
    ("what materials", "en"),
]


def test_a_question_asked_again_gets_the_reply_it_got_the_first_time(kb: KnowledgeBase, answerer: Answerer) -> None:
    cached = Answerer(kb, answerer.matcher)
    fresh = Answerer(kb, answerer.matcher)
    for question, lang in QUESTIONS:
        first = cached.ask(question, lang)
        assert cached.ask(question, lang) is first  # kept
        assert first == fresh._ask(question, lang)  # and exactly what matching it again gives
    assert cached.ask("how long is the work permit valid", "zh").lang == "zh"  # the language is part of the key


def test_a_long_message_is_not_kept(kb: KnowledgeBase, answerer: Answerer) -> None:
    answerer = Answerer(kb, answerer.matcher)
    long = "how long is the work permit valid? " * (CACHED_QUESTION_CHARS // 30)
    assert len(long) > CACHED_QUESTION_CHARS
    first = answerer.ask(long)
    second = answerer.ask(long)
    assert first == second and first is not second


@pytest.mark.parametrize(
    "question",
    ["my passport E12345678 expired, what now", "call me on 13812345678 about the permit", "mail a@b.cn the list"],
)
def test_a_question_with_personal_details_is_not_kept(kb: KnowledgeBase, answerer: Answerer, question: str) -> None:
    answerer = Answerer(kb, answerer.matcher)
    first = answerer.ask(question)
    second = answerer.ask(question)
    assert first == second and first is not second  # answered alike, but no copy stays in the process


def test_an_answer_keyboard_serialises_as_python_telegram_bot_would() -> None:
    rows = [
        [("👍", "fb:12:1"), ("👎", "fb:12:0")],
        [("See also: <Work> & “permits”", "sa:12:validity")],
        [("🙋 找人工", "hu:12"), ("📝 File a ticket", "nt:12")],
    ]
    ours = keyboard(rows)
    library = InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )
    assert ours.to_json() == library.to_json()
    assert ours == library
    assert [[(b.text, b.callback_data) for b in row] for row in ours.inline_keyboard] == rows


def test_a_sent_message_is_read_back_without_its_keyboard_and_formatting() -> None:
    sent = {
        "ok": True,
        "result": {
            "message_id": 5,
            "date": 0,
            "chat": {"id": 7, "type": "private"},
            "text": "hi",
            "entities": [{"type": "bold", "offset": 0, "length": 2}],
            "reply_markup": {"inline_keyboard": [[{"text": "👍", "callback_data": "fb:1:1"}]]},
        },
    }
    parsed = AiohttpRequest.parse_json_payload(json.dumps(sent).encode())
    assert parsed["result"] == {"message_id": 5, "date": 0, "chat": {"id": 7, "type": "private"}, "text": "hi"}
    updates = {"ok": True, "result": [{"update_id": 1, "message": sent["result"]}]}  # what users send: untouched
    assert AiohttpRequest.parse_json_payload(json.dumps(updates).encode()) == updates


async def test_the_keyboard_reaches_telegram_and_the_message_ids_come_back(botapi: BotApiServer) -> None:
    await botapi.push_message(7, "/start")
    bot = Bot(TOKEN, base_url=botapi.base_url, request=AiohttpRequest(), get_updates_request=AiohttpRequest(1))
    async with bot:
        message = await bot.send_message(
            7, "<b>answer</b>", parse_mode="HTML", reply_markup=keyboard([[("👍", "fb:1:1")]])
        )
    stored = botapi.messages(7)[-1]
    assert stored.buttons == [[("👍", "fb:1:1")]]
    assert (message.chat_id, message.message_id) == (7, stored.message_id)
    assert message.reply_markup is None and message.text == "answer"
