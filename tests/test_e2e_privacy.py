"""End to end through the real Application: a user's personal data (issue 17). A question with a phone and a
passport number is logged masked; /mydata sends two documents (readable text in the user's language, and
JSON); /deletemydata asks first (Cancel keeps everything, an old button has expired) and Erase erases, and
unsubscribes (a policy notice not yet sent is not sent to her). On SQLite and on PostgreSQL. /privacy states the
retention periods configured, in the user's language."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from sqlmodel import Session, select

from bot.desk.outreach.notices import NoticeText
from bot.store.models import QuestionLog, Ticket, Work, WorkStep
from handlers.policy_notices import JOB as NOTICES_JOB
from handlers.privacy import JOB as RETENTION_JOB
from tests.dbs import postgres_engine
from tests.telegram_fixtures import Helpdesk, HelpdeskFactory
from tests.test_e2e_staff_tickets import (
    ALICE,
    LI,
    OPERATOR,
    SUPERVISOR,
    add_file,
    file_ticket,
    make_desk,
    say,
    start_as,
    ticket_files,
)
from tests.test_privacy import scan, tickets_by_kind

pytestmark = pytest.mark.usefixtures("no_errors")

QUESTION = "Quixotic: my passport E12345678 expired, call 13812345678 - how do I extend my work permit?"
DESCRIPTION = "Marmalade: my employer moved, what do I update?"
CONTACT = "zeb@example.org"
NOTICE = NoticeText("New rule", "From 1 April, cancel within 10 working days.")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def desk(request: pytest.FixtureRequest, helpdesk_factory: HelpdeskFactory) -> AsyncIterator[Helpdesk]:
    if request.param == "sqlite":
        yield await make_desk(helpdesk_factory)
        return
    with postgres_engine() as engine:
        made = await make_desk(helpdesk_factory, database_url=engine.url.render_as_string(hide_password=False))
        try:
            yield made
        finally:
            await made.stop()  # before its schema is dropped


def questions(desk: Helpdesk) -> list[str]:
    with Session(desk.services.engine) as session:
        return [q.text for q in session.exec(select(QuestionLog).where(QuestionLog.user_id == ALICE)).all()]


async def test_mydata_then_deletemydata_with_cancel_and_confirm(desk: Helpdesk) -> None:
    await start_as(desk, ALICE, "applicant")
    await say(desk, ALICE, QUESTION)
    [logged] = questions(desk)
    assert "E12345678" not in logged and "13812345678" not in logged
    assert logged.startswith("Quixotic: my passport [passport] expired, call [phone]")
    ticket = await file_ticket(desk, ALICE, "complaint", DESCRIPTION, contact=CONTACT)
    assert ticket.contact == CONTACT  # given on purpose: kept as given
    await add_file(desk, ALICE, ticket, "Gobbledygook scan", document=True, file_name="zeb-permit.pdf")
    [attachment] = ticket_files(desk, ticket.id)
    assert attachment.file_id is not None
    desk.botapi.mark(ALICE)

    await desk.send(ALICE, "/mydata", first_name="Alice")
    await desk.settle()
    documents = desk.botapi.messages(ALICE, ("document",))
    assert [d.caption for d in documents] == [
        "Everything the helpdesk stores about you, readable. /deletemydata erases it.",
        "The same, complete and machine-readable (JSON).",
    ]
    (text_name, readable), (json_name, raw) = (desk.botapi.uploads[d.file_id or ""] for d in documents)
    assert (
        text_name is not None and text_name.endswith(".txt") and json_name is not None and json_name.endswith(".json")
    )
    readable_text = readable.decode()
    for needle in ("Alice", "Marmalade", CONTACT, attachment.file_id, "[passport]", "== Your tickets (1) =="):
        assert needle in readable_text, needle
    data = json.loads(raw)["data"]
    assert data["ticket"][0]["description"] == DESCRIPTION and data["user"][0]["display_name"] == "Alice"
    assert any(m["file_id"] == attachment.file_id for m in data["ticketmessage"])

    desk.botapi.mark(ALICE)

    # a Chinese user gets the readable copy in Chinese
    await start_as(desk, LI, "employer")
    desk.botapi.mark(LI)
    await desk.send(LI, "/mydata", language_code="zh-hans", first_name="Li")
    await desk.settle()
    chinese = desk.botapi.messages(LI, ("document",))
    assert chinese[0].caption == "咨询台保存的有关您的全部信息（可读版本）。发送 /deletemydata 可删除。"
    assert "== 您的资料 (1) ==" in desk.botapi.uploads[chinese[0].file_id or ""][1].decode()

    asked = await say(desk, ALICE, "/deletemydata")
    assert asked.text.startswith("Erase your personal data?") and asked.labels == ["Erase my data", "Cancel"]
    confirm, cancel = asked.data
    assert confirm.startswith("dmy:") and cancel == "dmn"
    await desk.press(ALICE, asked, cancel)
    assert (await desk.reply(ALICE)).text == "Nothing was erased."
    assert "Marmalade" in json.dumps(scan(desk.services.engine, ("Marmalade",)))

    asked = await say(desk, ALICE, "/deletemydata")
    desk.clock.advance(hours=2)  # the confirmation works for an hour
    late = await desk.press(ALICE, asked, asked.data[0])
    assert late.text == "This confirmation has expired. Send /deletemydata again." and late.show_alert
    assert scan(desk.services.engine, ("Marmalade",)) != []

    await say(desk, ALICE, "/subscribe")
    for pump in desk.app.job_queue.get_jobs_by_name(NOTICES_JOB):  # type: ignore[union-attr]
        pump.schedule_removal()  # the sending job does not run here: her delivery stays pending
    notices = desk.services.notices
    notice = notices.draft(SUPERVISOR, NOTICE, NOTICE, "all", None, desk.clock()).id
    notices.confirm(SUPERVISOR, notice, desk.clock())  # her delivery is waiting for the sending job
    assert ALICE in notices.deliveries(notice)
    before = tickets_by_kind(desk.services.engine)
    asked = await say(desk, ALICE, "/deletemydata")
    assert "you are unsubscribed from policy notices" in asked.text
    await desk.press(ALICE, asked, asked.data[0])
    done = await desk.reply(ALICE)
    assert done.text.startswith("Your personal data has been erased.\n\nWhat we kept, and why:\n• ")
    assert "You are unsubscribed from policy notices" in done.text and "/subscribe again" in done.text
    assert ALICE not in notices.deliveries(notice)  # not sent to her, even if she subscribes again before its turn
    user = desk.services.helpdesk.user(ALICE)
    assert user is not None and not user.subscribed
    assert "count its tickets" in done.text and "7 days later" in done.text
    assert tickets_by_kind(desk.services.engine) == before  # the statistics still count her ticket
    needles = ("Alice", "Quixotic", "Marmalade", CONTACT, "Gobbledygook", attachment.file_id, "zeb-permit")
    hits = scan(desk.services.engine, needles)
    # only the journal's record of the very update that erased (it names her) is left, deleted after 7 days
    assert set(hits) <= {"work.payload: Alice", "workstep.result: Alice"}
    with Session(desk.services.engine) as session:
        left = [w for w in session.exec(select(Work).where(Work.chat_id == ALICE)).all() if w.payload]
        assert len(left) == 1 and '"dmy:' in (left[0].payload or "")
        steps = session.exec(select(WorkStep)).all()
        assert {s.work_key for s in steps if b"Alice" in (s.result or b"")} <= {left[0].key}
        [kept] = session.exec(select(Ticket).where(Ticket.id == ticket.id)).all()
        assert (kept.kind, kept.status, kept.description, kept.contact) == ("complaint", "closed", "", None)

    again = await desk.press(ALICE, asked, asked.data[0], forged=True)  # a second tap, before the buttons went
    assert again.text == "Your personal data has been erased."  # said in passing: nothing is erased or sent twice
    assert [m.text for m in await desk.drain(ALICE)] == []


async def test_the_daily_retention_job_removes_a_closed_tickets_contact_after_30_days(desk: Helpdesk) -> None:
    await start_as(desk, ALICE, "applicant")
    ticket = await file_ticket(desk, ALICE, "enquiry", DESCRIPTION, contact=CONTACT)
    await say(desk, OPERATOR, f"/close {ticket.number} Explained the rules.")
    [job] = desk.app.job_queue.get_jobs_by_name(RETENTION_JOB)  # type: ignore[union-attr]

    def contact() -> str | None:
        with Session(desk.services.engine) as session:
            row = session.get(Ticket, ticket.id)
            assert row is not None
            return row.contact

    desk.clock.advance(days=29)
    await job.run(desk.app)
    await desk.settle()
    assert contact() == CONTACT
    desk.clock.advance(days=2)
    for _ in range(2):  # a second run (another day, or a restart) changes nothing more
        await job.run(desk.app)
        await desk.settle()
        assert contact() is None
    with Session(desk.services.engine) as session:
        kept = session.get(Ticket, ticket.id)
        assert kept is not None and kept.description == DESCRIPTION and kept.user_id == ALICE  # 3 years for these


@pytest.mark.parametrize(
    ("lang", "periods"),
    [
        ("en", ("question 90 days;", "until 7 days after", "a ticket 2 years after", "messages 400 days after")),
        ("zh", ("提问内容 90 天；", "工单办结后 7 天；", "办结 2 年后删除", "对话结束 400 天后删除")),
    ],
)
async def test_privacy_states_the_periods_configured(
    helpdesk_factory: HelpdeskFactory, lang: str, periods: tuple[str, ...]
) -> None:
    desk = await helpdesk_factory(
        helpdesk_keep_questions_days=90,
        helpdesk_keep_contacts_days=7,
        helpdesk_keep_tickets_days=730,
        helpdesk_keep_transcripts_days=400,
    )
    shown = await say(desk, ALICE if lang == "en" else LI, "/privacy")
    assert all(period in shown.text for period in periods), shown.text
    assert "180" not in shown.text and "3 years" not in shown.text and "3 年" not in shown.text
