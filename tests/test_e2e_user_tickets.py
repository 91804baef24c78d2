"""End to end through the real Application: the user's side of tickets when they do not press the button.

- A Telegram reply to a message the bot sent about a ticket (the staff reply, the ticket's view) goes to the
  ticket; free text after a staff reply that the knowledge base does not clearly answer is offered for the
  ticket (kept until the user chooses, across a restart); the "Reply" button still works (issue 14.3).
- A message left while the desk is closed is due the next working day, and the user is told the date (14.6).
- "skip" / "跳过" / "无" typed at an optional filing step skips it; a permit number typed with a label or
  spaces is accepted, normalised (14.14).
- A photo or document sent outside any flow is offered for the user's open tickets (14.16).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.answering.knowledge import KnowledgeBase
from bot.answering.text import Lang
from bot.config import Settings
from bot.i18n import translator
from bot.services import Services, build_services
from bot.store.db import make_engine
from bot.store.models import QuestionLog, Ticket, TicketMessage
from tests.botapi import SentMessage
from tests.dbs import postgres_engine
from tests.telegram_fixtures import SHANGHAI, Helpdesk, HelpdeskFactory

ALICE, LI, BOB = 1001, 1002, 1003
OPERATOR, SUPERVISOR = 2001, 2002
CLIENT = {ALICE: "en", LI: "zh-hans", BOB: "en", OPERATOR: "en", SUPERVISOR: "en"}
LANG: dict[int, Lang] = {ALICE: "en", LI: "zh", BOB: "en"}
DESCRIPTION = {
    "en": "My employer changed its address. Do I need to update my work permit?",
    "zh": "单位地址变更了，我的工作许可需要办理变更吗？",
}
THANKS = "好的，谢谢，12月2日我们会去。"
"""The user's answer to a staff reply in issue 14: the question bot took it for small talk."""
pytestmark = pytest.mark.usefixtures("no_errors")


def _(lang: Lang, message: str) -> str:
    return translator(lang).gettext(message)


async def say(desk: Helpdesk, user: int, text: str = "", **kwargs: object) -> SentMessage:
    """The user writes *text* (from their client's language); the bot's first reply."""
    return await desk.ask(user, text, language_code=CLIENT[user], **kwargs)  # type: ignore[arg-type]


def with_data(prefix: str) -> object:
    """A predicate: a message with a button whose data starts with *prefix*."""
    return lambda m: any(d.startswith(prefix) for d in m.data)


@pytest.fixture
async def desk(helpdesk_factory: HelpdeskFactory) -> Helpdesk:
    """A helpdesk with a supervisor and an operator, and users who have /start-ed."""
    desk = await helpdesk_factory(helpdesk_supervisors=str(SUPERVISOR))
    desk.services.staff.add(OPERATOR, "operator", "Li Na", desk.clock(), SUPERVISOR)
    for member in (OPERATOR, SUPERVISOR, ALICE, LI, BOB):
        await desk.send(member, "/start", language_code=CLIENT[member])
    await desk.settle()
    for member in (OPERATOR, SUPERVISOR, ALICE, LI, BOB):
        desk.botapi.mark(member)
    return desk


def tickets(desk: Helpdesk) -> list[Ticket]:
    with Session(desk.services.engine) as session:
        return list(session.exec(select(Ticket).order_by(Ticket.id)))  # type: ignore[arg-type]


def user_messages(desk: Helpdesk, ticket_id: int) -> list[TicketMessage]:
    with Session(desk.services.engine) as session:
        query = select(TicketMessage).where(TicketMessage.ticket_id == ticket_id, TicketMessage.kind == "user")
        return list(session.exec(query.order_by(TicketMessage.id)))  # type: ignore[arg-type]


def questions_logged(desk: Helpdesk, user: int) -> list[str]:
    with Session(desk.services.engine) as session:
        return [q.text for q in session.exec(select(QuestionLog).where(QuestionLog.user_id == user))]


def new_ticket(desk: Helpdesk, user: int, kind: str = "help") -> Ticket:
    lang = LANG[user]
    view = desk.services.filing.create(user, kind, DESCRIPTION[lang], lang, desk.clock())
    [ticket] = [t for t in tickets(desk) if t.id == view.id]
    return ticket


