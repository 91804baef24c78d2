"""A seeded corpus of odd updates through the real Application: no traceback, no apology, no refused call.

Applicants, an operator and a supervisor send random commands with random arguments, random text (emoji,
control characters, HTML, over-long, forged digits such as "¹²³"), photos and documents at any step, and
press buttons that were never offered, with arguments of every shape — all pushed at once, as a burst.
Whatever it is, the bot answers politely or ignores it; it never logs an error, never tells anyone
"something went wrong", and Telegram never refuses one of its calls (``no_errors``).
"""

from __future__ import annotations

import random

import pytest

from handlers.callback_data import Button
from tests.telegram_fixtures import Helpdesk, HelpdeskFactory

pytestmark = pytest.mark.usefixtures("no_errors")

APPLICANTS = {1001: "en", 1002: "zh-hans", 1003: None}
OPERATOR, SUPERVISOR = 2001, 2002
COMMANDS = [
    "start",
    "help",
    "language",
    "privacy",
    "subscribe",
    "unsubscribe",
    "topics",
    "cancel",
    "ticket",
    "mytickets",
    "tickets",
    "t",
    "reply",
    "note",
    "close",
    "staff",
    "deliveries",
    "human",
    "checkin",
    "checkout",
    "queue",
    "end",
    "transfer",
    "toticket",
    "kb",
    "canned",
    "sessions",
    "nosuchcommand",
]
ARGUMENTS = [
    "",
    "1",
    "0",
    "-1",
    "¹²³",
    "٣",
    "99999999999999999999",
    "T2603-0001",
    "t9999-9999",
    "open",
    "mine",
    "add 3001 operator Wang",
    "remove 2001",
    "remove ³³³",
    "add 1 admin X",
    "resolved",
    "2002",
    "extension",
    "<b>bold</b> & <i>",
    "😀" * 30,
    "x" * 5000,
]
TEXTS = [
    "How long is a work permit valid?",
    "工作许可证丢了怎么办",
    "工作許可證遺失怎麼辦",
    "hello",
    "谢谢",
    "",
    " ",
    "😀😀😀",
    "\x00\x07\u200b",
    "<script>alert(1)</script> & </b>",
    "a" * 4097,
    "中" * 5000,
    "my passport is E12345678, phone +86 138 0013 8000",
    "¹²³",
]


def random_data(rng: random.Random) -> str:
    button = rng.choice(list(Button))
    args = [rng.choice(["1", "0", "-5", "¹", "x", "999999999999999999999", "open", "t", "s", "5", "zh", ""])]
    if rng.random() < 0.5:
        args.append(rng.choice(["1", "2", "employer", "reply", "complaint", "contact", "q", "c"]))
    if rng.random() < 0.3:
        args.append(rng.choice(["1", "5", "9"]))
    return ":".join([button.value, *args])[:64]


async def burst(desk: Helpdesk, rng: random.Random, count: int) -> int:
    """Push *count* random updates; how many were messages (the rest are button presses)."""
    messages = 0
    users = [*APPLICANTS, OPERATOR, SUPERVISOR]
    for _ in range(count):
        user = rng.choice(users)
        lang = APPLICANTS.get(user, "en")
        roll = rng.random()
        messages += roll < 0.75 or desk.botapi.last(user) is None
        if roll < 0.35:
            text = f"/{rng.choice(COMMANDS)} {rng.choice(ARGUMENTS)}".strip()
            await desk.botapi.push_message(user, text, language_code=lang)
        elif roll < 0.65:
            await desk.botapi.push_message(user, rng.choice(TEXTS), language_code=lang)
        elif roll < 0.75:
            media = rng.choice(["photo", "document"])
            await desk.botapi.push_message(
                user, rng.choice(TEXTS)[:900], language_code=lang, photo=media == "photo", document=media == "document"
            )
        else:
            target = desk.botapi.last(user)
            if target is None:
                await desk.botapi.push_message(user, "/start", language_code=lang)
                continue
            await desk.botapi.press(user, target, random_data(rng), forged=True)
    return messages


@pytest.mark.parametrize("seed", [1, 2])
async def test_a_burst_of_odd_updates_is_handled_politely(helpdesk_factory: HelpdeskFactory, seed: int) -> None:
    desk = await helpdesk_factory(helpdesk_supervisors=str(SUPERVISOR))
    desk.services.staff.add(OPERATOR, "operator", "Li Na", desk.clock(), SUPERVISOR)
    for user in (OPERATOR, SUPERVISOR, *APPLICANTS):
        await desk.botapi.push_message(user, "/start", language_code=APPLICANTS.get(user, "en"))
    await desk.settle()
    rng = random.Random(seed)
    before = sum(len(desk.botapi.messages(chat)) for chat in desk.botapi.chats())
    messages = await burst(desk, rng, 250)
    await desk.settle(timeout=60)
    assert desk.app.bot_data.desk.waiting == {}  # nothing owed: every answer went out
    sent = sum(len(desk.botapi.messages(chat)) for chat in desk.botapi.chats()) - before
    assert sent >= messages  # every message got an answer (a forged button gets an alert, not a message)
