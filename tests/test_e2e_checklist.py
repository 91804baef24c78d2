"""End to end through the real Application: /checklist's button questions give one list with the local
exemptions (an in-China change of employer in Dongguan lists the waived documents); "Ask staff to check my
materials" files a help request that staff are told of and the user adds documents to; Back, Cancel and old
buttons; and a deep link ``/start SOURCE`` recorded (issue 16 §3 and §4)."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from bot.store.models import User
from tests.botapi import SentMessage
from tests.telegram_fixtures import Helpdesk, HelpdeskFactory
from tests.test_e2e_staff_tickets import (
    ALICE,
    EXPIRED,
    LI,
    SUPERVISOR,
    _,
    make_desk,
    new_ticket_notice,
    say,
    start_as,
    ticket_files,
    tickets,
)

pytestmark = pytest.mark.usefixtures("no_errors")


@pytest.fixture
async def desk(helpdesk_factory: HelpdeskFactory) -> Helpdesk:
    return await make_desk(helpdesk_factory)


async def choose(desk: Helpdesk, user: int, message: SentMessage, data: str, old: bool = False) -> SentMessage:
    """Press a checklist button (of an *old* message: its keyboard was taken off when it was answered); the
    bot's next message (the next question, or the list)."""
    assert data in message.data, (data, message.data)
    await desk.press(user, message, data, forged=old)
    return await desk.reply(user)


async def test_an_in_china_change_of_employer_in_dongguan_and_staff_check_the_materials(desk: Helpdesk) -> None:
    await start_as(desk, ALICE, "employer")
    intro = await say(desk, ALICE, "/checklist")
    assert intro.text.startswith("A few questions, then the list of documents")
    task = await desk.reply(ALICE)
    assert task.text == "What are you doing?"
    assert task.data == [
        "ck:task:new",
        "ck:task:change-employer",
        "ck:task:extension",
        "ck:task:change",
        "ck:task:reissue",
        "ck:task:cancellation",
        "ckx",
    ]  # no Back on the first question
    category = await choose(desk, ALICE, task, "ck:task:change-employer")
    assert category.text.startswith("Question 2 of 5\nWhich category")
    assert category.data == ["ck:category:a", "ck:category:b", "ck:category:c", "ckb:category", "ckx"]
    assert category.labels[-2:] == ["« Back", "Cancel"]
    where = await choose(desk, ALICE, category, "ck:category:b")
    apostille = await choose(desk, ALICE, where, "ck:where:china")
    city = await choose(desk, ALICE, apostille, "ck:apostille:yes")
    assert city.labels[:3] == ["Dongguan", "Shanghai Changning", "Another city"]
    done = await choose(desk, ALICE, city, "ck:city:dongguan")
    assert done.text.startswith(
        "Your materials checklist: Change of employer · Category B · applying inside China · documents from an "
        "Apostille Convention state · Dongguan"
    )
    needed, waived = done.text.split("Not needed here:")
    for document in ("Highest degree certificate", "Physical examination report", "Proof of work experience"):
        assert document in waived.split("Good to know:")[0] and document not in needed
    assert "Dongguan (notice of 3 Aug 2023)" in waived and "Local rules (Dongguan):" in done.text
    assert "Sources: " in done.text
    assert done.data == ["ckt", "ckb:done", "ckr", "ckx"]
    assert done.labels[0] == "Ask staff to check my materials"

    await desk.press(ALICE, done, "ckt")
    filed = await desk.reply(ALICE)
    [ticket] = tickets(desk)
    assert filed.text.startswith(f"Thank you. Your ticket number is {ticket.number}.")
    assert filed.data == [f"mtm:{ticket.id}", "ml"] and filed.labels[0] == "Add documents"
    assert (ticket.kind, ticket.origin, ticket.user_id) == ("help", "checklist", ALICE)
    assert "Answers: Change of employer · Category B" in ticket.description
    notice = await desk.reply(SUPERVISOR, new_ticket_notice)  # nobody on duty: the supervisors are told
    assert ticket.number in notice.text and "a materials check asked for after /checklist" in notice.text

    await desk.press(ALICE, filed, f"mtm:{ticket.id}")
    await desk.reply(ALICE)  # "Send your message for ticket …"
    await desk.send(ALICE, "my contract", language_code="en", document=True)
    added = await desk.reply(ALICE)
    assert added.text == _("en", "Added to ticket {number}.").format(number=ticket.number)
    assert len(ticket_files(desk, ticket.id)) == 1

    again = await desk.press(ALICE, done, "ckt", forged=True)  # the list's button again: nothing more filed
    assert again.text == EXPIRED and len(tickets(desk)) == 1


