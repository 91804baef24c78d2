"""A supervisor removes an operator who is in a live chat, through the real Application and the stand-in
Bot API: the user is told and is back at the front of the queue, a colleague takes over, and the removed
person gets the polite staff-only text (never "something went wrong").
"""

from __future__ import annotations

import pytest

from bot.i18n import translator
from tests.botapi import SentMessage
from tests.telegram_fixtures import Helpdesk, HelpdeskFactory

ALICE, LI, OP1, OP2, SUP = 1001, 1002, 2001, 2002, 2003
CLIENT = {ALICE: "en", LI: "zh-hans", OP1: "en", OP2: "en", SUP: "en"}
STAFF_ONLY = translator("en").gettext("Sorry, this is only for helpdesk staff.")

pytestmark = pytest.mark.usefixtures("no_errors")


async def say(desk: Helpdesk, user: int, text: str = "", **kwargs: object) -> SentMessage:
    return await desk.ask(user, text, language_code=CLIENT[user], first_name=f"User{user}", **kwargs)  # type: ignore[arg-type]


async def tell(desk: Helpdesk, user: int, text: str = "") -> None:
    await desk.send(user, text, language_code=CLIENT[user], first_name=f"User{user}")


def containing(text: str):  # type: ignore[no-untyped-def]
    return lambda m: text in m.text


def offer_of(user: int):  # type: ignore[no-untyped-def]
    return lambda m: f"User{user}" in m.text and any(d.startswith("cl:") for d in m.data)


async def desk_with_a_live_chat(factory: HelpdeskFactory) -> Helpdesk:
    """Li Na (OP1) chats with Alice; Zhang Wei (OP2) is checked in too."""
    desk = await factory()
    now = desk.clock()
    desk.services.staff.add(OP1, "operator", "Li Na", now)
    desk.services.staff.add(OP2, "operator", "Zhang Wei", now)
    desk.services.staff.add(SUP, "supervisor", "Wang Fang", now)
    await say(desk, OP1, "/checkin")
    await say(desk, OP2, "/checkin")
    await say(desk, ALICE, "/human")
    offer = await desk.reply(OP1, offer_of(ALICE))
    await desk.reply(OP2, offer_of(ALICE))
    await desk.press(OP1, offer, offer.data[0])
    await desk.reply(ALICE, containing("Li Na"))
    await tell(desk, ALICE, "my permit card is lost")
    await desk.reply(OP1, containing("my permit card is lost"))
    return desk


async def test_removed_operator_hands_the_chat_back(helpdesk_factory: HelpdeskFactory) -> None:
    desk = await desk_with_a_live_chat(helpdesk_factory)
    desk.clock.advance(minutes=1)
    queued = await say(desk, LI, "/human")  # Li comes later and waits
    assert "1" in queued.text

    removed = await say(desk, SUP, f"/staff remove {OP1}")
    assert removed.text == "Li Na (2001) is no longer staff. 1 live chat went back to the front of the queue."
    # Alice is told and is first in the queue again, ahead of Li (who is told her new place).
    handed = await desk.reply(ALICE, containing("front of the queue"))
    assert "had to leave" in handed.text
    assert desk.services.live_queue.queue_status(ALICE).position == 1  # type: ignore[union-attr]
    assert desk.services.live_queue.queue_status(LI).position == 2  # type: ignore[union-attr]
    assert "2" in (await desk.reply(LI, lambda m: "2" in m.text)).text

    # The removed operator gets the staff-only text for a live-desk command, and her messages no longer reach
    # Alice (she is not in a live chat any more: a message is a question like anyone's).
    await desk.drain(OP1)  # Li's offer, from when the removed operator was still checked in
    assert (await say(desk, OP1, "/end")).text == STAFF_ONLY
    assert (await say(desk, OP1, "/sessions")).text == STAFF_ONLY
    await say(desk, OP1, "Please file a reissue online.")
    assert not [m for m in await desk.drain(ALICE) if "reissue" in m.text]

    # The colleague still checked in is offered Alice again and continues the chat.
    offer = await desk.reply(OP2, offer_of(ALICE))
    await desk.press(OP2, offer, offer.data[0])
    await desk.reply(ALICE, containing("Zhang Wei"))
    await tell(desk, ALICE, "hello again")
    await desk.reply(OP2, containing("hello again"))
    assert not [m for m in await desk.drain(OP1) if "hello again" in m.text]


async def test_a_person_no_longer_staff_with_a_chat_left_gets_the_staff_only_text(
    helpdesk_factory: HelpdeskFactory,
) -> None:
    """A chat left with someone no longer staff (a removal that raced a claim, or a database from before
    removals handed chats back): their messages get the staff-only text, not "something went wrong"."""
    desk = await desk_with_a_live_chat(helpdesk_factory)
    desk.services.staff.remove(OP1, desk.clock())  # the registry alone: the chat stays
    assert (await say(desk, OP1, "Please file a reissue online.")).text == STAFF_ONLY
    assert (await say(desk, OP1, "/kb reissue")).text == STAFF_ONLY
    assert not [m for m in await desk.drain(ALICE) if "reissue" in m.text]
