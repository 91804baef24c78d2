"""The aiohttp transport for the Bot API: requests, uploads, timeouts and network errors."""

from __future__ import annotations

import socket

import pytest
from telegram import Bot
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from handlers.transport import AiohttpRequest
from tests.botapi import TOKEN, BotApiServer


def bot_on(base_url: str, request: AiohttpRequest | None = None) -> Bot:
    return Bot(TOKEN, base_url=base_url, request=request or AiohttpRequest(), get_updates_request=AiohttpRequest(1))


async def test_calls_and_uploads_reach_the_server(botapi: BotApiServer) -> None:
    await botapi.push_message(7, "/start")  # the chat must exist
    async with bot_on(botapi.base_url) as bot:
        me = await bot.get_me()
        assert me.username == "helpdesk_test_bot"
        sent = await bot.send_message(7, "<b>hi</b> &amp; welcome", parse_mode="HTML")
        assert sent.text == "hi & welcome"
        document = await bot.send_document(7, b"scan", filename="scan.pdf", caption="a file")
        assert document.document is not None
    kinds = [m.kind for m in botapi.messages(7)]
    assert kinds == ["message", "document"]


async def test_parameters_go_as_json_and_files_as_form_data(botapi: BotApiServer) -> None:
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    await botapi.push_message(7, "/start")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("👍 有帮助", callback_data="fb:1:1")]])
    async with bot_on(botapi.base_url) as bot:
        botapi.body_types.clear()
        sent = await bot.send_message(7, "<b>工作许可</b> &amp; 😀 “quotes”", parse_mode="HTML", reply_markup=markup)
        await bot.send_document(7, b"scan", filename="scan.pdf")
    assert sent.text == "工作许可 & 😀 “quotes”"
    stored = botapi.messages(7)[-2]
    assert stored.buttons == [[("👍 有帮助", "fb:1:1")]]
    assert botapi.body_types == ["application/json", "multipart/form-data"]


async def test_telegram_errors_come_back_as_telegram_errors(botapi: BotApiServer) -> None:
    from telegram.error import BadRequest

    await botapi.push_message(7, "/start")
    async with bot_on(botapi.base_url) as bot:
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(7, "<b>unclosed", parse_mode="HTML")


async def test_unreachable_server_is_a_network_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bot = bot_on(f"http://127.0.0.1:{port}/bot")
    try:
        with pytest.raises(NetworkError):
            await bot.initialize()  # calls getMe
    finally:
        await bot.shutdown()


async def test_a_slow_answer_times_out(botapi: BotApiServer) -> None:
    request = AiohttpRequest(read_timeout=0.2)
    await request.initialize()
    try:
        long_poll = RequestData(
            [RequestParameter.from_input("offset", 10_000), RequestParameter.from_input("timeout", 3)]
        )
        with pytest.raises(TimedOut):  # the server holds the long poll for 3 s; we wait 0.2 s
            await request.do_request(f"{botapi.base_url}{TOKEN}/getUpdates", "POST", long_poll)
    finally:
        await request.shutdown()


async def test_requests_need_initialize() -> None:
    request = AiohttpRequest()
    with pytest.raises(RuntimeError):
        await request.do_request("http://127.0.0.1:9/bot", "POST")
    await request.initialize()
    await request.shutdown()
    await request.shutdown()  # twice is fine
