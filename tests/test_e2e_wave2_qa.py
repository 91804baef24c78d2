"""End to end through the real Application: defects a tester found in the wave-2 features, each reproduced as
a user met it.

/reminders: a date written the way the bot writes it ("Mar 31, 2027", "31 March 2027") was unreadable, and a
question typed at a date step got "I could not read that" with no way out named; "不会提前结束" at the
end-of-employment step was not a no; an HR contact with more than 99 permits got no list at all (Telegram
refuses over 100 buttons); a permit added after the employment ended was reminded as ending "today"; expired
permits looked current and stayed on top; a label could carry invisible control characters.
Policy notices: a title and text full of emoji went over 4096 in the first message (refused: nobody got it);
a photo while writing one was answered "send text, a photo or a document"; a 200-character first line was
"too long" without saying it is the title; Edit said "New policy notice" and made the supervisor retype
everything; an entry id typed capitalised was not found.
The checklist's list left open swallowed the user's live chat and their replies about a ticket, and /cancel in
the queue only closed the list. /followups with a backlog of over 100 had no list. Chinese texts had English
semicolons and spaces after full stops."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from bot.desk.outreach.dates import DateError, DateProblem, parse_date
from bot.desk.outreach.reminders import LabelError, LabelProblem, check_label
from bot.store.models import FollowUp, PolicyNotice, Rating
from handlers.common import tr
from handlers.render import utf16_len
from tests.botapi import SentMessage
from tests.telegram_fixtures import SHANGHAI, Clock, Helpdesk, HelpdeskFactory
from tests.test_e2e_gaps import STOLEN
from tests.test_e2e_gaps import is_card as is_gap_card
from tests.test_e2e_policy_notices import CHINESE, ENGLISH, join
from tests.test_e2e_reminders import at, run_job
from tests.test_e2e_staff_tickets import (
    ALICE,
    LI,
    OPERATOR,
    OPERATOR2,
    SUPERVISOR,
    file_ticket,
    make_desk,
    say,
    start_as,
    tickets,
)

pytestmark = pytest.mark.usefixtures("no_errors")

HR_EN, HR_ZH = 7001, 7002  # the clients of tests.test_e2e_policy_notices.join


@pytest.fixture
async def desk(helpdesk_factory: HelpdeskFactory) -> Helpdesk:
    return await make_desk(helpdesk_factory)


# ----- /reminders: dates -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("Mar 31, 2027", date(2027, 3, 31)),  # as the bot writes it in English
        ("March 31, 2027", date(2027, 3, 31)),
        ("31 March 2027", date(2027, 3, 31)),
        ("31st March 2027", date(2027, 3, 31)),
        ("31-Mar-2027", date(2027, 3, 31)),
        ("Sept 1 2027", date(2027, 9, 1)),
        ("20270331", date(2027, 3, 31)),
    ],
)
def test_dates_with_the_month_in_letters_or_without_separators_are_read(text: str, day: date) -> None:
    assert parse_date(text) == day


@pytest.mark.parametrize(
    ("text", "problem"),
    [("31 Foo 2027", DateProblem.UNREADABLE), ("Feb 30, 2027", DateProblem.NO_SUCH_DAY), ("20270230", "no_such_day")],
)
def test_a_bad_month_name_or_day_is_still_refused(text: str, problem: str) -> None:
    with pytest.raises(DateError) as refused:
        parse_date(text)
    assert refused.value.problem == problem


async def test_a_permit_date_written_as_the_bot_writes_it_is_taken(desk: Helpdesk) -> None:
    await start_as(desk, ALICE, "employer")
    listing = await say(desk, ALICE, "/reminders")
    await desk.press(ALICE, listing, "pa")
    await desk.reply(ALICE)
    await say(desk, ALICE, "Maria G.")
    lost = await say(desk, ALICE, "how do I extend my permit?")  # a question at the date step: the way out named
    assert lost.text.startswith("I could not read that as a date.") and "/cancel" in lost.text
    ends = await say(desk, ALICE, "31 March 2027")
    assert ends.data == ["ps"]
    saved = await say(desk, ALICE, "no")
    assert saved.text.startswith("Saved.") and "Expires: Mar 31, 2027" in saved.text
    [watch] = desk.services.reminders.watches(ALICE)
    await desk.press(ALICE, saved, f"pe:{watch.id}:x")  # the permit was extended: the date as the view shows it
    await desk.reply(ALICE)
    changed = await say(desk, ALICE, "Jun 30, 2028")
    assert changed.text.startswith("Changed.") and "Expires: Jun 30, 2028" in changed.text
    assert desk.services.reminders.watches(ALICE)[0].expires_on == date(2028, 6, 30)


# ----- policy notices --------------------------------------------------------------------------------------------
def latest_notice(desk: Helpdesk) -> int:
    with Session(desk.services.engine) as session:
        row = session.exec(select(PolicyNotice).order_by(col(PolicyNotice.id).desc())).first()
        assert row is not None and row.id is not None
        return row.id


async def test_a_notice_full_of_emoji_stays_under_telegrams_limit_a_photo_and_a_long_title_are_explained(
    desk: Helpdesk,
) -> None:
    await join(desk, HR_ZH, "employer")
    await say(desk, SUPERVISOR, "/notice")
    photo = await desk.ask(SUPERVISOR, "the new form", photo=True, language_code="en")
    assert photo.text == "Sorry, I can only take text here. Please type it, or /cancel to stop."  # not "a photo"
    forgot_title = await say(desk, SUPERVISOR, "From 1 April " + "the rules change. " * 12 + "\nSee the office.")
    assert forgot_title.text.startswith("The title (the first line) is 228 characters long; the limit is 120.")
    title, body = "📢" * 120, "🎉" * 1990  # within the limits in characters: 4220 UTF-16 units with the title
    assert (await say(desk, SUPERVISOR, f"{title}\n{body}")).text.startswith("Now the Chinese version")
    audience = await say(desk, SUPERVISOR, f"{title}\n{body}")
    notice_id = latest_notice(desk)
    await desk.press(SUPERVISOR, audience, f"na:{notice_id}:all")
    entry = await desk.reply(SUPERVISOR, lambda m: m.text.startswith("Audience:"))
    await desk.press(SUPERVISOR, entry, f"nn:{notice_id}")
    preview = await desk.drain(SUPERVISOR)
    card = preview[-1]
    assert card.text.startswith(f"Preview of notice #{notice_id}")
    shown = [m for m in preview if m is not card]
    assert len(shown) == 4  # each language in two messages, each under the limit (no_errors: none refused)
    assert all(utf16_len(m.text) <= 4096 for m in shown)
    assert shown[0].text.startswith(f"📢 {title}\n\n🎉") and shown[0].entities[0]["type"] == "bold"
    assert "".join(m.text for m in shown[:2]).count("🎉") == 1990
    await desk.press(SUPERVISOR, card, f"nc:{notice_id}")
    await desk.reply(SUPERVISOR, lambda m: m.text.startswith("📢 Notice #"))
    got = [m for m in await desk.drain(HR_ZH) if "🎉" in m.text]
    assert [m.text for m in got] == [m.text for m in shown[2:]]  # the subscriber got it, as previewed


def is_card(message: SentMessage) -> bool:
    return message.text.startswith("Preview of notice #")


async def test_edit_on_a_preview_keeps_what_is_not_retyped(desk: Helpdesk) -> None:
    await join(desk, HR_EN, "employer")
    await say(desk, SUPERVISOR, "/notice")
    await say(desk, SUPERVISOR, ENGLISH)
    audience = await say(desk, SUPERVISOR, CHINESE)
    notice_id = latest_notice(desk)
    await desk.press(SUPERVISOR, audience, f"na:{notice_id}:employers")
    await desk.reply(SUPERVISOR, lambda m: m.text.startswith("Audience:"))
    await say(desk, SUPERVISOR, "Cancellation")  # the id as a phone capitalises it
    card = await desk.reply(SUPERVISOR, is_card)

    await desk.press(SUPERVISOR, card, f"ne:{notice_id}")  # a typo in the Chinese version
    asked = await desk.reply(SUPERVISOR)
    assert asked.text.startswith(f"Editing notice #{notice_id}.") and "- to keep it" in asked.text
    chinese = await say(desk, SUPERVISOR, "-")  # the English version stays
    assert chinese.text.startswith("Now the Chinese version") and "Or - to keep it as it is." in chinese.text
    audience = await say(desk, SUPERVISOR, "注销新规\n自4月1日起，劳动关系结束后请在10个工作日内注销工作许可。")
    await desk.press(SUPERVISOR, audience, f"na:{notice_id}:all")
    entry = await desk.reply(SUPERVISOR, lambda m: m.text.startswith("Audience:"))
    assert "Or - to keep the one it has (cancellation)." in entry.text
    english = await say(desk, SUPERVISOR, "-")
    await desk.reply(SUPERVISOR)
    card = await desk.reply(SUPERVISOR, is_card)
    assert english.text.startswith("📢 New rule for cancellations\n\nFrom 1 April") and english.data == [
        "te:cancellation"
    ]
    view = desk.services.notices.get(SUPERVISOR, notice_id)
    assert (view.en.title, view.zh.body, view.audience, view.entry_id) == (
        "New rule for cancellations",
        "自4月1日起，劳动关系结束后请在10个工作日内注销工作许可。",
        "all",
        "cancellation",
    )
    assert "Everyone subscribed" in card.text

    fresh = await say(desk, SUPERVISOR, "/notice")  # "-" is a keep only while editing: a new notice needs a title
    assert fresh.text.startswith("New policy notice.")
    refused = await say(desk, SUPERVISOR, "-")
    assert refused.text == "Please send the title on the first line and the text below it."


# ----- the checklist in Chinese ------------------------------------------------------------------------------
async def test_the_chinese_checklist_lists_its_sources_the_chinese_way(desk: Helpdesk) -> None:
    await start_as(desk, LI, "employer")
    done = await checklist_list(desk, LI, "extension", "dongguan")
    [sources] = [line for line in done.text.splitlines() if line.startswith("依据：")]
    assert "；" in sources and "; " not in sources


# ----- /reminders: an HR contact with many permits -----------------------------------------------------------
async def test_a_long_list_of_permits_comes_in_pages_under_telegrams_100_buttons(desk: Helpdesk) -> None:
    await start_as(desk, ALICE, "employer")
    now = desk.clock()
    for number in range(150):  # Telegram refuses a keyboard of more than 100 buttons ("reply markup is too long")
        desk.services.reminders.add(
            ALICE, f"Employee {number:03}", date(2027, 1, 1) + timedelta(days=number), None, now
        )
    first = await say(desk, ALICE, "/reminders")
    assert first.text.startswith("Your permit reminders (150).") and first.text.endswith(
        "Page 1 of 5, the soonest first."
    )
    assert len(first.data) <= 100 and first.data[-2:] == ["pp:1", "pa"]
    seen = [label for label in first.labels if label.startswith("Employee")]
    page = first
    for number in range(1, 5):
        await desk.press(ALICE, page, f"pp:{number}")
        page = await desk.reply(ALICE, lambda m: m.text.startswith("Your permit reminders"))
        assert page.text.endswith(f"Page {number + 1} of 5, the soonest first.") and len(page.data) <= 100
        seen += [label for label in page.labels if label.startswith("Employee")]
    assert page.data[-2:] == ["pp:3", "pa"]  # the last page: back only
    assert seen == [
        f"Employee {n:03} · expires {tr('en').date(date(2027, 1, 1) + timedelta(days=n))}" for n in range(150)
    ]
    forged = await desk.press(ALICE, page, "pp:x", forged=True)
    assert forged.text == "This button has expired. Send the command again, or type your question."


# ----- /followups: a backlog -----------------------------------------------------------------------------------
async def test_a_backlog_of_follow_ups_is_listed_under_telegrams_100_buttons(desk: Helpdesk) -> None:
    await start_as(desk, ALICE, "applicant")
    now = desk.clock()
    with Session(desk.services.engine) as session:
        for number in range(120):  # sessions rated "very dissatisfied", none called back yet
            rating = Rating(service="session", service_id=number + 1, user_id=ALICE, level=5, created_at=now)
            session.add(rating)
            session.flush()
            assert rating.id is not None
            due = now + timedelta(days=1, minutes=number)
            session.add(
                FollowUp(
                    rating_id=rating.id,
                    service="session",
                    service_id=number + 1,
                    user_id=ALICE,
                    opened_at=now,
                    due_at=due,
                )
            )
        session.commit()
    listing = await say(desk, SUPERVISOR, "/followups")
    assert listing.text.startswith("Follow-ups waiting for a call-back (120), earliest due first:")
    assert listing.text.endswith("The 50 due soonest are listed; the others follow as these are recorded.")
    assert len(listing.data) == 50 and listing.data[0] == "fuv:1" and listing.data[-1] == "fuv:50"


async def test_a_chinese_no_in_words_at_the_end_of_employment_step_is_a_no(desk: Helpdesk) -> None:
    await start_as(desk, LI, "employer")
    listing = await say(desk, LI, "/reminders")
    await desk.press(LI, listing, "pa")
    await desk.reply(LI)
    await say(desk, LI, "玛丽亚")
    ends = await say(desk, LI, "2027年3月31日")
    assert ends.labels == ["否，不会提前结束"]
    unsure = await say(desk, LI, "不确定")  # not a no: asked again, with the way out
    assert unsure.text.startswith("无法识别这个日期") and "/cancel" in unsure.text
    saved = await say(desk, LI, "不会提前结束")  # the button's meaning, typed
    assert saved.text.startswith("已保存")
    [watch] = desk.services.reminders.watches(LI)
    assert (watch.expires_on, watch.employment_ends_on) == (date(2027, 3, 31), None)


# ----- the checklist's list left open --------------------------------------------------------------------------
async def checklist_list(desk: Helpdesk, user: int, task: str, city: str) -> SentMessage:
    """/checklist, the *task* and *city* buttons: the list it answers with."""
    await say(desk, user, "/checklist")
    question = await desk.reply(user)
    await desk.press(user, question, f"ck:task:{task}")
    cities = await desk.reply(user)
    await desk.press(user, cities, f"ck:city:{city}")
    return await desk.reply(user)


async def open_checklist_list(desk: Helpdesk, user: int) -> SentMessage:
    """/checklist answered to its list, which the user leaves open (no Close): the flow stays at ``done``."""
    done = await checklist_list(desk, user, "extension", "default")
    assert done.data[0] == "ckt"
    await desk.drain(user)
    return done


async def test_a_checklist_left_open_does_not_swallow_a_live_chat(desk: Helpdesk) -> None:
    await start_as(desk, ALICE, "applicant")
    done = await open_checklist_list(desk, ALICE)
    await say(desk, OPERATOR, "/checkin")
    await say(desk, ALICE, "/human")
    offer = await desk.reply(OPERATOR, lambda m: any(d.startswith("cl:") for d in m.data))
    await desk.press(OPERATOR, offer, offer.data[0])
    await desk.reply(ALICE, lambda m: "Li Na" in m.text)
    await desk.drain(OPERATOR)
    await desk.send(ALICE, "My card is lost, what now?", language_code="en")
    relayed = await desk.reply(OPERATOR, lambda m: "My card is lost" in m.text)  # the person gets it, not the bot
    assert relayed is not None
    await desk.send(ALICE, "the police report", photo=True, language_code="en")
    await desk.reply(OPERATOR, lambda m: m.kind == "photo")
    assert [m for m in await desk.drain(ALICE) if "reissue" in m.text.lower()] == []  # no bot answer meanwhile
    left = await say(desk, ALICE, "/cancel")  # leaves the chat (as the chat said it would), the list with it
    assert not left.text.startswith("Cancelled. You can ask a question")
    assert desk.services.flows.get(ALICE) is None
    stale = await desk.press(ALICE, done, "ckt", forged=True)
    assert stale.text == "This button has expired. Send the command again, or type your question."


async def test_a_reply_about_a_ticket_reaches_it_while_a_checklist_is_open(desk: Helpdesk) -> None:
    await start_as(desk, ALICE, "applicant")
    await file_ticket(desk, ALICE)
    [ticket] = tickets(desk)
    await open_checklist_list(desk, ALICE)
    await say(desk, OPERATOR, f"/reply {ticket.number} Please bring your passport on Monday.")
    notice = await desk.reply(ALICE, lambda m: "passport on Monday" in m.text)
    added = await say(desk, ALICE, "OK, I will come at 10.", reply_to_message_id=notice.message_id)
    assert added.text == f"Added to ticket {ticket.number}."


def test_a_permit_label_keeps_no_control_or_invisible_characters() -> None:
    assert check_label("Tom\u202e B.\x07") == "Tom B."  # a right-to-left override would turn the list around
    with pytest.raises(LabelError) as refused:
        check_label("\u200b\u200b")  # nothing visible
    assert refused.value.problem == LabelProblem.EMPTY


# ----- /reminders: an employment that has already ended ----------------------------------------------------------
async def test_a_permit_added_after_the_employment_ended_is_not_said_to_end_today(
    helpdesk_factory: HelpdeskFactory, clock: Clock
) -> None:
    clock.now = at(2026, 11, 30)  # a Monday
    desk = await helpdesk_factory(helpdesk_alert_seconds=3600, helpdesk_digest_to="none")
    listing = await desk.ask(HR_EN, "/reminders", language_code="en")
    await desk.press(HR_EN, listing, "pa")
    await desk.reply(HR_EN)
    await desk.ask(HR_EN, "Tom B.", language_code="en")
    await desk.ask(HR_EN, "2027-06-30", language_code="en")
    saved = await desk.ask(HR_EN, "Nov 25, 2026", language_code="en")  # he left last Wednesday
    assert saved.text.startswith("Saved.") and (
        "The employment has ended, so the employer must apply to cancel the permit within 10 working days of its "
        "end: by Dec 9, 2026." in saved.text
    )
    assert "before the employment ends, and on the day" not in saved.text
    desk.botapi.mark(HR_EN)
    await run_job(desk)
    [reminder] = [m for m in desk.botapi.unread(HR_EN) if m.text.startswith("⏳")]
    assert reminder.text == (
        "⏳ Permit reminder: the employment of “Tom B.” ended on Nov 25, 2026 (5 days ago). The employer must apply "
        "to cancel the work permit within 10 working days of that day: by Dec 9, 2026 at the latest."
    )
    assert reminder.data == ["te:cancellation", "pl"]


async def test_a_permit_past_its_expiry_shows_as_expired(desk: Helpdesk) -> None:
    await start_as(desk, LI, "employer")
    desk.services.reminders.add(LI, "玛丽亚", date(2026, 4, 30), None, desk.clock())
    desk.services.reminders.add(LI, "汤姆", date(2026, 9, 30), None, desk.clock())
    desk.clock.now = datetime(2026, 5, 6, 10, tzinfo=SHANGHAI)  # not extended in time, nor changed
    listing = await say(desk, LI, "/reminders")
    assert listing.labels[:2] == ["汤姆 · 2026年9月30日到期", "玛丽亚 · 已于2026年4月30日过期"]  # the past one last
    await desk.press(LI, listing, listing.data[1])
    view = await desk.reply(LI, lambda m: m.text.startswith("工作许可：玛丽亚"))
    assert "这份工作许可已过期，不再提醒。" in view.text and "到期前" not in view.text


# ----- Chinese sentences run on without a space --------------------------------------------------------------
async def test_a_gap_accepted_in_chinese_reads_without_a_space_between_sentences(desk: Helpdesk) -> None:
    await start_as(desk, ALICE, "applicant")
    await say(desk, ALICE, STOLEN)
    await say(desk, OPERATOR2, "/gaps")
    card = await desk.reply(OPERATOR2, is_gap_card)
    await desk.press(OPERATOR2, card, card.data[0])
    done = await desk.reply(OPERATOR2, lambda m: m.text.startswith("已采纳"))
    assert "备选问法。维护人员" in done.text and "。 " not in done.text


async def test_the_checklist_shows_an_ampersand_once_escaped(desk: Helpdesk, monkeypatch: pytest.MonkeyPatch) -> None:
    import handlers.checklist

    original = handlers.checklist.checklist_text
    monkeypatch.setattr(
        handlers.checklist, "checklist_text", lambda checklist, lang: original(checklist, lang) + "\nR&D <lab>"
    )  # a knowledge base whose source is "Science & Technology Bureau" (none in ours yet)
    await start_as(desk, ALICE, "employer")
    done = await checklist_list(desk, ALICE, "reissue", "default")
    assert done.text.endswith("\nR&D <lab>")  # not "R&amp;D &lt;lab&gt;"


async def test_a_permit_left_half_added_does_not_take_the_first_message_of_a_live_chat(desk: Helpdesk) -> None:
    await start_as(desk, ALICE, "applicant")
    listing = await say(desk, ALICE, "/reminders")
    assert "pa" in listing.data
    await desk.press(ALICE, listing, "pa")  # "Add a permit": the bot asks for a label ...
    await desk.drain(ALICE)  # ... and the user goes to ask a person instead
    await say(desk, OPERATOR, "/checkin")
    await say(desk, ALICE, "/human")
    offer = await desk.reply(OPERATOR, lambda m: any(d.startswith("cl:") for d in m.data))
    await desk.press(OPERATOR, offer, offer.data[0])
    await desk.reply(ALICE, lambda m: "Li Na" in m.text)
    await desk.drain(OPERATOR)
    await desk.send(ALICE, "Zhang Wei's permit runs out soon", language_code="en")
    relayed = await desk.reply(OPERATOR, lambda m: "Zhang Wei's permit runs out soon" in m.text)
    assert relayed is not None  # the person gets it: it did not become a permit's label
    assert desk.services.flows.get(ALICE) is None
    assert desk.services.reminders.watches(ALICE) == []
