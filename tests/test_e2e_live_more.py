"""线上帮办 end to end, issue 14 ("every conversation ends well"): what the live desk used to drop or get wrong.

- a transfer hands the colleague the user's name, language and role, the whole conversation uncut, and its photos;
- /checkin out of hours says when the desk opens and that no new users will come;
- the "user waiting" cards say who took the user, or that the user left; a stale Claim says so too;
- /kb WORDS searches the knowledge base; the colleagues' lists say what the number after a name is;
- an old "leave the queue" button in a live chat says the chat is live; a chat ended unresolved offers a ticket.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from bot import notices as nt
from bot.answering.text import Lang
from bot.desk.ticket_texts import filed_text
from bot.i18n import translator
from bot.store.models import LiveSession, Ticket
from handlers.context import HelpdeskContext
from handlers.live_notices import user_line
from handlers.notify import deliver
from tests.botapi import SentMessage
from tests.telegram_fixtures import Helpdesk, HelpdeskFactory

SH = ZoneInfo("Asia/Shanghai")
ALICE, LI, OP1, OP2, SUP = 1001, 1002, 2001, 2002, 2003
STAFF_CHAT = -100777
CLIENT = {ALICE: "en", LI: "zh-hans", OP1: "en", OP2: "zh-hans", SUP: "en", STAFF_CHAT: "en"}
NAMES = {ALICE: "Alice", LI: "李娜娜"}
pytestmark = pytest.mark.usefixtures("no_errors")


def _(lang: Lang, message: str) -> str:
    return translator(lang).gettext(message)


async def desk_with_staff(factory: HelpdeskFactory, **settings: object) -> Helpdesk:
    desk = await factory(**settings)
    now = desk.clock()
    desk.services.staff.add(OP1, "operator", "Li Na", now)
    desk.services.staff.add(OP2, "operator", "Zhang Wei", now)
    desk.services.staff.add(SUP, "supervisor", "Wang Fang", now)
    return desk


async def tell(desk: Helpdesk, user: int, text: str = "", **kwargs: object) -> int:
    """*user* writes *text* without waiting for an answer; the message's id."""
    name = NAMES.get(user, f"User{user}")
    return await desk.send(user, text, language_code=CLIENT[user], first_name=name, **kwargs)  # type: ignore[arg-type]


async def say(desk: Helpdesk, user: int, text: str = "", **kwargs: object) -> SentMessage:
    """*user* writes *text*; the bot's next message to them."""
    await tell(desk, user, text, **kwargs)
    return await desk.reply(user)


def containing(text: str):  # type: ignore[no-untyped-def]
    return lambda m: text in m.text


def offers(m: SentMessage) -> bool:
    return any(d.startswith("cl:") for d in m.data)


async def queue_and_claim(desk: Helpdesk, user: int = ALICE, operator: int = OP1) -> tuple[SentMessage, int]:
    """*user* asks for a person and *operator* claims them: the user's queue message and the session id."""
    queued = await say(desk, user, "/human")
    offer = await desk.reply(operator, offers)
    await desk.press(operator, offer, offer.data[0])
    await desk.reply(user, lambda m: "Li Na" in m.text or "Zhang Wei" in m.text)
    with Session(desk.services.engine) as session:
        row = session.exec(select(LiveSession).where(LiveSession.user_id == user)).all()[-1]
    assert row.id is not None
    return queued, row.id


