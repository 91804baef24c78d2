"""Tickets in the core: filing flow, deadlines, visibility, staff actions, lifecycle, ratings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from bot.desk.flows import Flows
from bot.desk.ratings import MAX_COMMENT, Ratings
from bot.desk.staff import StaffRegistry
from bot.desk.ticket_texts import ticket_detail
from bot.desk.tickets.common import CLOSED_BY_USER, TicketPolicy
from bot.desk.tickets.deadlines import TicketDeadlines
from bot.desk.tickets.filing import TicketFiling, validate_contact
from bot.desk.tickets.owners import OwnTickets
from bot.desk.tickets.work import TicketWork
from bot.desk.workdays import WorkCalendar
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.notices import BadRating, TicketClosed, TicketReply
from bot.store.db import make_engine

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 2, 13, 10, 0, tzinfo=SH)  # Friday before the 2026 Spring Festival
ALICE, BOB, OPERATOR, SUPERVISOR = 1001, 1002, 2001, 2002


@dataclass(frozen=True)
class Desk:
    """The ticket desk's parts over one database, wired as ``bot.services.build_services`` wires them."""

    engine: Engine
    staff: StaffRegistry
    flows: Flows
    filing: TicketFiling
    owners: OwnTickets
    work: TicketWork
    deadlines: TicketDeadlines


def desk_on(engine: Engine, calendar: WorkCalendar | None = None) -> Desk:
    staff, flows = StaffRegistry(engine), Flows(engine)
    deadlines = TicketDeadlines(engine, calendar=calendar or WorkCalendar())
    return Desk(
        engine,
        staff,
        flows,
        TicketFiling(engine, flows, deadlines),
        OwnTickets(engine, staff),
        TicketWork(engine, staff, deadlines),
        deadlines,
    )


@pytest.fixture
def desk() -> Desk:
    made = desk_on(make_engine("sqlite://"))
    made.staff.add(OPERATOR, "operator", "Li Na", NOW)
    made.staff.add(SUPERVISOR, "supervisor", "Wang Wei", NOW)
    return made


def file(desk: Desk, user: int = ALICE, kind: str = "enquiry") -> str:
    desk.filing.start_filing(user, NOW)
    desk.filing.choose_kind(user, kind, NOW)
    desk.filing.give_text(user, "How do I cancel the permit of an employee who left?", NOW)
    desk.filing.skip(user, NOW)
    desk.filing.skip(user, NOW)
    return desk.filing.submit(user, "en", NOW)[0].number


def test_filing_flow_step_by_step(desk: Desk) -> None:
    assert desk.filing.start_filing(ALICE, NOW).step == "kind"
    assert desk.filing.choose_kind(ALICE, "complaint", NOW).step == "description"
    assert desk.filing.give_text(ALICE, "The window refused my documents without a reason.", NOW).step == "contact"
    assert desk.filing.give_text(ALICE, "138 0013 8000", NOW).step == "reference"
    filing = desk.filing.give_text(ALICE, "WP-2026-0001", NOW)
    assert (filing.step, filing.contact, filing.reference) == ("confirm", "+8613800138000", "WP-2026-0001")
    ticket = desk.filing.submit(ALICE, "en", NOW)[0]
    assert ticket.number.startswith("T2602-") and ticket.status == "new" and ticket.kind == "complaint"
    # complaint: 15 working days from Fri 13 Feb 2026: Sat 14 Feb (调休), 15–23 Feb off, 24–27 Feb,
    # Sat 28 Feb (调休), 2–6 Mar, 9–12 Mar → Thursday 12 March.
    assert ticket.due_at.astimezone(SH).date().isoformat() == "2026-03-12"
    assert desk.filing.current(ALICE) is None


def test_filing_survives_a_restart(desk: Desk) -> None:
    desk.filing.start_filing(ALICE, NOW, kind="help")
    again = desk_on(desk.engine)  # a new process, same database
    assert again.filing.current(ALICE).step == "description"  # type: ignore[union-attr]


def test_enquiry_deadline_across_spring_festival(desk: Desk) -> None:
    ticket = desk.owners.get(ALICE, file(desk))
    # 2 working days after Fri 13 Feb: Sat 14 Feb (调休) and Tue 24 Feb.
    assert ticket.due_at == datetime(2026, 2, 24, 23, 59, 59, tzinfo=SH)


def test_configured_deadlines() -> None:
    deadlines = TicketPolicy.parse_deadlines("enquiry=1, complaint=5")
    assert deadlines["enquiry"] == 1 and deadlines["complaint"] == 5 and deadlines["help"] == 10
    with pytest.raises(ValueError):
        TicketPolicy.parse_deadlines("gossip=3")


