"""Policy notices in the core (``bot.desk.outreach.notices``): a supervisor drafts in both languages, confirms,
and the recipients are fixed at confirmation (subscribed, not blocked, of the audience), one delivery each;
sending runs take disjoint batches, record each outcome once, and the last one closes the notice with its
counts and a report for whoever confirmed it."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.answering.helpdesk import Helpdesk
from bot.answering.knowledge import KnowledgeBase
from bot.config import Settings
from bot.desk.outreach.notice_cli import notice_command
from bot.desk.outreach.notices import (
    Audience,
    DeliveryStatus,
    NoticeStatus,
    NoticeText,
    PolicyNotices,
    read_draft_file,
)
from bot.desk.staff import StaffRegistry
from bot.errors import Conflict, InvalidInput, NotAllowed, NotFound, Reason
from bot.store.db import make_engine
from tests.dbs import postgres_engine

NOW = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
OPERATOR, SUPERVISOR = 2001, 2002
HR_EN, HR_ZH, HR_UNSUBSCRIBED, HR_BLOCKED, APPLICANT, NO_ROLE = 1001, 1002, 1003, 1004, 1005, 1006
EN = NoticeText("New rule for cancellations", "From 1 April, cancel within 10 working days.")
ZH = NoticeText("注销新规", "自4月1日起，请在10个工作日内办理注销。")


class Desk:
    def __init__(self, kb: KnowledgeBase, engine: Engine) -> None:
        self.staff = StaffRegistry(engine)
        self.helpdesk = Helpdesk(kb, engine)
        self.notices = PolicyNotices(engine, self.staff, kb.entries)
        self.staff.add(OPERATOR, "operator", "Li Na", NOW)
        self.staff.add(SUPERVISOR, "supervisor", "Wang Fang", NOW)
        users = {
            HR_EN: ("en", "employer", True),
            HR_ZH: ("zh", "employer", True),
            HR_UNSUBSCRIBED: ("en", "employer", False),
            HR_BLOCKED: ("en", "employer", True),
            APPLICANT: ("zh", "applicant", True),
            NO_ROLE: ("en", None, True),
        }
        for user, (lang, role, subscribed) in users.items():
            self.helpdesk.meet(user, f"user {user}", lang, NOW)
            self.helpdesk.set_language(user, lang, NOW)
            if role:
                self.helpdesk.set_role(user, role, NOW)
            self.helpdesk.set_subscribed(user, subscribed, NOW)
        self.helpdesk.mark_blocked(HR_BLOCKED, NOW)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def desk(kb: KnowledgeBase, request: pytest.FixtureRequest) -> Iterator[Desk]:
    """On SQLite, and on PostgreSQL (which enforces the column lengths and runs the claims' conditional updates
    under real concurrency rules)."""
    if request.param == "sqlite":
        yield Desk(kb, make_engine("sqlite://"))
        return
    with postgres_engine() as engine:
        yield Desk(kb, engine)


def drafted(desk: Desk, audience: str = Audience.EMPLOYERS, entry: str | None = None) -> int:
    return desk.notices.draft(SUPERVISOR, EN, ZH, audience, entry, NOW).id


def send_all(desk: Desk, size: int = 100, outcome: dict[int, DeliveryStatus] | None = None) -> list[int]:
    """Take batches until none is left, marking each as *outcome* says (default sent); who was sent to."""
    told: list[int] = []
    while batch := desk.notices.take(NOW, size).deliveries:
        for delivery in batch:
            told.append(delivery.user_id)
            desk.notices.mark(delivery.id, (outcome or {}).get(delivery.user_id, DeliveryStatus.SENT), NOW)
    return told


def test_the_audience_is_fixed_at_confirmation_and_each_subscriber_gets_it_once_in_their_language(
    desk: Desk,
) -> None:
    notice_id = drafted(desk, entry="cancellation")
    assert desk.notices.reach(Audience.EMPLOYERS) == 2  # subscribed HR contacts who have not blocked the bot
    confirmed = desk.notices.confirm(SUPERVISOR, notice_id, NOW)
    assert (confirmed.status, confirmed.recipients) == (NoticeStatus.SENDING, 2)
    desk.helpdesk.set_role(APPLICANT, "employer", NOW)  # too late: not a recipient of this notice
    batch = desk.notices.take(NOW)
    assert {(d.user_id, d.lang) for d in batch.deliveries} == {(HR_EN, "en"), (HR_ZH, "zh")}
    assert batch.notices[notice_id].text("zh") == ZH and batch.notices[notice_id].entry_id == "cancellation"
    assert desk.notices.take(NOW).deliveries == ()  # claimed: a second run never takes them again
    for delivery in batch.deliveries:
        desk.notices.mark(delivery.id, DeliveryStatus.SENT, NOW)
        desk.notices.mark(delivery.id, DeliveryStatus.FAILED, NOW)  # recorded once: the first outcome stays
    [report] = desk.notices.finish(NOW)
    assert report.user_id == SUPERVISOR
    assert (report.notice.status, report.notice.sent, report.notice.failed, report.notice.blocked) == ("done", 2, 0, 0)
    assert desk.notices.finish(NOW) == []  # reported once


@pytest.mark.parametrize(
    ("audience", "expected"),
    [
        (Audience.EMPLOYERS, {HR_EN, HR_ZH}),
        (Audience.APPLICANTS, {APPLICANT, NO_ROLE}),
        (Audience.ALL, {HR_EN, HR_ZH, APPLICANT, NO_ROLE}),
    ],
)
def test_each_audience_reaches_its_subscribers_only(desk: Desk, audience: str, expected: set[int]) -> None:
    notice_id = drafted(desk, audience)
    desk.notices.confirm(SUPERVISOR, notice_id, NOW)
    assert set(send_all(desk)) == expected
    assert set(desk.notices.deliveries(notice_id)) == expected


def test_batches_are_disjoint_and_a_blocked_user_is_counted_and_marked(desk: Desk) -> None:
    notice_id = drafted(desk, Audience.ALL)
    desk.notices.confirm(SUPERVISOR, notice_id, NOW)
    first = desk.notices.take(NOW, 2).deliveries
    second = desk.notices.take(NOW, 2).deliveries
    assert len(first) == len(second) == 2 and not {d.id for d in first} & {d.id for d in second}
    for delivery in first + second:
        status = {NO_ROLE: DeliveryStatus.BLOCKED, APPLICANT: DeliveryStatus.FAILED}.get(delivery.user_id)
        desk.notices.mark(delivery.id, status or DeliveryStatus.SENT, NOW)
    assert desk.notices.finish(NOW)[0].notice.sent == 2
    view = desk.notices.get(SUPERVISOR, notice_id)
    assert (view.sent, view.failed, view.blocked, view.pending) == (2, 1, 1, 0)
    assert desk.helpdesk.subscribers() and NO_ROLE not in {u.id for u in desk.helpdesk.subscribers()}


def test_someone_who_unsubscribes_before_their_turn_is_skipped(desk: Desk) -> None:
    notice_id = drafted(desk)
    desk.notices.confirm(SUPERVISOR, notice_id, NOW)
    desk.helpdesk.set_subscribed(HR_ZH, False, NOW)
    assert send_all(desk) == [HR_EN]
    [report] = desk.notices.finish(NOW)
    assert (report.notice.recipients, report.notice.sent, report.notice.skipped) == (2, 1, 1)
    assert desk.notices.deliveries(notice_id)[HR_ZH] == "skipped"


def test_someone_who_asks_to_be_forgotten_gets_nothing_more_even_after_subscribing_again(desk: Desk) -> None:
    from bot.privacy.rights import PersonalDataRights

    notice_id = drafted(desk)
    desk.notices.confirm(SUPERVISOR, notice_id, NOW)
    erased = PersonalDataRights(desk.notices.engine).erase(HR_ZH, NOW)
    assert erased.changed["noticedelivery"] == 1  # her delivery, not sent yet, is gone with her data
    assert desk.helpdesk.user(HR_ZH) is not None and desk.helpdesk.user(HR_ZH).subscribed is False  # type: ignore[union-attr]
    assert HR_ZH not in desk.notices.deliveries(notice_id)
    desk.helpdesk.set_subscribed(HR_ZH, True, NOW)  # she subscribes again: new notices reach her, not that one
    assert send_all(desk) == [HR_EN]
    [report] = desk.notices.finish(NOW)
    assert (report.notice.recipients, report.notice.sent, report.notice.skipped) == (2, 1, 1)
    later = drafted(desk, Audience.ALL)  # (her role went with her data)
    desk.notices.confirm(SUPERVISOR, later, NOW)
    assert HR_ZH in send_all(desk)


def test_a_notice_nobody_would_get_is_reported_at_once(desk: Desk) -> None:
    desk.helpdesk.set_subscribed(APPLICANT, False, NOW)
    desk.helpdesk.set_subscribed(NO_ROLE, False, NOW)
    notice_id = drafted(desk, Audience.APPLICANTS)
    assert desk.notices.confirm(SUPERVISOR, notice_id, NOW).recipients == 0
    [report] = desk.notices.finish(NOW)
    assert (report.notice.id, report.notice.recipients, report.notice.sent) == (notice_id, 0, 0)


def test_only_drafts_are_edited_confirmed_or_cancelled_and_only_by_supervisors(desk: Desk) -> None:
    with pytest.raises(NotAllowed):
        desk.notices.draft(OPERATOR, EN, ZH, Audience.ALL, None, NOW)
    notice_id = drafted(desk)
    with pytest.raises(NotAllowed):
        desk.notices.confirm(OPERATOR, notice_id, NOW)
    edited = desk.notices.edit(SUPERVISOR, notice_id, NOW, audience=Audience.ALL, entry_id="cancellation")
    assert (edited.audience, edited.entry_id, edited.en) == ("all", "cancellation", EN)
    assert desk.notices.edit(SUPERVISOR, notice_id, NOW, entry_id=None).entry_id is None
    desk.notices.confirm(SUPERVISOR, notice_id, NOW)
    for again in (desk.notices.confirm, desk.notices.cancel):
        with pytest.raises(Conflict) as refused:
            again(SUPERVISOR, notice_id, NOW)
        assert refused.value.reason == Reason.NOTICE_NOT_DRAFT
    with pytest.raises(Conflict):
        desk.notices.edit(SUPERVISOR, notice_id, NOW, en=EN)
    other = drafted(desk)
    assert desk.notices.cancel(SUPERVISOR, other, NOW).status == NoticeStatus.CANCELLED
    assert desk.notices.take(NOW + timedelta(minutes=1)).notices.keys() == {notice_id}
    assert [v.id for v in desk.notices.listing(SUPERVISOR)] == [other, notice_id]


def test_drafts_are_checked(desk: Desk) -> None:
    with pytest.raises(InvalidInput):
        desk.notices.draft(SUPERVISOR, EN, ZH, "everyone", None, NOW)
    with pytest.raises(NotFound):
        desk.notices.draft(SUPERVISOR, EN, ZH, Audience.ALL, "no-such-entry", NOW)
    with pytest.raises(InvalidInput) as long:
        desk.notices.draft(SUPERVISOR, NoticeText("t", "x" * 2001), ZH, Audience.ALL, None, NOW)
    assert long.value.reason == Reason.TOO_LONG
    half = desk.notices.draft(SUPERVISOR, EN, None, Audience.ALL, None, NOW)
    with pytest.raises(InvalidInput) as incomplete:
        desk.notices.confirm(SUPERVISOR, half.id, NOW)
    assert incomplete.value.reason == Reason.NOTICE_INCOMPLETE
    assert desk.notices.get(SUPERVISOR, half.id).status == NoticeStatus.DRAFT


def test_a_message_is_a_title_then_a_text() -> None:
    assert NoticeText.from_message("\n Title line \nFirst.\n\nSecond.\n") == NoticeText(
        "Title line", "First.\n\nSecond."
    )


def test_a_draft_file_is_read_and_checked() -> None:
    text = """