# ----- 5: the hand-over after /transfer ------------------------------------------------------------------
async def test_the_colleague_gets_the_users_name_role_photos_and_the_whole_conversation_uncut(
    helpdesk_factory: HelpdeskFactory,
) -> None:
    desk = await desk_with_staff(helpdesk_factory)
    await say(desk, ALICE, "/start")
    role = await desk.reply(ALICE, lambda m: "role:applicant" in m.data)
    await desk.press(ALICE, role, "role:applicant")  # Alice says she is applying for herself
    await say(desk, OP1, "/checkin")
    await say(desk, OP2, "/checkin")
    await queue_and_claim(desk)

    await tell(desk, ALICE, "Hello, my permit card was rejected at the border")
    await desk.reply(OP1, containing("rejected at the border"))
    photo_id = await tell(desk, ALICE, "the error page", photo=True)
    await desk.reply(OP1, lambda m: m.kind == "photo")
    photo_file = desk.botapi.file_of(ALICE, photo_id)
    long_words = [f"detail{n:04d}" for n in range(350)]  # 3,850 characters: the briefing takes several messages
    await tell(desk, ALICE, " ".join(long_words))
    await desk.reply(OP1, containing("detail0349"))
    await desk.ask(OP1, "/kb points", containing("Sent"), language_code="en")
    kb_text = desk.services.helpdesk.entry("points", "en").text

    choices = await say(desk, OP1, "/transfer")
    await desk.press(OP1, choices, choices.data[0])
    photo = await desk.reply(OP2, lambda m: m.kind == "photo")  # the photo follows the conversation
    briefing = [m for m in desk.botapi.messages(OP2) if m.kind == "message" and m.message_id < photo.message_id]
    briefing = briefing[[i for i, m in enumerate(briefing) if "#1" in m.text][-1] :]
    text = "\n".join(m.text for m in briefing)

    # Who the user is: her name, language and role (the colleague reads Chinese).
    assert user_line("Alice", "en", "applicant", "zh") in briefing[0].text
    assert _("zh", "(no name)") not in text and _("zh", "role not given") not in text
    # The whole conversation, split into several messages at breaks, no word cut.
    assert len(briefing) >= 2
    words = set(text.split())
    assert set(long_words) <= words
    assert set(kb_text.split()) <= words  # the knowledge-base answer the operator sent, whole
    assert "rejected at the border" in text
    # The photo: listed where it was sent, and sent again by its file id with its caption.
    assert photo.file_id == photo_file and "the error page" in photo.text
    assert _("zh", "[{file}, sent below]").format(file=_("zh", "photo {number}").format(number=1)) in text


# ----- 7: check-in out of hours ------------------------------------------------------------------------
async def test_check_in_out_of_hours_says_when_the_desk_opens_and_that_no_user_will_come(
    helpdesk_factory: HelpdeskFactory,
) -> None:
    desk = await desk_with_staff(helpdesk_factory, helpdesk_hours="profile")
    desk.clock.now = datetime(2026, 3, 7, 20, 0, tzinfo=SH)  # a Saturday evening
    opens = datetime(2026, 3, 9, 9, 0, tzinfo=SH)  # Monday morning
    for operator, lang in ((OP1, "en"), (OP2, "zh")):
        t = translator(lang)  # type: ignore[arg-type]
        reply = await say(desk, operator, "/checkin")
        assert f"{t.date(opens)} {t.time(opens)}" in reply.text, reply.text
        assert reply.text.startswith(_(lang, "You are checked in."))  # type: ignore[arg-type]
        assert _(lang, "Waiting users will be offered to you with a Claim button") not in reply.text  # type: ignore[arg-type]
    english = desk.botapi.messages(OP1)[-1].text
    assert "closed" in english and "Beijing time" in english and "leave a message" in english
    again = await say(desk, OP1, "/checkin")
    assert again.text.startswith("You were already checked in.") and "closed" in again.text
    # Users are indeed not queued: they are offered to leave a message.
    closed = await say(desk, ALICE, "/human")
    assert "not at the desk" in closed.text
    await desk.settle()
    assert not [m for m in desk.botapi.unread(OP1) if offers(m)]
    # Once the desk opens, the check-in is plain again.
    desk.clock.now = datetime(2026, 3, 9, 10, 0, tzinfo=SH)
    assert (await say(desk, OP1, "/checkin")).text == "You were already checked in."