def test_description_limits(desk: Desk) -> None:
    desk.filing.start_filing(ALICE, NOW, kind="help")
    with pytest.raises(InvalidInput) as too_long:
        desk.filing.give_text(ALICE, "x" * 2001, NOW)
    assert too_long.value.details["limit"] == 2000
    with pytest.raises(InvalidInput):
        desk.filing.give_text(ALICE, "🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂", NOW)
    assert desk.filing.current(ALICE).step == "description"  # type: ignore[union-attr]  # nothing lost


def test_text_at_a_button_step_is_refused_without_losing_the_flow(desk: Desk) -> None:
    desk.filing.start_filing(ALICE, NOW)
    with pytest.raises(InvalidInput) as refused:
        desk.filing.give_text(ALICE, "hello", NOW)
    assert refused.value.reason == "use_buttons"
    assert desk.filing.current(ALICE).step == "kind"  # type: ignore[union-attr]


@pytest.mark.parametrize("good", ["+44 20 7946 0958", "13800138000", "alice@example.com"])
def test_contact_validation_accepts(good: str) -> None:
    assert validate_contact(good)


@pytest.mark.parametrize("bad", ["12", "call me", "alice@", "+1 555"])
def test_contact_validation_refuses(bad: str) -> None:
    with pytest.raises(InvalidInput):
        validate_contact(bad)


def test_nobody_sees_another_persons_ticket(desk: Desk) -> None:
    number = file(desk, ALICE)
    with pytest.raises(NotFound):
        desk.owners.get(BOB, number)
    with pytest.raises(NotFound):
        desk.owners.add_user_message(BOB, number, NOW, "mine now")
    with pytest.raises(NotFound):
        desk.owners.close_own(BOB, number, NOW)
    assert desk.owners.mine(BOB) == []
    assert desk.work.get(OPERATOR, number).number == number


@pytest.mark.parametrize(
    "action",
    [
        lambda d, n: d.work.take(ALICE, n, NOW),
        lambda d, n: d.work.reply(ALICE, n, "done", NOW),
        lambda d, n: d.work.note(ALICE, n, "note", NOW),
        lambda d, n: d.work.change_kind(ALICE, n, "help", NOW),
        lambda d, n: d.work.reassign(ALICE, n, OPERATOR, NOW),
        lambda d, n: d.work.close(ALICE, n, "done", NOW),
        lambda d, n: d.work.reopen(ALICE, n, NOW),
        lambda d, n: d.work.search(ALICE, NOW),
    ],
)
def test_staff_actions_refused_to_non_staff(desk: Desk, action) -> None:  # type: ignore[no-untyped-def]
    number = file(desk)
    with pytest.raises(NotAllowed):
        action(desk, number)


def test_staff_work_a_ticket_to_closure(desk: Desk) -> None:
    number = file(desk)
    assert desk.work.take(OPERATOR, number, NOW).status == "in_progress"
    desk.work.note(OPERATOR, number, "Employer is Acme; check the system first.", NOW)
    view, notices = desk.work.reply(OPERATOR, number, "Please apply in the online system within 10 working days.", NOW)
    assert view.status == "answered"
    assert notices[0].user_id == ALICE and isinstance(notices[0], TicketReply)
    # The user sees the reply but never the note.
    kinds = [m.kind for m in desk.owners.get(ALICE, number).messages]
    assert kinds == ["reply"]
    assert [m.kind for m in desk.work.get(OPERATOR, number).messages] == ["note", "reply"]
    view = desk.work.change_kind(OPERATOR, number, "help", NOW)
    # help: 10 working days → Thursday 5 March (recomputed from the filing time).
    assert view.kind == "help" and view.due_at.astimezone(SH).date().isoformat() == "2026-03-05"
    view, notices = desk.work.reassign(OPERATOR, number, SUPERVISOR, NOW)
    assert view.assignee_id == SUPERVISOR and notices[0].user_id == SUPERVISOR
    view, notices = desk.work.close(SUPERVISOR, number, "Explained the cancellation duty.", NOW)
    assert view.status == "closed" and isinstance(notices[0], TicketClosed)
    with pytest.raises(Conflict):
        desk.work.reply(OPERATOR, number, "late", NOW)
    assert desk.work.reopen(OPERATOR, number, NOW)[0].status == "in_progress"


