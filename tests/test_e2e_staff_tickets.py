"""End to end through the real Application: the staff side of tickets (issue 14).

Staff open every photo and document of a ticket (2); staff on duty, else the supervisors, and the staff chat
are told of each new ticket however it came (4); a bad-rating alert says who to call back and about what (9);
the staff view shows who filed, who has it and its history, and replies are signed by name (10); one word
per status everywhere, and no due date on a closed ticket (13).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from bot.answering.text import Lang
from bot.desk.tickets.common import KIND_LABELS, STATUS_LABELS
from bot.i18n import translator
from bot.store.models import Ticket, TicketMessage
from tests.botapi import SentMessage
from tests.telegram_fixtures import Helpdesk, HelpdeskFactory

SH = ZoneInfo("Asia/Shanghai")
ALICE, LI, BOB = 5001, 5002, 5003
OPERATOR, OPERATOR2, SUPERVISOR = 6001, 6002, 6003
STAFF_CHAT = -100500
CLIENT = {ALICE: "en", LI: "zh-hans", BOB: "en", OPERATOR: "en", OPERATOR2: "zh-hans", SUPERVISOR: "en"}
NAMES = {ALICE: "Alice", LI: "Li", BOB: "Bob"}
DESCRIPTION = "My employer changed its address. Do I need to update my work permit?"
EXPIRED = "This button has expired. Send the command again, or type your question."
pytestmark = pytest.mark.usefixtures("no_errors")


def _(lang: Lang, message: str) -> str:
    return translator(lang).gettext(message)


async def say(desk: Helpdesk, user: int, text: str = "", **kwargs: object) -> SentMessage:
    """The user writes *text* (from their client's language); the bot's first reply."""
    return await desk.ask(user, text, language_code=CLIENT[user], first_name=NAMES.get(user), **kwargs)  # type: ignore[arg-type]


def new_ticket_notice(message: SentMessage) -> bool:
    return bool(message.data) and message.data[0].startswith("sv:")


async def make_desk(factory: HelpdeskFactory, **settings: object) -> Helpdesk:
    """Two operators (Li Na in English, Zhang Wei in Chinese), a supervisor (Wang Fang), all of whom have
    started the bot, and the staff group chat the bot is a member of."""
    desk = await factory(helpdesk_staff_chat=STAFF_CHAT, **settings)
    now = desk.clock()
    desk.services.staff.add(OPERATOR, "operator", "Li Na", now)
    desk.services.staff.add(OPERATOR2, "operator", "Zhang Wei", now)
    desk.services.staff.add(SUPERVISOR, "supervisor", "Wang Fang", now)
    desk.botapi._user(STAFF_CHAT, "Staff room", None)  # the group exists: the bot may write to it
    for member in (OPERATOR, OPERATOR2, SUPERVISOR):
        await desk.send(member, "/start", language_code=CLIENT[member])
    await desk.settle()
    for member in (OPERATOR, OPERATOR2, SUPERVISOR, STAFF_CHAT):
        desk.botapi.mark(member)
    return desk


@pytest.fixture
async def desk(helpdesk_factory: HelpdeskFactory) -> Helpdesk:
    return await make_desk(helpdesk_factory)


async def start_as(desk: Helpdesk, user: int, role: str) -> None:
    """/start, then the role button (applicant or employer HR contact)."""
    await say(desk, user, "/start")
    roles = await desk.reply(user, lambda m: any(d.startswith("role:") for d in m.data))
    await desk.press(user, roles, f"role:{role}")
    desk.botapi.mark(user)


async def file_ticket(
    desk: Helpdesk, user: int, kind: str = "enquiry", description: str = DESCRIPTION, contact: str | None = None
) -> Ticket:
    """/ticket → type → description → contact (or skip) → skip reference → submit; the ticket filed."""
    prompt = await say(desk, user, "/ticket")
    await desk.press(user, prompt, f"tk:{kind}")
    await desk.reply(user)
    ask_contact = await say(desk, user, description)
    if contact is None:
        await desk.press(user, ask_contact, "ts:contact")
        ask_reference = await desk.reply(user)
    else:
        ask_reference = await say(desk, user, contact)
    await desk.press(user, ask_reference, "ts:reference")
    summary = await desk.reply(user)
    await desk.press(user, summary, "tok")
    assert (await desk.reply(user)).data == ["ml"]  # "Your ticket number is …"
    return tickets(desk)[-1]


def tickets(desk: Helpdesk) -> list[Ticket]:
    with Session(desk.services.engine) as session:
        return list(session.exec(select(Ticket).order_by(col(Ticket.id))))


def ticket_files(desk: Helpdesk, ticket_id: int) -> list[TicketMessage]:
    with Session(desk.services.engine) as session:
        query = select(TicketMessage).where(
            TicketMessage.ticket_id == ticket_id, col(TicketMessage.file_id).is_not(None)
        )
        return list(session.exec(query.order_by(col(TicketMessage.id))))


async def add_file(desk: Helpdesk, user: int, ticket: Ticket, caption: str, **kind: object) -> int:
    """The owner adds a photo or document to their ticket (/mytickets → the ticket → Add a message); the
    message id of the file in their chat."""
    mine = await say(desk, user, "/mytickets")
    await desk.press(user, mine, f"mt:{ticket.id}")
    own = await desk.reply(user, lambda m: f"mtm:{ticket.id}" in m.data)
    await desk.press(user, own, f"mtm:{ticket.id}")
    await desk.reply(user)  # "Send your message for ticket …"
    sent = await desk.send(user, caption, language_code=CLIENT[user], **kind)  # type: ignore[arg-type]
    assert (await desk.reply(user)).text == _("en", "Added to ticket {number}.").format(number=ticket.number)
    return sent


async def open_view(desk: Helpdesk, member: int, number: str) -> SentMessage:
    """/t NUMBER: the staff view's last message (the one with the buttons)."""
    await desk.send(member, f"/t {number}", language_code=CLIENT[member])
    return await desk.reply(member, lambda m: any(d.startswith("sa:") for d in m.data))


# ----- 2: staff open every photo and document of a ticket -----------------------------------------------------
async def test_staff_receive_every_photo_and_document_of_a_ticket(desk: Helpdesk) -> None:
    ticket = await file_ticket(desk, ALICE)
    document = await add_file(desk, ALICE, ticket, "这是窗口给的补正通知", document=True, file_name="notice.pdf")
    photo = await add_file(desk, ALICE, ticket, "the rejection page", photo=True)
    assert (await say(desk, OPERATOR, f"/reply {ticket.number} Please see the stamped form.")).text.startswith("Reply")
    await desk.reply(ALICE)
    await desk.send(OPERATOR, f"/t {ticket.number}", language_code="en")
    view = await desk.reply(OPERATOR, lambda m: any(d.startswith("sa:") for d in m.data))
    await desk.press(OPERATOR, view, f"sa:reply:{ticket.id}")
    await desk.reply(OPERATOR)
    stamped = await desk.send(OPERATOR, "Stamped form", photo=True, language_code="en")
    await desk.reply(OPERATOR)  # "Reply sent …"

    files = ticket_files(desk, ticket.id)
    assert [f.file_kind for f in files] == ["document", "photo", "photo"]
    view = await open_view(desk, OPERATOR, ticket.number)
    assert "User · " in view.text and "📎1 [document] notice.pdf\n这是窗口给的补正通知" in view.text
    assert "📎2 [photo]\nthe rejection page" in view.text and "📎3 [photo]\nStamped form" in view.text
    file_buttons = [(label, data) for row in view.buttons for label, data in row if data and data.startswith("sf:")]
    assert file_buttons == [
        ("📎1 document", f"sf:{ticket.id}:{files[0].id}"),
        ("📎2 photo", f"sf:{ticket.id}:{files[1].id}"),
        ("📎3 photo", f"sf:{ticket.id}:{files[2].id}"),
    ]

    # each button sends that very file to the member of staff, by its file id, saying whose it is
    sources = [
        desk.botapi.file_of(ALICE, document),
        desk.botapi.file_of(ALICE, photo),
        desk.botapi.file_of(OPERATOR, stamped),
    ]
    for (_label, data), source, kind, who in zip(
        file_buttons, sources, ("document", "photo", "photo"), ("User", "User", "Li Na"), strict=True
    ):
        answer = await desk.press(OPERATOR, view, data or "")
        assert not answer.text
        sent = await desk.reply(OPERATOR, lambda m: m.kind in ("photo", "document"))
        assert (sent.kind, sent.file_id) == (kind, source)
        assert sent.caption is not None and sent.caption.startswith(f"{ticket.number} · ")
        assert f" · {who} · " in sent.caption
    assert (sent.caption or "").startswith(f"{ticket.number} · 📎3 photo · Li Na · ")

    # in Chinese the buttons' labels are translated
    zh_view = await open_view(desk, OPERATOR2, ticket.number)
    assert zh_view.labels[:3] == ["📎1 文件", "📎2 照片", "📎3 照片"]


async def test_a_forged_or_stale_attachment_button_has_expired(desk: Helpdesk) -> None:
    ticket = await file_ticket(desk, ALICE)
    await add_file(desk, ALICE, ticket, "scan", document=True)
    other = await file_ticket(desk, BOB, description="Another matter entirely, with a file of its own.")
    await add_file(desk, BOB, other, "bob's scan", photo=True)
    mine, bobs = ticket_files(desk, ticket.id)[0], ticket_files(desk, other.id)[0]
    view = await open_view(desk, OPERATOR, ticket.number)
    assert f"sf:{ticket.id}:{mine.id}" in view.data
    desk.botapi.mark(OPERATOR)
    for forged in (
        f"sf:{ticket.id}:{bobs.id}",  # another ticket's file under this ticket's id
        f"sf:{other.id}:{mine.id}",
        f"sf:{ticket.id}:99999",
        f"sf:{ticket.id}:¹",
        f"sf:{ticket.id}",
    ):
        answer = await desk.press(OPERATOR, view, forged, forged=True)
        assert (answer.text, answer.show_alert) == (EXPIRED, True), forged
    # a message without a file
    note = await say(desk, OPERATOR, f"/note {ticket.number} checked the scan")
    assert note.text.startswith("Note added")
    with Session(desk.services.engine) as session:
        noted = session.exec(select(TicketMessage).where(TicketMessage.kind == "note")).one()
    assert (await desk.press(OPERATOR, view, f"sf:{ticket.id}:{noted.id}", forged=True)).text == EXPIRED
    assert await desk.drain(OPERATOR) == []
    # not staff: refused, and nothing is sent
    mine_list = await say(desk, ALICE, "/mytickets")
    refused = await desk.press(ALICE, mine_list, f"sf:{ticket.id}:{mine.id}", forged=True)
    assert refused.text == "Sorry, this is only for helpdesk staff." and refused.show_alert
    assert await desk.drain(ALICE) == []


# ----- 4: staff are told of every new ticket ---------------------------------------------------------------------
async def test_a_new_ticket_goes_to_the_supervisors_when_nobody_is_on_duty_and_to_the_staff_chat(
    desk: Helpdesk,
) -> None:
    ticket = await file_ticket(desk, ALICE)
    expected = "🆕 New ticket T2603-0001 · Enquiry (咨询) · due Mar 5, 2026\nfiled by the user"
    notice = await desk.reply(SUPERVISOR, new_ticket_notice)
    assert (notice.text, notice.data, notice.labels) == (expected, [f"sv:{ticket.id}"], ["Open"])
    group = await desk.reply(STAFF_CHAT, new_ticket_notice)
    assert (group.text, group.data) == (expected, [f"sv:{ticket.id}"])
    assert await desk.drain(OPERATOR) == [] and await desk.drain(OPERATOR2) == []  # not on duty
    # Open shows the ticket to the member of staff who pressed it
    await desk.press(SUPERVISOR, notice, f"sv:{ticket.id}")
    view = await desk.reply(SUPERVISOR)
    assert view.text.startswith("T2603-0001 · Enquiry (咨询) · new · due Mar 5, 2026") and DESCRIPTION in view.text
    assert f"sa:take:{ticket.id}" in view.data


async def test_a_new_ticket_goes_to_the_operators_on_duty(desk: Helpdesk) -> None:
    assert "You are checked in." in (await say(desk, OPERATOR, "/checkin")).text
    await say(desk, OPERATOR2, "/checkin")
    desk.botapi.mark(OPERATOR2)
    ticket = await file_ticket(desk, LI, kind="complaint", description="窗口工作人员态度很差，材料也没有收。")
    first = await desk.reply(OPERATOR, new_ticket_notice)
    assert first.text == "🆕 New ticket T2603-0001 · Complaint (投诉) · due Mar 24, 2026\nfiled by the user"
    second = await desk.reply(OPERATOR2, new_ticket_notice)
    assert second.text == _("zh", "🆕 New ticket {number} · {kind} · due {due}\n{origin}").format(
        number=ticket.number,
        kind=_("zh", KIND_LABELS["complaint"]),
        due="2026年3月24日",
        origin=_("zh", "filed by the user"),
    )
    assert second.labels == [_("zh", "Open")] and second.data == [f"sv:{ticket.id}"]
    assert await desk.drain(SUPERVISOR) == []  # someone is on duty
    assert [m.text for m in await desk.drain(STAFF_CHAT)] == [first.text]


async def test_a_message_left_out_of_hours_is_announced(helpdesk_factory: HelpdeskFactory) -> None:
    desk = await make_desk(helpdesk_factory, helpdesk_hours="profile")
    desk.clock.now = datetime(2026, 3, 7, 20, 0, tzinfo=SH)  # a Saturday evening
    closed = await say(desk, ALICE, "/human")
    await desk.press(ALICE, closed, closed.data[0])  # leave a message
    await desk.reply(ALICE)
    ask_contact = await say(desk, ALICE, "Please call me back about my cancelled permit.")
    await desk.press(ALICE, ask_contact, "ts:contact")
    await desk.press(ALICE, await desk.reply(ALICE), "ts:reference")
    await desk.press(ALICE, await desk.reply(ALICE), "tok")
    [ticket] = tickets(desk)
    notice = await desk.reply(SUPERVISOR, new_ticket_notice)
    due = translator("en").date(ticket.due_at)
    assert notice.text == (
        f"🆕 New ticket {ticket.number} · Help request (求助) · due {due}\na message left outside office hours"
    )
    assert notice.data == [f"sv:{ticket.id}"]


async def test_a_live_chat_turned_into_a_ticket_is_announced_to_the_others(desk: Helpdesk) -> None:
    for member in (OPERATOR, OPERATOR2):
        await say(desk, member, "/checkin")
        desk.botapi.mark(member)
    await say(desk, ALICE, "/human")
    offer = await desk.reply(OPERATOR, lambda m: any(d.startswith("cl:") for d in m.data))
    await desk.press(OPERATOR, offer, offer.data[0])
    await desk.reply(ALICE, lambda m: "Li Na" in m.text)
    await desk.send(ALICE, "My application was rejected and I don't know why", language_code="en")
    await desk.reply(OPERATOR, lambda m: "rejected" in m.text)
    assert "assigned to you" in (await say(desk, OPERATOR, "/toticket")).text
    [ticket] = tickets(desk)
    told = await desk.reply(OPERATOR2, new_ticket_notice)
    assert told.text.startswith(_("zh", "🆕 New ticket {number} · {kind} · due {due}\n{origin}")[:6])
    assert told.text.endswith(_("zh", "a live chat recorded as a ticket")) and told.data == [f"sv:{ticket.id}"]
    assert [m for m in await desk.drain(OPERATOR) if new_ticket_notice(m)] == []  # they made it: not told
    assert await desk.drain(SUPERVISOR) == []


# ----- 9: a bad-rating alert can be acted on --------------------------------------------------------------------
async def test_a_bad_rating_of_a_ticket_says_who_to_call_and_opens_the_ticket(desk: Helpdesk) -> None:
    await start_as(desk, ALICE, "applicant")
    ticket = await file_ticket(desk, ALICE, contact="alice@example.com")
    await desk.drain(SUPERVISOR)
    assert (await say(desk, OPERATOR, f"/close {ticket.number} Explained the rules.")).text.startswith("Ticket")
    closed = await desk.reply(ALICE, lambda m: any(d.startswith("rt:") for d in m.data))
    await desk.press(ALICE, closed, f"rt:t:{ticket.id}:5")
    alert = await desk.reply(SUPERVISOR, lambda m: "Bad rating" in m.text)
    assert alert.text == (
        f"⚠️ Bad rating: Very dissatisfied (非常不满意) for ticket {ticket.number}. Please call back and follow up.\n"
        f"User: Alice · English · applicant · id {ALICE}\n"
        "Contact: alice@example.com"
    )
    assert (alert.labels, alert.data) == (
        ["Open", "Take the call-back", "Record the call-back"],
        [f"sv:{ticket.id}", "fut:1", "fur:1"],
    )
    await desk.press(SUPERVISOR, alert, f"sv:{ticket.id}")
    view = await desk.reply(SUPERVISOR)
    assert view.text.startswith(f"{ticket.number} · Enquiry (咨询) · closed") and "Explained the rules." in view.text


async def test_a_bad_rating_of_a_live_chat_quotes_its_last_messages(desk: Helpdesk) -> None:
    await say(desk, OPERATOR, "/checkin")
    await say(desk, LI, "/human")
    offer = await desk.reply(OPERATOR, lambda m: any(d.startswith("cl:") for d in m.data))
    await desk.press(OPERATOR, offer, offer.data[0])
    await desk.reply(LI, lambda m: "Li Na" in m.text)
    await desk.send(LI, "我的工作许可证丢了，怎么办？", language_code="zh-hans", first_name="Li")
    await desk.reply(OPERATOR, lambda m: "工作许可证" in m.text)
    await desk.send(OPERATOR, "Please apply for a replacement online.", language_code="en")
    await desk.reply(LI, lambda m: "replacement" in m.text)
    await say(desk, OPERATOR, "/end unresolved")
    rating = await desk.reply(LI, lambda m: any(d.startswith("rt:s:") for d in m.data))
    await desk.press(LI, rating, rating.data[3])  # 不满意
    alert = await desk.reply(SUPERVISOR, lambda m: "Bad rating" in m.text)
    assert alert.text == (
        "⚠️ Bad rating: Dissatisfied (不满意) for live chat #1. Please call back and follow up.\n"
        f"User: Li · Chinese · role not given · id {LI}\n"
        "Contact: none given (reach them in Telegram)\n"
        "\n"
        "Last messages:\n"
        "User: 我的工作许可证丢了，怎么办？\n"
        "Staff: Please apply for a replacement online."
    )
    assert alert.data == ["fut:1", "fur:1"]  # the transcript is the context; no ticket to open, a call-back to make


# ----- 10: the staff view, and replies signed by name ------------------------------------------------------------
async def test_the_staff_view_shows_who_filed_who_has_it_and_its_history(desk: Helpdesk) -> None:
    await start_as(desk, ALICE, "employer")
    ticket = await file_ticket(desk, ALICE, contact="+86 138 0013 8000")
    view = await open_view(desk, OPERATOR, ticket.number)
    assert "Filed by: Alice · English · employer HR contact" in view.text
    assert "Assigned to: nobody yet" in view.text and "Contact: +8613800138000" in view.text
    await desk.press(OPERATOR, view, f"sa:take:{ticket.id}")
    await desk.reply(OPERATOR)
    await say(desk, OPERATOR, f"/note {ticket.number} Called the office.")
    await say(desk, OPERATOR, f"/reply {ticket.number} No update is needed.")
    reply = await desk.reply(ALICE)
    assert reply.text == f"Reply to your ticket {ticket.number} from Li Na:\nNo update is needed."
    reassign = await open_view(desk, SUPERVISOR, ticket.number)
    await desk.press(SUPERVISOR, reassign, f"sa:reassign:{ticket.id}")
    people = await desk.reply(SUPERVISOR)
    await desk.press(SUPERVISOR, people, f"sr:{ticket.id}:{OPERATOR2}")
    await desk.reply(SUPERVISOR)
    desk.clock.advance(hours=2)
    await say(desk, OPERATOR2, f"/close {ticket.number} 已告知无需变更。")

    view = await open_view(desk, OPERATOR, ticket.number)
    assert "Assigned to: Zhang Wei" in view.text
    history = view.text.split("\nHistory:\n", 1)[1].splitlines()
    assert [line.split(" · ", 1)[1] for line in history] == [
        "filed: filed by the user",
        "taken by Li Na",
        "internal note by Li Na",
        "replied by Li Na",
        "assigned to Zhang Wei by Wang Fang",
        "closed by Zhang Wei",
    ]
    assert history[0].startswith("• Mar 3, 2026") and history[-1].startswith("• Mar 3, 2026, 12:00")
    assert "Internal note · Li Na" in view.text and "\nLi Na · Mar 3, 2026" in view.text  # the reply, signed
    # the same in Chinese for a Chinese member of staff
    zh_view = await open_view(desk, OPERATOR2, ticket.number)
    assert "提交人：Alice · 英文 · 用人单位经办人" in zh_view.text and "承办人：Zhang Wei" in zh_view.text
    assert "办理记录：" in zh_view.text and "Zhang Wei 办结" in zh_view.text

    # the user sees the reply signed by the member of staff, never the internal note
    await desk.send(ALICE, "/mytickets", language_code="en")
    mine = await desk.reply(ALICE, lambda m: f"mt:{ticket.id}" in m.data)
    await desk.press(ALICE, mine, f"mt:{ticket.id}")
    own = await desk.reply(ALICE, lambda m: m.text.startswith(ticket.number))
    assert "\nLi Na · Mar 3, 2026" in own.text and "Helpdesk" not in own.text
    assert "Called the office" not in own.text and "History" not in own.text


# ----- 13: one word per status; a closed ticket shows when it was closed -------------------------------------------
@pytest.mark.parametrize(("user", "member", "lang"), [(ALICE, OPERATOR, "en"), (LI, OPERATOR2, "zh")])
async def test_one_status_word_everywhere_and_no_due_date_once_closed(
    desk: Helpdesk, user: int, member: int, lang: Lang
) -> None:
    ticket = await file_ticket(desk, user)
    closed_word = _(lang, STATUS_LABELS["closed"])
    listing = await say(desk, member, "/tickets")
    assert listing.labels[0].startswith(f"{ticket.number} · {_(lang, KIND_LABELS['enquiry'])} · {_(lang, 'new')}")
    assert listing.labels[-4:] == ["• " + _(lang, "open"), _(lang, "new"), _(lang, "overdue"), _(lang, "mine")]
    desk.clock.advance(days=1)
    await say(desk, member, f"/close {ticket.number} Done.")
    notice = await desk.reply(user, lambda m: any(d.startswith("rt:") for d in m.data))
    assert closed_word in notice.text  # the notice says closed with the list's word

    day = translator(lang).date(desk.clock())
    shown = _(lang, "{number} · {kind} · {status} on {date}").format(
        number=ticket.number, kind=_(lang, KIND_LABELS["enquiry"]), status=closed_word, date=day
    )
    mine = await say(desk, user, "/mytickets")
    assert mine.labels == [shown]
    closed_list = await say(desk, member, "/tickets closed")
    assert closed_list.labels[0] == shown
    view = await open_view(desk, member, ticket.number)
    assert view.text.startswith(shown + "\n") and {"en": " due ", "zh": "到期"}[lang] not in view.text
    assert _(lang, "Closed: {when}").format(when=translator(lang).datetime(desk.clock())) in view.text
    if lang == "en":
        assert shown == "T2603-0001 · Enquiry (咨询) · closed on Mar 4, 2026"
    else:
        assert shown.endswith("2026年3月4日已办结") and "已关闭" not in notice.text + shown
