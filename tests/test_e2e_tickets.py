"""End to end through the real Application: filing a ticket, staff working it, closing, 好差评 rating.

Also: every staff command and button is refused to non-staff, one user cannot reach another's ticket,
a restart in the middle of filing resumes it, and odd input at each step gets a clear answer.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.answering.text import Lang
from bot.desk.ratings import LEVEL_LABELS
from bot.desk.tickets.common import KIND_LABELS, KINDS
from bot.desk.tickets.filing import FilingStanding
from bot.i18n import translator
from bot.store.models import AuditLog, Ticket, TicketMessage
from tests.botapi import SentMessage
from tests.telegram_fixtures import Helpdesk, HelpdeskFactory

EXPIRED = "This button has expired. Send the command again, or type your question."

ALICE, LI, BOB = 1001, 1002, 1003
OPERATOR, SUPERVISOR = 2001, 2002
CLIENT = {ALICE: "en", LI: "zh-hans", BOB: "en", OPERATOR: "en", SUPERVISOR: "en"}
EMOJI_HEAVY = "Help " + "😀" * 1995
"""2,000 characters (the limit) but 3,995 UTF-16 code units."""
DESCRIPTION = "My employer changed its address. Do I need to update my work permit?"
pytestmark = pytest.mark.usefixtures("no_errors")


def _(lang: Lang, message: str) -> str:
    return translator(lang).gettext(message)


async def say(desk: Helpdesk, user: int, text: str = "", **kwargs: object) -> SentMessage:
    """The user writes *text* (from their client's language); the bot's first reply."""
    return await desk.ask(user, text, language_code=CLIENT[user], **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def desk(helpdesk_factory: HelpdeskFactory) -> Helpdesk:
    """A helpdesk with a supervisor (from HELPDESK_SUPERVISORS) and an operator, both of whom have /start-ed."""
    desk = await helpdesk_factory(helpdesk_supervisors=str(SUPERVISOR))
    desk.services.staff.add(OPERATOR, "operator", "Li Na", desk.clock(), SUPERVISOR)
    for member in (OPERATOR, SUPERVISOR):
        await desk.send(member, "/start", language_code="en")
    await desk.settle()
    for member in (OPERATOR, SUPERVISOR):
        desk.botapi.mark(member)
    return desk


def tickets(desk: Helpdesk) -> list[Ticket]:
    with Session(desk.services.engine) as session:
        return list(session.exec(select(Ticket).order_by(Ticket.id)))


def ticket_messages(desk: Helpdesk, ticket_id: int) -> list[TicketMessage]:
    with Session(desk.services.engine) as session:
        return list(session.exec(select(TicketMessage).where(TicketMessage.ticket_id == ticket_id)))


def audit_actions(desk: Helpdesk) -> list[str]:
    with Session(desk.services.engine) as session:
        return [a.action for a in session.exec(select(AuditLog).order_by(AuditLog.id))]


async def file_ticket(
    desk: Helpdesk, user: int, lang: Lang = "en", kind: str = "enquiry", description: str = DESCRIPTION
) -> SentMessage:
    """/ticket → type → description → skip contact → skip reference → submit; the confirmation."""
    prompt = await say(desk, user, "/ticket")
    assert prompt.text == _(lang, "What kind of ticket is it?")
    assert prompt.data == [f"tk:{k}" for k in KINDS] + ["tx"]
    assert prompt.labels[:-1] == [_(lang, KIND_LABELS[k]) for k in KINDS]
    await desk.press(user, prompt, f"tk:{kind}")
    assert desk.botapi.buttons(prompt) == []
    ask_description = await desk.reply(user)
    assert ask_description.text.startswith(
        _(
            lang,
            "Please describe the matter in one message (at most {limit} "
            "characters). You can add documents or photos after filing.",
        ).format(limit=2000)[:20]
    )
    ask_contact = await say(desk, user, description)
    assert ask_contact.text == _(lang, "Optional: a phone number or e-mail address where staff can reach you.")
    assert ask_contact.data == ["ts:contact", "tx"]
    await desk.press(user, ask_contact, "ts:contact")
    ask_reference = await desk.reply(user)
    assert ask_reference.text == _(lang, "Optional: your application or permit number, if you have one.")
    await desk.press(user, ask_reference, "ts:reference")
    summary = await desk.reply(user)
    assert summary.text.startswith(_(lang, "Please check your ticket:"))
    assert description in summary.text and summary.data == ["tok", "tre", "tx"]
    assert summary.entities[0]["type"] == "bold"
    await desk.press(user, summary, "tok")
    filed = await desk.reply(user)
    assert filed.data == ["ml"]
    # nobody is checked in: the supervisor is told the ticket arrived (tests/test_e2e_staff_tickets.py)
    await desk.reply(SUPERVISOR, lambda m: m.data[:1] != [] and m.data[0].startswith("sv:"))
    return filed


# ----- the whole path -----------------------------------------------------------------------------------------
async def test_ticket_from_filing_to_bad_rating(desk: Helpdesk) -> None:
    botapi = desk.botapi
    filed = await file_ticket(desk, ALICE)
    [ticket] = tickets(desk)
    assert (ticket.number, ticket.kind, ticket.status, ticket.user_id) == ("T2603-0001", "enquiry", "new", ALICE)
    # an enquiry is due in 2 working days: Tuesday 3 March 2026 → Thursday 5 March
    due = translator("en").date(ticket.due_at)
    assert due == "Mar 5, 2026"
    assert filed.text == (
        f"Thank you. Your ticket number is T2603-0001. We will answer by {due} (Beijing time). "
        "You can follow it with /mytickets."
    )
    assert desk.services.flows.get(ALICE) is None

    # the operator lists, opens and takes it
    listing = await say(desk, OPERATOR, "/tickets")
    assert listing.text.startswith("Tickets “open” (1), earliest due first.")
    assert listing.data == [f"sv:{ticket.id}", "sl:open", "sl:new", "sl:overdue", "sl:mine"]
    assert listing.labels[0].startswith("T2603-0001 · Enquiry (咨询) · new")
    await desk.press(OPERATOR, listing, f"sv:{ticket.id}")
    detail = await desk.reply(OPERATOR)
    assert DESCRIPTION in detail.text and "Contact: none" in detail.text
    assert detail.data == [f"sa:{a}:{ticket.id}" for a in ("take", "reply", "note", "kind", "reassign", "close")]
    taken = await desk.press(OPERATOR, detail, f"sa:take:{ticket.id}")
    assert taken.text == "Ticket T2603-0001 is yours."
    assert "in progress" in (await desk.reply(OPERATOR)).text
    assert (tickets(desk)[0].status, tickets(desk)[0].assignee_id) == ("in_progress", OPERATOR)

    # an internal note, then a reply the user receives
    await desk.press(OPERATOR, detail, f"sa:note:{ticket.id}")
    assert (await desk.reply(OPERATOR)).text.startswith("Type an internal note for T2603-0001")
    assert (await say(desk, OPERATOR, "Called the office: no update needed.")).text == "Note added to T2603-0001."
    await desk.press(OPERATOR, detail, f"sa:reply:{ticket.id}")
    assert (await desk.reply(OPERATOR)).text.startswith("Type your reply to the user for T2603-0001")
    sent = await say(desk, OPERATOR, "No update is needed for an address change <within the same city> & district.")
    assert sent.text == "Reply sent to the user of T2603-0001."
    reply = await desk.reply(ALICE)
    assert reply.text == (
        "Reply to your ticket T2603-0001 from Li Na:\n"
        "No update is needed for an address change <within the same city> & district."
    )
    assert reply.data == [f"mtm:{ticket.id}", f"mtc:{ticket.id}"]
    assert tickets(desk)[0].status == "answered"

    # the user's view never shows the internal note
    mine = await say(desk, ALICE, "/mytickets")
    assert mine.text == "Your tickets:" and mine.data == [f"mt:{ticket.id}"]
    await desk.press(ALICE, mine, f"mt:{ticket.id}")
    own = await desk.reply(ALICE)
    assert "No update is needed" in own.text and "Called the office" not in own.text
    assert own.data == [f"mtm:{ticket.id}", f"mtc:{ticket.id}"]

    # closing with a resolution asks the user for a rating
    await desk.press(OPERATOR, detail, f"sa:close:{ticket.id}")
    assert (await desk.reply(OPERATOR)).text.startswith("Type the resolution for T2603-0001")
    closed = await say(desk, OPERATOR, "Answered: no change needed.")
    assert closed.text == "Ticket T2603-0001 closed; the user has been asked for a rating."
    notice = await desk.reply(ALICE)
    assert notice.text.startswith("Your ticket T2603-0001 is closed.\nResolution: Answered: no change needed.")
    assert notice.labels == [LEVEL_LABELS[level] for level in (1, 2, 3, 4, 5)]
    assert notice.data == [f"rt:t:{ticket.id}:{level}" for level in (1, 2, 3, 4, 5)]
    assert tickets(desk)[0].status == "closed"

    # 不满意: the supervisor is alerted at once, and again with the user's comment
    thanks = await desk.click(ALICE, notice, "不满意")
    assert thanks.text == "Thank you for rating!"
    assert botapi.buttons(notice) == []
    sorry = await desk.reply(ALICE)
    assert sorry.text.startswith("We are sorry. A supervisor will follow up with you.") and sorry.data == ["rtx"]
    alert = await desk.reply(SUPERVISOR)
    assert alert.text == (
        "⚠️ Bad rating: Dissatisfied (不满意) for ticket T2603-0001. Please call back and follow up.\n"
        f"User: User{ALICE} · English · role not given · id {ALICE}\n"
        "Contact: none given (reach them in Telegram)"
    )
    assert alert.data == [f"sv:{ticket.id}", "fut:1", "fur:1"]  # open it; take or record the call-back (回访)
    done = await say(desk, ALICE, "Nobody told me <why> & the answer came late.")
    assert done.text == "Thank you. Your comment has been passed to a supervisor."
    with_comment = await desk.reply(SUPERVISOR)
    assert with_comment.text.endswith("\nComment: Nobody told me <why> & the answer came late.")
    rating = desk.services.ratings.of("ticket", ticket.id)
    assert rating is not None and (rating.level, rating.comment) == (4, "Nobody told me <why> & the answer came late.")
    assert botapi.messages(OPERATOR, ("message",))[-1].text == closed.text  # operators are not alerted
    assert audit_actions(desk)[-4:] == ["take", "note", "reply", "close"]
    # a second rating is refused politely
    again = await desk.press(ALICE, notice, f"rt:t:{ticket.id}:1", forged=True)
    assert again.text == "This service has already been rated. Thank you!" and again.show_alert


async def test_chinese_user_files_and_is_answered_in_chinese(desk: Helpdesk) -> None:
    welcome = await say(desk, LI, "/start")
    await desk.reply(LI)
    await desk.press(LI, welcome, "lang:zh")
    desk.botapi.mark(LI)
    filed = await file_ticket(
        desk, LI, "zh", kind="help", description="我的工作许可证丢了，需要补办吗？请告诉我需要什么材料。"
    )
    [ticket] = tickets(desk)
    due = translator("zh").date(ticket.due_at)
    assert filed.text == _(
        "zh",
        "Thank you. Your ticket number is {number}. We will answer by {due} (Beijing time). "
        "You can follow it with /mytickets.",
    ).format(number=ticket.number, due=due)
    assert due == "2026年3月17日"  # help requests: 10 working days
    assert ticket.lang == "zh"
    assert (await say(desk, OPERATOR, f"/reply {ticket.number} 请携带护照原件到窗口办理补办。")).text.startswith(
        "Reply sent"
    )
    reply = await desk.reply(LI)
    assert (
        reply.text
        == _("zh", "Reply to your ticket {number} from {name}:").format(number=ticket.number, name="Li Na")
        + "\n请携带护照原件到窗口办理补办。"
    )
    assert reply.labels == [_("zh", "Reply"), _("zh", "Close ticket")]
    assert (await say(desk, OPERATOR, f"/close {ticket.number} 已答复")).text.startswith("Ticket")
    notice = await desk.reply(LI)
    assert notice.labels == [_("zh", LEVEL_LABELS[level]) for level in (1, 2, 3, 4, 5)]
    assert notice.labels[3] == "不满意"
    assert (await desk.click(LI, notice, "非常满意")).text == _("zh", "Thank you for rating!")
    assert (await desk.reply(LI)).text == _("zh", "Thank you for your rating: {level}.").format(level="非常满意")
    assert await desk.drain(SUPERVISOR) == []  # a good rating alerts nobody


async def test_notices_follow_the_client_language_when_none_was_chosen(desk: Helpdesk) -> None:
    await file_ticket(desk, LI, "zh")
    [ticket] = tickets(desk)
    await say(desk, OPERATOR, f"/reply {ticket.number} 好的")
    reply = await desk.reply(LI)
    assert reply.text.startswith(
        _("zh", "Reply to your ticket {number} from {name}:").format(number=ticket.number, name="Li Na")
    )
    assert desk.services.helpdesk.user(LI).lang_chosen is False  # type: ignore[union-attr]


async def test_staff_quick_commands_and_staff_list(desk: Helpdesk) -> None:
    await file_ticket(desk, ALICE)
    [ticket] = tickets(desk)
    assert (await say(desk, OPERATOR, "/t")).text == "Usage: /t NUMBER"
    assert (await say(desk, OPERATOR, "/t T9999-9999")).text == "No ticket T9999-9999."
    opened = await say(desk, OPERATOR, f"/t {ticket.number.lower()}")
    assert DESCRIPTION in opened.text
    assert (await say(desk, OPERATOR, "/reply")).text == "Usage: /reply NUMBER TEXT"
    assert (await say(desk, OPERATOR, f"/note {ticket.number} checked")).text == f"Note added to {ticket.number}."
    assert (await say(desk, OPERATOR, f"/reply {ticket.number} Yes.")).text.startswith("Reply sent")
    assert (await desk.reply(ALICE)).text.endswith("\nYes.")
    assert (await say(desk, OPERATOR, f"/close {ticket.number} done")).text.startswith("Ticket T2603-0001 closed")
    assert (await desk.reply(ALICE)).data[0] == f"rt:t:{ticket.id}:1"
    assert (await say(desk, OPERATOR, f"/close {ticket.number} again")).text == "This ticket is already closed."
    staff_list = await say(desk, OPERATOR, "/staff")
    assert "Li Na — operator — 2001" in staff_list.text and f"Supervisor {SUPERVISOR} — supervisor" in staff_list.text
    refused = await say(desk, OPERATOR, "/staff add 2003 operator Wang Wei")
    assert refused.text == "Sorry, only supervisors can do this."
    added = await say(desk, SUPERVISOR, "/staff add 2003 operator Wang Wei")
    assert added.text == "Wang Wei (2003) is now operator."
    assert desk.services.staff.get(2003) is not None
    assert (await say(desk, SUPERVISOR, f"/staff remove {SUPERVISOR}")).text == "You cannot remove yourself."
    assert (await say(desk, SUPERVISOR, "/staff remove 2003")).text == "Wang Wei (2003) is no longer staff."
    closed = await say(desk, OPERATOR, "/tickets closed")
    assert closed.data[0] == f"sv:{ticket.id}"
    empty = await desk.press(OPERATOR, closed, "sl:open")
    assert empty.text is None
    assert (await desk.reply(OPERATOR)).text == "No tickets match “open”."


async def test_change_type_and_reassign(desk: Helpdesk) -> None:
    await file_ticket(desk, ALICE)
    [ticket] = tickets(desk)
    detail = await say(desk, OPERATOR, f"/t {ticket.number}")
    await desk.press(OPERATOR, detail, f"sa:kind:{ticket.id}")
    kinds = await desk.reply(OPERATOR)
    assert kinds.data == [f"sk:{ticket.id}:{k}" for k in KINDS]
    await desk.press(OPERATOR, kinds, f"sk:{ticket.id}:complaint")
    assert "Complaint (投诉)" in (await desk.reply(OPERATOR)).text
    changed = tickets(desk)[0]
    assert changed.kind == "complaint" and changed.due_at > ticket.due_at + timedelta(days=7)
    await desk.press(OPERATOR, detail, f"sa:reassign:{ticket.id}")
    people = await desk.reply(OPERATOR)
    assert people.data == [f"sr:{ticket.id}:{SUPERVISOR}", f"sr:{ticket.id}:{OPERATOR}"]
    await desk.press(OPERATOR, people, f"sr:{ticket.id}:{SUPERVISOR}")
    assert (await desk.reply(SUPERVISOR)).text == f"Ticket {ticket.number} has been assigned to you: /t {ticket.number}"
    assert tickets(desk)[0].assignee_id == SUPERVISOR


# ----- who may do what ----------------------------------------------------------------------------------------
STAFF_COMMANDS = [
    "/tickets",
    "/tickets overdue",
    "/t T2603-0001",
    "/t 1",
    "/reply T2603-0001 hello",
    "/note T2603-0001 hello",
    "/close T2603-0001 done",
    "/staff",
    "/staff list",
    "/staff add 1003 supervisor Mallory",
    "/staff remove 2001",
]


@pytest.mark.parametrize("command", STAFF_COMMANDS)
async def test_staff_commands_are_refused_to_users(desk: Helpdesk, command: str) -> None:
    await file_ticket(desk, ALICE)
    refusal = await say(desk, BOB, command)
    assert refusal.text == "Sorry, this is only for helpdesk staff."
    [ticket] = tickets(desk)
    assert (ticket.status, ticket.assignee_id, ticket.resolution) == ("new", None, None)
    assert ticket_messages(desk, ticket.id) == [] and desk.services.staff.get(BOB) is None
    assert await desk.drain(ALICE) == []


async def test_staff_commands_are_refused_in_chinese(desk: Helpdesk) -> None:
    assert (await say(desk, LI, "/tickets")).text == _("zh", "Sorry, this is only for helpdesk staff.")


@pytest.mark.parametrize(
    "data",
    [
        "sl:open",
        "sl:mine",
        "sv:{id}",
        "sa:take:{id}",
        "sa:reply:{id}",
        "sa:note:{id}",
        "sa:close:{id}",
        "sa:kind:{id}",
        "sa:reassign:{id}",
        "sa:reopen:{id}",
        "sk:{id}:complaint",
        f"sr:{{id}}:{BOB}",
    ],
)
async def test_staff_buttons_are_refused_to_users(desk: Helpdesk, data: str) -> None:
    await file_ticket(desk, ALICE)
    [ticket] = tickets(desk)
    mine = await say(desk, BOB, "/mytickets")
    answer = await desk.press(BOB, mine, data.format(id=ticket.id), forged=True)
    assert answer.text == "Sorry, this is only for helpdesk staff." and answer.show_alert
    assert await desk.drain(BOB) == [] and desk.services.flows.get(BOB) is None
    after = tickets(desk)[0]
    assert (after.status, after.kind, after.assignee_id) == ("new", "enquiry", None)


@pytest.mark.parametrize("data", ["mt:{id}", "mtm:{id}", "mtc:{id}", "mtr:{id}", "rt:t:{id}:5"])
async def test_a_user_cannot_reach_someone_elses_ticket(desk: Helpdesk, data: str) -> None:
    await file_ticket(desk, ALICE)
    [ticket] = tickets(desk)
    if data.startswith(("mtr", "rt")):
        await say(desk, OPERATOR, f"/close {ticket.number} done")
        desk.botapi.mark(ALICE)
    mine = await say(desk, BOB, "/mytickets")
    assert mine.text == "You have no tickets. /ticket files one."
    answer = await desk.press(BOB, mine, data.format(id=ticket.id), forged=True)
    assert answer.text == "This button has expired. Send the command again, or type your question."
    assert await desk.drain(BOB) == [] and desk.services.flows.get(BOB) is None
    assert await desk.drain(ALICE) == []
    assert desk.services.ratings.of("ticket", ticket.id) is None
    after = tickets(desk)[0]
    assert after.status == ("closed" if data.startswith(("mtr", "rt")) else "new")


async def test_user_adds_a_photo_and_closes_and_reopens_own_ticket(desk: Helpdesk) -> None:
    await file_ticket(desk, ALICE)
    [ticket] = tickets(desk)
    await say(desk, OPERATOR, f"/reply {ticket.number} Please send a photo of the permit.")
    reply = await desk.reply(ALICE)
    await desk.click(ALICE, reply, "Reply")
    prompt = await desk.reply(ALICE)
    assert prompt.text.startswith("Send your message for ticket T2603-0001")
    photo_message = await desk.send(ALICE, "here it is", photo=True, language_code="en")
    assert (await desk.reply(ALICE)).text == "Added to ticket T2603-0001."
    assert (await desk.reply(OPERATOR)).text.startswith("New message from the user on ticket T2603-0001.")
    [stored] = [m for m in ticket_messages(desk, ticket.id) if m.kind == "user"]
    assert (stored.text, stored.file_kind, stored.file_id) == (
        "here it is",
        "photo",
        desk.botapi.file_of(ALICE, photo_message),
    )
    # the operator answers with that photo: the user receives the reply and the photo itself
    detail = await say(desk, OPERATOR, f"/t {ticket.number}")
    assert "[photo]" in detail.text
    await desk.press(OPERATOR, detail, f"sa:reply:{ticket.id}")
    await desk.reply(OPERATOR)
    stamped = await desk.send(OPERATOR, "Stamped copy", photo=True, language_code="en")
    assert (await desk.reply(OPERATOR)).text.startswith("Reply sent")
    head = await desk.reply(ALICE)
    assert head.text == "Reply to your ticket T2603-0001 from Li Na:\nStamped copy"
    photo = await desk.reply(ALICE)
    assert photo.kind == "photo" and photo.file_id == desk.botapi.file_of(OPERATOR, stamped)
    # close it oneself, then reopen it
    mine = await say(desk, ALICE, "/mytickets")
    await desk.press(ALICE, mine, f"mt:{ticket.id}")
    own = await desk.reply(ALICE)
    await desk.click(ALICE, own, "Close ticket")
    assert (await desk.reply(ALICE)).text == "Ticket T2603-0001 is closed. Thank you!"
    refused = await desk.click(ALICE, own, "Close ticket")
    assert refused.text == "This ticket is already closed." and refused.show_alert
    await desk.press(ALICE, mine, f"mt:{ticket.id}")
    closed_view = await desk.reply(ALICE)
    assert closed_view.data == [f"mtr:{ticket.id}"]
    await desk.press(ALICE, closed_view, f"mtr:{ticket.id}")
    assert (await desk.reply(ALICE)).text.startswith("Ticket T2603-0001 is open again.")
    assert (await desk.reply(OPERATOR)).text == "The user reopened ticket T2603-0001: /t T2603-0001"
    assert tickets(desk)[0].status == "in_progress"


# ----- filing: restarts, cancelling, odd input ------------------------------------------------------------------
async def test_restart_in_the_middle_of_filing_resumes(desk: Helpdesk) -> None:
    prompt = await say(desk, ALICE, "/ticket")
    await desk.press(ALICE, prompt, "tk:complaint")
    ask_description = await desk.reply(ALICE)
    await desk.restart()  # a new process on the same database
    ask_contact = await say(desk, ALICE, "The window refused my documents without giving a reason.")
    assert ask_contact.text.startswith("Optional: a phone number or e-mail address")
    bad = await say(desk, ALICE, "call me maybe")
    assert bad.text == "That doesn't look like a phone number or an e-mail address. Please check it, or skip."
    await say(desk, ALICE, "138 0013 8000")
    await desk.restart()
    summary = await say(desk, ALICE, "WP-2026-0001")
    assert "Contact: +8613800138000" in summary.text and "Application/permit number: WP-2026-0001" in summary.text
    assert "Type: Complaint (投诉)" in summary.text
    # a button from before the restart still works
    await desk.press(ALICE, ask_description, "tx")
    assert (await desk.reply(ALICE)).text == "Cancelled. Nothing was filed."
    assert tickets(desk) == [] and desk.services.flows.get(ALICE) is None
    expired = await desk.press(ALICE, summary, "tok")
    assert expired.text == "This button has expired. Send the command again, or type your question."
    assert tickets(desk) == []


async def test_cancel_leaves_the_flow(desk: Helpdesk) -> None:
    prompt = await say(desk, ALICE, "/ticket")
    await desk.press(ALICE, prompt, "tk:help")
    await desk.reply(ALICE)
    assert (await say(desk, ALICE, "/cancel")).text == "Cancelled. You can ask a question any time."
    assert desk.services.flows.get(ALICE) is None
    answer = await say(desk, ALICE, "how long is the work permit valid")  # a question again, not a description
    assert answer.labels[:2] == ["👍", "👎"]
    assert (await say(desk, ALICE, "/cancel")).text == "There is nothing to cancel."
    assert tickets(desk) == []


async def test_cancel_and_start_over_buttons(desk: Helpdesk) -> None:
    prompt = await say(desk, ALICE, "/ticket")
    await desk.press(ALICE, prompt, "tk:suggestion")
    await desk.reply(ALICE)
    ask_contact = await say(desk, ALICE, "Please open the window on Saturdays as well.")
    await desk.click(ALICE, ask_contact, "Skip")
    await desk.click(ALICE, await desk.reply(ALICE), "Skip")
    summary = await desk.reply(ALICE)
    await desk.press(ALICE, summary, "tre")
    again = await desk.reply(ALICE)
    assert again.text == "What kind of ticket is it?"
    await desk.press(ALICE, again, "tx")
    assert (await desk.reply(ALICE)).text == "Cancelled. Nothing was filed."
    assert tickets(desk) == []


async def test_description_limits_are_stated(desk: Helpdesk) -> None:
    prompt = await say(desk, ALICE, "/ticket")
    await desk.press(ALICE, prompt, "tk:enquiry")
    ask = await desk.reply(ALICE)
    assert "at most 2000 characters" in ask.text
    too_long = await say(desk, ALICE, "x" * 2001)
    assert too_long.text == "That is too long (2001 characters); the limit is 2000. Please shorten it."
    too_short = await say(desk, ALICE, "help")
    assert too_short.text == "Please describe the matter in a little more detail (at least 10 characters)."
    assert desk.services.flows.get(ALICE).step == "description"  # type: ignore[union-attr]
    ok = await say(desk, ALICE, "y" * 2000)
    assert ok.text.startswith("Optional: a phone number")


async def test_description_limit_in_chinese(desk: Helpdesk) -> None:
    prompt = await say(desk, LI, "/ticket")
    await desk.press(LI, prompt, "tk:enquiry")
    await desk.reply(LI)
    too_long = await say(desk, LI, "工" * 2500)
    assert too_long.text == _(
        "zh", "That is too long ({length} characters); the limit is {limit}. Please shorten it."
    ).format(length=2500, limit=2000)


async def test_photo_and_text_at_the_wrong_step(desk: Helpdesk) -> None:
    prompt = await say(desk, ALICE, "/ticket")
    text_instead = await say(desk, ALICE, "I want to complain")
    assert text_instead.text.startswith("You are filing a ticket. Please use the buttons")
    again = await desk.reply(ALICE)
    assert again.data == prompt.data  # the type question again
    await desk.press(ALICE, prompt, "tk:report")
    await desk.reply(ALICE)
    photo = await say(desk, ALICE, "see the picture", photo=True)
    assert photo.text.startswith("Please describe the matter in text first.")
    document = await say(desk, ALICE, document=True)
    assert document.text.startswith("Please describe the matter in text first.")
    assert desk.services.flows.get(ALICE).step == "description"  # type: ignore[union-attr]
    # the repeated type question still has its buttons (only the one pressed loses them): pressing one
    # now must not change the type behind the user's back
    ask_contact = await say(desk, ALICE, "Someone is working without a permit at our company.")
    stale = await desk.click(ALICE, again, "Enquiry")
    assert not stale.text and not stale.show_alert
    repeated = await desk.reply(ALICE)  # where the user is, and that step again
    assert repeated.text == "You are at the step: contact. Here it is again:\n\n" + ask_contact.text
    assert repeated.data == ask_contact.data == ["ts:contact", "tx"]
    filing = desk.services.filing.current(ALICE)
    assert filing is not None and (filing.step, filing.kind) == ("contact", "report")
    assert await desk.drain(ALICE) == []


async def test_an_old_skip_button_does_not_skip_the_next_question(desk: Helpdesk) -> None:
    prompt = await say(desk, ALICE, "/ticket")
    await desk.press(ALICE, prompt, "tk:help")
    await desk.reply(ALICE)
    ask_contact = await say(desk, ALICE, "My application has been pending for three weeks.")
    assert ask_contact.data == ["ts:contact", "tx"]
    ask_reference = await say(desk, ALICE, "alice@example.com")  # typed instead of skipping: now at the reference step
    stale = await desk.press(ALICE, ask_contact, "ts:contact")
    assert not stale.text and not stale.show_alert
    repeated = await desk.reply(ALICE)
    assert repeated.text == "You are at the step: application/permit number. Here it is again:\n\n" + ask_reference.text
    assert repeated.data == ["ts:reference", "tx"]
    filing = desk.services.filing.current(ALICE)
    assert filing is not None and (filing.step, filing.contact) == ("reference", "alice@example.com")


@pytest.mark.parametrize(("user", "lang"), [(ALICE, "en"), (LI, "zh")])
async def test_a_lost_prompt_the_type_button_pressed_again_shows_the_step(
    desk: Helpdesk, user: int, lang: Lang
) -> None:
    """The description question was lost on the way: the user presses a type button again."""
    prompt = await say(desk, user, "/ticket")
    await desk.press(user, prompt, "tk:help")
    ask_description = await desk.reply(user)  # never reached the user's screen
    again = await desk.press(user, prompt, "tk:complaint", forged=True)  # their client still shows the buttons
    assert not again.text and not again.show_alert
    repeated = await desk.reply(user)
    intro = _(lang, "You are at the step: {step}. Here it is again:").format(step=_(lang, "description"))
    assert repeated.text == intro + "\n\n" + ask_description.text
    assert repeated.data == ask_description.data == ["tx"]
    filing = desk.services.filing.current(user)
    assert filing is not None and (filing.step, filing.kind) == ("description", "help")  # the type is kept
    ask_contact = await say(desk, user, DESCRIPTION)  # and filing goes on from there
    assert ask_contact.data == ["ts:contact", "tx"]
    await desk.press(user, ask_contact, "ts:contact")
    summary = await desk.reply(user)
    await desk.press(user, summary, "ts:reference")
    summary = await desk.reply(user)
    await desk.press(user, summary, "tok")
    await desk.reply(user)
    assert [(t.kind, t.description) for t in tickets(desk)] == [("help", DESCRIPTION)]
    assert await desk.drain(user) == []


async def test_the_summary_repeated_at_a_later_step_fits_one_message(desk: Helpdesk) -> None:
    """An old type button pressed at the summary: the step's name comes before the summary."""
    prompt = await say(desk, ALICE, "/ticket")
    await desk.press(ALICE, prompt, "tk:enquiry")
    await desk.reply(ALICE)
    ask_contact = await say(desk, ALICE, EMOJI_HEAVY)
    await desk.click(ALICE, ask_contact, "Skip")
    await desk.click(ALICE, await desk.reply(ALICE), "Skip")
    summary = await desk.reply(ALICE)
    await desk.press(ALICE, prompt, "tk:help", forged=True)
    repeated = await desk.drain(ALICE)
    assert [m.text for m in repeated] == ["You are at the step: check and submit. Here it is again:\n\n" + summary.text]
    assert repeated[-1].data == ["tok", "tre", "tx"]
    filing = desk.services.filing.current(ALICE)
    assert filing is not None and (filing.step, filing.kind) == ("confirm", "enquiry")


@pytest.mark.parametrize(("user", "lang"), [(ALICE, "en"), (LI, "zh")])
async def test_submit_pressed_again_shows_the_ticket_filed(desk: Helpdesk, user: int, lang: Lang) -> None:
    """The confirmation was lost on the way: Submit pressed again shows the ticket, for a few minutes."""
    filed = await file_ticket(desk, user, lang)
    [summary] = [
        m for m in desk.botapi.messages(user, ("message",)) if m.text.startswith(_(lang, "Please check your ticket:"))
    ]
    assert desk.botapi.buttons(summary) == []
    desk.clock.advance(minutes=5)
    again = await desk.press(user, summary, "tok", forged=True)  # the client still shows the buttons
    assert not again.text and not again.show_alert
    shown = await desk.reply(user)
    assert (shown.text, shown.data) == (filed.text, ["ml"])  # the same number and due date
    await desk.press(user, summary, "ts:reference", forged=True)  # any button of that filing
    assert (await desk.reply(user)).text == filed.text
    assert len(tickets(desk)) == 1 and desk.services.flows.get(user) is None
    desk.clock.advance(minutes=6)  # long after filing: the button has expired
    late = await desk.press(user, summary, "tok", forged=True)
    assert late.text == _(lang, EXPIRED) and late.show_alert
    assert await desk.drain(user) == [] and len(tickets(desk)) == 1


async def test_an_old_submit_during_a_new_filing_shows_the_new_step(desk: Helpdesk) -> None:
    await file_ticket(desk, ALICE)
    [summary] = [m for m in desk.botapi.messages(ALICE, ("message",)) if m.text.startswith("Please check your ticket:")]
    prompt = await say(desk, ALICE, "/ticket")  # a second ticket, started at once
    await desk.press(ALICE, summary, "tok", forged=True)
    repeated = await desk.reply(ALICE)
    assert repeated.text == "You are at the step: ticket type. Here it is again:\n\n" + prompt.text
    assert repeated.data == prompt.data
    assert len(tickets(desk)) == 1


def test_the_ticket_filed_is_found_only_for_a_while(desk: Helpdesk) -> None:
    """The core's answer: the filing in progress, else the user's ticket filed within the window."""
    filing, now = desk.services.filing, desk.clock()
    assert filing.standing(ALICE, now) == FilingStanding()
    ticket = filing.create(ALICE, "enquiry", DESCRIPTION, "en", now)
    filing.create(BOB, "help", DESCRIPTION, "en", now + timedelta(minutes=1))  # someone else's
    filing.create(ALICE, "help", DESCRIPTION, "en", now + timedelta(minutes=1), origin="live")  # not filed
    assert filing.standing(ALICE, now + timedelta(minutes=2), timedelta(minutes=5)).filed == ticket
    assert filing.standing(ALICE, now + timedelta(minutes=6), timedelta(minutes=5)) == FilingStanding()
    started = filing.start_filing(ALICE, now + timedelta(minutes=2))
    assert filing.standing(ALICE, now + timedelta(minutes=2)) == FilingStanding(filing=started)


async def test_emoji_heavy_description_fits_the_confirmation(desk: Helpdesk) -> None:
    """Telegram counts UTF-16 units: 2,000 emoji are 4,000 of them, the summary must still fit in 4,096."""
    prompt = await say(desk, ALICE, "/ticket")
    await desk.press(ALICE, prompt, "tk:enquiry")
    await desk.reply(ALICE)
    ask_contact = await say(desk, ALICE, EMOJI_HEAVY)
    await desk.click(ALICE, ask_contact, "Skip")
    await desk.click(ALICE, await desk.reply(ALICE), "Skip")
    summary = await desk.reply(ALICE)
    assert summary.data == ["tok", "tre", "tx"] and summary.text.startswith("Please check your ticket:")
    assert "Help 😀😀" in summary.text and "…" in summary.text  # shortened to fit
    await desk.press(ALICE, summary, "tok")
    assert (await desk.reply(ALICE)).text.startswith("Thank you. Your ticket number is T2603-0001.")
    assert tickets(desk)[0].description == EMOJI_HEAVY  # stored in full


# Telegram counts UTF-16 units: each emoji is two, so emoji-heavy text must be split by that measure.
async def test_emoji_heavy_ticket_can_be_opened(desk: Helpdesk) -> None:
    services, now = desk.services, desk.clock()
    ticket = services.filing.create(ALICE, "enquiry", "Help " + "😀" * 995, "en", now)
    for _i in range(2):  # 3,000 characters in all: one chunk by code points, 6,000 UTF-16 units
        services.own_tickets.add_user_message(ALICE, ticket.id, now, "More " + "😀" * 995)
    mine = await say(desk, ALICE, "/mytickets")
    await desk.press(ALICE, mine, f"mt:{ticket.id}")
    assert desk.botapi.errors == []
    detail = desk.botapi.unread(ALICE)
    assert detail and detail[-1].data == [f"mtm:{ticket.id}", f"mtc:{ticket.id}"]


async def test_emoji_heavy_resolution_reaches_the_user(desk: Helpdesk) -> None:
    await file_ticket(desk, ALICE)
    [ticket] = tickets(desk)
    resolution = "Done " + "👍" * 1995  # 2,000 characters: the most a resolution may have
    closed = await say(desk, OPERATOR, f"/close {ticket.number} {resolution}")
    assert closed.text.startswith("Ticket T2603-0001 closed")
    assert desk.botapi.errors == []  # the close notice with the rating buttons was delivered
    notice = await desk.reply(ALICE, lambda m: bool(m.data))  # split in two: the buttons come on the last part
    assert notice.data[-1] == f"rt:t:{ticket.id}:5"
