"""End to end through the real Application: /stats for supervisors (issue 15 §3). A question asked and a ticket
filed show in today's figures; the Charts button sends three photos; operators are refused; a period the bot
cannot read gets the usage."""

from __future__ import annotations

import pytest

from bot.desk.reports.text import USAGE
from bot.i18n import translator
from tests.telegram_fixtures import Helpdesk, HelpdeskFactory
from tests.test_e2e_staff_tickets import ALICE, OPERATOR, SUPERVISOR, file_ticket, make_desk, say, start_as

EXPIRED = "This button has expired. Send the command again, or type your question."

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
    again = await desk.press(SUPERVISOR, stats, "stc:2026-03-03~2026-03-03", forged=True)  # a double tap
    assert again.text is None and await desk.drain(SUPERVISOR) == []  # the charts come once

    forged = await desk.press(SUPERVISOR, stats, "stc:2026-03-03~yesterday", forged=True)
    assert forged.text == EXPIRED and forged.show_alert
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


async def test_a_long_stats_does_not_hold_up_other_chats_and_the_charts_stay_out_of_the_journal(
    desk: Helpdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The figures are read on a thread (``handlers.reads``): while a supervisor's /stats is being read, a
    user's question is answered. (Read on the event loop, the read would wait out its safety timeout first.)"""
    import asyncio
    import threading

    import sqlalchemy as sa

    from bot.desk.reports.service import Reports
    from bot.store.models import WorkStep

    await start_as(desk, ALICE, "applicant")
    reading, release = threading.Event(), threading.Event()
    released: list[bool] = []
    on_loop: list[bool] = []
    stats, charts = Reports.stats, Reports.charts

    def slow_stats(self: Reports, *args: object) -> object:
        reading.set()
        released.append(release.wait(10))  # False: nobody released it (the loop was held up)
        return stats(self, *args)  # type: ignore[arg-type]

    def watched_charts(self: Reports, *args: object) -> object:
        on_loop.append(threading.current_thread() is threading.main_thread())
        return charts(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Reports, "stats", slow_stats)
    monkeypatch.setattr(Reports, "charts", watched_charts)
    await desk.send(SUPERVISOR, "/stats today", language_code="en")
    for _ in range(500):
        if reading.is_set():
            break
        await asyncio.sleep(0.01)
    answer = await say(desk, ALICE, "How long does a work permit extension take?")
    assert answer.text and not released  # answered while the figures were still being read
    release.set()
    figures = await desk.reply(SUPERVISOR)
    assert released == [True] and figures.text.startswith("📊 Statistics for 2026-03-03 (Beijing time)")

    await desk.press(SUPERVISOR, figures, figures.data[0])
    assert [m.kind for m in await desk.drain(SUPERVISOR)] == ["photo", "photo", "photo"]
    assert on_loop == [False]
    with desk.services.engine.connect() as connection:
        results = [row.result or b"" for row in connection.execute(sa.select(WorkStep))]
    assert results and not any(b"\x89PNG" in result for result in results)  # no chart image in the journal