async def staff_replied(desk: Helpdesk, user: int, text: str = "请于12月2日携带护照原件到窗口办理。") -> SentMessage:
    """A ticket of *user*'s that the operator answered with /reply; the reply notice the user got."""
    ticket = new_ticket(desk, user)
    confirm = await say(desk, OPERATOR, f"/reply {ticket.number} {text}")
    assert ticket.number is not None and ticket.number in confirm.text
    notice = await desk.reply(user, with_data("mtm:"))  # type: ignore[arg-type]
    assert ticket.number in notice.text and text in notice.text
    assert tickets(desk)[-1].status == "answered"
    await desk.drain(OPERATOR)
    return notice


# ----- 14.3: a user's answer to a staff reply reaches the ticket ------------------------------------------------
async def test_a_telegram_reply_to_the_staff_reply_goes_to_the_ticket(desk: Helpdesk) -> None:
    notice = await staff_replied(desk, LI)
    [ticket] = tickets(desk)
    added = await say(desk, LI, THANKS, reply_to_message_id=notice.message_id)
    assert added.text == _("zh", "Added to ticket {number}.").format(number=ticket.number)
    assert [m.text for m in user_messages(desk, ticket.id)] == [THANKS]  # type: ignore[arg-type]
    assert tickets(desk)[0].status == "in_progress"  # answered → back with the operator, who is told
    assert ticket.number in (await desk.reply(OPERATOR)).text
    assert questions_logged(desk, LI) == []  # not taken for a question
    assert await desk.drain(LI) == []

    # a photo sent as a reply to the ticket's view (/mytickets) goes there too
    mine = await say(desk, LI, "/mytickets")
    await desk.press(LI, mine, f"mt:{ticket.id}")
    view = await desk.reply(LI, with_data("mtc:"))  # type: ignore[arg-type]
    photo = await desk.send(LI, "护照首页", photo=True, language_code="zh-hans", reply_to_message_id=view.message_id)
    added = await desk.reply(LI)
    assert added.text == _("zh", "Added to ticket {number}.").format(number=ticket.number)
    stored = user_messages(desk, ticket.id)[-1]  # type: ignore[arg-type]
    assert (stored.text, stored.file_kind, stored.file_id) == ("护照首页", "photo", desk.botapi.file_of(LI, photo))


async def test_a_reply_to_a_message_about_a_closed_or_someone_elses_ticket_is_a_question(desk: Helpdesk) -> None:
    notice = await staff_replied(desk, ALICE, "Bring your passport on 2 December.")
    [ticket] = tickets(desk)
    await say(desk, OPERATOR, f"/close {ticket.number} Settled at the window.")
    await desk.drain(ALICE)
    answer = await say(desk, ALICE, "How long is the work permit valid?", reply_to_message_id=notice.message_id)
    assert answer.labels[:2] == ["👍", "👎"]  # a question again: the ticket is closed
    assert user_messages(desk, ticket.id) == []  # type: ignore[arg-type]


async def test_free_text_after_a_staff_reply_is_offered_for_the_ticket(desk: Helpdesk) -> None:
    await staff_replied(desk, LI)
    [ticket] = tickets(desk)
    # a question the knowledge base clearly answers is answered as ever
    answer = await say(desk, LI, "工作许可证有效期多久")
    assert answer.labels[:2] == ["👍", "👎"]
    # her answer to staff is not: she is asked whether it is for the ticket, and it is kept meanwhile
    offer = await say(desk, LI, THANKS)
    assert ticket.number in offer.text  # type: ignore[operator]
    assert offer.data == [f"oa:{ticket.id}:t", "on:t"]
    assert offer.labels == [
        _("zh", "➕ Add to {number}").format(number=ticket.number),
        _("zh", "No, it's a new question"),
    ]
    assert questions_logged(desk, LI) == ["工作许可证有效期多久"]
    await desk.restart()  # kept in the database: nothing is lost
    await desk.press(LI, offer, f"oa:{ticket.id}:t")
    assert desk.botapi.buttons(offer) == []
    assert (await desk.reply(LI)).text == _("zh", "Added to ticket {number}.").format(number=ticket.number)
    assert [m.text for m in user_messages(desk, ticket.id)] == [THANKS]  # type: ignore[arg-type]
    assert tickets(desk)[0].status == "in_progress"
    assert ticket.number in (await desk.reply(OPERATOR)).text
    again = await desk.press(LI, offer, f"oa:{ticket.id}:t", forged=True)  # pressed twice: added once
    assert again.text == _("zh", "This button has expired. Send the command again, or type your question.")
    assert len(user_messages(desk, ticket.id)) == 1  # type: ignore[arg-type]


