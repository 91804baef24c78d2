"""好差评 回访 in the core (``bot.desk.followups``): a bad rating opens a follow-up due in working days on the
holiday calendar (2026: Labour Day 1–5 May off, Saturday 9 May an adjusted working day); a good one opens
none; a supervisor takes it and records the call-back, which closes it."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.desk.followups import FollowUps, Outcome
from bot.desk.ratings import Ratings
from bot.desk.workdays import SHANGHAI
from bot.errors import Conflict, InvalidInput, NotAllowed
from bot.store.db import make_engine
from tests.calendars import package_only
from tests.test_tickets import Desk, desk_on

ALICE, BOB, OPERATOR, SUPERVISOR, SUPERVISOR2 = 1001, 1002, 2001, 2002, 2003
TEXT = "How do I cancel the permit of an employee who left?"


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def desk() -> Desk:
    made = desk_on(make_engine("sqlite://"), package_only())
    made.staff.add(OPERATOR, "operator", "Li Na", at(4, 1))
    made.staff.add(SUPERVISOR, "supervisor", "Wang Wei", at(4, 1))
    made.staff.add(SUPERVISOR2, "supervisor", "Zhao Min", at(4, 1))
    return made


def closed_ticket(desk: Desk, user_id: int, when: datetime) -> int:
    ticket = desk.filing.create(user_id, "enquiry", TEXT, "en", when)
    desk.work.close(SUPERVISOR, ticket.id, "Explained.", when)
    return ticket.id


def parts(desk: Desk, days: int = 5) -> tuple[FollowUps, Ratings]:
    followups = FollowUps(desk.engine, desk.staff, package_only(), days)
    return followups, Ratings(desk.engine, desk.staff, desk.flows, followups=followups)


def test_a_bad_rating_opens_a_follow_up_due_across_the_holiday_and_a_good_one_none(desk: Desk) -> None:
    followups, ratings = parts(desk)
    bad, notices = ratings.rate(ALICE, "ticket", closed_ticket(desk, ALICE, at(4, 29)), 5, at(4, 29, 10))
    good, _ = ratings.rate(BOB, "ticket", closed_ticket(desk, BOB, at(4, 29)), 2, at(4, 29, 10))
    item = followups.of_rating(bad.id)
    assert item is not None and item.open and item.user_id == ALICE and item.level == 5
    # 30 Apr, then 6, 7, 8 May and the adjusted working Saturday 9 May (1–5 May off): five working days
    assert item.due_at == datetime(2026, 5, 9, 23, 59, 59, tzinfo=SHANGHAI)
    assert followups.of_rating(good.id) is None
    assert {n.followup_id for n in notices} == {item.id}  # each supervisor's alert carries its follow-up
    assert followups.open_count() == 1


def test_take_record_with_outcome_and_the_list(desk: Desk) -> None:
    followups, ratings = parts(desk, days=1)
    first, _ = ratings.rate(ALICE, "ticket", closed_ticket(desk, ALICE, at(4, 29)), 4, at(4, 29, 10))
    second, _ = ratings.rate(BOB, "ticket", closed_ticket(desk, BOB, at(4, 28)), 5, at(4, 28, 10))
    one, two = followups.of_rating(first.id), followups.of_rating(second.id)
    assert one is not None and two is not None
    assert [f.id for f in followups.open_list(SUPERVISOR)] == [two.id, one.id]  # earliest due first
    with pytest.raises(NotAllowed):
        followups.take(OPERATOR, one.id, at(4, 29, 11))  # supervisors only
    assert followups.take(SUPERVISOR, one.id, at(4, 29, 11)).assignee_id == SUPERVISOR
    assert followups.take(SUPERVISOR2, one.id, at(4, 29, 12)).assignee_id == SUPERVISOR2  # taken over
    with pytest.raises(InvalidInput):
        followups.record(SUPERVISOR2, one.id, Outcome.RESOLVED, "  ", at(4, 29, 13))
    with pytest.raises(InvalidInput):
        followups.record(SUPERVISOR2, one.id, "shrug", "Called.", at(4, 29, 13))
    done = followups.record(SUPERVISOR2, one.id, Outcome.RESOLVED, "Waited too long; sped up.", at(4, 29, 14))
    assert (done.open, done.called_by, done.called_at, done.outcome) == (
        False,
        SUPERVISOR2,
        at(4, 29, 14),
        "resolved",
    )
    assert done.notes == "Waited too long; sped up."
    with pytest.raises(Conflict):
        followups.record(SUPERVISOR, one.id, Outcome.EXPLAINED, "Again.", at(4, 29, 15))
    with pytest.raises(Conflict):
        followups.take(SUPERVISOR, one.id, at(4, 29, 15))
    assert [f.id for f in followups.open_list(SUPERVISOR)] == [two.id]
    assert two.overdue(at(4, 29, 23)) is False and two.overdue(at(4, 30, 9)) is True  # due 29 Apr, end of day
    wrongful = followups.record(SUPERVISOR, two.id, Outcome.WRONGFUL, "Rated the wrong ticket.", at(5, 6, 9))
    assert wrongful.assignee_id == SUPERVISOR and wrongful.outcome == "wrongful"  # untaken: the caller's
    assert followups.open_list(SUPERVISOR) == [] and followups.open_count() == 0
