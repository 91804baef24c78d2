"""End to end through the real Application: a bad rating's follow-up (好差评 回访, issue 15 part 2). The
supervisor's alert carries Take and Record; taking assigns it, recording is the outcome then one message;
/followups lists what is still open."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot.store.models import FollowUp
from tests.telegram_fixtures import Helpdesk, HelpdeskFactory
from tests.test_e2e_staff_tickets import ALICE, OPERATOR, SUPERVISOR, file_ticket, make_desk, say, start_as

pytestmark = pytest.mark.usefixtures("no_errors")


@pytest.fixture
async def desk(helpdesk_factory: HelpdeskFactory) -> Helpdesk:
    return await make_desk(helpdesk_factory)


def follow_up(desk: Helpdesk) -> FollowUp:
    with Session(desk.services.engine) as session:
        [row] = session.exec(select(FollowUp)).all()
        return row


async def test_a_very_dissatisfied_rating_is_taken_called_back_and_recorded(desk: Helpdesk) -> None:
    await start_as(desk, ALICE, "applicant")
    ticket = await file_ticket(desk, ALICE, contact="alice@example.com")
    await desk.drain(SUPERVISOR)
    await say(desk, OPERATOR, f"/close {ticket.number} Explained the rules.")
    closed = await desk.reply(ALICE, lambda m: any(d.startswith("rt:") for d in m.data))
    await desk.press(ALICE, closed, f"rt:t:{ticket.id}:5")  # 非常不满意
    alert = await desk.reply(SUPERVISOR, lambda m: "Bad rating" in m.text)
    fid = follow_up(desk).id
    assert (alert.labels, alert.data) == (
        ["Open", "Take the call-back", "Record the call-back"],
        [f"sv:{ticket.id}", f"fut:{fid}", f"fur:{fid}"],
    )
    listed = await say(desk, SUPERVISOR, "/followups")
    assert listed.text == "Follow-ups waiting for a call-back (1), earliest due first:"
    assert listed.data == [f"fuv:{fid}"] and "nobody yet" in listed.labels[0] and ticket.number in listed.labels[0]
    assert "supervisor" in (await say(desk, OPERATOR, "/followups")).text.lower()  # refused to an operator

    await desk.press(SUPERVISOR, alert, f"fut:{fid}")
    view = await desk.reply(SUPERVISOR, lambda m: m.text.startswith("Follow-up"))
    assert "Assigned to: Wang Fang" in view.text and view.data == [f"fut:{fid}", f"fur:{fid}"]
    assert follow_up(desk).assignee_id == SUPERVISOR

    await desk.press(SUPERVISOR, alert, f"fur:{fid}")
    outcomes = await desk.reply(SUPERVISOR, lambda m: "How did the call-back" in m.text)
    assert outcomes.data == [f"fuo:{fid}:resolved", f"fuo:{fid}:explained", f"fuo:{fid}:wrongful"]
    await desk.press(SUPERVISOR, outcomes, f"fuo:{fid}:resolved")
    prompt = await desk.reply(SUPERVISOR, lambda m: "In one message" in m.text)
    assert prompt.text.endswith("/cancel to stop.")
    done = await say(desk, SUPERVISOR, "She waited two weeks; we sent the certificate by EMS today.")
    assert done.text == "Call-back recorded: Resolved. Open follow-ups: /followups"
    row = follow_up(desk)
    assert (row.called_by, row.outcome, row.notes) == (
        SUPERVISOR,
        "resolved",
        "She waited two weeks; we sent the certificate by EMS today.",
    )
    assert row.called_at is not None
    assert (await say(desk, SUPERVISOR, "/followups")).text == "No follow-ups are waiting for a call-back."
    await desk.press(SUPERVISOR, listed, f"fuv:{fid}")  # the old list's button: the record, no more buttons
    record = await desk.reply(SUPERVISOR, lambda m: m.text.startswith("Follow-up"))
    assert "Called back by Wang Fang on " in record.text and record.text.endswith(
        ": Resolved\nShe waited two weeks; we sent the certificate by EMS today."
    )
    assert record.data == []
    again = await desk.press(SUPERVISOR, alert, f"fur:{fid}")
    assert again.text == "This call-back has been recorded already." and again.show_alert


async def test_cancel_leaves_the_record_flow_open(desk: Helpdesk) -> None:
    await start_as(desk, ALICE, "applicant")
    ticket = await file_ticket(desk, ALICE)
    await say(desk, OPERATOR, f"/close {ticket.number} Explained the rules.")
    closed = await desk.reply(ALICE, lambda m: any(d.startswith("rt:") for d in m.data))
    await desk.press(ALICE, closed, f"rt:t:{ticket.id}:4")  # 不满意
    alert = await desk.reply(SUPERVISOR, lambda m: "Bad rating" in m.text)
    fid = follow_up(desk).id
    await desk.press(SUPERVISOR, alert, f"fur:{fid}")
    outcomes = await desk.reply(SUPERVISOR, lambda m: "How did the call-back" in m.text)
    await desk.press(SUPERVISOR, outcomes, f"fuo:{fid}:explained")
    await desk.reply(SUPERVISOR, lambda m: "In one message" in m.text)
    photo = await desk.ask(SUPERVISOR, photo=True, language_code="en")
    assert photo.text.startswith("Sorry, I can only take text here.")  # text only
    assert (await say(desk, SUPERVISOR, "/cancel")).text.startswith("Cancelled")
    assert follow_up(desk).called_at is None
    listed = await say(desk, SUPERVISOR, "/followups")
    assert listed.data == [f"fuv:{fid}"]
    await desk.press(SUPERVISOR, listed, f"fuv:{fid}")
    view = await desk.reply(SUPERVISOR, lambda m: m.text.startswith("Follow-up"))
    assert "Dissatisfied (不满意)" in view.text and view.data == [f"fut:{fid}", f"fur:{fid}"]