def test_user_messages_reopen_and_window(desk: Desk) -> None:
    number = file(desk)
    desk.work.take(OPERATOR, number, NOW)
    desk.work.reply(OPERATOR, number, "Which city?", NOW)
    view, notices = desk.owners.add_user_message(ALICE, number, NOW, "Dongguan", file_id="photo-1", file_kind="photo")
    assert view.status == "in_progress" and notices[0].user_id == OPERATOR
    desk.owners.close_own(ALICE, number, NOW)
    with pytest.raises(Conflict):
        desk.owners.add_user_message(ALICE, number, NOW, "more")
    assert desk.owners.reopen_own(ALICE, number, NOW + timedelta(days=6))[0].status == "in_progress"
    desk.work.close(OPERATOR, number, "Done.", NOW + timedelta(days=6))
    with pytest.raises(NotAllowed):
        desk.owners.reopen_own(ALICE, number, NOW + timedelta(days=14))


def test_search_filters(desk: Desk) -> None:
    a = file(desk, ALICE, "enquiry")
    b = file(desk, BOB, "complaint")
    desk.work.take(OPERATOR, b, NOW)
    later = datetime(2026, 2, 25, 9, 0, tzinfo=SH)
    assert [t.number for t in desk.work.search(OPERATOR, later, overdue=True)] == [a]
    assert [t.number for t in desk.work.search(OPERATOR, NOW, kind="complaint")] == [b]
    assert [t.number for t in desk.work.search(OPERATOR, NOW, assignee=OPERATOR)] == [b]
    assert [t.number for t in desk.work.search(OPERATOR, NOW, status="new")] == [a]


def test_one_rating_per_ticket_and_bad_ones_alert_supervisors(desk: Desk) -> None:
    ratings = Ratings(desk.engine, desk.staff, desk.flows)
    number = file(desk)
    ticket_id = desk.owners.get(ALICE, number).id
    with pytest.raises(NotFound):
        ratings.rate(ALICE, "ticket", ticket_id, 1, NOW)  # not closed yet
    desk.work.close(OPERATOR, number, "Answered by phone.", NOW)
    with pytest.raises(NotFound):
        ratings.rate(BOB, "ticket", ticket_id, 1, NOW)  # not Bob's
    view, notices = ratings.rate(ALICE, "ticket", ticket_id, 5, NOW)
    assert view.bad and [n.user_id for n in notices] == [SUPERVISOR]
    with pytest.raises(Conflict):
        ratings.rate(ALICE, "ticket", ticket_id, 1, NOW)
    with pytest.raises(InvalidInput) as empty:
        ratings.comment(ALICE, " \u0007 ", NOW)
    assert empty.value.reason == "empty"
    with pytest.raises(InvalidInput) as too_long:
        ratings.comment(ALICE, "x" * (MAX_COMMENT + 1), NOW)
    assert too_long.value.details == {"limit": MAX_COMMENT, "length": MAX_COMMENT + 1}
    view, notices = ratings.comment(ALICE, "Nobody called me back.", NOW)
    assert isinstance(notices[0], BadRating)
    assert view.comment == "Nobody called me back." and notices[0].comment == view.comment
    assert ratings.of("ticket", ticket_id).level == 5  # type: ignore[union-attr]


def test_good_rating_alerts_nobody(desk: Desk) -> None:
    ratings = Ratings(desk.engine, desk.staff, desk.flows)
    number = file(desk)
    desk.work.close(OPERATOR, number, "ok", NOW)
    _, notices = ratings.rate(ALICE, "ticket", desk.owners.get(ALICE, number).id, 2, NOW)
    assert notices == [] and desk.flows.get(ALICE) is None


def test_naive_now_is_refused(desk: Desk) -> None:
    desk.filing.start_filing(ALICE, NOW, kind="help")
    desk.filing.give_text(ALICE, "Need help with the online system login.", NOW)
    desk.filing.skip(ALICE, NOW)
    desk.filing.skip(ALICE, NOW)
    with pytest.raises(ValueError):
        desk.filing.submit(ALICE, "en", datetime(2026, 2, 13, 10, 0))
    # Nothing was filed and the filing waits at the summary, to be submitted with a proper time.
    assert desk.filing.current(ALICE).step == "confirm"  # type: ignore[union-attr]
    assert desk.owners.mine(ALICE) == []


def test_a_ticket_its_owner_closed_says_so_in_the_readers_language(desk: Desk) -> None:
    number = file(desk)
    closed = desk.owners.close_own(ALICE, number, NOW)
    assert closed.resolution == CLOSED_BY_USER  # stored as it is, translated when shown
    assert "Resolution: closed by the user" in ticket_detail(closed, "en")
    shown = ticket_detail(closed, "zh")
    assert "用户已自行关闭" in shown and CLOSED_BY_USER not in shown
