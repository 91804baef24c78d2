"""线上帮办 end to end: one applicant, two operators, through the real Application and the stand-in Bot API.

Check-in, queue position, a claim race, relay both ways (text, photo, replies), /kb and /canned,
transfer, end and rating, the out-of-hours path, timers on the JobQueue, and a restart mid-session.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from bot.answering.text import Lang
from bot.i18n import translator
from bot.store.models import LiveSession, Rating, Ticket
from tests.botapi import BotApiServer, SentMessage
from tests.telegram_fixtures import Helpdesk, HelpdeskFactory

SH = ZoneInfo("Asia/Shanghai")
ALICE, LI, OP1, OP2, SUP = 1001, 1002, 2001, 2002, 2003
CLIENT = {ALICE: "en", LI: "zh-hans", OP1: "en", OP2: "zh-hans", SUP: "en"}
ERRORS = {
    translator(lang).gettext("Sorry, something went wrong on our side. Please try again in a moment.")
    for lang in ("en", "zh")
}


def _(lang: Lang, message: str) -> str:
    return translator(lang).gettext(message)


@pytest.fixture(autouse=True)
def nothing_went_wrong(botapi: BotApiServer, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.WARNING)
    yield
    records = caplog.get_records("setup") + caplog.get_records("call") + caplog.get_records("teardown")
    assert [r.getMessage() for r in records if r.levelno >= logging.ERROR] == []
    assert [e for e in botapi.errors if e.error_code not in (403, 429)] == []
    for chat in CLIENT:
        assert not [m for m in botapi.messages(chat) if m.text in ERRORS]


async def desk_with_staff(factory: HelpdeskFactory, **settings: object) -> Helpdesk:
    desk = await factory(**settings)
    now = desk.clock()
    desk.services.staff.add(OP1, "operator", "Li Na", now)
    desk.services.staff.add(OP2, "operator", "Zhang Wei", now)
    desk.services.staff.add(SUP, "supervisor", "Wang Fang", now)
    await say(desk, SUP, "/help")  # the bot can only write to people who have started it
    return desk


async def tell(desk: Helpdesk, user: int, text: str = "", **kwargs: object) -> None:
    """The user writes *text* without waiting for a reply to themselves (a relayed message)."""
    await desk.send(user, text, language_code=CLIENT[user], first_name=f"User{user}", **kwargs)  # type: ignore[arg-type]


async def say(desk: Helpdesk, user: int, text: str = "", **kwargs: object) -> SentMessage:
    return await desk.ask(user, text, language_code=CLIENT[user], first_name=f"User{user}", **kwargs)  # type: ignore[arg-type]


def containing(text: str):  # type: ignore[no-untyped-def]
    return lambda m: text in m.text


async def queue_and_claim(desk: Helpdesk, user: int = ALICE, operator: int = OP1) -> SentMessage:
    """The user asks for a person; *operator* (checked in) claims them; the user's "connected" message."""
    await say(desk, user, "/human")
    offer = await desk.reply(operator, lambda m: any(d.startswith("cl:") for d in m.data))
    await desk.press(operator, offer, offer.button(_("en", "Claim"))[1] or "")
    return await desk.reply(user, lambda m: "Li Na" in m.text or "Zhang Wei" in m.text)