# ----- 8: stale Claim cards ----------------------------------------------------------------------------
async def test_cards_say_who_took_the_user_or_that_the_user_left(helpdesk_factory: HelpdeskFactory) -> None:
    desk = await desk_with_staff(helpdesk_factory, helpdesk_staff_chat=STAFF_CHAT)
    await say(desk, STAFF_CHAT, "/help")  # the staff group: the bot can write to it
    await say(desk, OP1, "/checkin")
    await say(desk, OP2, "/checkin")

    # Alice asks for a person: a card with Claim to each operator and to the staff chat. She leaves.
    queued = await say(desk, ALICE, "/human")
    cards = [await desk.reply(chat, offers) for chat in (OP1, OP2, STAFF_CHAT)]
    await desk.press(ALICE, queued, "hq")
    for card, lang in zip(cards, ("en", "zh", "en"), strict=True):
        now = desk.botapi.current(card)
        expected = _(lang, "Request #{id}: the user left the queue.").format(id=1)  # type: ignore[arg-type]
        assert expected in now.text and now.buttons == [], now.text
        assert "Alice" in now.text  # still says who it was
    # An old Claim pressed anyway (a client that still shows it) says why, not "someone else took them".
    answer = await desk.press(OP1, cards[0], cards[0].data[0], forged=True)
    assert answer.text == "The user has left the queue." and answer.show_alert
    with Session(desk.services.engine) as session:
        assert session.exec(select(LiveSession)).all() == []

    # Li asks; Li Na takes her: the other cards say so, with the name; a late Claim is told who took her.
    await say(desk, LI, "/human")
    cards = [await desk.reply(chat, offers) for chat in (OP1, OP2, STAFF_CHAT)]
    await desk.press(OP1, cards[0], cards[0].data[0])
    await desk.reply(LI, containing("Li Na"))
    for card, lang in zip(cards, ("en", "zh", "en"), strict=True):
        now = desk.botapi.current(card)
        taken = _(lang, "Request #{id}: taken by {operator}.").format(id=2, operator="Li Na")  # type: ignore[arg-type]
        assert taken in now.text and now.buttons == [], now.text
    late = await desk.press(OP2, cards[1], cards[1].data[0], forged=True)
    assert late.text == _("zh", "{operator} has already taken this user.").format(operator="Li Na")
    # The card was edited once: nothing is edited again (Telegram would refuse "message is not modified").
    await desk.settle()
    assert [m.kind for m in desk.botapi.messages(OP2) if m.message_id == cards[1].message_id] == ["message", "edit"]


async def test_the_card_of_a_colleague_who_checked_in_later_is_edited_too(helpdesk_factory: HelpdeskFactory) -> None:
    """Checking in sends the users already waiting: those cards are remembered and edited like the others."""
    desk = await desk_with_staff(helpdesk_factory)
    await say(desk, OP1, "/checkin")
    await say(desk, ALICE, "/human")
    offer = await desk.reply(OP1, offers)
    await say(desk, OP2, "/checkin")
    late_card = await desk.reply(OP2, offers)
    await desk.press(OP1, offer, offer.data[0])
    await desk.settle()
    assert desk.botapi.current(late_card).buttons == []
    assert "Li Na" in desk.botapi.current(late_card).text


# ----- 11: /kb WORDS, and the colleagues' chat counts ------------------------------------------------------
async def test_kb_words_offers_the_matching_entries_and_lists_say_how_many_chats(
    helpdesk_factory: HelpdeskFactory,
) -> None:
    desk = await desk_with_staff(helpdesk_factory)
    await say(desk, OP1, "/checkin")
    await say(desk, OP2, "/checkin")
    listing = await say(desk, OP1, "/queue")
    assert "Li Na · 0 chats" in listing.text and "Zhang Wei · 0 chats" in listing.text
    _queued, session_id = await queue_and_claim(desk)
    assert "Li Na · 1 chat." in (await desk.ask(OP1, "/queue", containing("Waiting:"), language_code="en")).text
    choices = await say(desk, OP1, "/transfer")
    assert choices.labels == ["Zhang Wei · 0 chats"]

    found = await say(desk, OP1, "/kb age limit")
    assert found.data[0] == f"kb:{session_id}:age-limit"
    assert found.labels[0] == desk.services.kb.title("age-limit", "en")
    await desk.press(OP1, found, found.data[0])
    first_line = desk.services.helpdesk.entry("age-limit", "en").text.strip().splitlines()[0]
    assert (await desk.reply(ALICE, containing(first_line))).text.startswith("Li Na")
    assert (await desk.reply(OP1)).text == "Sent “Age limits” to the user."
    assert desk.botapi.current(found).buttons == []  # one press sends it once
    # An id still sends at once; words nothing matches say so.
    await desk.ask(OP1, "/kb fees", containing("Sent"), language_code="en")
    nothing = await say(desk, OP1, "/kb xyzzy quux")
    assert "Nothing in the knowledge base matches “xyzzy quux”" in nothing.text and nothing.data == []