async def test_not_for_the_ticket_answers_each_kept_text_as_a_question(desk: Helpdesk) -> None:
    await staff_replied(desk, ALICE, "Bring your passport on 2 December.")
    [ticket] = tickets(desk)
    first = await say(desk, ALICE, "Thanks, we will come on 2 December.")
    assert first.data == [f"oa:{ticket.id}:t", "on:t"]
    second = await say(desk, ALICE, "Is parking available?")  # kept with the first
    assert second.text == f"Are these 2 messages for your ticket {ticket.number}? I can add them to the ticket."
    assert second.data == first.data
    await desk.press(ALICE, second, "on:t")
    replies = await desk.drain(ALICE)
    assert len(replies) == 2 and all(r.data for r in replies)  # each answered by the question bot
    assert questions_logged(desk, ALICE) == ["Thanks, we will come on 2 December.", "Is parking available?"]
    assert user_messages(desk, ticket.id) == []  # type: ignore[arg-type]
    assert desk.services.flows.get(ALICE) is None


async def test_what_is_kept_fits_the_flow(desk: Helpdesk) -> None:
    await staff_replied(desk, ALICE, "Bring your passport on 2 December.")
    [ticket] = tickets(desk)
    long = "We will come on 2 December with everything. " * 42  # ~1,850 characters
    for count in range(1, 5):
        offer = await say(desk, ALICE, long)
        assert offer.data == [f"oa:{ticket.id}:t", "on:t"] and (count == 1 or f" {count} " in offer.text)
    full = await say(desk, ALICE, long)  # a fifth would not fit the flow's column (8,000 characters)
    assert full.text.startswith("Please answer this first (or /cancel), then send that again.")
    await desk.press(ALICE, full, f"oa:{ticket.id}:t")
    assert (await desk.reply(ALICE)).text == f"Added 4 messages to ticket {ticket.number}."
    assert [m.text for m in user_messages(desk, ticket.id)] == [long.strip()] * 4  # type: ignore[arg-type]


async def test_the_reply_button_and_the_window_for_free_text(desk: Helpdesk) -> None:
    notice = await staff_replied(desk, ALICE, "Bring your passport on 2 December.")
    [ticket] = tickets(desk)
    await desk.press(ALICE, notice, f"mtm:{ticket.id}")  # "Reply": the next message goes to the ticket
    assert (await desk.reply(ALICE)).text.startswith(f"Send your message for ticket {ticket.number}")
    added = await say(desk, ALICE, "Thanks, we will come on 2 December.")
    assert added.text == f"Added to ticket {ticket.number}."
    assert len(user_messages(desk, ticket.id)) == 1  # type: ignore[arg-type]
    await desk.drain(OPERATOR)

    await say(desk, OPERATOR, f"/reply {ticket.number} See you then.")
    await desk.drain(ALICE)
    desk.clock.advance(days=8)  # beyond HELPDESK_REOPEN_DAYS (7): free text is a question again
    late = await say(desk, ALICE, "Thanks, we will come on 2 December.")
    assert not any(d.startswith("oa:") for d in late.data)
    assert questions_logged(desk, ALICE) == ["Thanks, we will come on 2 December."]


# ----- 14.6: a message left out of hours is answered by the next working day ------------------------------------
async def leave_a_message(desk: Helpdesk, user: int, text: str) -> SentMessage:
    """/human while the desk is closed → "leave a message" → the description, both optional steps skipped,
    submitted; the confirmation."""
    closed = await say(desk, user, "/human")
    await desk.press(user, closed, "hm:c")
    await desk.reply(user)
    contact = await say(desk, user, text)
    await desk.press(user, contact, "ts:contact")
    await desk.press(user, await desk.reply(user), "ts:reference")
    summary = await desk.reply(user)
    await desk.press(user, summary, "tok")
    return await desk.reply(user, with_data("ml"))  # type: ignore[arg-type]


