"""Personal data (PIPL) in the core: a user's export and erasure (``bot.privacy.rights``) on SQLite and PostgreSQL,
retention with fixed clocks (``bot.privacy.retention``), questions masked at the door (``bot.privacy.redact``),
and the command line (``python -m bot user export|erase``, ``python -m bot retention``)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import LargeBinary, String, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from bot.__main__ import main
from bot.answering.gaps import gap_key
from bot.answering.helpdesk import Helpdesk
from bot.answering.knowledge import KnowledgeBase
from bot.config import Settings, get_settings
from bot.desk.followups import FollowUps
from bot.desk.ratings import Ratings
from bot.i18n import translator
from bot.privacy.retention import Retention, RetentionPolicy
from bot.privacy.rights import ANONYMOUS_ID, NOT_PERSONAL, REGISTRY, PersonalDataRights, confirmation_valid
from bot.store.db import make_engine
from bot.store.models import (
    AuditLog,
    Flow,
    FollowUp,
    GapReview,
    HelpRequest,
    LiveSession,
    QuestionLog,
    Rating,
    SessionMessage,
    Staff,
    Ticket,
    TicketLink,
    TicketMessage,
    User,
    Work,
    WorkStep,
)
from tests.calendars import package_only
from tests.dbs import postgres_engine
from tests.test_tickets import Desk, desk_on

ALICE, BOB, OPERATOR = 1001, 1002, 2001
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)

ALICE_STRINGS = (
    "Zebulon",  # her name
    "Quixotic",  # a question
    "Marmalade",  # a ticket's description
    "zeb@example.org",  # the ticket's contact
    "REF-PLUMBUS",  # its reference
    "Flibbertigibbet",  # her open ticket
    "Gobbledygook",  # a message on her ticket
    "FILE-ZEB-123",  # its attachment's file id
    "zebulon-passport",  # and file name
    "Snickersnee",  # a staff reply to her
    "Kerfuffle",  # her rating's comment
    "Brouhaha",  # the call-back's notes
    "Cattywampus",  # a live-chat message
    "FILE-LIVE-456",  # a live-chat attachment
    "Lollygag",  # what she was typing (a flow)
)
BOB_STRINGS = ("Bartholomew", "Wibble", "bob@example.org")


def populate(engine: Engine, kb: KnowledgeBase) -> tuple[Desk, Helpdesk]:
    """Alice with something in every table about a user, Bob with a ticket, an operator who answered Alice."""
    desk = desk_on(engine, package_only())
    helpdesk = Helpdesk(kb, engine)
    desk.staff.add(OPERATOR, "operator", "Li Na", T0)
    helpdesk.meet(ALICE, "Zebulon", "en", T0)
    helpdesk.meet(BOB, "Bartholomew", "en", T0)
    helpdesk.ask(ALICE, "Quixotic question: how do I extend my work permit?", None, T0)
    first = desk.filing.create(
        ALICE,
        "complaint",
        "Marmalade complaint about my case",
        "en",
        T0,
        contact="zeb@example.org",
        reference="REF-PLUMBUS",
    )
    desk.filing.create(ALICE, "enquiry", "Flibbertigibbet enquiry still open", "en", T0)
    desk.filing.create(BOB, "enquiry", "Wibble question from Bob", "en", T0, contact="bob@example.org")
    desk.work.reply(OPERATOR, first.id, "Snickersnee reply to Zebulon", T0 + timedelta(hours=1))
    desk.work.note(OPERATOR, first.id, "Hushhush internal note about her", T0 + timedelta(hours=1))
    desk.work.close(OPERATOR, first.id, "Explained to Zebulon", T0 + timedelta(hours=2))
    followups = FollowUps(engine, desk.staff, package_only(), 5)
    rating, _ = Ratings(engine, desk.staff, desk.flows, followups=followups).rate(
        ALICE, "ticket", first.id, 5, T0 + timedelta(hours=3)
    )
    with Session(engine) as session:
        session.add(
            TicketMessage(
                ticket_id=first.id,
                author_id=ALICE,
                kind="user",
                text="Gobbledygook attached",
                file_id="FILE-ZEB-123",
                file_kind="document",
                file_name="zebulon-passport.pdf",
                created_at=T0,
            )
        )
        row = session.get(Rating, rating.id)
        assert row is not None
        row.comment = "Kerfuffle: too slow"
        session.add(row)
        followup = session.exec(select(FollowUp).where(FollowUp.rating_id == rating.id)).one()
        followup.notes = "Brouhaha on the phone"
        session.add(followup)
        request = HelpRequest(user_id=ALICE, status="claimed", lang="en", operator_id=OPERATOR, created_at=T0)
        session.add(request)
        session.flush()
        assert request.id is not None
        live = LiveSession(
            request_id=request.id,
            user_id=ALICE,
            operator_id=OPERATOR,
            status="ended",
            started_at=T0,
            last_activity_at=T0,
            ended_at=T0 + timedelta(minutes=10),
            outcome="resolved",
        )
        session.add(live)
        session.flush()
        assert live.id is not None
        session.add(SessionMessage(session_id=live.id, sender="user", text="Cattywampus here", created_at=T0))
        session.add(
            SessionMessage(session_id=live.id, sender="user", file_id="FILE-LIVE-456", file_kind="photo", created_at=T0)
        )
        session.merge(Flow(user_id=ALICE, name="filing", step="contact", data='{"d": "Lollygag draft"}', updated_at=T0))
        session.add(TicketLink(chat_id=ALICE, message_id=77, ticket_id=first.id))
        asked = session.exec(select(QuestionLog).where(QuestionLog.user_id == ALICE)).one()
        examples = [asked.text, "how to extend a work permit"]  # a reviewed knowledge gap with her question
        session.add(
            GapReview(
                question_id=asked.id,
                key=gap_key(asked.text),
                decision="alternate",
                entry_id="extension",
                lang="en",
                examples=json.dumps(examples),
                count=2,
                reviewer_id=OPERATOR,
                reviewed_at=T0,
            )
        )
        payload = json.dumps({"message": {"text": "Quixotic", "from": {"id": ALICE, "first_name": "Zebulon"}}})
        session.add(Work(key="u:1", kind="update", chat_id=ALICE, payload=payload, created_at=T0, done_at=T0))
        session.add(WorkStep(work_key="u:1", seq=0, kind="core", result=b"pickled Zebulon Quixotic", at=T0))
        session.commit()
    return desk, helpdesk


def scan(engine: Engine, needles: tuple[str, ...]) -> list[str]:
    """Every ``table.column: needle`` where a text, string or binary column of any table holds a needle."""
    found = []
    inspector = inspect(engine)
    with engine.connect() as connection:
        for table in inspector.get_table_names():
            for column in inspector.get_columns(table):
                if not isinstance(column["type"], (String, LargeBinary)):
                    continue
                name = column["name"]
                for (value,) in connection.execute(text(f'SELECT "{name}" FROM "{table}"')):
                    if value is None:
                        continue
                    haystack = bytes(value).decode(errors="replace") if not isinstance(value, str) else value
                    found += [f"{table}.{name}: {n}" for n in needles if n.lower() in haystack.lower()]
    return found


def tickets_by_kind(engine: Engine) -> Counter[str]:
    with Session(engine) as session:
        return Counter(t.kind for t in session.exec(select(Ticket)).all())


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        made = make_engine(f"sqlite:///{tmp_path / 'privacy.sqlite3'}")
        yield made
        made.dispose()
    else:
        with postgres_engine() as made:
            yield made


def test_every_table_is_in_the_export_and_erasure_or_said_to_hold_nothing_personal() -> None:
    covered = {s.table for s in REGISTRY} | set(NOT_PERSONAL)
    missing = set(SQLModel.metadata.tables) - covered
    assert not missing, f"give these tables a Section in bot/privacy/rights.py (or a NOT_PERSONAL reason): {missing}"


def test_the_export_has_everything_about_the_user_and_nothing_about_others(engine: Engine, kb: KnowledgeBase) -> None:
    populate(engine, kb)
    data = PersonalDataRights(engine).export(ALICE, T0 + timedelta(days=1))
    document = data.to_json()
    parsed = json.loads(document)
    assert parsed["telegram_id"] == ALICE
    for needle in ALICE_STRINGS:
        assert needle in document, needle
    for needle in (*BOB_STRINGS, "Hushhush"):  # nor staff's internal notes (never shown to users)
        assert needle not in document, needle
    assert len(parsed["data"]["ticket"]) == 2 and len(parsed["data"]["sessionmessage"]) == 2
    assert parsed["data"]["followup"][0]["notes"] == "Brouhaha on the phone"
    readable = data.to_text(translator("en"))
    for needle in ("Zebulon", "Marmalade", "zeb@example.org", "FILE-ZEB-123", "Cattywampus", "Kerfuffle"):
        assert needle in readable, needle
    assert "== Your tickets (2) ==" in readable
    chinese = data.to_text(translator("zh"))
    assert "Marmalade" in chinese and "== Your tickets" not in chinese  # headings in the user's language
    with Session(engine) as session:  # the user's own copy is not a staff action
        assert not session.exec(select(AuditLog).where(AuditLog.action == "user_export")).all()


def test_erasure_leaves_no_personal_text_anywhere_and_the_statistics_count_the_tickets(
    engine: Engine, kb: KnowledgeBase
) -> None:
    populate(engine, kb)
    assert set(scan(engine, ALICE_STRINGS)) >= {"user.display_name: Zebulon", "ticket.contact: zeb@example.org"}
    before = tickets_by_kind(engine)
    result = PersonalDataRights(engine).erase(ALICE, T0 + timedelta(days=1))
    assert result.refused is None
    assert result.changed["ticket"] == 2 and result.changed["livesession"] == 1
    assert any("statistics" in reason for reason in result.kept)
    assert scan(engine, (*ALICE_STRINGS, "Hushhush")) == []
    assert tickets_by_kind(engine) == before == Counter({"enquiry": 2, "complaint": 1})  # still counted
    assert set(scan(engine, BOB_STRINGS)) >= {"user.display_name: Bartholomew", "ticket.description: Wibble"}
    with Session(engine) as session:
        alice = session.get(User, ALICE)
        assert alice is not None and alice.erased_at is not None and alice.display_name == ""
        mine = session.exec(select(Ticket).where(Ticket.user_id == ALICE)).all()
        assert mine == []  # nothing links a ticket to her any more
        kept = session.exec(select(Ticket).where(Ticket.user_id == ANONYMOUS_ID)).all()
        assert {(t.kind, t.status) for t in kept} == {("complaint", "closed"), ("enquiry", "closed")}
        assert all(t.due_at is not None and t.created_at is not None and t.erased_at is not None for t in kept)
        assert session.exec(select(QuestionLog).where(QuestionLog.user_id == ALICE)).all() == []
        assert session.exec(select(Rating).where(Rating.level == 5)).one().user_id == ANONYMOUS_ID
        # the audit log of the operator's actions on her ticket stays as it was
        actions = {a.action for a in session.exec(select(AuditLog).where(AuditLog.actor_id == OPERATOR)).all()}
        assert {"reply", "close"} <= actions
        assert session.get(Work, "u:1") is not None and session.exec(select(WorkStep)).all() == []
        review = session.exec(select(GapReview)).one()  # the gap review keeps the other wording only
        assert json.loads(review.examples) == ["how to extend a work permit"] and review.count == 1
        assert review.key == gap_key("how to extend a work permit")
    # a second erasure finds nothing more to erase
    again = PersonalDataRights(engine).erase(ALICE, T0 + timedelta(days=2))
    assert set(again.changed) <= {"user"}


def test_staff_export_and_erase_are_audited_and_a_staff_members_own_data_goes_but_their_actions_stay(
    engine: Engine, kb: KnowledgeBase
) -> None:
    _desk, helpdesk = populate(engine, kb)
    rights = PersonalDataRights(engine)
    rights.export(ALICE, T0, actor_id=0)
    helpdesk.meet(OPERATOR, "Operatorname Ng", "en", T0)
    helpdesk.ask(OPERATOR, "Hullabaloo question of the operator", None, T0)
    result = rights.erase(OPERATOR, T0 + timedelta(days=1), actor_id=0)
    assert any("staff record" in reason for reason in result.kept)
    assert scan(engine, ("Operatorname", "Hullabaloo")) == []
    with Session(engine) as session:
        audits = session.exec(select(AuditLog).where(AuditLog.actor_id == 0, AuditLog.action.startswith("user_"))).all()
        assert [(a.action, a.detail) for a in audits] == [("user_export", str(ALICE)), ("user_erase", str(OPERATOR))]
        member = session.get(Staff, OPERATOR)
        assert member is not None and member.name == "Li Na" and member.active
        assert {"reply", "close"} <= {
            a.action for a in session.exec(select(AuditLog).where(AuditLog.actor_id == OPERATOR)).all()
        }
    assert "Zebulon" in rights.export(ALICE, T0).to_json()  # the operator's erasure touched nobody else


def test_erasure_waits_while_the_user_is_in_the_live_desk(kb: KnowledgeBase) -> None:
    engine = make_engine("sqlite://")
    populate(engine, kb)
    with Session(engine) as session:
        session.add(HelpRequest(user_id=ALICE, status="waiting", lang="en", created_at=T0))
        session.commit()
    result = PersonalDataRights(engine).erase(ALICE, T0)
    assert result.refused == "live" and not result.changed
    assert "user.display_name: Zebulon" in scan(engine, ALICE_STRINGS)


def test_the_confirmation_works_for_an_hour() -> None:
    assert confirmation_valid(T0, T0 + timedelta(minutes=59))
    assert not confirmation_valid(T0, T0 + timedelta(minutes=61))
    assert not confirmation_valid(T0 + timedelta(hours=2), T0)  # forged: from the future


# ----- retention ----------------------------------------------------------------------------------------------
def test_retention_erases_each_kind_after_its_period_once(engine: Engine, kb: KnowledgeBase) -> None:
    populate(engine, kb)  # Alice's complaint closed at T0 + 2 h with a contact; her live chat ended at T0 + 10 min
    retention = Retention(engine, RetentionPolicy())
    closed = T0 + timedelta(hours=2)
    nothing = {"questions": 0, "contacts": 0, "tickets": 0, "transcripts": 0}
    assert retention.run(closed + timedelta(days=29)) == nothing
    assert retention.run(closed + timedelta(days=31), dry_run=True) == {**nothing, "contacts": 1}
    assert "ticket.contact: zeb@example.org" in scan(engine, ALICE_STRINGS)  # a dry run changes nothing
    assert retention.run(closed + timedelta(days=31)) == {**nothing, "contacts": 1}
    assert "ticket.contact: zeb@example.org" not in scan(engine, ALICE_STRINGS)
    assert "ticket.contact: bob@example.org" in scan(engine, BOB_STRINGS)  # Bob's ticket is open: kept
    assert retention.run(closed + timedelta(days=31)) == nothing  # idempotent
    assert retention.run(T0 + timedelta(days=179)) == nothing
    assert retention.run(T0 + timedelta(days=181)) == {**nothing, "questions": 1}
    assert "questionlog.text: Quixotic" not in scan(engine, ALICE_STRINGS)
    three_years = timedelta(days=3 * 365)
    assert retention.run(T0 + three_years) == nothing  # the live chat ended 10 minutes after T0
    assert retention.run(closed + three_years + timedelta(minutes=1)) == {**nothing, "tickets": 1, "transcripts": 1}
    assert retention.run(closed + three_years + timedelta(days=1)) == nothing
    left = scan(engine, ALICE_STRINGS)
    for gone in ("Marmalade", "Gobbledygook", "FILE-ZEB-123", "Snickersnee", "Kerfuffle", "Cattywampus", "REF-PLUMBUS"):
        assert not [hit for hit in left if hit.endswith(gone)], gone
    assert "ticket.description: Flibbertigibbet" in left  # her open ticket is not expired
    assert tickets_by_kind(engine) == Counter({"enquiry": 2, "complaint": 1})
    with Session(engine) as session:
        complaint = session.exec(select(Ticket).where(Ticket.kind == "complaint")).one()
        assert complaint.user_id == ANONYMOUS_ID and complaint.status == "closed" and complaint.erased_at is not None


def test_the_periods_come_from_the_settings() -> None:
    settings = Settings(
        helpdesk_keep_questions_days=10,
        helpdesk_keep_contacts_days=0,
        helpdesk_keep_tickets_days=400,
        helpdesk_keep_transcripts_days=20,
    )
    policy = RetentionPolicy.from_settings(settings)
    assert (policy.questions, policy.contacts, policy.tickets, policy.transcripts) == (
        timedelta(days=10),
        timedelta(0),
        timedelta(days=400),
        timedelta(days=20),
    )
    assert RetentionPolicy.from_settings(Settings()) == RetentionPolicy()  # the defaults are the documented ones


# ----- redaction at the door ----------------------------------------------------------------------------------
def test_a_question_is_stored_masked_and_a_tickets_contact_as_given(kb: KnowledgeBase) -> None:
    engine = make_engine("sqlite://")
    desk, helpdesk = populate(engine, kb)
    question = "My passport E12345678 expired, call me on +86 138 1234 5678 or 13912345678, mail z@q.cn"
    answered = helpdesk.ask(ALICE, question, None, T0)
    with Session(engine) as session:
        row = session.get(QuestionLog, answered.question_id)
        assert row is not None
        for secret in ("E12345678", "138 1234 5678", "13912345678", "z@q.cn"):
            assert secret not in row.text
        assert "[passport]" in row.text and "[phone]" in row.text and "[email]" in row.text
        assert row.text.startswith("My passport")
    ticket = desk.filing.create(ALICE, "help", "Please call me", "en", T0, contact="+86 138 1234 5678")
    assert ticket.contact == "+86 138 1234 5678"


# ----- the command line ---------------------------------------------------------------------------------------
@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kb: KnowledgeBase) -> Iterator[Engine]:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    get_settings.cache_clear()
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    populate(engine, kb)
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def test_user_export_and_erase_from_the_command_line(
    database: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "alice.json"
    assert main(["user", "export", str(ALICE), "--out", str(out), "--lang", "zh"]) == 0
    assert "Marmalade" in json.loads(out.read_text())["data"]["ticket"][0]["description"]
    assert "Zebulon" in (tmp_path / "alice.json.txt").read_text()
    assert main(["user", "export", "424242"]) == 1
    assert "nothing is stored about 424242" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("no\n"))
    assert main(["user", "erase", str(ALICE)]) == 1
    assert "Nothing was erased" in capsys.readouterr().out
    assert main(["user", "erase", str(ALICE), "--yes"]) == 0
    said = capsys.readouterr().out
    assert "Erased the personal data of 1001" in said and "kept:" in said
    assert scan(database, ALICE_STRINGS) == []
    with Session(database) as session:
        audits = session.exec(select(AuditLog).where(AuditLog.actor_id == 0, AuditLog.action.startswith("user_"))).all()
        assert [(a.action, a.detail) for a in audits] == [("user_export", "1001"), ("user_erase", "1001")]


def test_retention_from_the_command_line(database: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["retention", "--dry-run", "--now", "2026-04-10T12:00"]) == 0
    said = capsys.readouterr().out
    assert "dry run" in said and "contacts" in said and "     1  would be erased" in said
    assert "ticket.contact: zeb@example.org" in scan(database, ALICE_STRINGS)
    assert main(["retention", "--now", "2026-04-10T12:00"]) == 0
    assert "     1  erased: contacts of tickets closed over 30 days ago" in capsys.readouterr().out
    assert "ticket.contact: zeb@example.org" not in scan(database, ALICE_STRINGS)