async def test_back_cancel_and_an_old_button(desk: Helpdesk) -> None:
    await start_as(desk, ALICE, "applicant")
    await say(desk, ALICE, "/checklist")
    task = await desk.reply(ALICE)
    category = await choose(desk, ALICE, task, "ck:task:new")
    reply = await say(desk, ALICE, "is the work permit free?")  # a question meanwhile: answered, the list waits
    assert "free" in reply.text and not any(d.startswith("ck") for d in reply.data)
    await desk.drain(ALICE)
    again = await choose(desk, ALICE, category, "ckb:category")
    assert again.text == "What are you doing?"
    city = await choose(desk, ALICE, again, "ck:task:cancellation")  # a cancellation asks only the city
    assert city.text.startswith("Question 2 of 2\nWhere is the employer?")
    old = await choose(desk, ALICE, category, "ck:category:a", old=True)  # the first category question, late
    assert old.text.startswith("You are at this step of the checklist:\n") and old.data == city.data
    done = await choose(desk, ALICE, city, "ck:city:default")
    assert "1. Cancellation application form" in done.text and "Not needed here" not in done.text
    back = await choose(desk, ALICE, done, "ckb:done")
    assert back.text == city.text
    closed = await choose(desk, ALICE, back, "ckx")
    assert closed.text == "Checklist closed. /checklist starts it again."
    answer = await desk.press(ALICE, back, "ck:city:dongguan", forged=True)
    assert answer.text == EXPIRED
    forged = await desk.press(ALICE, back, "ck:task:x:y", forged=True)
    assert forged.text == EXPIRED


async def test_the_checklist_in_chinese(desk: Helpdesk) -> None:
    await start_as(desk, LI, "employer")
    await say(desk, LI, "/checklist")
    task = await desk.reply(LI)
    assert task.text == _("zh", "What are you doing?") != "What are you doing?"
    city = await choose(desk, LI, task, "ck:task:reissue")
    assert city.labels[:3] == ["东莞", "上海长宁", "其他城市"]
    done = await choose(desk, LI, city, "ck:city:changning")
    assert "1. 补办申请表" in done.text and "上海长宁" in done.text
    assert done.labels[0] == _("zh", "Ask staff to check my materials")


# ----- deep links ---------------------------------------------------------------------------------------
def sources(desk: Helpdesk, user: int) -> tuple[str | None, str | None]:
    with Session(desk.services.engine) as session:
        row = session.get(User, user)
        assert row is not None
        return row.first_source, row.last_source


async def test_a_deep_link_start_is_recorded_first_kept_latest_updated(desk: Helpdesk) -> None:
    welcome = await say(desk, ALICE, "/start window1")
    assert welcome.text.startswith("Hello Alice!")  # the usual welcome
    assert sources(desk, ALICE) == ("window1", "window1")
    await desk.drain(ALICE)
    await say(desk, ALICE, "/start briefing-2027_03")
    await desk.drain(ALICE)
    assert sources(desk, ALICE) == ("window1", "briefing-2027_03")
    for odd in ("/start poster!", "/start " + "x" * 33, "/start a b", "/start"):
        reply = await say(desk, ALICE, odd)
        assert reply.text.startswith("Hello Alice!"), odd  # ignored politely: just the welcome
        await desk.drain(ALICE)
    assert sources(desk, ALICE) == ("window1", "briefing-2027_03")


async def test_supervisors_see_users_and_questions_by_source_in_stats(desk: Helpdesk) -> None:
    await say(desk, ALICE, "/start window1")
    await desk.drain(ALICE)
    await say(desk, ALICE, "is the work permit free?")
    await say(desk, LI, "/start poster_3")
    stats = await say(desk, SUPERVISOR, "/stats")
    section = stats.text.split("\n\n")[-1].splitlines()
    assert section[0] == "Where users came from (deep links, python -m bot qr):"
    assert "window1 — new users: 1; questions: 1 (asked by 1)" in section
    assert "poster_3 — new users: 1; questions: 0 (asked by 0)" in section