async def test_checkin_queue_claim_race_relay_end_and_rating(helpdesk_factory: HelpdeskFactory) -> None:
    desk = await desk_with_staff(helpdesk_factory)
    # A non-operator cannot check in.
    refused = await say(desk, ALICE, "/checkin")
    assert refused.text == _("en", "Sorry, this is only for helpdesk staff.")

    assert "You are checked in." in (await say(desk, OP1, "/checkin")).text
    assert "签入成功" in (await say(desk, OP2, "/checkin")).text  # 签入 in Chinese
    # Checked-in staff get their own command menu, staff commands first, in their language.
    assert desk.botapi.commands(scope=f"chat:{OP1}")[0] == ("checkin", "Start taking live chats (签入)")
    assert desk.botapi.commands(scope=f"chat:{OP2}")[0] == ("checkin", "签入，开始接待线上咨询")
    assert desk.botapi.commands(scope=f"chat:{ALICE}") == []

    # Alice asks a question first, then asks for a person: she is told her place and the wait.
    await say(desk, ALICE, "how long is the work permit valid")
    queued = await say(desk, ALICE, "/human")
    assert "You are number 1 in the queue" in queued.text and "min" in queued.text
    assert queued.data == ["hq"]

    # Both operators are offered her, with her language, role and recent question (so nobody asks twice).
    offer1 = await desk.reply(OP1, lambda m: "cl:" in "".join(m.data))
    offer2 = await desk.reply(OP2, lambda m: "cl:" in "".join(m.data))
    assert "User1001 · English" in offer1.text and "how long is the work permit valid" in offer1.text
    assert "等待人工服务" in offer2.text

    # Both press Claim at once: exactly one wins, the other is told.
    data = offer1.data[0]
    q1 = await desk.botapi.press(OP1, offer1, data)
    q2 = await desk.botapi.press(OP2, offer2, data)
    answers = [await desk.botapi.wait_answer(q, 10) for q in (q1, q2)]
    await desk.settle()
    lost = [a for a in answers if a.text]
    assert len(lost) == 1 and lost[0].show_alert
    with Session(desk.services.engine) as session:
        sessions = session.exec(select(LiveSession)).all()
    assert len(sessions) == 1
    winner = sessions[0].operator_id
    name = "Li Na" if winner == OP1 else "Zhang Wei"
    loser_lang: Lang = "en" if winner == OP2 else "zh"
    assert lost[0].text == _(loser_lang, "{operator} has already taken this user.").format(operator=name)
    # Both cards now say who took her, without a Claim button (each edited once, whoever pressed first).
    for offer in (offer1, offer2):
        assert desk.botapi.current(offer).buttons == [] and name in desk.botapi.current(offer).text
    connected = await desk.reply(ALICE, containing(name))
    assert "/cancel" in connected.text

    # Relay: user → operator (with a header naming the user), operator → user under the operator's name.
    await tell(desk, ALICE, "My permit card <b>was</b> lost & I need help")
    relayed = await desk.reply(winner, containing("My permit card"))
    assert relayed.text.startswith("💬 User1001 · #") and "<b>was</b> lost & I need help" in relayed.text
    await desk.send(winner, "Please apply for a replacement online.", language_code=CLIENT[winner])
    to_user = await desk.reply(ALICE, containing("replacement online"))
    assert to_user.text.startswith(name) and str(winner) not in to_user.text  # display name, not the account
    # A photo goes through too.
    await desk.send(ALICE, "the error page", photo=True, language_code="en")
    photo = await desk.reply(winner, lambda m: m.kind == "photo")
    assert photo.file_id is not None and "the error page" in (photo.caption or photo.text)

    # /kb sends a knowledge-base answer in the user's language; /canned a canned reply.
    winner_lang: Lang = "zh" if winner == OP2 else "en"
    title = desk.services.kb.title("reissue", winner_lang)
    confirmation = _(winner_lang, "Sent “{title}” to the user.").format(title=title)
    assert (await desk.ask(winner, "/kb reissue", containing(confirmation), language_code=CLIENT[winner])).text == (
        confirmation
    )
    kb_text = desk.services.helpdesk.entry("reissue", "en").text.strip().splitlines()[0]
    assert kb_text in (await desk.reply(ALICE, containing(kb_text))).text
    await desk.ask(winner, "/canned anything-else", language_code=CLIENT[winner])
    assert (await desk.reply(ALICE, containing("anything else I can help"))).text.startswith(name)

    # End: the user is asked for a rating; a bad one alerts the supervisor.
    ended = await desk.ask(winner, "/end", language_code=CLIENT[winner])
    assert "ended" in ended.text or "已结束" in ended.text
    rating = await desk.reply(ALICE, lambda m: any(d.startswith("rt:s:") for d in m.data))
    assert len(rating.data) == 5
    await desk.press(ALICE, rating, rating.data[4])  # very dissatisfied
    await desk.reply(ALICE)  # asked for an optional comment
    await tell(desk, ALICE, "Too slow")
    alert = await desk.reply(SUP, containing("Bad rating"))  # at once, and again with the comment
    assert "live chat" in alert.text
    assert "Too slow" in (await desk.reply(SUP, containing("Too slow"))).text
    with Session(desk.services.engine) as session:
        rows = session.exec(select(Rating)).all()
    assert [(r.service, r.level) for r in rows] == [("session", 5)]
    # The same rating button again: one rating per service.
    answer = await desk.press(ALICE, rating, rating.data[0], forged=True)  # a stale copy of the keyboard
    assert answer.text == _("en", "This service has already been rated. Thank you!")
    # After the chat, Alice's messages are questions again.
    await tell(desk, ALICE, "how long is the work permit valid")
    assert "Was this helpful?" in (await desk.reply(ALICE, containing("Was this helpful?"))).text


