"""The materials checklist (issue 16 §3): its rules come from ``knowledge/checklist.toml`` (checked with the
knowledge base), the questions are kept in the user's flow, and "Ask staff to check my materials" files a help
request carrying the answers."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.answering.knowledge import KnowledgeBase, load_knowledge
from bot.config import get_settings
from bot.desk.flows import FlowName
from bot.desk.outreach.checklist import Checklists, Step, build, checklist_text, steps_for
from bot.desk.workdays import SHANGHAI
from bot.errors import KnowledgeBaseError
from bot.store.db import make_engine
from bot.store.statuses import TicketKind
from tests.calendars import package_only
from tests.conftest import KB_DIR
from tests.test_tickets import Desk, desk_on

ALICE, SUPERVISOR = 1001, 2002
NOW = datetime(2026, 6, 1, 10, 0, tzinfo=SHANGHAI)
DONGGUAN_MOVE = {"task": "change-employer", "category": "b", "where": "china", "apostille": "yes", "city": "dongguan"}
DEGREE, EXAM, EXPERIENCE = (
    "Highest degree certificate, authenticated",
    "Physical examination report issued within 6 months",
    "Proof of work experience (position, dates, seal or signature, a contact)",
)


def texts(kb: KnowledgeBase, answers: dict[str, str], lang: str = "en") -> list[str]:
    return [line.text for line in build(kb, answers, lang).documents]  # type: ignore[arg-type]


# ----- the rules ------------------------------------------------------------------------------------------
def test_an_in_china_change_of_employer_in_dongguan_lists_the_waived_documents(kb: KnowledgeBase) -> None:
    checklist = build(kb, DONGGUAN_MOVE, "en")
    [waiver] = checklist.waived
    assert set(waiver.documents) == {DEGREE, EXAM, EXPERIENCE}
    assert waiver.reason.startswith("Dongguan (notice of 3 Aug 2023)")
    shown = [line.text for line in checklist.documents]
    assert not {DEGREE, EXAM, EXPERIENCE} & set(shown)
    assert shown[0].startswith("Online application form") and "Passport" in shown
    record = next(line for line in checklist.documents if line.text.startswith("No-criminal-record"))
    assert record.pledge  # Dongguan's 容缺+承诺 still applies to the record
    assert any("apostille" in note for note in record.notes)
    assert any(note.startswith("Dongguan (2023): for qualifying applicants") for note in checklist.local)
    assert any("10 working days" in note for note in checklist.notes)  # the old permit's cancellation
    assert "Dongguan's 2023 work permit changes (stanvisa.com)" in checklist.sources  # DG23, the waiver's source
    text = checklist_text(checklist, "en")
    assert "Not needed here:" in text and "Local rules (Dongguan):" in text and "Sources: " in text


def test_the_same_move_elsewhere_or_from_abroad_waives_nothing(kb: KnowledgeBase) -> None:
    for answers in ({**DONGGUAN_MOVE, "city": "default"}, {**DONGGUAN_MOVE, "where": "abroad"}):
        checklist = build(kb, answers, "en")
        assert checklist.waived == ()
        assert {DEGREE, EXAM, EXPERIENCE} <= set(texts(kb, answers))
    assert build(kb, {**DONGGUAN_MOVE, "city": "default"}, "en").local == ()


def test_a_new_category_b_application_from_abroad(kb: KnowledgeBase) -> None:
    answers = {"task": "new", "category": "b", "where": "abroad", "apostille": "no", "city": "default"}
    checklist = build(kb, answers, "en")
    shown = [line.text for line in checklist.documents]
    assert len(shown) == 10 and shown[-1].startswith("After entry, for the permit card")
    experience = next(line for line in checklist.documents if line.text == EXPERIENCE)
    assert experience.notes == (
        "Category B: in principle at least 2 years of relevant experience (can be relaxed where needed).",
    )
    degree = next(line for line in checklist.documents if line.text == DEGREE)
    assert any(note.startswith("Not from a member state") for note in degree.notes)
    assert not any(line.pledge for line in checklist.documents)  # pledges are Dongguan's only
    assert any(note.startswith("Route: the employer gets the notification letter") for note in checklist.notes)
    assert "Online review: 15 working days nationally for a new Category B application." in checklist.notes
    assert checklist.waived == () and checklist.local == ()
    assert (
        checklist.summary == "New application (新办) · Category B · applying from abroad · documents from a "
        "non-member state · Another city"
    )


def test_category_a_and_c_and_the_apostille(kb: KnowledgeBase) -> None:
    base = {"task": "new", "where": "china", "city": "changning"}
    a = build(kb, {**base, "category": "a", "apostille": "yes"}, "en")
    assert any("green channel" in note for note in a.notes)
    assert any(note.startswith("Changning: Category A") for note in a.local)
    degree = next(line for line in a.documents if line.text == DEGREE)
    assert any("apostille (附加证明书) replaces legalisation" in note for note in degree.notes)
    c = build(kb, {**base, "category": "c", "apostille": "unsure"}, "en")
    assert any(note.startswith("Category C covers") for note in c.notes)
    assert not any(note.startswith("Changning: Category A") for note in c.local)
    assert not any("After entry" in line.text for line in c.documents)  # applying inside China


def test_other_sub_items_ask_only_the_city(kb: KnowledgeBase) -> None:
    assert steps_for({"task": "cancellation"}) == (Step.TASK, Step.CITY)
    assert texts(kb, {"task": "cancellation", "city": "default"}) == [
        "Cancellation application form",
        "Proof that the employment has ended",
        "The work permit card",
    ]
    assert len(texts(kb, {"task": "extension", "city": "dongguan"})) == 4
    reissue = build(kb, {"task": "reissue", "city": "changning"}, "zh")
    assert reissue.documents[0].text == "补办申请表"
    assert any(note.startswith("以上为上海（含长宁）的清单") for note in reissue.notes)  # a local list, said so


def test_both_languages_list_the_same_documents(kb: KnowledgeBase) -> None:
    en, zh = build(kb, DONGGUAN_MOVE, "en"), build(kb, DONGGUAN_MOVE, "zh")
    assert len(en.documents) == len(zh.documents) and len(en.notes) == len(zh.notes)
    assert zh.waived[0].reason.startswith("东莞（2023年8月3日通知）") and zh.city == "东莞"
    assert "最高学位（学历）证书及认证" in zh.waived[0].documents


# ----- the flow -----------------------------------------------------------------------------------------
@pytest.fixture
def parts(kb: KnowledgeBase) -> tuple[Desk, Checklists]:
    desk = desk_on(make_engine("sqlite://"), package_only())
    desk.staff.add(SUPERVISOR, "supervisor", "Wang Fang", NOW)
    return desk, Checklists(kb, desk.flows, desk.filing)


def test_questions_back_stale_buttons_and_the_help_request(parts: tuple[Desk, Checklists]) -> None:
    desk, checklists = parts
    first = checklists.start(ALICE, "en", NOW)
    assert first.question is not None and first.question.step == Step.TASK and first.question.number == 0
    assert [value for value, _label in first.question.choices] == [
        "new",
        "change-employer",
        "extension",
        "change",
        "reissue",
        "cancellation",
    ]
    assert checklists.request_check(ALICE, "en", NOW) is None  # not finished
    for step, value in [("task", "change-employer"), ("category", "b"), ("where", "china")]:
        standing = checklists.answer(ALICE, step, value, "en", NOW)
        assert standing is not None and not standing.stale
    stale = checklists.answer(ALICE, "task", "new", "en", NOW)  # an old message's button
    assert stale is not None and stale.stale and stale.question is not None and stale.question.step == Step.APOSTILLE
    forged = checklists.answer(ALICE, "apostille", "maybe", "en", NOW)
    assert forged is not None and forged.stale
    back = checklists.back(ALICE, "apostille", "en", NOW)
    assert back is not None and back.question is not None and back.question.step == Step.WHERE
    state = desk.flows.get(ALICE)
    assert (
        state is not None
        and state.name == FlowName.CHECKLIST
        and state.data == {"task": "change-employer", "category": "b"}
    )
    checklists.answer(ALICE, "where", "china", "en", NOW)
    checklists.answer(ALICE, "apostille", "yes", "en", NOW)
    done = checklists.answer(ALICE, "city", "dongguan", "en", NOW)
    assert done is not None and done.checklist is not None and done.checklist.waived
    filed = checklists.request_check(ALICE, "en", NOW)
    assert filed is not None
    ticket, notices = filed
    assert ticket.kind == TicketKind.HELP and ticket.origin == "checklist"
    assert ticket.description.startswith("Please check my materials (from /checklist).\nAnswers: Change of employer")
    assert f"- {DEGREE}" in ticket.description.split("Not needed here:")[1]
    assert [(n.user_id, getattr(n, "origin", None)) for n in notices] == [
        (SUPERVISOR, "checklist")
    ]  # nobody on duty: a supervisor
    assert desk.flows.get(ALICE) is None  # the flow ends with the request
    assert checklists.request_check(ALICE, "en", NOW) is None  # pressed again: nothing more filed


def test_changing_the_task_drops_the_answers_that_no_longer_apply(parts: tuple[Desk, Checklists]) -> None:
    desk, checklists = parts
    checklists.start(ALICE, "en", NOW)
    checklists.answer(ALICE, "task", "new", "en", NOW)
    checklists.answer(ALICE, "category", "a", "en", NOW)
    checklists.back(ALICE, "where", "en", NOW)  # back to category
    checklists.back(ALICE, "category", "en", NOW)  # back to the task
    standing = checklists.answer(ALICE, "task", "reissue", "en", NOW)
    assert standing is not None and standing.question is not None and standing.question.step == Step.CITY
    assert standing.question.number == 1 and standing.question.total == 2
    state = desk.flows.get(ALICE)
    assert state is not None and state.data == {"task": "reissue"}
    assert checklists.cancel(ALICE) and desk.flows.get(ALICE) is None and not checklists.cancel(ALICE)
    assert checklists.answer(ALICE, "city", "dongguan", "en", NOW) is None  # outside the checklist


# ----- validation -------------------------------------------------------------------------------------------
def broken(tmp_path: Path, old: str, new: str) -> list[str]:
    directory = tmp_path / "kb"
    shutil.copytree(KB_DIR, directory, ignore=shutil.ignore_patterns("training", "calendar"))
    path = directory / "checklist.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as info:
        load_knowledge(directory)
    return [str(p) for p in info.value.problems]


def test_the_shipped_checklist_loads_with_every_profile() -> None:
    for profile in ("default", "changning", "dongguan"):
        checklist = load_knowledge(KB_DIR, profile).checklist
        assert checklist is not None and [c.profile for c in checklist.cities] == ["dongguan", "changning", "default"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'entry = "change-employer"\nsources = ["DG23", "DG"]',
            'entry = "change-employer"\nsources = ["DG23", "CN"]',
            "checklist.toml [dongguan-same-post] sources: 'CN' is not cited by its entry 'change-employer'",
        ),
        ('entry = "materials-new"', 'entry = "materials"', "checklist.toml [form] entry: unknown entry 'materials'"),
        (
            'items = ["degree", "exam", "experience"]',
            'items = ["degree", "exam", "cv"]',
            "checklist.toml [dongguan-same-post] items: unknown item 'cv'",
        ),
        (
            'city = ["dongguan"] }',
            'city = ["shenzhen"] }',
            "checklist.toml [dongguan-same-post] when.city: unknown value 'shenzhen'",
        ),
        ('kind = "waive"', 'kind = "drop"', "checklist.toml [dongguan-same-post] kind: must be one of"),
        ('text_zh = "护照"', 'text_zh = "passport"', "checklist.toml [passport] text_zh: has no Chinese"),
        ('profile = "changning"', 'profile = "shanghai"', "checklist.toml [city #2] profile: unknown profile"),
        (
            'when = { task = ["cancellation"] }\ntext_en = "The work permit card"',
            'when = { task = ["cancelation"] }\ntext_en = "The work permit card"',
            "checklist.toml [cancellation-card] when.task: unknown value 'cancelation'",
        ),
    ],
)
def test_a_broken_checklist_names_file_item_and_field(tmp_path: Path, old: str, new: str, expected: str) -> None:
    found = broken(tmp_path, old, new)
    assert any(p.startswith(expected) for p in found), found


def test_kb_validate_names_a_broken_checklist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken(tmp_path, 'entry = "materials-new"', 'entry = "materials"')
    monkeypatch.setenv("HELPDESK_KB_DIR", str(tmp_path / "kb"))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()  # read again, with this directory
    try:
        assert main(["kb", "validate"]) == 1
    finally:
        get_settings.cache_clear()
    assert "checklist.toml [form] entry: unknown entry 'materials'" in capsys.readouterr().err


def test_the_deployments_own_city_is_offered_first(parts: tuple[Desk, Checklists]) -> None:
    desk, _checklists = parts
    changning = Checklists(load_knowledge(KB_DIR, "changning"), desk.flows, desk.filing)
    changning.start(ALICE, "zh", NOW)
    standing = changning.answer(ALICE, "task", "extension", "zh", NOW)
    assert standing is not None and standing.question is not None
    assert [label for _value, label in standing.question.choices] == ["上海长宁", "东莞", "其他城市"]