audience = "employers"
entry = "cancellation"
[en]
title = "New rule"
body = "Cancel within 10 working days."
[zh]
title = "新规"
body = "请在10个工作日内注销。"
"""
    assert read_draft_file(text) == {
        "en": NoticeText("New rule", "Cancel within 10 working days."),
        "zh": NoticeText("新规", "请在10个工作日内注销。"),
        "audience": "employers",
        "entry_id": "cancellation",
    }
    with pytest.raises(ValueError, match=r"\[zh\]"):
        read_draft_file('audience = "all"\n[en]\ntitle = "t"\nbody = "b"\n')
    with pytest.raises(ValueError, match="audience"):
        read_draft_file(text.replace('"employers"', '"hr"'))


def test_the_command_line_records_a_draft_for_telegram_and_lists_the_notices(kb: KnowledgeBase, tmp_path: Path) -> None:
    draft = tmp_path / "notice.toml"
    draft.write_text(
        'audience = "employers"\nentry = "cancellation"\n[en]\ntitle = "New rule"\nbody = "Cancel within 10 working'
        ' days."\n[zh]\ntitle = "新规"\nbody = "请在10个工作日内注销。"\n',
        encoding="utf-8",
    )
    settings = Settings(_env_file=None, database_url=f"sqlite:///{tmp_path}/cli.sqlite3")  # type: ignore[call-arg]
    said: list[str] = []
    args = argparse.Namespace(notice_command="draft", file=str(draft))
    assert notice_command(settings, args, kb, NOW, said.append) == 0
    assert said == [
        "Draft #1 recorded (employers, 0 subscriber(s) now, “More” → cancellation). A supervisor previews and sends "
        "it in Telegram: /notices → “Preview draft #1” → Send."
    ]
    draft.write_text(draft.read_text(encoding="utf-8").replace("cancellation", "nothing-like-it"), encoding="utf-8")
    assert notice_command(settings, args, kb, NOW, said.append) == 1  # no such entry: nothing recorded
    said.clear()
    assert notice_command(settings, argparse.Namespace(notice_command="list"), kb, NOW, said.append) == 0
    assert said == ["#1  draft     employers  New rule"]
