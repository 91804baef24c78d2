"""Removing a member of staff at the live desk: their live chats go back to the front of the queue in the
same transaction (as at 签出), they can do nothing more as an operator, and a claim or transfer racing
the removal is refused; ``python -m bot staff remove`` does the same work, but only with ``--hand-back``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from bot import notices as nt
from bot.__main__ import main
from bot.answering.knowledge import KnowledgeBase
from bot.config import get_settings
from bot.desk.live.shared import QueueStatus
from bot.desk.staff import StaffView
from bot.errors import InvalidInput, NotAllowed, NotFound
from bot.services import Services
from bot.store.db import make_engine
from bot.store.models import AuditLog, LiveSession
from bot.store.statuses import SessionOutcome, SessionStatus, StaffRole
from tests.test_live import ALICE, BOB, OP1, OP2, OPEN, SUP, desk, queue, services_on

__all__ = ["desk"]


def test_removal_hands_live_chats_back_to_the_front_of_the_queue(desk: Services) -> None:
    desk.live_queue.check_in(OP1, OPEN)
    desk.live_queue.check_in(OP2, OPEN)
    session, _ = desk.live_queue.claim(OP1, queue(desk, ALICE).request_id, OPEN)
    queue(desk, BOB, OPEN + timedelta(minutes=1))
    later = OPEN + timedelta(minutes=2)

    member, handed_back, notices = desk.live_queue.remove_staff(OP1, later, SUP)

    assert (member.user_id, handed_back) == (OP1, 1)
    assert desk.staff.get(OP1) is None
    # Alice is told, and offered to the colleague still checked in (not to the removed operator).
    assert nt.HandedBack(ALICE) in notices
    offers = [n for n in notices if isinstance(n, nt.QueueNew)]
    assert [(n.user_id, n.requester_id) for n in offers] == [(OP2, ALICE)]
    # Back at the front: ahead of Bob, who came later and is told his new place.
    assert desk.live_queue.queue_status(ALICE).position == 1  # type: ignore[union-attr]
    assert desk.live_queue.queue_status(BOB).position == 2  # type: ignore[union-attr]
    assert [(n.user_id, n.position) for n in notices if isinstance(n, nt.QueuePosition)] == [(ALICE, 1), (BOB, 2)]
    assert desk.live_sessions.chat_role(ALICE) is None and desk.live_sessions.chat_role(OP1) is None
    with Session(desk.engine) as db:
        row = db.get(LiveSession, session.id)
        assert row is not None and row.status == SessionStatus.ENDED and row.outcome == SessionOutcome.HANDED_BACK
        actions = db.exec(select(AuditLog.action).where(AuditLog.actor_id == SUP).order_by(col(AuditLog.id))).all()
        assert list(actions) == ["staff_remove", "hand_back"]
    # Nothing more as an operator.
    for attempt in (
        lambda: desk.live_relay.operator_says(OP1, "still there?", later),
        lambda: desk.live_queue.check_in(OP1, later),
        lambda: desk.live_queue.check_out(OP1, later),
        lambda: desk.live_sessions.end(OP1, "resolved", later),
        lambda: desk.live_queue.claim(OP1, queue(desk, ALICE).request_id, later),
    ):
        with pytest.raises(NotAllowed):
            attempt()
    with pytest.raises(NotFound):
        desk.live_queue.remove_staff(OP1, later, SUP)  # once only
    # Another operator continues with Alice.
    view, _ = desk.live_queue.claim(OP2, queue(desk, ALICE).request_id, later)
    assert desk.live_relay.user_says(ALICE, "hello again", later).operator_id == OP2 == view.operator_id


def test_removal_without_live_chats_tells_nobody(desk: Services) -> None:
    desk.live_queue.check_in(OP1, OPEN)
    queue(desk, ALICE)
    member, handed_back, notices = desk.live_queue.remove_staff(OP1, OPEN, SUP)
    assert (member.user_id, handed_back, notices) == (OP1, 0, [])
    assert desk.live_queue.operators_online() == []


def test_a_refused_removal_keeps_the_chat(desk: Services) -> None:
    desk.live_queue.check_in(OP1, OPEN)
    desk.live_queue.claim(OP1, queue(desk, ALICE).request_id, OPEN)
    with pytest.raises(InvalidInput):
        desk.live_queue.remove_staff(OP1, OPEN, OP1)  # nobody removes themselves
    assert desk.staff.get(OP1) is not None
    assert desk.live_relay.user_says(ALICE, "still here", OPEN).operator_id == OP1


def test_a_claim_racing_the_removal_is_refused_and_undone(desk: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    desk.live_queue.check_in(OP1, OPEN)
    request = queue(desk, ALICE)
    desk.live_queue.remove_staff(OP1, OPEN, SUP)
    # The claim checked OP1 just before the removal committed: the claim's own transaction refuses it.
    monkeypatch.setattr(desk.staff, "require", lambda *_: StaffView(OP1, StaffRole.OPERATOR, "Li Na", True))
    with pytest.raises(NotAllowed):
        desk.live_queue.claim(OP1, request.request_id, OPEN)
    status = desk.live_queue.queue_status(ALICE)
    assert isinstance(status, QueueStatus) and status.position == 1  # still waiting, nobody serves her
    assert desk.live_sessions.chat_role(ALICE) is None


def test_a_transfer_to_a_colleague_removed_meanwhile_is_refused(
    desk: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk.live_queue.check_in(OP1, OPEN)
    desk.live_queue.check_in(OP2, OPEN)
    desk.live_queue.claim(OP1, queue(desk, ALICE).request_id, OPEN)
    desk.live_queue.remove_staff(OP2, OPEN, SUP)
    monkeypatch.setattr(desk.staff, "get", lambda *_: StaffView(OP2, StaffRole.OPERATOR, "Zhang Wei", True))
    with pytest.raises(NotFound):
        desk.live_sessions.transfer(OP1, OP2, OPEN)
    assert desk.live_relay.user_says(ALICE, "who is there?", OPEN).operator_id == OP1


def test_command_line_removal_needs_hand_back_for_live_chats(
    kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'desk.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        services = services_on(make_engine(url), kb)
        services.staff.add(OP1, "operator", "Li Na", OPEN)
        services.staff.add(OP2, "operator", "Zhang Wei", OPEN)
        services.live_queue.check_in(OP1, OPEN)
        services.live_queue.claim(OP1, queue(services, ALICE).request_id, OPEN)

        # Refused: the user would not be told.
        assert main(["staff", "remove", str(OP1)]) == 1
        assert "has 1 live chat(s)" in capsys.readouterr().err
        assert services.staff.get(OP1) is not None
        assert services.live_sessions.chat_role(ALICE) == "user"

        assert main(["staff", "remove", str(OP1), "--hand-back"]) == 0
        out = capsys.readouterr().out
        assert f"{OP1} Li Na: removed" in out and "1 live chat(s) went back" in out and "NOT told" in out
        assert services.staff.get(OP1) is None
        assert services.live_sessions.chat_role(ALICE) is None
        assert services.live_queue.queue_status(ALICE).position == 1  # type: ignore[union-attr]

        # Without live chats no flag is needed; an unknown id is an error.
        assert main(["staff", "remove", str(OP2)]) == 0
        assert main(["staff", "remove", str(OP2), "--hand-back"]) == 1
        assert f"{OP2} is not a member of staff" in capsys.readouterr().err
    finally:
        get_settings.cache_clear()
