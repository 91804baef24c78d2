"""Every newer applicant screen in Chinese: a Chinese-speaking HR contact goes through /reminders (the list, each
step of adding, a permit's view, changing it, the delete confirmation, the reminders the job sends), /checklist
(each question, the list, "ask staff", back and cancel), /subscribe and a policy notice as received, /mydata's
captions, /privacy and /deletemydata; no English word may be left in what they read (the check of
tests/test_e2e_staff_zh.py: commands, ids, numbers, URLs allowed; knowledge-base ids too)."""

from __future__ import annotations

import pytest

from bot.desk.outreach.notices import NoticeText
from handlers.policy_notices import JOB as NOTICES_JOB
from handlers.reminders import JOB as REMINDERS_JOB
from tests.botapi import SentMessage
from tests.telegram_fixtures import Helpdesk, HelpdeskFactory
from tests.test_e2e_staff_zh import english_in, has_data, last_with

pytestmark = pytest.mark.usefixtures("no_errors")

LI, SUP = 1001, 7002


async def say(desk: Helpdesk, text: str = "", **kwargs: object) -> SentMessage:
    """Li writes *text*; the bot's first message after it."""
    await desk.drain(LI)
    return await desk.ask(LI, text, language_code="zh-hans", first_name="李雷", **kwargs)  # type: ignore[arg-type]


async def run_job(desk: Helpdesk, name: str) -> None:
    [job] = desk.app.job_queue.get_jobs_by_name(name)  # type: ignore[union-attr]
    await job.run(desk.app)
    await desk.settle()


async def test_every_new_applicant_screen_reads_in_chinese(helpdesk_factory: HelpdeskFactory) -> None:
    desk = await helpdesk_factory(helpdesk_supervisors=str(SUP), helpdesk_alert_seconds=3600, helpdesk_digest_to="none")
    await desk.send(SUP, "/start", language_code="zh-hans")  # told of the "ask staff" request
    presses: list[str | None] = []

    async def press(message: SentMessage, data: str, forged: bool = False) -> None:
        assert forged or data in message.data, (data, message.data)
        presses.append((await desk.press(LI, message, data, forged=forged)).text)
        await desk.settle()

    await say(desk, "/start")
    roles = await desk.reply(LI, has_data("role:"))
    await press(roles, "role:employer")

    # /subscribe, and a policy notice as received (with its "more" button).
    await say(desk, "/subscribe")
    await say(desk, "/subscribe")  # subscribed already
    notices = desk.services.notices
    notice = notices.draft(
        SUP,
        NoticeText("New rule for cancellations", "Cancel within 10 working days."),
        NoticeText("注销新规", "聘用结束后请在10个工作日内注销工作许可。"),
        "all",
        "cancellation",
        desk.clock(),
    ).id
    notices.confirm(SUP, notice, desk.clock())
    await run_job(desk, NOTICES_JOB)
    received = last_with(desk, LI, "te:")
    assert received.text.startswith("📢 注销新规"), received.text
    await press(received, received.data[0])

    # /reminders: the intro, each step of adding a permit, the list, a permit's view, changes, the job's reminders.
    intro = await say(desk, "/reminders")
    await press(intro, "pa")
    await say(desk, "E12345678")  # a passport number is refused as a label
    await say(desk, "玛丽亚")
    await say(desk, "03/04/2027")  # ambiguous
    await say(desk, "2025年3月31日")  # past
    ends = await say(desk, "2026年4月30日")
    await press(ends, "ps")
    listing = await say(desk, "/reminders")
    [watch] = desk.services.reminders.watches(LI)
    await press(listing, f"pv:{watch.id}")
    view = last_with(desk, LI, "pe:")
    await press(view, f"pe:{watch.id}:e")
    await say(desk, "2026年4月2日")  # the employment ends: a cancellation duty
    await press(view, f"pe:{watch.id}:x", forged=True)
    await say(desk, "2026年5月1日")
    await press(view, f"pe:{watch.id}:l", forged=True)
    await say(desk, "玛丽亚·加西亚")
    await run_job(desk, REMINDERS_JOB)
    reminders = [m for m in desk.botapi.messages(LI) if m.text.startswith("⏳")]
    assert reminders, "no reminder was sent"
    await press(view, f"pd:{watch.id}", forged=True)
    confirm = last_with(desk, LI, "py:")
    await press(confirm, f"py:{watch.id}")
    await press(confirm, f"py:{watch.id}", forged=True)  # pressed twice
    await say(desk, "/reminders")  # none left

    # /checklist: every question to the list, "ask staff"; then back and cancel.
    await say(desk, "/checklist")
    await desk.settle()
    question = last_with(desk, LI, "ck:")
    for data in ("ck:task:change-employer", "ck:category:b", "ck:where:china", "ck:apostille:yes", "ck:city:dongguan"):
        await press(question, data)
        question = desk.botapi.messages(LI)[-1]
    done = question
    assert "ckt" in done.data, done
    await press(done, "ckt")
    await say(desk, "/checklist")
    await desk.settle()
    task = last_with(desk, LI, "ck:")
    await press(task, "ck:task:cancellation")
    city = desk.botapi.messages(LI)[-1]
    await press(task, "ck:task:new", forged=True)  # an old question: where the checklist is
    await press(city, "ck:city:default")
    done = desk.botapi.messages(LI)[-1]
    await press(done, "ckb:done")
    back = desk.botapi.messages(LI)[-1]
    await press(back, "ckx")

    # /mydata, /privacy, /deletemydata (cancelled, then confirmed).
    await desk.send(LI, "/mydata", language_code="zh-hans", first_name="李雷")
    await desk.settle()
    assert len(desk.botapi.messages(LI, ("document",))) == 2
    await say(desk, "/privacy")
    asked = await say(desk, "/deletemydata")
    await press(asked, asked.data[-1])
    asked = await say(desk, "/deletemydata")
    await press(asked, asked.data[0])
    await press(asked, asked.data[0], forged=True)  # a second tap
    await say(desk, "/unsubscribe")

    ids = [*desk.services.kb.entries, *desk.services.canned, "English"]  # the language button names itself
    found = english_in(desk, (LI,), ids, presses)
    assert not found, "\n".join(f"{words} in {text!r}" for _who, text, words in found)
