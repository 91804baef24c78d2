"""The live desk in the core: presence, queue, atomic claims, relay, transfer, timers, restart."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine

from bot import notices as nt
from bot.answering.knowledge import KnowledgeBase
from bot.config import Settings
from bot.desk.live.queue import SettledCards
from bot.desk.live.relay import MAX_RELAY
from bot.desk.live.shared import Closed, QueueStatus, SessionView
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound, Reason
from bot.services import Services, build_services
from bot.store.db import make_engine
from tests.dbs import postgres_engine

SH = ZoneInfo("Asia/Shanghai")
OPEN = datetime(2026, 3, 3, 10, 0, tzinfo=SH)  # a Tuesday morning
ALICE, BOB, CAROL, OP1, OP2, SUP = 1001, 1002, 1003, 2001, 2002, 2003


def services_on(engine: Engine, kb: KnowledgeBase, hours: str = "profile") -> Services:
    settings = Settings(helpdesk_hours=hours, database_url="sqlite://")
    services = build_services(settings, kb, engine)
    return services


@pytest.fixture
def desk(kb: KnowledgeBase) -> Services:
    services = services_on(make_engine("sqlite://"), kb)
    services.staff.add(OP1, "operator", "Li Na", OPEN)
    services.staff.add(OP2, "operator", "Zhang Wei", OPEN)
    services.staff.add(SUP, "supervisor", "Wang Fang", OPEN)
    return services


def queue(s: Services, user: int, at: datetime = OPEN) -> QueueStatus:
    status, _ = s.live_queue.request(user, "en", "applicant", at)
    assert isinstance(status, QueueStatus)
    return status


def test_check_in_out_is_staff_only(desk: Services) -> None:
    with pytest.raises(NotAllowed):
        desk.live_queue.check_in(ALICE, OPEN)
    assert desk.live_queue.check_in(OP1, OPEN)[0] is True
    assert desk.live_queue.check_in(OP1, OPEN)[0] is False
    assert [o[0] for o in desk.live_queue.operators_online()] == [OP1]


def test_queue_positions_estimates_and_dispatch(desk: Services) -> None:
    desk.live_queue.check_in(OP1, OPEN)
    first, notices = desk.live_queue.request(ALICE, "zh", "employer", OPEN)
    assert isinstance(first, QueueStatus) and first.position == 1
    assert first.estimate == timedelta(minutes=6)  # default handling time, one operator
    dispatched = [n for n in notices if isinstance(n, nt.QueueNew)]
    assert [n.user_id for n in dispatched] == [OP1]
    assert dispatched[0].lang == "zh" and dispatched[0].role == "employer"
    assert queue(desk, BOB).position == 2
    assert queue(desk, CAROL).position == 3
    # Asking again does not queue twice.
    assert queue(desk, BOB).position == 2
    # Alice leaves: Bob and Carol move up and are told.
    left, moved = desk.live_queue.leave(ALICE, OPEN)
    assert left
    assert all(isinstance(n, nt.QueuePosition) for n in moved)
    assert {(n.user_id, n.position) for n in moved if isinstance(n, nt.QueuePosition)} == {(BOB, 1), (CAROL, 2)}


def test_dispatch_shows_recent_questions(desk: Services) -> None:
    desk.helpdesk.meet(ALICE, "Alice", "en", OPEN)
    desk.helpdesk.ask(ALICE, "I lost my work permit card", None, OPEN)
    desk.live_queue.check_in(OP1, OPEN)
    _, notices = desk.live_queue.request(ALICE, "en", None, OPEN)
    [offer] = notices
    assert isinstance(offer, nt.QueueNew)
    assert offer.history == (("I lost my work permit card", "answer", "reissue"),)


def test_out_of_hours_says_when_staff_are_back(desk: Services) -> None:
    friday_evening = datetime(2026, 2, 13, 19, 0, tzinfo=SH)
    status, notices = desk.live_queue.request(ALICE, "en", None, friday_evening)
    # Saturday 14 Feb 2026 is an adjusted working day (调休).
    assert status == Closed(datetime(2026, 2, 14, 9, 0, tzinfo=SH)) and notices == []
    assert desk.live_queue.queue_status(ALICE) is None


def test_always_open_desk(kb: KnowledgeBase) -> None:
    services = services_on(make_engine("sqlite://"), kb, hours="always")
    status, _ = services.live_queue.request(ALICE, "en", None, datetime(2026, 2, 17, 3, 0, tzinfo=SH))
    assert isinstance(status, QueueStatus)


def test_claim_relay_transfer_end_and_rating(desk: Services) -> None:
    desk.live_queue.check_in(OP1, OPEN)
    desk.live_queue.check_in(OP2, OPEN)
    request = queue(desk, ALICE)
    session, notices = desk.live_queue.claim(OP1, request.request_id, OPEN)
    assert notices[0] == nt.SessionStarted(ALICE, "Li Na")
    with pytest.raises(Conflict):
        desk.live_queue.claim(OP2, request.request_id, OPEN)
    assert desk.live_relay.user_says(ALICE, "Hello, my card is lost", OPEN).operator_id == OP1
    assert desk.live_relay.operator_says(OP1, "Please file a reissue online.", OPEN).user_id == ALICE
    with pytest.raises(NotFound):
        desk.live_relay.operator_says(OP2, "not mine", OPEN)
    view, notices = desk.live_sessions.transfer(OP1, OP2, OPEN)
    assert view.operator_id == OP2 and view.operator_name == "Zhang Wei"
    handover = next(n for n in notices if n.user_id == OP2)
    assert isinstance(handover, nt.SessionTransferredToYou)
    assert nt.TranscriptLine("user", "Hello, my card is lost") in handover.transcript
    assert desk.live_relay.operator_says(OP2, "I'm here now.", OPEN).user_id == ALICE
    view, notices = desk.live_sessions.end(OP2, "resolved", OPEN + timedelta(minutes=4))
    assert isinstance(notices[0], nt.SessionEnded) and view.status == "ended"
    rating, alerts = desk.ratings.rate(ALICE, "session", session.id, 4, OPEN)
    assert rating.bad and [a.user_id for a in alerts] == [SUP]
    with pytest.raises(Conflict):
        desk.ratings.rate(ALICE, "session", session.id, 1, OPEN)
    # The next estimate uses the real handling time (4 minutes).
    assert queue(desk, BOB).estimate == timedelta(minutes=4)


def test_relay_by_reply_to_when_an_operator_has_two_users(desk: Services) -> None:
    desk.live_queue.check_in(OP1, OPEN)
    first, _ = desk.live_queue.claim(OP1, queue(desk, ALICE).request_id, OPEN)
    second, _ = desk.live_queue.claim(OP1, queue(desk, BOB).request_id, OPEN)
    desk.live_relay.link(OP1, 555, first.id)
    assert desk.live_relay.operator_says(OP1, "to Alice", OPEN, reply_to=(OP1, 555)).user_id == ALICE
    assert desk.live_relay.operator_says(OP1, "to the focused (latest) user", OPEN).user_id == BOB
    desk.live_sessions.focus(OP1, first.id)
    assert desk.live_relay.operator_says(OP1, "Alice again", OPEN).user_id == ALICE
    assert second.id != first.id
    with pytest.raises(NotFound):
        desk.live_sessions.focus(OP2, first.id)  # not OP2's chat


def test_relayed_messages_are_checked(desk: Services) -> None:
    desk.live_queue.check_in(OP1, OPEN)
    desk.live_queue.claim(OP1, queue(desk, ALICE).request_id, OPEN)
    with pytest.raises(InvalidInput) as too_long:
        desk.live_relay.user_says(ALICE, "x" * (MAX_RELAY + 1), OPEN)
    assert (too_long.value.reason, too_long.value.details) == (
        Reason.TOO_LONG,
        {"limit": MAX_RELAY, "length": MAX_RELAY + 1},
    )
    with pytest.raises(InvalidInput) as empty:
        desk.live_relay.operator_says(OP1, " \u0007 ", OPEN)
    assert empty.value.reason == Reason.EMPTY
    assert desk.live_relay.user_says(ALICE, "", OPEN, file_id="photo-1", file_kind="photo").operator_id == OP1


def test_check_out_hands_sessions_back_to_the_front_of_the_queue(desk: Services) -> None:
    desk.live_queue.check_in(OP1, OPEN)
    desk.live_queue.claim(OP1, queue(desk, ALICE).request_id, OPEN)
    queue(desk, BOB, OPEN + timedelta(minutes=1))
    count, notices = desk.live_queue.check_out(OP1, OPEN + timedelta(minutes=2))
    assert count == 1
    assert nt.HandedBack(ALICE) in notices
    assert desk.live_sessions.chat_role(ALICE) is None
    assert desk.live_queue.queue_status(ALICE).position == 1  # type: ignore[union-attr]
    assert desk.live_queue.queue_status(BOB).position == 2  # type: ignore[union-attr]


def test_turn_a_conversation_into_a_ticket(desk: Services) -> None:
    desk.live_queue.check_in(OP1, OPEN)
    desk.live_queue.claim(OP1, queue(desk, ALICE).request_id, OPEN)
    desk.live_relay.user_says(ALICE, "Our HR contact left, who cancels the permit?", OPEN)
    ticket, notices = desk.live_sessions.to_ticket(OP1, OPEN)
    assert ticket.kind == "help" and ticket.assignee_id == OP1 and ticket.status == "in_progress"
    assert "who cancels the permit" in ticket.description
    assert isinstance(notices[0], nt.SessionTicket) and notices[0].number == ticket.number
    assert desk.live_sessions.chat_role(ALICE) is None


def test_timers_with_fixed_clocks(desk: Services) -> None:
    """The operator wrote last: the user is asked whether they are still there, then the chat closes."""
    desk.live_queue.check_in(OP1, OPEN)
    queue(desk, ALICE)
    desk.live_queue.claim(OP1, queue(desk, BOB).request_id, OPEN)
    desk.live_relay.operator_says(OP1, "Hello, how can I help?", OPEN)
    assert desk.live_timers.sweep(OPEN + timedelta(minutes=4)) == []
    at_10 = desk.live_timers.sweep(OPEN + timedelta(minutes=10))
    assert {(n.user_id, type(n)) for n in at_10} == {
        (ALICE, nt.QueueLongWait),
        (BOB, nt.SessionIdle),
        (OP1, nt.SessionIdleOperator),
    }
    assert desk.live_timers.sweep(OPEN + timedelta(minutes=11)) == []  # each told once
    at_15 = desk.live_timers.sweep(OPEN + timedelta(minutes=15))
    assert {(n.user_id, type(n)) for n in at_15} == {(BOB, nt.SessionEnded), (OP1, nt.SessionAutoClosed)}
    assert desk.live_sessions.chat_role(BOB) is None


@pytest.mark.parametrize("user_wrote", [True, False])
def test_a_silent_operator_never_closes_the_chat_on_the_user(desk: Services, user_wrote: bool) -> None:
    """The user waits for an answer (they wrote last, or nobody wrote since the claim): the operator is
    reminded, then the user goes back to the front of the queue, offered to the other operators, and the
    supervisors are told. The user is never asked whether they are still there, nor the chat closed."""
    desk.live_queue.check_in(OP1, OPEN)
    desk.live_queue.check_in(OP2, OPEN)
    desk.live_queue.claim(OP1, queue(desk, ALICE).request_id, OPEN)
    queue(desk, BOB, OPEN + timedelta(minutes=1))  # Bob came later: Alice goes back ahead of him
    if user_wrote:
        desk.live_relay.user_says(ALICE, "Hello? My HR says the system rejected our extension.", OPEN)
    at_5 = desk.live_timers.sweep(OPEN + timedelta(minutes=5))
    assert [(n.user_id, type(n)) for n in at_5] == [(OP1, nt.SessionUserWaiting)]
    assert at_5[0].minutes == 5 and at_5[0].requeue_minutes == 5  # type: ignore[union-attr]
    assert desk.live_timers.sweep(OPEN + timedelta(minutes=6)) == []
    at_10 = desk.live_timers.sweep(OPEN + timedelta(minutes=10))
    kinds = {(n.user_id, type(n)) for n in at_10}
    assert (ALICE, nt.HandedBack) in kinds and (OP1, nt.SessionRequeued) in kinds and (SUP, nt.OperatorSilent) in kinds
    assert (OP2, nt.QueueNew) in kinds  # offered to the colleague still checked in
    assert not kinds & {(ALICE, nt.SessionEnded), (ALICE, nt.SessionIdle)}
    assert next(n for n in at_10 if isinstance(n, nt.HandedBack)).unanswered
    assert desk.live_queue.queue_status(ALICE).position == 1  # type: ignore[union-attr]
    assert desk.live_queue.queue_status(BOB).position == 2  # type: ignore[union-attr]
    assert desk.live_sessions.chat_role(ALICE) is None


def test_activity_resets_the_idle_timer(desk: Services) -> None:
    desk.live_queue.check_in(OP1, OPEN)
    desk.live_queue.claim(OP1, queue(desk, ALICE).request_id, OPEN)
    desk.live_timers.sweep(OPEN + timedelta(minutes=5))  # the operator is reminded
    desk.live_relay.operator_says(OP1, "Sorry for the wait.", OPEN + timedelta(minutes=6))
    assert desk.live_timers.sweep(OPEN + timedelta(minutes=10)) == []


def test_restart_keeps_queue_and_sessions(kb: KnowledgeBase, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'desk.sqlite3'}"
    first = services_on(make_engine(url), kb)
    first.staff.add(OP1, "operator", "Li Na", OPEN)
    first.live_queue.check_in(OP1, OPEN)
    session, _ = first.live_queue.claim(OP1, queue(first, ALICE).request_id, OPEN)
    queue(first, BOB)
    first.engine.dispose()
    again = services_on(make_engine(url), kb)  # a new process on the same database
    assert again.live_queue.queue_status(BOB).position == 1  # type: ignore[union-attr]
    assert again.live_relay.user_says(ALICE, "are you there?", OPEN).id == session.id
    assert again.live_relay.operator_says(OP1, "yes", OPEN).user_id == ALICE


def _race(services: Services, operators: list[int], request_id: int) -> list[object]:
    barrier = threading.Barrier(len(operators))
    results: list[object] = []
    lock = threading.Lock()

    def claim(op: int) -> None:
        barrier.wait()
        try:
            outcome: object = services.live_queue.claim(op, request_id, OPEN)[0]
        except Conflict as exc:
            outcome = exc
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=claim, args=(op,)) for op in operators]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def _claim_race(services: Services) -> None:
    operators = [3000 + i for i in range(8)]
    for op in operators:
        services.staff.add(op, "operator", f"Operator {op}", OPEN)
        services.live_queue.check_in(op, OPEN)
    for user in range(5000, 5010):
        request = queue(services, user)
        results = _race(services, operators, request.request_id)
        winners = [r for r in results if isinstance(r, SessionView)]
        losers = [r for r in results if isinstance(r, Conflict)]
        assert len(winners) == 1 and len(losers) == len(operators) - 1, results


def test_concurrent_claims_sqlite(kb: KnowledgeBase, tmp_path: Path) -> None:
    _claim_race(services_on(make_engine(f"sqlite:///{tmp_path / 'race.sqlite3'}"), kb))


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    with postgres_engine() as engine:
        yield engine


@pytest.mark.postgres
def test_concurrent_claims_postgresql(kb: KnowledgeBase, pg_engine: Engine) -> None:
    _claim_race(services_on(pg_engine, kb))


def test_chat_role_and_current_session(desk: Services) -> None:
    desk.live_queue.check_in(OP1, OPEN)
    assert desk.live_sessions.chat_role(ALICE) is None and desk.live_sessions.chat_role(OP1) is None
    status = queue(desk, ALICE)
    view, _ = desk.live_queue.claim(OP1, status.request_id, OPEN)
    assert desk.live_sessions.chat_role(ALICE) == "user" and desk.live_sessions.chat_role(OP1) == "operator"
    assert desk.live_sessions.current_session(OP1).id == view.id
    with pytest.raises(NotFound):
        desk.live_sessions.current_session(OP2)
    desk.live_sessions.end(OP1, "resolved", OPEN)
    assert desk.live_sessions.chat_role(ALICE) is None and desk.live_sessions.chat_role(OP1) is None


def test_operators_end_with_resolved_or_unresolved_only(desk: Services) -> None:
    desk.live_queue.check_in(OP1, OPEN)
    desk.live_queue.claim(OP1, queue(desk, ALICE).request_id, OPEN)
    with pytest.raises(InvalidInput):
        desk.live_sessions.end(OP1, "handed_back", OPEN)
    _view, notices = desk.live_sessions.end(OP1, "unresolved", OPEN)
    [ended, offer] = notices
    assert isinstance(ended, nt.SessionEnded) and ended.outcome == "unresolved"
    assert offer == nt.SessionUnresolved(ALICE, ended.session_id)  # the user may have it followed up as a ticket


def test_auto_assign_gives_the_user_to_the_least_busy_operator(kb: KnowledgeBase) -> None:
    settings = Settings(helpdesk_hours="always", helpdesk_auto_assign=True, database_url="sqlite://")
    s = build_services(settings, kb, make_engine("sqlite://"))
    s.staff.add(OP1, "operator", "Li Na", OPEN)
    s.staff.add(OP2, "operator", "Zhang Wei", OPEN)
    first, _ = s.live_queue.request(ALICE, "en", "applicant", OPEN)  # nobody checked in: the user waits
    assert isinstance(first, QueueStatus)
    s.live_queue.check_in(OP1, OPEN)
    s.live_queue.claim(OP1, first.request_id, OPEN)  # Li Na now has one chat
    s.live_queue.check_in(OP2, OPEN)
    assert [(o[0], o[2]) for o in s.live_queue.operators_online()] == [(OP2, 0), (OP1, 1)]
    assigned, notices = s.live_queue.request(BOB, "en", "employer", OPEN)
    assert isinstance(assigned, SessionView) and assigned.operator_id == OP2  # the least busy
    assert [type(n) for n in notices if n.user_id == BOB] == [nt.SessionStarted]


def test_staff_chat_gets_every_waiting_user(kb: KnowledgeBase) -> None:
    settings = Settings(helpdesk_hours="always", helpdesk_staff_chat=-100123, database_url="sqlite://")
    s = build_services(settings, kb, make_engine("sqlite://"))
    s.staff.add(OP1, "operator", "Li Na", OPEN)
    s.live_queue.check_in(OP1, OPEN)
    _status, notices = s.live_queue.request(ALICE, "zh", "applicant", OPEN)
    offers = {n.user_id: n for n in notices if isinstance(n, nt.QueueNew)}
    assert set(offers) == {OP1, -100123}
    assert offers[-100123].lang == "zh" and offers[-100123].role == "applicant"


def test_cards_are_settled_once_and_a_late_card_is_settled_at_once(desk: Services) -> None:
    desk.live_queue.check_in(OP1, OPEN)
    request = queue(desk, ALICE)
    assert desk.live_queue.remember_card(OP1, 10, request.request_id, OPEN) == ()  # still waiting: kept
    assert desk.live_queue.remember_card(OP1, 10, request.request_id, OPEN) == ()  # a work handled again
    assert desk.live_queue.settle_cards(ALICE).cards == ()  # nothing stale yet
    desk.live_queue.claim(OP1, request.request_id, OPEN)
    settled = desk.live_queue.settle_cards(ALICE, (OP1, 10))
    [card] = settled.cards
    assert (card.chat_id, card.message_id, card.status, card.operator) == (OP1, 10, "claimed", "Li Na")
    assert settled.pressed_is_card
    assert desk.live_queue.settle_cards(ALICE, (OP1, 99)) == SettledCards((), False)  # each card handed out once
    # A card whose sending overlapped the claim is returned to be edited at once.
    [late] = desk.live_queue.remember_card(OP2, 11, request.request_id, OPEN)
    assert (late.chat_id, late.status, late.operator) == (OP2, "claimed", "Li Na")
    assert desk.live_queue.settle_cards(ALICE).cards == ()
    state = desk.live_queue.request_state(request.request_id)
    assert state is not None and (state.status, state.operator_id, state.operator) == ("claimed", OP1, "Li Na")
    assert desk.live_queue.request_state(999) is None


def test_the_desk_says_when_it_opens_when_closed(desk: Services) -> None:
    assert desk.live_queue.closed_until(OPEN) is None
    saturday = datetime(2026, 3, 7, 20, 0, tzinfo=SH)
    assert desk.live_queue.closed_until(saturday) == datetime(2026, 3, 9, 9, 0, tzinfo=SH)


def test_a_chat_ended_unresolved_is_followed_up_as_one_ticket_by_its_user_only(desk: Services) -> None:
    desk.live_queue.check_in(OP1, OPEN)
    view, _ = desk.live_queue.claim(OP1, queue(desk, ALICE).request_id, OPEN)
    for _n in range(3):  # a long conversation: the ticket keeps its latest whole messages
        desk.live_relay.user_says(ALICE, "word " * 700, OPEN)
    desk.live_relay.user_says(ALICE, "My permit was never cancelled", OPEN)
    with pytest.raises(NotFound):  # not ended yet
        desk.live_sessions.follow_up(ALICE, view.id, OPEN)
    desk.live_sessions.end(OP1, "unresolved", OPEN)
    with pytest.raises(NotFound):  # someone else's chat
        desk.live_sessions.follow_up(BOB, view.id, OPEN)
    ticket, new, _notices = desk.live_sessions.follow_up(ALICE, view.id, OPEN)
    assert new and ticket.kind == "help" and ticket.user_id == ALICE and ticket.assignee_id is None
    assert ticket.description.endswith("[user] My permit was never cancelled")
    assert "\n[user] word word" in ticket.description and "\nword" not in ticket.description  # whole messages
    again, new_again, notices = desk.live_sessions.follow_up(ALICE, view.id, OPEN)
    assert (again.number, new_again, notices) == (ticket.number, False, [])
    # A chat ended resolved offers nothing.
    view2, _ = desk.live_queue.claim(OP1, queue(desk, ALICE).request_id, OPEN)
    desk.live_sessions.end(OP1, "resolved", OPEN)
    with pytest.raises(NotFound):
        desk.live_sessions.follow_up(ALICE, view2.id, OPEN)