async def test_a_message_left_out_of_hours_is_due_the_next_working_day(helpdesk_factory: HelpdeskFactory) -> None:
    desk = await helpdesk_factory(helpdesk_hours="profile")
    desk.clock.now = datetime(2026, 3, 6, 20, 0, tzinfo=SHANGHAI)  # a Friday evening: back on Monday at 09:00
    closed = await say(desk, ALICE, "/human")
    assert "Mar 9, 2026" in closed.text
    filed = await leave_a_message(desk, ALICE, "My permit expires next week, please call me back.")
    [ticket] = tickets(desk)
    assert (ticket.kind, ticket.origin) == ("help", "out_of_hours")
    assert ticket.due_at == datetime(2026, 3, 9, 23, 59, 59, tzinfo=SHANGHAI)  # Monday, not 10 working days
    assert filed.text == (
        f"Thank you. Your ticket number is {ticket.number}. We will answer by Mar 9, 2026 (Beijing time). "
        "You can follow it with /mytickets."
    )
    zh = await leave_a_message(desk, LI, "我的工作许可下周到期，请尽快联系我。")
    assert "2026年3月9日" in zh.text and "北京时间" in zh.text
    # a ticket filed with /ticket keeps its type's deadline (a help request: 10 working days)
    assert desk.services.deadlines.due("help", desk.clock()).at.date() == datetime(2026, 3, 20).date()

    await desk.restart(helpdesk_out_of_hours_days=2)  # HELPDESK_OUT_OF_HOURS_DAYS
    await leave_a_message(desk, BOB, "Please tell me which documents to bring.")
    assert tickets(desk)[-1].due_at == datetime(2026, 3, 10, 23, 59, 59, tzinfo=SHANGHAI)


# ----- 14.14: typing instead of tapping ---------------------------------------------------------------------------
async def to_contact_step(desk: Helpdesk, user: int) -> SentMessage:
    prompt = await say(desk, user, "/ticket")
    await desk.press(user, prompt, "tk:enquiry")
    await desk.reply(user)
    contact = await say(desk, user, DESCRIPTION[LANG[user]])
    assert contact.data == ["ts:contact", "tx"]
    return contact


@pytest.mark.parametrize(
    ("user", "skip_contact", "reference", "shown"),
    [
        (ALICE, "skip", "No. 9123 1000 0012 345", "912310000012345"),
        (LI, "跳过", "工作许可证号 912310000012345", "912310000012345"),
        (LI, "无", "无", None),
        (ALICE, "None.", "no", None),
        (ALICE, "Skip", "Permit No.: WP-2026-0001", "WP-2026-0001"),
    ],
)
async def test_typed_skip_and_labelled_permit_numbers(
    desk: Helpdesk, user: int, skip_contact: str, reference: str, shown: str | None
) -> None:
    lang = LANG[user]
    await to_contact_step(desk, user)
    ask_reference = await say(desk, user, skip_contact)
    assert ask_reference.text == _(lang, "Optional: your application or permit number, if you have one.")
    summary = await say(desk, user, reference)
    assert summary.data == ["tok", "tre", "tx"], summary.text
    assert _(lang, "Contact: {contact}").format(contact=_(lang, "none")) in summary.text
    number = _(lang, "Application/permit number: {reference}")
    assert number.format(reference=shown or _(lang, "none")) in summary.text
    await desk.press(user, summary, "tok")
    assert tickets(desk)[-1].reference == shown and tickets(desk)[-1].contact is None


async def test_a_typed_number_that_is_not_one_is_still_refused(desk: Helpdesk) -> None:
    await to_contact_step(desk, ALICE)
    await say(desk, ALICE, "skip")
    refused = await say(desk, ALICE, "I don't remember it")
    assert refused.text == "An application or permit number has 3–40 letters or digits. Please check it, or skip."


# ----- 14.16: a photo or document outside any flow -----------------------------------------------------------------
async def test_a_file_outside_any_flow_is_offered_for_an_open_ticket(desk: Helpdesk) -> None:
    unsupported = await say(desk, ALICE, photo=True)  # no ticket: as before
    assert unsupported.text.startswith("Sorry, I can only read typed questions.")

    first, second, third, fourth = (new_ticket(desk, ALICE) for _n in range(4))
    photo = await desk.send(ALICE, "passport page", photo=True, language_code="en")
    offer = await desk.reply(ALICE)
    assert offer.text == "Shall I add this file to one of your open tickets?"
    newest = (fourth, third, second)  # up to three, the newest first
    assert offer.data == [f"oa:{t.id}:f" for t in newest] + ["on:f"]
    assert offer.labels == [f"➕ Add to {t.number}" for t in newest] + ["Cancel"]
    document = await desk.send(ALICE, document=True, file_name="contract.pdf", language_code="en")  # an album
    again = await desk.reply(ALICE)
    assert again.text == "Shall I add these 2 files to one of your open tickets?"
    typed = await say(desk, ALICE, "hello?")  # text while files wait: not kept, the question again
    assert typed.text.startswith("Please answer this first (or /cancel), then send that again.")
    assert typed.data == again.data

    await desk.press(ALICE, offer, f"oa:{third.id}:f")
    assert (await desk.reply(ALICE)).text == f"Added 2 messages to ticket {third.number}."
    kept = user_messages(desk, third.id)  # type: ignore[arg-type]
    assert [(m.text, m.file_kind) for m in kept] == [("passport page", "photo"), ("", "document")]
    assert kept[0].file_id == desk.botapi.file_of(ALICE, photo)
    assert kept[1].file_id == desk.botapi.file_of(ALICE, document) and kept[1].file_name == "contract.pdf"
    assert desk.services.flows.get(ALICE) is None
    assert [user_messages(desk, t.id) for t in (first, second, fourth)] == [[], [], []]  # type: ignore[arg-type]

    cancelled = await say(desk, ALICE, document=True)
    await desk.press(ALICE, cancelled, "on:f")
    assert (await desk.reply(ALICE)).text == "All right, nothing was added."
    assert sum(len(user_messages(desk, t.id)) for t in (first, second, third, fourth)) == 2  # type: ignore[arg-type]
    stale = await desk.press(ALICE, cancelled, f"oa:{fourth.id}:f", forged=True)
    assert stale.text == "This button has expired. Send the command again, or type your question."
    assert desk.services.flows.get(ALICE) is None


