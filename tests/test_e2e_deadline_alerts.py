"""End to end through the real Application: a ticket filed and left alone. As the clock moves over Labour Day
2026 (1–5 May off), its assignee is told the day before it is due and a supervisor the morning after it
passed, once each, with Open; a restart sends nothing again. ``python -m bot jobs run-due --now`` records what
is due while the bot is down, and the bot sends it on its next run, once."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from bot.__main__ import run_due
from handlers.deadline_jobs import JOB
from tests.botapi import SentMessage
from tests.telegram_fixtures import SHANGHAI, Clock, Helpdesk, HelpdeskFactory
from tests.test_e2e_tickets import ALICE, OPERATOR, SUPERVISOR, file_ticket, say, tickets

pytestmark = pytest.mark.usefixtures("no_errors")


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
async def desk(helpdesk_factory: HelpdeskFactory, clock: Clock) -> Helpdesk:
    """Wednesday 29 April 2026, 10:00; a supervisor and an operator who have /start-ed; alerts checked hourly
    (the tests run the job themselves), no digest unless a test asks for it."""
    clock.now = at(4, 29, 10)
    desk = await helpdesk_factory(
        helpdesk_supervisors=str(SUPERVISOR), helpdesk_alert_seconds=3600, helpdesk_digest_to="none"
    )
    desk.services.staff.add(OPERATOR, "operator", "Li Na", desk.clock(), SUPERVISOR)
    for member in (OPERATOR, SUPERVISOR):
        await desk.send(member, "/start", language_code="en")
    await desk.settle()
    return desk


async def run_alerts(desk: Helpdesk) -> None:
    """One run of the alerts job, as the JobQueue makes it (a journaled work), and everything it sent."""
    [job] = desk.app.job_queue.get_jobs_by_name(JOB)  # type: ignore[union-attr]
    await job.run(desk.app)
    await desk.settle()


async def quiet(desk: Helpdesk, *users: int) -> None:
    """Nothing more for *users* after another run (and a moment for a run the JobQueue made by itself)."""
    await run_alerts(desk)
    await asyncio.sleep(0.2)
    for user in users:
        assert desk.botapi.unread(user) == [], user


def is_alert(message: SentMessage) -> bool:
    return message.text.startswith(("⏰", "🔴", "☀️"))


async def test_the_assignee_then_a_supervisor_are_alerted_once_each(desk: Helpdesk) -> None:
    await file_ticket(desk, ALICE)  # an enquiry: two working days, Thursday 30 April and Wednesday 6 May
    [ticket] = tickets(desk)
    desk.services.ticket_work.take(OPERATOR, ticket.id, desk.clock())  # Li Na has it
    for member in (OPERATOR, SUPERVISOR):
        desk.botapi.mark(member)
    await quiet(desk, OPERATOR, SUPERVISOR)  # due in two working days: nothing yet

    desk.clock.now = at(4, 30, 9)  # the last working day before the holiday
    await run_alerts(desk)
    soon = await desk.reply(OPERATOR, is_alert)
    assert soon.text == (
        "⏰ Ticket T2604-0001 (Enquiry (咨询)) is due on May 6, 2026 (Beijing time) and is not closed yet."
    )
    assert soon.data == [f"sv:{ticket.id}"]
    await quiet(desk, OPERATOR, SUPERVISOR)

    for day in (1, 3, 5, 6):  # the holiday, and the day it is due: nothing more
        desk.clock.now = at(5, day, 12)
        await quiet(desk, OPERATOR, SUPERVISOR)

    desk.clock.now = at(5, 7, 9)  # the morning after the deadline
    await run_alerts(desk)
    late = await desk.reply(SUPERVISOR, is_alert)
    assert late.text == (
        "🔴 Ticket T2604-0001 (Enquiry (咨询)) is overdue: it was due on May 6, 2026 (Beijing time) and is "
        "still open.\nAssigned to Li Na."
    )
    assert late.data == [f"sv:{ticket.id}"]
    await quiet(desk, OPERATOR, SUPERVISOR)

    await desk.restart()  # a new process: nothing is sent twice
    await quiet(desk, OPERATOR, SUPERVISOR)

    await desk.press(SUPERVISOR, late, f"sv:{ticket.id}")  # Open shows the ticket
    view = await desk.reply(SUPERVISOR)
    assert "T2604-0001" in view.text and "Li Na" in view.text


async def test_jobs_run_due_records_while_the_bot_is_down_and_the_bot_sends_once(
    helpdesk_factory: HelpdeskFactory, clock: Clock
) -> None:
    clock.now = at(5, 2, 10)  # Saturday 2 May, a day off: the bot itself decides nothing today
    desk = await helpdesk_factory(helpdesk_supervisors=str(SUPERVISOR), helpdesk_alert_seconds=3600)
    await desk.send(SUPERVISOR, "/start", language_code="en")
    await desk.settle()
    await file_ticket(desk, ALICE)  # filed on a holiday: due Thursday 7 May (6 and 7 May)
    [ticket] = tickets(desk)
    desk.botapi.mark(SUPERVISOR)
    settings = desk.settings()
    await desk.stop()  # the bot is down over Wednesday 6 May

    lines: list[str] = []
    assert run_due(settings, at(5, 6, 9, 30), lines.append) == 0
    assert lines == [
        f"Monthly report 2026-04 recorded → {SUPERVISOR} (the bot sends the workbook).",  # 6 May: May's 1st working day
        "As of 2026-05-06 09:30 (Beijing time):",
        f"  due_soon  T2605-0001  → {SUPERVISOR}",
        f"  digest    2026-05-06  → {SUPERVISOR}",
        "Recorded 2 alert(s). The command line sends no Telegram messages: the bot sends them on its next run "
        "(when it starts, then every HELPDESK_ALERT_SECONDS).",
    ]
    lines.clear()
    assert run_due(settings, at(5, 6, 9, 45), lines.append) == 0
    assert lines[-1].startswith("Nothing new is due")

    await desk.start()  # still Saturday on the bot's clock: it sends only what was recorded
    await run_alerts(desk)
    soon = await desk.reply(SUPERVISOR, lambda m: m.text.startswith("⏰"))
    assert soon.text.startswith("⏰ Ticket T2605-0001 (Enquiry (咨询)) is due on May 7, 2026") and soon.data == [
        f"sv:{ticket.id}"
    ]
    digest = await desk.reply(SUPERVISOR, lambda m: m.text.startswith("☀️"))
    assert digest.text == (
        "☀️ Morning digest for May 6, 2026 (Beijing time)\nNew tickets since the last digest: 1\nDue today: 0\n"
        "Overdue: 0\nBad ratings waiting for a call-back: 0 (/followups)"
    )
    assert digest.data == ["sl:overdue", "sl:new"]
    await quiet(desk, SUPERVISOR)
    await desk.restart()
    await quiet(desk, SUPERVISOR)

    listing = await say(desk, SUPERVISOR, "/start")  # the supervisor can still work normally
    assert listing.text


async def test_an_alert_telegram_could_not_take_is_sent_once_after_a_restart(desk: Helpdesk) -> None:
    """The run decided and recorded the alert, then Telegram failed in the assignee's chat: the run is resumed
    after the restart from the send that failed, and the new runs decide nothing again."""
    await desk.restart(telegram_retry_delays=(0.01, 0.02, 0.04))
    await file_ticket(desk, ALICE)
    [ticket] = tickets(desk)
    desk.services.ticket_work.take(OPERATOR, ticket.id, desk.clock())
    desk.botapi.mark(OPERATOR)
    desk.clock.now = at(4, 30, 9)
    desk.botapi.fail_in_chat(OPERATOR, 4)  # the first try and the three retries
    await run_alerts(desk)
    assert desk.botapi.unread(OPERATOR) == []
    await desk.restart()  # the unfinished run is finished first
    soon = await desk.reply(OPERATOR, is_alert)
    assert soon.text.startswith("⏰ Ticket T2604-0001") and soon.data == [f"sv:{ticket.id}"]
    await quiet(desk, OPERATOR)
    desk.botapi.errors.clear()  # the simulated failures