async def test_queue_positions_change_and_cancel_leaves(helpdesk_factory: HelpdeskFactory) -> None:
    desk = await desk_with_staff(helpdesk_factory)
    await say(desk, OP1, "/checkin")
    await say(desk, ALICE, "/human")
    second = await say(desk, LI, "/human")
    assert "第 2 位" in second.text
    # Alice leaves with /cancel: Li moves up and is told.
    left = await say(desk, ALICE, "/cancel")
    assert left.text == _("en", "You have left the queue.")
    moved = await desk.reply(LI, containing("第 1 位"))
    assert "预计" in moved.text
    # /queue shows the operator who is waiting, with a Claim button.
    await desk.send(OP1, "/queue", language_code="en")
    listing = await desk.reply(OP1, containing("Waiting:"))
    assert "Waiting: 1" in listing.text and len(listing.data) == 1 and listing.data[0].startswith("cl:")
    # The "leave the queue" button works too.
    queued = await say(desk, ALICE, "/human")
    await desk.press(ALICE, queued, "hq")
    assert (await desk.reply(ALICE)).text == _("en", "You have left the queue.")


async def test_transfer_and_checkout_hand_back(helpdesk_factory: HelpdeskFactory) -> None:
    desk = await desk_with_staff(helpdesk_factory)
    await say(desk, OP1, "/checkin")
    await say(desk, OP2, "/checkin")
    await say(desk, ALICE, "/human")
    offer = await desk.reply(OP1, lambda m: "cl:" in "".join(m.data))
    await desk.press(OP1, offer, offer.data[0])
    await desk.reply(ALICE, containing("Li Na"))
    await tell(desk, ALICE, "I have a question about my category")
    await desk.reply(OP1, containing("my category"))

    # /transfer offers the checked-in colleagues; choosing one hands over the chat with its transcript.
    choices = await say(desk, OP1, "/transfer")
    assert choices.labels == ["Zhang Wei · 0 chats"]
    await desk.press(OP1, choices, choices.data[0])
    briefing = await desk.reply(OP2, containing("已转给您"))
    assert "my category" in briefing.text  # the new operator sees the conversation so far
    assert "Zhang Wei" in (await desk.reply(ALICE, containing("Zhang Wei"))).text
    await tell(desk, ALICE, "are you there?")
    assert "are you there?" in (await desk.reply(OP2, containing("are you there?"))).text
    # Li Na has no chat any more.
    assert "no live chat" in (await desk.ask(OP1, "/end", containing("no live chat"), language_code="en")).text

    # Zhang Wei checks out: Alice goes back to the front of the queue and Li Na is offered her again.
    out = await say(desk, OP2, "/checkout")
    assert "已签出" in out.text
    assert "front of the queue" in (await desk.reply(ALICE, containing("front of the queue"))).text
    again = await desk.reply(OP1, lambda m: "cl:" in "".join(m.data))
    assert "User1001" in again.text


async def test_operator_turns_the_chat_into_a_ticket(helpdesk_factory: HelpdeskFactory) -> None:
    desk = await desk_with_staff(helpdesk_factory)
    await say(desk, OP1, "/checkin")
    await queue_and_claim(desk)
    await tell(desk, ALICE, "My application was rejected and I don't know why")
    await desk.reply(OP1, containing("rejected"))
    done = await say(desk, OP1, "/toticket")
    assert "assigned to you" in done.text
    notice = await desk.reply(ALICE, containing("recorded as ticket"))
    with Session(desk.services.engine) as session:
        ticket = session.exec(select(Ticket)).one()
    assert ticket.kind == "help" and ticket.assignee_id == OP1 and "rejected" in ticket.description
    assert ticket.number in notice.text