async def test_a_file_is_not_offered_for_a_closed_ticket(desk: Helpdesk) -> None:
    ticket = new_ticket(desk, LI)
    desk.services.own_tickets.close_own(LI, ticket.id, desk.clock())  # type: ignore[arg-type]
    declined = await say(desk, LI, photo=True)
    assert declined.text == _(
        "zh",
        "Sorry, I can only read typed questions. To send documents or photos, file a ticket (/ticket) "
        "or talk to a person (/human).",
    )
    assert desk.services.flows.get(LI) is None


# ----- the routing statement itself, on SQLite and PostgreSQL -------------------------------------------------------
@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def services(request: pytest.FixtureRequest, tmp_path: Path, kb: KnowledgeBase) -> Iterator[Services]:
    settings = Settings(_env_file=None, database_url="sqlite://")  # type: ignore[call-arg]
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path}/routing.sqlite3")
        yield build_services(settings, kb, engine)
        engine.dispose()
    else:
        with postgres_engine() as engine:
            yield build_services(settings, kb, engine)


def statements(engine: Engine) -> list[str]:
    """The SQL statements run on *engine* from now on (their first words)."""
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, *_a: seen.append(" ".join(sql.split()[:2])))
    return seen


def test_routing_finds_the_replied_and_the_answered_ticket_in_its_one_statement(services: Services) -> None:
    now = datetime(2026, 3, 3, 10, 0, tzinfo=SHANGHAI)
    arrive = services.arrivals.arrive
    arrive(ALICE, "Alice", "en", now)
    services.staff.add(OPERATOR, "operator", "Li Na", now)
    first = services.filing.create(ALICE, "help", DESCRIPTION["en"], "en", now)
    services.own_tickets.link(ALICE, [7, 8], first.id)
    seen = statements(services.engine)
    arrival = arrive(ALICE, "Alice", "en", now, text="Thanks, we will come.", reply_to=8)
    assert (arrival.replied_ticket, arrival.answered, arrival.offer_ticket) == (first.id, None, None)
    assert len(seen) == 1 and seen[0].startswith("SELECT")  # one round trip: nothing logged, nothing else read

    services.ticket_work.reply(OPERATOR, first.id, "Bring your passport.", now)
    seen.clear()
    offered = arrive(ALICE, "Alice", "en", now + timedelta(days=6), text="Thanks, we will come.")
    assert (offered.offer_ticket, offered.answered, offered.replied_ticket) == (first.id, None, None)
    assert len(seen) == 1  # not logged as a question
    clear = arrive(ALICE, "Alice", "en", now, text="How long is the work permit valid?")
    assert clear.answered is not None and clear.offer_ticket is None  # answered and logged as ever
    assert arrive(ALICE, "Alice", "en", now + timedelta(days=8), text="Thanks!").offer_ticket is None  # too long ago
    assert arrive(ALICE, "Alice", "en", now, text="x", reply_to=9).replied_ticket is None  # not a ticket's message

    second = services.filing.create(ALICE, "enquiry", DESCRIPTION["en"], "en", now)
    services.ticket_work.reply(OPERATOR, second.id, "See the answer above.", now)
    assert arrive(ALICE, "Alice", "en", now, text="Thanks, we will come.").offer_ticket is None  # which one? ask
    assert arrive(BOB, "Bob", "en", now, text="Thanks", reply_to=8).replied_ticket is None  # not Bob's
