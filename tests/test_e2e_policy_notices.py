"""End to end through the real Application: a supervisor writes a policy notice with /notice (English, Chinese,
audience, "more" entry), sees it exactly as each language will get it, sends it; only the HR contacts who
subscribed get it, each in their language, a user who blocked the bot is counted as blocked, and a send cut
short by Telegram failing and a restart reaches everyone exactly once (issue 16 §1)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from bot.desk.outreach.notices import Audience, DeliveryStatus, NoticeText
from bot.i18n import translator
from bot.store.models import PolicyNotice, User
from tests.botapi import SentMessage
from tests.telegram_fixtures import Helpdesk, HelpdeskFactory
from tests.test_e2e_staff_tickets import OPERATOR, SUPERVISOR, make_desk, say

pytestmark = pytest.mark.usefixtures("no_errors")

HR_EN, HR_ZH, HR_BLOCKED, HR_NOT_SUBSCRIBED, APPLICANT = 7001, 7002, 7003, 7004, 7005
CLIENTS = {HR_EN: "en", HR_ZH: "zh-hans", HR_BLOCKED: "en", HR_NOT_SUBSCRIBED: "en", APPLICANT: "en"}
ENGLISH = "New rule for cancellations\nFrom 1 April, cancel the permit within 10 working days of the end of employment."
CHINESE = "注销新规\n自4月1日起，聘用结束后请在10个工作日内注销工作许可。"
FOOTER = {
    lang: translator(lang).gettext(
        "You get this because you subscribed to the helpdesk's policy notices. /unsubscribe stops them."
    )
    for lang in ("en", "zh")
}


@pytest.fixture
async def desk(helpdesk_factory: HelpdeskFactory) -> Helpdesk:
    return await make_desk(helpdesk_factory)


async def join(desk: Helpdesk, user: int, role: str, subscribe: bool = True) -> None:
    """/start, the role button, /subscribe."""
    await desk.ask(user, "/start", lambda m: any(d.startswith("role:") for d in m.data), language_code=CLIENTS[user])
    roles = desk.botapi.last(user)
    assert roles is not None
    await desk.press(user, roles, f"role:{role}")
    desk.botapi.mark(user)
    if subscribe:
        subscribed = await desk.ask(user, "/subscribe", language_code=CLIENTS[user])
        assert "/unsubscribe" in subscribed.text
    desk.botapi.mark(user)


def is_notice(message: SentMessage) -> bool:
    return message.text.startswith("📢 ") and not message.text.startswith("📢 Notice #")


def notice_row(desk: Helpdesk) -> PolicyNotice:
    with Session(desk.services.engine) as session:
        row = session.exec(select(PolicyNotice).order_by(col(PolicyNotice.id).desc())).first()
        assert row is not None
        return row


async def test_a_notice_reaches_the_subscribed_hr_contacts_in_their_language_and_the_author_gets_a_report(
    desk: Helpdesk,
) -> None:
    for user in (HR_EN, HR_ZH, HR_BLOCKED):
        await join(desk, user, "employer")
    await join(desk, HR_NOT_SUBSCRIBED, "employer", subscribe=False)
    await join(desk, APPLICANT, "applicant")
    refused = await say(desk, OPERATOR, "/notice")  # operators cannot
    assert refused.text == "Sorry, only supervisors can do this."

    prompt = await say(desk, SUPERVISOR, "/notice")
    assert prompt.text.startswith("New policy notice. Send the English version")
    assert (await say(desk, SUPERVISOR, ENGLISH)).text.startswith("Now the Chinese version")
    audience = await say(desk, SUPERVISOR, CHINESE)
    notice_id = notice_row(desk).id
    assert audience.labels == ["Employers' HR contacts (3)", "Applicants (1)", "Everyone subscribed (4)"]
    assert audience.data == [f"na:{notice_id}:employers", f"na:{notice_id}:applicants", f"na:{notice_id}:all"]
    await desk.press(SUPERVISOR, audience, f"na:{notice_id}:employers")
    entry = await desk.reply(SUPERVISOR, lambda m: m.text.startswith("Audience: Employers' HR contacts."))
    assert entry.data == [f"nn:{notice_id}"]
    assert (await say(desk, SUPERVISOR, "no-such-entry")).text.startswith("There is no knowledge-base entry")
    english = await say(desk, SUPERVISOR, "cancellation")
    chinese = await desk.reply(SUPERVISOR)
    card = await desk.reply(SUPERVISOR)
    assert english.text.startswith("📢 New rule for cancellations\n\nFrom 1 April") and english.text.endswith(
        FOOTER["en"]
    )
    assert chinese.text.startswith("📢 注销新规\n\n自4月1日起") and chinese.text.endswith(FOOTER["zh"])
    assert english.data == chinese.data == ["te:cancellation"]
    assert "“More" not in english.labels[0] and english.labels[0].startswith("More: ")
    assert card.text.startswith(f"Preview of notice #{notice_id}: the two messages above are exactly what")
    assert "Employers' HR contacts, 3 subscriber(s) now." in card.text
    assert card.data == [f"nc:{notice_id}", f"ne:{notice_id}", f"nx:{notice_id}"]
    assert card.labels[0] == "Send to 3"

    desk.botapi.block(HR_BLOCKED)
    await desk.press(SUPERVISOR, card, f"nc:{notice_id}")
    report = await desk.reply(SUPERVISOR, lambda m: m.text.startswith("📢 Notice #"))
    assert report.text == (
        f"📢 Notice #{notice_id} “New rule for cancellations” has gone out to Employers' HR contacts: "
        "3 recipient(s). Sent: 2. Failed: 0. Blocked the bot: 1."
    )
    got_en = [m for m in await desk.drain(HR_EN) if is_notice(m)]
    got_zh = [m for m in await desk.drain(HR_ZH) if is_notice(m)]
    assert [(m.text, m.data) for m in got_en] == [(english.text, ["te:cancellation"])]
    assert [(m.text, m.data) for m in got_zh] == [(chinese.text, ["te:cancellation"])]
    assert [m for m in await desk.drain(APPLICANT) if is_notice(m)] == []
    assert [m for m in await desk.drain(HR_NOT_SUBSCRIBED) if is_notice(m)] == []
    with Session(desk.services.engine) as session:
        assert session.get(User, HR_BLOCKED).blocked  # type: ignore[union-attr]

    more = await desk.press(HR_ZH, got_zh[0], "te:cancellation")  # "more": the entry's answer, in Chinese
    assert not more.show_alert
    answer = await desk.reply(HR_ZH)
    assert "注销" in answer.text

    again = await desk.press(SUPERVISOR, card, f"nc:{notice_id}", forged=True)  # a double tap sends nothing more
    assert again.show_alert and (again.text or "").startswith("This notice has already been sent")
    listing = await say(desk, SUPERVISOR, "/notices")
    assert f"#{notice_id} · " in listing.text and "3 recipient(s): sent 2, failed 0, blocked the bot 1" in listing.text
    assert Counter(m.text for m in desk.botapi.messages(HR_EN) if is_notice(m)) == Counter({english.text: 1})


async def test_a_draft_can_be_edited_or_cancelled_and_a_file_draft_is_sent_from_notices(desk: Helpdesk) -> None:
    await join(desk, HR_EN, "employer")
    await join(desk, APPLICANT, "applicant")
    drafted = desk.services.notices.draft(  # python -m bot notice draft FILE.toml
        None,
        NoticeText("Office closed", "Closed on 1 May."),
        NoticeText("停止办公", "5月1日停止办公。"),
        "all",
        None,
        desk.clock(),
    )
    listing = await say(desk, SUPERVISOR, "/notices")
    assert listing.data == [f"nv:{drafted.id}"] and f"#{drafted.id} · " in listing.text and "draft" in listing.text
    await desk.press(SUPERVISOR, listing, f"nv:{drafted.id}")
    english = await desk.reply(SUPERVISOR)
    await desk.reply(SUPERVISOR)
    card = await desk.reply(SUPERVISOR, lambda m: m.text.startswith("Preview"))
    assert english.data == [] and english.text.startswith("📢 Office closed")
    await desk.press(SUPERVISOR, card, f"ne:{drafted.id}")  # Edit: the steps again, on the same draft
    assert (await desk.reply(SUPERVISOR)).text.startswith(f"Editing notice #{drafted.id}.")
    await say(desk, SUPERVISOR, "Office closed on 1 May\nThe office is closed on Labour Day.")
    audience = await say(desk, SUPERVISOR, CHINESE)
    await desk.press(SUPERVISOR, audience, f"na:{drafted.id}:applicants")
    entry = await desk.reply(SUPERVISOR, lambda m: m.text.startswith("Audience: Applicants."))
    await desk.press(SUPERVISOR, entry, f"nn:{drafted.id}")
    english = await desk.reply(SUPERVISOR)
    await desk.reply(SUPERVISOR)
    card = await desk.reply(SUPERVISOR, lambda m: m.text.startswith("Preview"))
    assert english.text.startswith("📢 Office closed on 1 May\n\nThe office is closed on Labour Day.")
    await desk.press(SUPERVISOR, card, f"nc:{drafted.id}")
    report = await desk.reply(SUPERVISOR, lambda m: m.text.startswith("📢 Notice #"))
    assert "Applicants: 1 recipient(s). Sent: 1." in report.text
    got = [m.text for m in await desk.drain(APPLICANT) if is_notice(m)]
    assert len(got) == 1 and got[0].startswith("📢 Office closed on 1 May\n\nThe office is closed on Labour Day.")
    assert [m for m in await desk.drain(HR_EN) if is_notice(m)] == []

    other = desk.services.notices.draft(SUPERVISOR, None, None, Audience.ALL, None, desk.clock())
    listing = await say(desk, SUPERVISOR, "/notices")
    await desk.press(SUPERVISOR, listing, f"nv:{other.id}")  # incomplete: no preview, no Send
    assert (await desk.reply(SUPERVISOR)).text == "A notice needs a title and a text in both English and Chinese."
    third = desk.services.notices.draft(None, NoticeText("a", "b"), NoticeText("c", "d"), "all", None, desk.clock())
    listing = await say(desk, SUPERVISOR, "/notices")
    await desk.press(SUPERVISOR, listing, f"nv:{third.id}")
    card = await desk.reply(SUPERVISOR, lambda m: m.text.startswith("Preview"))
    await desk.press(SUPERVISOR, card, f"nx:{third.id}")
    assert (await desk.reply(SUPERVISOR)).text == f"Notice #{third.id} cancelled: nothing was sent."
    late = await desk.press(SUPERVISOR, card, f"nc:{third.id}", forged=True)
    assert late.show_alert and (late.text or "").startswith("This notice has already been sent or cancelled")
    assert [m for m in await desk.drain(HR_EN) if is_notice(m)] == []


async def test_a_send_cut_short_and_a_restart_lose_and_repeat_nobody(helpdesk_factory: HelpdeskFactory) -> None:
    """Telegram fails for good in one chat midway (the run is deferred with some sent and the rest claimed),
    the process stops, a new one starts on the same database: each subscriber gets the notice exactly once."""
    desk = await make_desk(helpdesk_factory, telegram_retry_delays=(0.01, 0.02))
    users = list(range(7100, 7130))
    for user in users:
        CLIENTS[user] = "zh-hans" if user % 2 else "en"
        await join(desk, user, "employer")
    stuck = users[12]
    desk.botapi.fail_in_chat(stuck, 100)  # 502s: failing for now, however often it is tried
    view = desk.services.notices.draft(
        SUPERVISOR, NoticeText("Title", "Text."), NoticeText("标题", "正文。"), "employers", None, desk.clock()
    )
    listing = await say(desk, SUPERVISOR, "/notices")
    await desk.press(SUPERVISOR, listing, f"nv:{view.id}")
    card = await desk.reply(SUPERVISOR, lambda m: m.text.startswith("Preview"))
    await desk.press(SUPERVISOR, card, f"nc:{view.id}")
    await desk.reply(SUPERVISOR, lambda m: m.text.startswith("Notice #"))
    for _ in range(200):  # until the run is deferred at the stuck chat
        if any(w.job == "policy-notices" for w in desk.app.bot_data.desk.waiting_jobs):
            break
        await asyncio.sleep(0.05)
    sent_before = {u for u in users if any(is_notice(m) for m in desk.botapi.messages(u))}
    assert sent_before == set(users[:12])  # midway: the first twelve, nobody after the stuck chat
    await desk.stop()
    desk.botapi._fail_chat.clear()  # Telegram is back
    desk.botapi.errors.clear()  # the simulated failures
    await desk.start()  # the unfinished run is resumed first, from the send that failed
    report = await desk.reply(SUPERVISOR, lambda m: m.text.startswith("📢 Notice #"))
    assert "30 recipient(s). Sent: 30. Failed: 0. Blocked the bot: 0." in report.text
    await desk.settle()
    received = Counter(u for u in users for m in desk.botapi.messages(u) if is_notice(m))
    assert received == Counter({u: 1 for u in users})
    for user in users:
        [message] = [m for m in desk.botapi.messages(user) if is_notice(m)]
        assert message.text.startswith("📢 标题" if user % 2 else "📢 Title")
    assert notice_row(desk).status == "done"


async def test_a_crash_between_a_send_and_its_record_repeats_nothing(
    helpdesk_factory: HelpdeskFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database fails right after the fifth notice went out, before its delivery is marked (as a process dying
    there would leave it): after a restart the run resumes from that step, and the fifth user is not sent it again."""
    desk = await make_desk(helpdesk_factory)
    users = list(range(7200, 7210))
    for user in users:
        CLIENTS[user] = "en"
        await join(desk, user, "employer")
    marks: list[int] = []
    real_mark = desk.services.notices.mark

    def flaky(delivery_id: int, status: DeliveryStatus, now: datetime) -> None:
        marks.append(delivery_id)
        if len(marks) == 5:
            raise OperationalError("UPDATE noticedelivery", {}, Exception("disk I/O error"))
        real_mark(delivery_id, status, now)

    monkeypatch.setattr(desk.services.notices, "mark", flaky)
    view = desk.services.notices.draft(
        SUPERVISOR, NoticeText("Title", "Text."), NoticeText("标题", "正文。"), "employers", None, desk.clock()
    )
    listing = await say(desk, SUPERVISOR, "/notices")
    await desk.press(SUPERVISOR, listing, f"nv:{view.id}")
    card = await desk.reply(SUPERVISOR, lambda m: m.text.startswith("Preview"))
    await desk.press(SUPERVISOR, card, f"nc:{view.id}")
    for _ in range(200):  # until the run is deferred at the failed mark
        if any(w.job == "policy-notices" for w in desk.app.bot_data.desk.waiting_jobs):
            break
        await asyncio.sleep(0.05)
    assert {u for u in users if any(is_notice(m) for m in desk.botapi.messages(u))} == set(users[:5])
    assert desk.services.notices.deliveries(view.id)[users[4]] == "pending"  # sent, not recorded as sent yet
    await desk.restart()  # a new process: the unfinished run resumes after the send it recorded
    report = await desk.reply(SUPERVISOR, lambda m: m.text.startswith("📢 Notice #"))
    assert "10 recipient(s). Sent: 10." in report.text
    await desk.settle()
    assert Counter(u for u in users for m in desk.botapi.messages(u) if is_notice(m)) == Counter(
        dict.fromkeys(users, 1)
    )
    assert set(desk.services.notices.deliveries(view.id).values()) == {"sent"}


async def test_cancel_while_writing_a_notice_says_what_was_kept(desk: Helpdesk) -> None:
    """/cancel before the English version saves nothing; after it, the draft stays in /notices as it is."""
    assert (await say(desk, SUPERVISOR, "/notice")).text.startswith("New policy notice.")
    assert (await say(desk, SUPERVISOR, "/cancel")).text == "Cancelled: no notice was saved."
    assert desk.services.notices.listing(SUPERVISOR) == []

    await say(desk, SUPERVISOR, "/notice")
    asked_chinese = await say(desk, SUPERVISOR, ENGLISH)  # the draft exists from here on
    [draft] = desk.services.notices.listing(SUPERVISOR)
    assert "Chinese" in asked_chinese.text and draft.en.title == "New rule for cancellations" and not draft.zh.title
    stopped = await say(desk, SUPERVISOR, "/cancel")
    assert stopped.text == f"Stopped. Notice #{draft.id} is kept as a draft, as it is now: /notices lists it."
    listing = await say(desk, SUPERVISOR, "/notices")
    assert f"#{draft.id} · " in listing.text and "draft" in listing.text
    assert (await say(desk, SUPERVISOR, "/cancel")).text == "There is nothing to cancel."  # the flow is gone