async def test_out_of_hours_leave_a_message_becomes_a_help_ticket(helpdesk_factory: HelpdeskFactory) -> None:
    desk = await desk_with_staff(helpdesk_factory, helpdesk_hours="profile")
    desk.clock.now = datetime(2026, 3, 7, 20, 0, tzinfo=SH)  # a Saturday evening
    closed = await say(desk, ALICE, "/human")
    assert "not at the desk" in closed.text and "Mar 9, 2026" in closed.text  # back on Monday
    await desk.press(ALICE, closed, closed.data[0])
    prompt = await desk.reply(ALICE)
    assert "describe the matter" in prompt.text  # the type is already "help request"
    await say(desk, ALICE, "Please call me back about my cancelled permit.")
    for name in ("contact", "reference"):  # skip both optional steps
        step = desk.botapi.last(ALICE)
        assert step is not None
        await desk.press(ALICE, step, f"ts:{name}")
    confirm = desk.botapi.last(ALICE)
    assert confirm is not None
    await desk.press(ALICE, confirm, "tok")
    with Session(desk.services.engine) as session:
        ticket = session.exec(select(Ticket)).one()
    assert (ticket.kind, ticket.origin) == ("help", "out_of_hours")


async def test_timers_offer_a_ticket_then_remind_and_close_idle_chats(helpdesk_factory: HelpdeskFactory) -> None:
    desk = await desk_with_staff(
        helpdesk_factory,
        helpdesk_sweep_seconds=0.05,
        helpdesk_queue_wait_minutes=10,
        helpdesk_idle_remind_minutes=5,
        helpdesk_idle_close_minutes=5,
    )
    await say(desk, ALICE, "/human")
    desk.clock.advance(minutes=11)  # the JobQueue's sweep sees the long wait
    offer = await desk.reply(ALICE, lambda m: "hm:q" in m.data)
    await desk.press(ALICE, offer, "hk")  # keep waiting: the place is kept
    await say(desk, OP1, "/checkin")
    claim = await desk.reply(OP1, lambda m: "cl:" in "".join(m.data))
    await desk.press(OP1, claim, claim.data[0])
    await desk.reply(ALICE, containing("Li Na"))
    await tell(desk, OP1, "Hello, how can I help?")  # the operator wrote last: now the user is waited for
    await desk.reply(ALICE, containing("how can I help"))
    desk.clock.advance(minutes=6)
    assert "Are you still there?" in (await desk.reply(ALICE, containing("still there"))).text
    await desk.reply(OP1, containing("for a while"))
    desk.clock.advance(minutes=6)
    closed = await desk.reply(ALICE, lambda m: any(d.startswith("rt:s:") for d in m.data))
    assert "no new messages" in closed.text
    await desk.reply(OP1, containing("was closed"))


async def test_a_silent_operator_hands_the_user_back_instead_of_closing(helpdesk_factory: HelpdeskFactory) -> None:
    """The issue's conversation: Alice asks, the operator never answers. She is not asked whether she is still
    there, nor is the chat closed on her: the operator is reminded, then she goes back to the front of the
    queue, the other operator is offered her and the supervisor is told."""
    desk = await desk_with_staff(
        helpdesk_factory, helpdesk_sweep_seconds=0.05, helpdesk_idle_remind_minutes=5, helpdesk_idle_close_minutes=5
    )
    await say(desk, OP1, "/checkin")
    await queue_and_claim(desk, ALICE, OP1)
    await say(desk, OP2, "/checkin")
    await tell(desk, ALICE, "Hello? My HR says the system rejected our extension, what should we do?")
    await desk.reply(OP1, containing("rejected our extension"))
    desk.clock.advance(minutes=6)
    reminder = await desk.reply(OP1, containing("waiting"))
    assert "chat #1 has been waiting 6 min for your answer" in reminder.text
    desk.clock.advance(minutes=6)
    back = await desk.reply(ALICE, containing("front of the queue"))
    assert "Sorry that nobody answered you" in back.text
    assert "went back to the front of the queue" in (await desk.reply(OP1, containing("went back"))).text
    assert "Li Na left the user of chat #1 without an answer" in (await desk.reply(SUP, containing("⚠️"))).text
    offer = await desk.reply(OP2, lambda m: any(d.startswith("cl:") for d in m.data))
    await desk.press(OP2, offer, offer.data[0])
    await desk.reply(ALICE, containing("Zhang Wei"))
    await desk.settle()
    assert not [m for m in desk.botapi.messages(ALICE) if "still there" in m.text or m.data[:1] == ["rt:s:1:1"]]


