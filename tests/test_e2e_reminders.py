"""End to end through the real Application: permit-expiry reminders (issue 16 §2). An HR contact writing in
Chinese adds a permit with 2027年3月31日 (a passport number refused as its label, an ambiguous date explained);
``python -m bot jobs run-due --now`` records the 60-day and then the 30-day reminder while the bot is down, once
however often it runs; the bot sends each once, in Chinese, with the extension answer one button away. Another
user changes and deletes their permits from /reminders, and a cancellation reminder names the last day."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.__main__ import run_due
from bot.desk.outreach.reminders import WatchView
from handlers.reminders import JOB
from tests.botapi import SentMessage
from tests.telegram_fixtures import SHANGHAI, Clock, Helpdesk, HelpdeskFactory

pytestmark = pytest.mark.usefixtures("no_errors")

HR_ZH, ALICE = 3001, 3002
CLIENT = {HR_ZH: "zh", ALICE: "en"}


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


async def say(desk: Helpdesk, user: int, text: str) -> SentMessage:
    """The user writes *text* from their client's language; the bot's first reply."""
    return await desk.ask(user, text, language_code=CLIENT[user])


async def run_job(desk: Helpdesk) -> None:
    """One run of the reminders job, as the JobQueue makes it (a journaled work), and everything it sent."""
    [job] = desk.app.job_queue.get_jobs_by_name(JOB)  # type: ignore[union-attr]
    await job.run(desk.app)
    await desk.settle()


def is_reminder(message: SentMessage) -> bool:
    return message.text.startswith("⏳")


def watches(desk: Helpdesk, user: int) -> list[WatchView]:
    return desk.services.reminders.watches(user)


@pytest.fixture
async def desk(helpdesk_factory: HelpdeskFactory, clock: Clock) -> Helpdesk:
    """Monday 30 November 2026; reminders looked for hourly (the tests run the job themselves)."""
    clock.now = at(2026, 11, 30)
    return await helpdesk_factory(helpdesk_alert_seconds=3600, helpdesk_digest_to="none")


async def test_a_permit_added_in_chinese_is_reminded_once_at_each_lead_time(desk: Helpdesk) -> None:
    intro = await say(desk, HR_ZH, "/reminders")
    assert "到期前60、30天提醒您" in intro.text and intro.labels == ["➕ 添加工作许可"] and intro.data == ["pa"]
    await desk.press(HR_ZH, intro, "pa")
    assert "名称" in (await desk.reply(HR_ZH)).text

    refused = await say(desk, HR_ZH, "E12345678")  # a passport number is not a label
    assert "护照号" in refused.text and watches(desk, HR_ZH) == []
    asked = await say(desk, HR_ZH, "玛丽亚")
    assert "哪天到期" in asked.text
    ambiguous = await say(desk, HR_ZH, "03/04/2027")
    assert ambiguous.text == "这个日期有两种读法（日在前或月在前）。请按“年-月-日”填写，例如 2027-04-03。"
    assert "已经过去" in (await say(desk, HR_ZH, "2025年3月31日")).text
    ends = await say(desk, HR_ZH, "2027年3月31日")
    assert "劳动关系" in ends.text and ends.data == ["ps"]

    await desk.restart()  # a restart mid-flow: the step is kept
    await desk.press(HR_ZH, ends, "ps")
    saved = await desk.reply(HR_ZH, lambda m: m.text.startswith("已保存"))
    [watch] = watches(desk, HR_ZH)
    assert (watch.label, watch.expires_on, watch.employment_ends_on) == ("玛丽亚", date(2027, 3, 31), None)
    assert "工作许可：玛丽亚" in saved.text and "2027年3月31日" in saved.text
    assert saved.data == [f"pe:{watch.id}:x", f"pe:{watch.id}:e", f"pe:{watch.id}:l", f"pd:{watch.id}", "pl"]
    listing = await say(desk, HR_ZH, "/reminders")
    assert listing.labels == ["玛丽亚 · 2027年3月31日到期", "➕ 添加工作许可"]
    stale = await desk.press(HR_ZH, ends, "ps", forged=True)  # "No" again, outside the flow: nothing added
    assert stale.text and "失效" in stale.text and len(watches(desk, HR_ZH)) == 1

    await run_job(desk)  # 121 days ahead: nothing yet
    assert desk.botapi.unread(HR_ZH) == []
    desk.botapi.mark(HR_ZH)
    settings = desk.settings()
    await desk.stop()  # the bot is down when the 60-day reminder falls due

    lines: list[str] = []
    assert run_due(settings, at(2027, 1, 30, 9, 30), lines.append) == 0  # a Saturday: no alerts, but reminders
    assert lines[:3] == [
        "Permit reminders as of 2027-01-30 09:30 (Beijing time):",
        f"  expiry    permit {watch.id:<5}  60 day(s) → {HR_ZH}",
        "Recorded 1 permit reminder(s): the bot sends them on its next run.",
    ]
    assert "玛丽亚" not in "\n".join(lines)  # a person's name is never printed
    for again in (at(2027, 1, 30, 9, 30), at(2027, 2, 15)):  # the same time again, and later
        lines.clear()
        assert run_due(settings, again, lines.append) == 0
        assert not any("Permit reminders" in line for line in lines)

    await desk.start()  # the bot's clock is still in November: it sends what was recorded
    await run_job(desk)
    reminder = await desk.reply(HR_ZH, is_reminder)
    assert reminder.text == (
        "⏳ 工作许可提醒：“玛丽亚”的工作许可将于2027年3月31日到期（还有60天）。如继续在同一单位工作，请在到期前"
        "申请延期：各地要求提前30至45天不等，请向当地窗口确认。"
    )
    assert reminder.labels == ["如何办理延期", "我的到期提醒"] and reminder.data == ["te:extension", "pl"]
    await run_job(desk)
    await desk.restart()
    await run_job(desk)
    assert not any(is_reminder(m) for m in desk.botapi.unread(HR_ZH))  # sent once

    await desk.press(HR_ZH, reminder, "te:extension")  # the button opens the extension answer, in Chinese
    answer = await desk.reply(HR_ZH, lambda m: "延期适用于同一用人单位" in m.text)
    assert "提前30日" in answer.text

    desk.botapi.mark(HR_ZH)
    lines.clear()
    settings = desk.settings()
    await desk.stop()
    assert run_due(settings, at(2027, 3, 1, 9), lines.append) == 0
    assert lines[1] == f"  expiry    permit {watch.id:<5}  30 day(s) → {HR_ZH}"
    await desk.start()
    desk.clock.now = at(2027, 3, 2)  # the bot's own run the next day decides nothing new
    await run_job(desk)
    await run_job(desk)
    [second] = [m for m in desk.botapi.unread(HR_ZH) if is_reminder(m)]
    assert "还有30天" in second.text and second.data == ["te:extension", "pl"]


async def test_changing_and_deleting_permits_and_the_cancellation_duty(desk: Helpdesk) -> None:
    for label, expires in (("Maria G.", "31/03/2027"), ("Tom B.", "2027/6/30")):
        prompt = await say(desk, ALICE, "/reminders")
        await desk.press(ALICE, prompt, "pa")
        await desk.reply(ALICE)
        await say(desk, ALICE, label)
        await say(desk, ALICE, expires)
        assert (await say(desk, ALICE, "no")).text.startswith("Saved.")  # typed instead of the button
    maria, tom = watches(desk, ALICE)
    assert (maria.expires_on, tom.expires_on) == (date(2027, 3, 31), date(2027, 6, 30))

    listing = await say(desk, ALICE, "/reminders")
    assert listing.labels == ["Maria G. · expires Mar 31, 2027", "Tom B. · expires Jun 30, 2027", "➕ Add a permit"]
    await desk.press(ALICE, listing, f"pv:{tom.id}")
    view = await desk.reply(ALICE, lambda m: m.text.startswith("Permit: Tom B."))
    await desk.press(ALICE, view, f"pe:{tom.id}:e")  # Tom leaves at the end of December
    await desk.reply(ALICE, lambda m: "last day of employment" in m.text)
    changed = await say(desk, ALICE, "2026年12月31日")
    assert changed.text.startswith("Changed.") and "by Jan 15, 2027" in changed.text  # 1 January off
    await desk.press(ALICE, view, f"pe:{tom.id}:l")
    await desk.reply(ALICE)
    assert "passport" in (await say(desk, ALICE, "G1234567")).text
    assert "Permit: Tom Brown" in (await say(desk, ALICE, "Tom Brown")).text
    assert await say(desk, ALICE, "when does it expire?")  # out of the flow now: a question, not a label
    assert [w.label for w in watches(desk, ALICE)] == ["Tom Brown", "Maria G."]

    await desk.press(ALICE, listing, f"pv:{maria.id}")
    maria_view = await desk.reply(ALICE, lambda m: m.text.startswith("Permit: Maria G."))
    await desk.press(ALICE, maria_view, f"pd:{maria.id}")
    confirm = await desk.reply(ALICE, lambda m: m.text.startswith("Delete the permit"))
    assert confirm.data == [f"py:{maria.id}", f"pv:{maria.id}"] and "add it again" in confirm.text
    await desk.press(ALICE, confirm, f"py:{maria.id}")
    gone = await desk.reply(ALICE, lambda m: m.text.startswith("Deleted"))
    assert "Maria G." in gone.text and "Add it again" in gone.text and gone.data == ["pa", "pl"]
    answer = await desk.press(ALICE, confirm, f"py:{maria.id}", forged=True)  # pressed twice (an old client)
    assert answer.text and "expired" in answer.text and len(watches(desk, ALICE)) == 1
    own = await say(desk, HR_ZH, "/reminders")
    desk.botapi.mark(HR_ZH)
    answer = await desk.press(HR_ZH, own, f"pv:{tom.id}", forged=True)  # someone else's permit
    assert answer.text and "失效" in answer.text and desk.botapi.unread(HR_ZH) == []

    desk.clock.now = at(2026, 12, 1, 9)  # 30 days before Tom's employment ends
    desk.botapi.mark(ALICE)
    await run_job(desk)
    cancel = await desk.reply(ALICE, is_reminder)
    assert cancel.text == (
        "⏳ Permit reminder: the employment of “Tom Brown” ends on Dec 31, 2026 (in 30 days). The employer must "
        "then apply to cancel the work permit within 10 working days: by Jan 15, 2027 at the latest."
    )
    assert cancel.data == ["te:cancellation", "pl"]
    await run_job(desk)
    assert not any(is_reminder(m) for m in desk.botapi.unread(ALICE))  # sent once
    assert desk.botapi.unread(HR_ZH) == []
