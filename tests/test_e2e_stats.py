"""End to end through the real Application: /stats for supervisors (issue 15 §3). A question asked and a ticket
filed show in today's figures; the Charts button sends three photos; operators are refused; a period the bot
cannot read gets the usage."""

from __future__ import annotations

import pytest

from bot.desk.reports.text import USAGE
from bot.i18n import translator
from tests.telegram_fixtures import Helpdesk, HelpdeskFactory
from tests.test_e2e_staff_tickets import ALICE, OPERATOR, SUPERVISOR, file_ticket, make_desk, say, start_as

pytestmark = pytest.mark.usefixtures("no_errors")


@pytest.fixture
async def desk(helpdesk_factory: HelpdeskFactory) -> Helpdesk:
    return await make_desk(helpdesk_factory)


async def test_a_supervisor_sees_todays_figures_and_their_charts(desk: Helpdesk) -> None:
    await start_as(desk, ALICE, "applicant")
    await say(desk, ALICE, "How long does a work permit extension take?")
    await file_ticket(desk, ALICE)
    await desk.drain(SUPERVISOR)

    stats = await say(desk, SUPERVISOR, "/stats today")
    lines = stats.text.splitlines()
    assert lines[0].startswith("📊 Statistics for 2026-03-03 (Beijing time), as of ")
    assert "Typed questions: 1 — answered 1 (100.0 %), clarified 0 (0.0 %), no answer (fallback) 0 (0.0 %)" in lines
    assert "By role: applicant 1" in lines
    assert "Received: 1 — Enquiry (咨询) 1" in lines
    assert "Closed: 0 · 办结率 (closed / received): 0.0 %" in lines
    assert "Ratings: 0 — Very satisfied (非常满意) 0, Satisfied (满意) 0, Fairly satisfied (基本满意) 0, " in stats.text
    assert (stats.labels, stats.data) == (["📊 Charts"], ["stc:2026-03-03~2026-03-03"])

    answer = await desk.press(SUPERVISOR, stats, "stc:2026-03-03~2026-03-03")
    assert answer.text is None
    sent = await desk.drain(SUPERVISOR)
    assert [m.kind for m in sent] == ["photo", "photo", "photo"]

    forged = await desk.press(SUPERVISOR, stats, "stc:2026-03-03~yesterday", forged=True)
    assert forged.text == "This button has expired. Please send your question again." and forged.show_alert
    assert await desk.drain(SUPERVISOR) == []


async def test_stats_are_for_supervisors_and_a_bad_period_gets_the_usage(desk: Helpdesk) -> None:
    refused = await say(desk, OPERATOR, "/stats")
    assert "supervisor" in refused.text.lower() and not refused.data
    usage = await say(desk, SUPERVISOR, "/stats yesterday")
    assert usage.text == translator("en").gettext(USAGE) and usage.text.startswith("Usage: /stats [today")
    month = await say(desk, SUPERVISOR, "/stats 2026-02")
    assert month.text.startswith("📊 Statistics for 2026-02 (Beijing time)") and "Typed questions: 0 —" in month.text
    assert month.data == ["stc:2026-02-01~2026-02-28"]
    await start_as(desk, ALICE, "applicant")
    own = await say(desk, ALICE, "/help")
    stranger = await desk.press(ALICE, own, "stc:2026-02-01~2026-02-28", forged=True)
    assert stranger.show_alert and "staff" in (stranger.text or "").lower()
