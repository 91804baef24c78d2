"""The stand-in Bot API itself: Telegram's answers, rules and long polling, over plain HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden

from tests.botapi import TOKEN, BotApiServer, parse_html, utf16_len

ALICE, BOB = 1001, 1002
Reply = tuple[int, dict[str, Any]]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(
    http: aiohttp.ClientSession, botapi: BotApiServer, method: str, body: str = "json", **params: Any
) -> Reply:
    """Call a method with a JSON, form-urlencoded or multipart body; (HTTP status, decoded answer)."""
    url = f"{botapi.api_url}/{method}"
    if body == "json":
        response = await http.post(url, json=params)
    else:
        encoded = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
        if body == "form":
            response = await http.post(url, data=encoded)
        else:
            form = aiohttp.FormData()
            for key, value in encoded.items():
                form.add_field(key, value)
            response = await http.post(url, data=form)
    async with response:
        return response.status, await response.json()


async def send(http: aiohttp.ClientSession, botapi: BotApiServer, text: str, **params: Any) -> Reply:
    return await call(http, botapi, "sendMessage", chat_id=ALICE, text=text, **params)


def refused(reply: Reply, code: int, description: str) -> bool:
    status, body = reply
    return status == code and body == {"ok": False, "error_code": code, "description": description}


@pytest.fixture
async def chat(botapi: BotApiServer) -> int:
    """Alice has written to the bot, so it may write to her."""
    await botapi.push_message(ALICE, "hello")
    return ALICE


# ----- HTML parse mode ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("html", "visible"),
    [
        ("1 &lt; 2 &amp;&amp; 3 &gt; 2 &quot;ok&quot;", '1 < 2 && 3 > 2 "ok"'),
        ("<b>bold</b> <strong>s</strong> <i>i</i> <em>e</em> <u>u</u> <ins>n</ins>", "bold s i e u n"),
        ("<s>s</s> <strike>t</strike> <del>d</del> <tg-spoiler>x</tg-spoiler>", "s t d x"),
        ('<span class="tg-spoiler">hidden</span> <a href="https://example.org/?a=1&amp;b=2">link</a>', "hidden link"),
        ('<code>x &lt; y</code> <pre><code class="language-python">print(1)</code></pre>', "x < y print(1)"),
        ("<blockquote>quote</blockquote><blockquote expandable>more</blockquote>", "quotemore"),
        ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji> &#60;&#x3E; 工作许可', "👍 <> 工作许可"),
        ("<b>nested <i>italic <u>under</u></i></b>", "nested italic under"),
        ("<B>upper case tags</B>", "upper case tags"),
    ],
)
async def test_html_accepts_escaped_text_and_telegram_tags(
    http: aiohttp.ClientSession, botapi: BotApiServer, chat: int, html: str, visible: str
) -> None:
    status, body = await send(http, botapi, html, parse_mode="HTML")
    assert status == 200 and body["ok"] is True, body
    assert body["result"]["text"] == visible
    sent = await botapi.wait_for(chat)
    assert (sent.text, sent.raw_text, sent.parse_mode) == (visible, html, "HTML")


def test_html_entities_have_utf16_offsets() -> None:
    text, entities = parse_html("😀 <b>bold</b> <a href='https://x.org'>x</a>")
    assert text == "😀 bold x"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 4},
        {"type": "text_link", "offset": 8, "length": 1, "url": "https://x.org"},
    ]


@pytest.mark.parametrize(
    "html",
    [
        "<b>unclosed",
        "</b>",
        "<b>crossed <i>tags</b></i>",
        "a < b",
        "<3",
        "x</>y",
        "Tom & Jerry",
        "&nbsp;",
        "&amp without semicolon",
        "<script>alert(1)</script>",
        "<div>block</div>",
        "<br/>",
        "<span>no class</span>",
        "<!-- comment -->",
        "<code><b>no entities in code</b></code>",
        "<tg-emoji>no id</tg-emoji>",
    ],
)
async def test_html_rejects_what_telegram_rejects(
    http: aiohttp.ClientSession, botapi: BotApiServer, chat: int, html: str
) -> None:
    status, body = await send(http, botapi, html, parse_mode="HTML")
    assert (status, body["ok"], body["error_code"]) == (400, False, 400), body
    assert body["description"].startswith("Bad Request: can't parse entities: "), body
    assert botapi.messages(chat) == [] and botapi.errors[-1].description == body["description"]


async def test_without_parse_mode_markup_is_plain_text(
    http: aiohttp.ClientSession, botapi: BotApiServer, chat: int
) -> None:
    status, body = await send(http, botapi, "<b>hi</b> & <script>")
    assert status == 200 and body["result"]["text"] == "<b>hi</b> & <script>"
    assert refused(await send(http, botapi, "x", parse_mode="Klingon"), 400, "Bad Request: unsupported parse_mode")


async def test_empty_text_is_refused(http: aiohttp.ClientSession, botapi: BotApiServer, chat: int) -> None:
    empty = "Bad Request: message text is empty"
    assert refused(await send(http, botapi, ""), 400, empty)
    assert refused(await send(http, botapi, "  \n "), 400, empty)
    assert refused(await send(http, botapi, "<b> </b>", parse_mode="HTML"), 400, empty)
    assert refused(await call(http, botapi, "sendMessage", chat_id=chat), 400, empty)


async def test_4096_limit_counts_utf16_units_after_parsing(
    http: aiohttp.ClientSession, botapi: BotApiServer, chat: int
) -> None:
    too_long = "Bad Request: message is too long"
    assert (await send(http, botapi, "x" * 4096))[0] == 200
    assert refused(await send(http, botapi, "x" * 4097), 400, too_long)
    # an emoji outside the BMP is two UTF-16 code units
    assert utf16_len("😀" * 2048) == 4096
    assert (await send(http, botapi, "😀" * 2048))[0] == 200
    assert refused(await send(http, botapi, "😀" * 2049), 400, too_long)
    # tags and entities do not count, the characters they stand for do
    assert (await send(http, botapi, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML"))[0] == 200
    assert (await send(http, botapi, "&amp;" * 4096, parse_mode="HTML"))[0] == 200
    assert refused(await send(http, botapi, "&amp;" * 4097, parse_mode="HTML"), 400, too_long)
    # Chinese characters are one unit each
    assert (await send(http, botapi, "工" * 4096))[0] == 200


# ----- inline keyboards ---------------------------------------------------------------------------------------
def keyboard(*data: str) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": f"b{i}", "callback_data": d}] for i, d in enumerate(data)]}


async def test_callback_data_is_1_to_64_bytes(http: aiohttp.ClientSession, botapi: BotApiServer, chat: int) -> None:
    invalid = "Bad Request: BUTTON_DATA_INVALID"
    status, body = await send(http, botapi, "ok", reply_markup=keyboard("a" * 64, "x"))
    assert status == 200 and body["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a" * 64
    sent = await botapi.wait_for(chat)
    assert sent.buttons == [[("b0", "a" * 64)], [("b1", "x")]]
    assert refused(await send(http, botapi, "no", reply_markup=keyboard("a" * 65)), 400, invalid)
    assert refused(await send(http, botapi, "no", reply_markup=keyboard("中" * 22)), 400, invalid)  # 66 bytes
    assert refused(await send(http, botapi, "no", reply_markup=keyboard("")), 400, invalid)
    assert (await send(http, botapi, "ok", reply_markup=keyboard("中" * 21)))[0] == 200  # 63 bytes


# ----- chats and messages ----------------------------------------------------------------------------------------
async def test_blocked_user_gets_403(http: aiohttp.ClientSession, botapi: BotApiServer, chat: int) -> None:
    botapi.block(chat)
    assert refused(await send(http, botapi, "hi"), 403, "Forbidden: bot was blocked by the user")
    assert refused(
        await call(http, botapi, "sendChatAction", chat_id=chat, action="typing"),
        403,
        "Forbidden: bot was blocked by the user",
    )
    botapi.unblock(chat)
    assert (await send(http, botapi, "hi again"))[0] == 200


async def test_unknown_chat_method_and_token(http: aiohttp.ClientSession, botapi: BotApiServer) -> None:
    assert refused(await call(http, botapi, "sendMessage", chat_id=BOB, text="hi"), 400, "Bad Request: chat not found")
    assert refused(await call(http, botapi, "sendTelepathy", chat_id=BOB), 404, "Not Found: method not found")
    async with http.post(f"{botapi.base_url}999:WRONG/getMe") as response:
        assert response.status == 401 and (await response.json())["description"] == "Unauthorized"
    status, body = await call(http, botapi, "getMe")
    assert status == 200 and body["result"]["id"] == 123456 and body["result"]["is_bot"] is True


@pytest.mark.parametrize("body", ["json", "form", "multipart"])
async def test_every_body_encoding(http: aiohttp.ClientSession, botapi: BotApiServer, chat: int, body: str) -> None:
    status, answer = await call(
        http,
        botapi,
        "sendMessage",
        body,
        chat_id=chat,
        text="<i>hi</i>",
        parse_mode="HTML",
        reply_markup=keyboard("pick:1:x"),
    )
    assert status == 200, answer
    sent = await botapi.wait_for(chat)
    assert (sent.text, sent.buttons) == ("hi", [[("b0", "pick:1:x")]])


async def test_edit_and_delete_rules(http: aiohttp.ClientSession, botapi: BotApiServer, chat: int) -> None:
    _status, body = await send(http, botapi, "Choose:", reply_markup=keyboard("a"))
    message_id = body["result"]["message_id"]
    same = await call(
        http, botapi, "editMessageText", chat_id=chat, message_id=message_id, text="Choose:", reply_markup=keyboard("a")
    )
    assert same[0] == 400 and same[1]["description"].startswith("Bad Request: message is not modified")
    status, edited = await call(http, botapi, "editMessageText", chat_id=chat, message_id=message_id, text="Chosen")
    assert status == 200 and edited["result"]["text"] == "Chosen" and "reply_markup" not in edited["result"]
    edit = await botapi.wait_for(chat, kinds=("edit",))
    assert (edit.message_id, edit.text, edit.buttons) == (message_id, "Chosen", [])
    no_markup = await call(http, botapi, "editMessageReplyMarkup", chat_id=chat, message_id=message_id)
    assert no_markup[1]["description"].startswith("Bad Request: message is not modified")
    assert refused(
        await call(http, botapi, "editMessageText", chat_id=chat, message_id=999, text="x"),
        400,
        "Bad Request: message to edit not found",
    )
    assert refused(
        await call(http, botapi, "editMessageText", chat_id=chat, message_id=1, text="x"),
        400,
        "Bad Request: message can't be edited",
    )  # Alice's own message
    assert (await call(http, botapi, "deleteMessage", chat_id=chat, message_id=message_id))[0] == 200
    assert refused(
        await call(http, botapi, "deleteMessage", chat_id=chat, message_id=message_id),
        400,
        "Bad Request: message to delete not found",
    )
    assert refused(
        await call(http, botapi, "editMessageReplyMarkup", chat_id=chat, message_id=message_id),
        400,
        "Bad Request: message to edit not found",
    )


async def test_files_copies_and_forwards(http: aiohttp.ClientSession, botapi: BotApiServer, chat: int) -> None:
    photo_message = await botapi.push_message(chat, "my permit", photo=True)
    document_message = await botapi.push_message(chat, document=True, file_name="contract.pdf")
    photo, document = botapi.file_of(chat, photo_message), botapi.file_of(chat, document_message)
    assert photo and document
    assert (
        await call(http, botapi, "sendPhoto", chat_id=chat, photo=photo, caption="<b>yours</b>", parse_mode="HTML")
    )[0] == 200
    sent = await botapi.wait_for(chat)
    assert (sent.kind, sent.file_id, sent.text) == ("photo", photo, "yours")
    assert refused(
        await call(http, botapi, "sendPhoto", chat_id=chat, photo="nonsense"),
        400,
        "Bad Request: wrong file identifier/HTTP URL specified",
    )
    assert refused(
        await call(http, botapi, "sendPhoto", chat_id=chat, photo=document),
        400,
        "Bad Request: can't use file of type Document as Photo",
    )
    form = aiohttp.FormData()
    form.add_field("chat_id", str(chat))
    form.add_field("document", b"%PDF-1.4", filename="answer.pdf", content_type="application/pdf")
    async with http.post(f"{botapi.api_url}/sendDocument", data=form) as response:
        uploaded = await response.json()
    assert uploaded["ok"] and uploaded["result"]["document"]["file_name"] == "answer.pdf"
    status, copied = await call(
        http, botapi, "copyMessage", chat_id=chat, from_chat_id=chat, message_id=document_message
    )
    assert status == 200 and set(copied["result"]) == {"message_id"}
    copy = await botapi.wait_for(chat, lambda m: m.kind == "copy")
    assert (copy.file_id, copy.from_chat_id) == (document, chat)
    status, forwarded = await call(http, botapi, "forwardMessage", chat_id=chat, from_chat_id=chat, message_id=1)
    assert status == 200 and forwarded["result"]["text"] == "hello"
    assert refused(
        await call(http, botapi, "copyMessage", chat_id=chat, from_chat_id=chat, message_id=999),
        400,
        "Bad Request: message to copy not found",
    )


async def test_push_message_shapes(botapi: BotApiServer, http: aiohttp.ClientSession) -> None:
    await botapi.push_message(ALICE, "/start@helpdesk_test_bot now", language_code="zh-hans", first_name="李")
    await botapi.push_message(ALICE, "see this", photo=True, reply_to_message_id=1)
    await botapi.push_message(BOB, "permit.pdf", document=True)
    _status, body = await call(http, botapi, "getUpdates")
    first, second, third = body["result"]
    assert [u["update_id"] for u in body["result"]] == [1, 2, 3]
    message = first["message"]
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 24}]
    assert message["from"]["language_code"] == "zh-hans" and message["chat"] == {
        "id": ALICE,
        "type": "private",
        "first_name": "李",
    }
    assert second["message"]["message_id"] == 2 and second["message"]["reply_to_message"]["message_id"] == 1
    assert second["message"]["caption"] == "see this" and len(second["message"]["photo"]) == 2
    assert third["message"]["message_id"] == 1 and third["message"]["document"]["mime_type"] == "application/pdf"


async def test_callback_queries_and_answers(http: aiohttp.ClientSession, botapi: BotApiServer, chat: int) -> None:
    await send(http, botapi, "Choose:", reply_markup=keyboard("fb:1:1"))
    sent = await botapi.wait_for(chat)
    with pytest.raises(AssertionError):
        await botapi.press(chat, sent, "fb:1:0")  # not on the keyboard
    query = await botapi.press(chat, sent, "fb:1:0", forged=True)
    _status, body = await call(http, botapi, "getUpdates")
    callback = body["result"][-1]["callback_query"]
    assert (callback["id"], callback["data"], callback["message"]["message_id"]) == (query, "fb:1:0", sent.message_id)
    assert callback["message"]["reply_markup"] == keyboard("fb:1:1")
    assert (await call(http, botapi, "answerCallbackQuery", callback_query_id=query, text="Thanks", show_alert=True))[
        0
    ] == 200
    answer = await botapi.wait_answer(query)
    assert (answer.text, answer.show_alert, answer.user_id) == ("Thanks", True, chat)
    assert refused(
        await call(http, botapi, "answerCallbackQuery", callback_query_id=query),
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    )


async def test_commands_per_language(http: aiohttp.ClientSession, botapi: BotApiServer) -> None:
    await call(http, botapi, "setMyCommands", "form", commands=[{"command": "start", "description": "Start"}])
    await call(
        http, botapi, "setMyCommands", commands=[{"command": "start", "description": "开始"}], language_code="zh"
    )
    assert botapi.commands() == [("start", "Start")] and botapi.commands("zh") == [("start", "开始")]
    _status, body = await call(http, botapi, "getMyCommands", language_code="zh")
    assert body["result"] == [{"command": "start", "description": "开始"}]
    assert refused(
        await call(http, botapi, "setMyCommands", commands=[{"command": "Bad Name", "description": "x"}]),
        400,
        "Bad Request: BOT_COMMAND_INVALID",
    )
    await call(http, botapi, "deleteMyCommands", language_code="zh")
    assert botapi.commands("zh") == []


async def test_fail_next_simulates_flood_control(http: aiohttp.ClientSession, botapi: BotApiServer, chat: int) -> None:
    botapi.fail_next("sendMessage", retry_after=3)
    status, body = await send(http, botapi, "hi")
    assert (status, body) == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 3",
            "parameters": {"retry_after": 3},
        },
    )
    assert (await send(http, botapi, "hi"))[0] == 200  # only the next call


# ----- long polling -------------------------------------------------------------------------------------------
async def test_long_polling_returns_when_an_update_arrives(http: aiohttp.ClientSession, botapi: BotApiServer) -> None:
    poll = asyncio.create_task(call(http, botapi, "getUpdates", timeout=50))
    await botapi.wait_polling()
    assert not poll.done()
    await botapi.push_message(ALICE, "/start")
    status, body = await asyncio.wait_for(poll, 10)  # far sooner than the 50 s long poll
    assert status == 200 and [u["message"]["text"] for u in body["result"]] == ["/start"]


async def test_offset_limit_and_timeout_zero(http: aiohttp.ClientSession, botapi: BotApiServer) -> None:
    for text in ("one", "two", "three"):
        await botapi.push_message(ALICE, text)
    _status, body = await call(http, botapi, "getUpdates", "form", limit=2, timeout=0)
    assert [u["message"]["text"] for u in body["result"]] == ["one", "two"]
    _status, body = await call(http, botapi, "getUpdates", offset=body["result"][-1]["update_id"] + 1, timeout=0)
    assert [u["message"]["text"] for u in body["result"]] == ["three"]
    _status, body = await call(http, botapi, "getUpdates", offset=4, timeout=0)
    assert body["result"] == []
    await botapi.wait_delivered()  # offset 4 confirmed update 3


async def test_a_newer_get_updates_ends_the_older_with_409(http: aiohttp.ClientSession, botapi: BotApiServer) -> None:
    older = asyncio.create_task(call(http, botapi, "getUpdates", timeout=50))
    await botapi.wait_polling()
    _status, newer = await call(http, botapi, "getUpdates", timeout=0)
    assert newer == {"ok": True, "result": []}
    status, body = await asyncio.wait_for(older, 10)
    assert status == 409 and body["description"].startswith("Conflict: terminated by other getUpdates request")


async def test_wait_for_reports_what_arrived(botapi: BotApiServer, http: aiohttp.ClientSession, chat: int) -> None:
    await send(http, botapi, "something else")
    with pytest.raises(AssertionError, match="something else"):
        await botapi.wait_for(chat, lambda m: "expected" in m.text, timeout=0.05)


# ----- through python-telegram-bot ---------------------------------------------------------------------------------
async def test_python_telegram_bot_sees_telegram_errors(botapi: BotApiServer, chat: int) -> None:
    async with Bot(TOKEN, base_url=botapi.base_url) as bot:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("👍", callback_data="fb:1:1")]])
        message = await bot.send_message(chat, "<b>Yes</b> &amp; no", parse_mode="HTML", reply_markup=markup)
        assert message.text == "Yes & no" and message.entities[0].type == "bold"
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(chat, "<b>Yes & no", parse_mode="HTML")
        with pytest.raises(BadRequest, match="Message is not modified"):
            await bot.edit_message_text(
                "<b>Yes</b> &amp; no",
                chat_id=chat,
                message_id=message.message_id,
                parse_mode="HTML",
                reply_markup=markup,
            )
        botapi.block(chat)
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(chat, "hi")
