"""End to end, with the bot's clock at Christmas Eve 2026 and 2027's holiday schedule not yet published: a
complaint is filed and gets a January date, staff see it is provisional, the supervisor is asked to enter the
schedule, and after a restart with the office file the deadlines are counted again."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlmodel import Session, select

from bot.store.models import AuditLog
from tests.calendars import provisional, with_office
from tests.telegram_fixtures import SHANGHAI, Clock, Helpdesk, HelpdeskFactory
from tests.test_e2e_tickets import file_ticket, say, tickets

ALICE, LI, SUPERVISOR = 1001, 1002, 2002
CHRISTMAS_EVE = datetime(2026, 12, 24, 10, 0, tzinfo=SHANGHAI)
pytestmark = pytest.mark.usefixtures("no_errors")


@pytest.fixture
async def desk(helpdesk_factory: HelpdeskFactory, clock: Clock) -> Helpdesk:
    clock.now = CHRISTMAS_EVE
    desk = await helpdesk_factory(calendar=provisional(), helpdesk_supervisors=str(SUPERVISOR))
    await desk.send(SUPERVISOR, "/start", language_code="en")
    await desk.settle()
    return desk


async def test_a_complaint_on_christmas_eve_gets_a_number_and_a_january_date(desk: Helpdesk) -> None:
    filed = await file_ticket(desk, ALICE, kind="complaint")
    assert filed.text == (
        "Thank you. Your ticket number is T2612-0001. We will answer by Jan 15, 2027 (Beijing time). "
        "You can follow it with /mytickets."
    )
    [ticket] = tickets(desk)
    assert ticket.due_provisional

    # the supervisor has been asked (once this week) to enter 2027's schedule
    reminder = await desk.botapi.wait_for(SUPERVISOR, lambda m: m.text.startswith("📅"), 10)
    assert reminder.text.startswith("📅 The official holiday schedule for 2027 is not known yet.")
    assert "knowledge/calendar/2027.toml" in reminder.text

    # staff see "provisional" in the list and the ticket; the user sees only the date
    listing = await say(desk, SUPERVISOR, "/tickets")
    assert listing.labels[0] == "T2612-0001 · Complaint (投诉) · new · due Jan 15, 2027 (provisional)"
    await desk.press(SUPERVISOR, listing, f"sv:{ticket.id}")
    view = await desk.reply(SUPERVISOR)
    assert "Provisional deadline: the official holiday schedule for 2027 is not known yet." in view.text
    mine = await say(desk, ALICE, "/mytickets")
    assert mine.labels == ["T2612-0001 · Complaint (投诉) · new · due Jan 15, 2027"]
    await desk.press(ALICE, mine, f"mt:{ticket.id}")
    own = await desk.reply(ALICE)
    assert "Jan 15, 2027" in own.text and "rovisional" not in own.text


async def test_after_a_restart_with_the_office_file_deadlines_are_counted_again(desk: Helpdesk) -> None:
    await file_ticket(desk, ALICE, kind="complaint")  # 15 January either way
    desk.clock.now = datetime(2027, 1, 29, 10, 0, tzinfo=SHANGHAI)
    filed = await file_ticket(desk, LI, lang="zh", kind="help")
    assert "2027年2月18日" in filed.text  # the provisional rule: no adjusted Saturday
    desk.botapi.mark(ALICE)

    await desk.restart(calendar=with_office())  # the office entered 2027.toml; the bot restarts
    moved = await desk.reply(LI)
    assert (
        moved.text
        == "国家节假日安排已公布，您的工单 T2701-0002 的办理期限随之调整：我们将在北京时间 2027年2月20日 前答复。"
    )
    await desk.settle()
    assert desk.botapi.unread(ALICE) == []  # her date did not move: nothing to tell
    assert [(t.number, t.due_provisional) for t in tickets(desk)] == [("T2612-0001", False), ("T2701-0002", False)]
    with Session(desk.services.engine) as session:
        details = [a.detail for a in session.exec(select(AuditLog).where(AuditLog.action == "deadline_recomputed"))]
    assert details == ["2027-01-15 -> 2027-01-15", "2027-02-18 -> 2027-02-20"]

    listing = await say(desk, SUPERVISOR, "/tickets")
    assert "provisional" not in " ".join(listing.labels)