# ----- 16: an old queue button in a live chat; a chat ended unresolved ---------------------------------------
async def test_an_old_leave_the_queue_button_in_a_live_chat_says_the_chat_is_live(
    helpdesk_factory: HelpdeskFactory,
) -> None:
    desk = await desk_with_staff(helpdesk_factory)
    await say(desk, OP1, "/checkin")
    queued, _session_id = await queue_and_claim(desk)
    await desk.press(ALICE, queued, "hq")
    told = await desk.reply(ALICE)
    assert told.text == "You are already talking with Li Na; /cancel ends the chat."
    assert desk.services.live_sessions.chat_role(ALICE) == "user"  # the chat goes on
    await tell(desk, ALICE, "still here")
    await desk.reply(OP1, containing("still here"))


async def test_a_chat_ended_unresolved_offers_the_user_a_ticket_with_the_conversation(
    helpdesk_factory: HelpdeskFactory,
) -> None:
    desk = await desk_with_staff(helpdesk_factory)
    await say(desk, OP1, "/checkin")
    _queued, session_id = await queue_and_claim(desk)
    await tell(desk, ALICE, "My employer closed and my permit was not cancelled, what now?")
    await desk.reply(OP1, containing("not cancelled"))
    await tell(desk, OP1, "I need to check with the office.")
    await desk.reply(ALICE, containing("check with the office"))
    ended = await say(desk, OP1, "/end unresolved")
    assert "unresolved" in ended.text

    rating = await desk.reply(ALICE, lambda m: any(d.startswith("rt:s:") for d in m.data))
    offer = await desk.reply(ALICE, lambda m: f"fu:{session_id}" in m.data)
    assert "ticket" in offer.text
    await desk.press(ALICE, offer, f"fu:{session_id}")
    filed = await desk.reply(ALICE)
    with Session(desk.services.engine) as session:
        ticket = session.exec(select(Ticket)).one()
        view = desk.services.own_tickets.get(ALICE, ticket.id)
    assert filed.text == filed_text(view, "en")
    assert ticket.kind == "help" and ticket.user_id == ALICE
    assert "not cancelled" in ticket.description and "check with the office" in ticket.description
    # Pressed again (an old copy): the same ticket, not a second one.
    again = await desk.press(ALICE, offer, f"fu:{session_id}", forged=True)
    assert again.text is None
    assert (await desk.reply(ALICE)).text == (
        f"This conversation is already ticket {ticket.number}. You can follow it with /mytickets."
    )
    with Session(desk.services.engine) as session:
        assert len(session.exec(select(Ticket)).all()) == 1
    # The rating still works, and nobody else can use the button.
    await desk.press(ALICE, rating, rating.data[0])
    assert "Thank you" in (await desk.reply(ALICE)).text
    stranger = await desk.press(LI, await say(desk, LI, "/help"), f"fu:{session_id}", forged=True)
    assert stranger.text == _("zh", "This button has expired. Send the command again, or type your question.")


async def test_a_place_in_the_queue_is_not_sent_to_a_user_already_connected(helpdesk_factory: HelpdeskFactory) -> None:
    """A QueuePosition notice computed by another chat's work, delivered after this user was taken: dropped."""
    desk = await desk_with_staff(helpdesk_factory)
    await say(desk, OP1, "/checkin")
    await queue_and_claim(desk, ALICE, OP1)
    await desk.settle()
    before = len(desk.botapi.messages(ALICE))
    await deliver(HelpdeskContext(desk.app), [nt.QueuePosition(ALICE, 3, 8)])
    assert len(desk.botapi.messages(ALICE)) == before
    await say(desk, LI, "/human")  # a user still waiting does get it
    await deliver(HelpdeskContext(desk.app), [nt.QueuePosition(LI, 1, 2)])
    assert "1" in desk.botapi.messages(LI)[-1].text