async def test_restart_mid_session_keeps_the_chat(helpdesk_factory: HelpdeskFactory) -> None:
    desk = await desk_with_staff(helpdesk_factory)
    await say(desk, OP1, "/checkin")
    await queue_and_claim(desk)
    await say(desk, LI, "/human")  # Li waits behind
    await desk.restart()
    await tell(desk, ALICE, "still here after the restart")
    relayed = await desk.reply(OP1, containing("after the restart"))
    # The operator replies to that relayed message: it reaches Alice.
    await desk.send(OP1, "Yes, I can see you.", language_code="en", reply_to_message_id=relayed.message_id)
    assert "I can see you" in (await desk.reply(ALICE, containing("I can see you"))).text
    status = await say(desk, LI, "/human")
    assert "第 1 位" in status.text  # Li kept her place


async def test_operator_with_two_users_answers_by_replying(helpdesk_factory: HelpdeskFactory) -> None:
    desk = await desk_with_staff(helpdesk_factory)
    await say(desk, OP1, "/checkin")
    await queue_and_claim(desk, ALICE)
    await queue_and_claim(desk, LI)
    await tell(desk, ALICE, "question from alice")
    from_alice = await desk.reply(OP1, containing("question from alice"))
    await tell(desk, LI, "李的问题")
    await desk.reply(OP1, containing("李的问题"))
    # Focus is on Li's chat (claimed last), but replying to Alice's message answers Alice.
    await desk.send(OP1, "answer for alice", language_code="en", reply_to_message_id=from_alice.message_id)
    await desk.reply(ALICE, containing("answer for alice"))
    await desk.send(OP1, "answer for li", language_code="en")
    await desk.reply(LI, containing("answer for li"))
    assert not [m for m in desk.botapi.messages(ALICE) if "answer for li" in m.text]
    # /sessions lists both; a button makes Alice's chat current.
    listing = await say(desk, OP1, "/sessions")
    assert len(listing.data) == 2
    await desk.press(OP1, listing, listing.data[0])
    await desk.send(OP1, "back to you alice", language_code="en")
    await desk.reply(ALICE, containing("back to you alice"))


async def test_live_commands_are_refused_to_non_staff(helpdesk_factory: HelpdeskFactory) -> None:
    desk = await desk_with_staff(helpdesk_factory)
    refusal = _("en", "Sorry, this is only for helpdesk staff.")
    for command in (
        "/checkin",
        "/checkout",
        "/queue",
        "/end",
        "/transfer",
        "/toticket",
        "/kb reissue",
        "/canned",
        "/sessions",
    ):
        assert (await say(desk, ALICE, command)).text == refusal, command
    message = await say(desk, ALICE, "/help")
    for data in ("cl:1", "tf:1:2001", "cn:hello", "fo:1"):
        answer = await desk.press(ALICE, message, data, forged=True)
        assert answer.text == refusal and answer.show_alert, data


async def test_blocked_user_does_not_break_the_operator(helpdesk_factory: HelpdeskFactory) -> None:
    desk = await desk_with_staff(helpdesk_factory)
    await say(desk, OP1, "/checkin")
    await queue_and_claim(desk)
    desk.botapi.block(ALICE)
    told = await desk.ask(OP1, "hello?", containing("blocked"), language_code="en")
    assert "blocked the bot" in told.text
