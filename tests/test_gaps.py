"""The knowledge-gap review in the core (``bot.answering.gaps``): which questions are gaps, how they group, the
accept / reject lifecycle (a decided group does not come back), the export a maintainer commits, that the
classifier learns from ``knowledge/training/reviewed*.jsonl``, and that personal details never leave masked."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.answering.answers import Answerer
from bot.answering.classifier import OOS, fingerprint, read_training_file, training_set
from bot.answering.gaps import (
    THRESHOLD,
    Decision,
    Example,
    GapQuestion,
    GapReason,
    GapReview,
    accepted_examples,
    export_file,
    export_lines,
    gap_key,
    gap_reason,
    group_questions,
    period_start,
)
from bot.answering.knowledge import KnowledgeBase, load_knowledge
from bot.desk.staff import StaffRegistry
from bot.desk.workdays import SHANGHAI
from bot.errors import Conflict, NotAllowed, NotFound, Reason
from bot.privacy.redact import mask_personal
from bot.store.db import make_engine
from bot.store.models import AuditLog, QuestionLog, ensure_user
from bot.store.models import GapReview as GapReviewRow

ALICE, BOB, OPERATOR, SUPERVISOR = 1001, 1002, 2001, 2002
NOW = datetime(2026, 5, 20, 10, 0, tzinfo=SHANGHAI)
STOLEN = "my card was nicked, text me on 13812345678"
"""Falls back; the engine's most likely entry is ``reissue``."""
DOG = "may I take my parrot on the plane to china"
PERSONAL = [
    "13812345678",
    "+86 139 1234 5678",
    "020-12345678",
    "alice.smith@example.com",
    "E12345678",
    "G1234567",
]


@pytest.fixture
def engine() -> Engine:
    made = make_engine("sqlite://")
    staff = StaffRegistry(made)
    staff.add(OPERATOR, "operator", "Li Na", NOW)
    staff.add(SUPERVISOR, "supervisor", "Wang Wei", NOW)
    return made


@pytest.fixture
def gaps(engine: Engine, kb: KnowledgeBase, answerer: Answerer) -> GapReview:
    return GapReview(engine, StaffRegistry(engine), kb, answerer.matcher)


def log(
    engine: Engine,
    text: str,
    decision: str = "fallback",
    when: datetime = NOW - timedelta(hours=1),
    feedback: int | None = None,
    chosen: str | None = None,
    user: int = ALICE,
) -> int:
    """A question in the log as ``Helpdesk`` writes it."""
    with Session(engine) as session:
        ensure_user(session, user, when)
        row = QuestionLog(
            user_id=user,
            text=text,
            lang="en",
            decision=decision,
            entry_id="reissue" if decision == "answer" else None,
            chosen_entry=chosen,
            feedback=feedback,
            created_at=when,
        )
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


def question(qid: int, text: str) -> GapQuestion:
    return GapQuestion(qid, mask_personal(text), gap_key(text), GapReason.FALLBACK, NOW)


# ----- which questions are gaps -------------------------------------------------------------------------------
def test_fallbacks_thumbs_down_and_none_of_these_are_gaps_nothing_else() -> None:
    assert gap_reason("fallback", None, None) == GapReason.FALLBACK
    assert gap_reason("answer", -1, None) == GapReason.THUMBS_DOWN
    assert gap_reason("clarify", -1, None) == GapReason.NONE_OF_THESE  # Helpdesk.none_of_these
    assert gap_reason("clarify", -1, "reissue") == GapReason.THUMBS_DOWN  # 👎 under the entry picked
    assert gap_reason("answer", 1, None) is None
    assert gap_reason("answer", None, None) is None
    assert gap_reason("clarify", None, None) is None
    assert gap_reason("browse", -1, None) is None  # an entry opened from /topics: no user's words
    assert gap_reason("related", -1, None) is None


def test_periods_end_today_in_beijing_time() -> None:
    assert period_start("week", datetime(2026, 5, 20, 17, 30, tzinfo=SHANGHAI)) == datetime(
        2026, 5, 14, tzinfo=SHANGHAI
    )
    assert period_start("month", datetime(2026, 5, 20, 0, 5, tzinfo=SHANGHAI)) == datetime(2026, 4, 21, tzinfo=SHANGHAI)
    # 23:30 UTC on 19 May is already 20 May in Beijing
    assert period_start("week", datetime(2026, 5, 19, 23, 30, tzinfo=UTC)) == datetime(2026, 5, 14, tzinfo=SHANGHAI)


# ----- grouping -----------------------------------------------------------------------------------------------
def test_similar_questions_group_greedily_and_different_ones_do_not() -> None:
    groups = group_questions(
        [
            question(1, "Can I bring my dog to China?"),
            question(2, "工作许可证丢了怎么办"),
            question(3, "can i bring my dog to china"),  # the same once normalised
            question(4, "to china can I bring my dog"),  # word order does not matter
            question(5, "工作许可證丟了怎麼辦？"),  # Traditional characters, full-width punctuation
            question(6, "how long does the permit card take"),
            question(7, "can i bring my cat to shanghai"),  # shares words, but below the threshold
        ]
    )
    assert [[q.id for q in g.questions] for g in groups] == [[1, 3, 4], [2, 5], [6], [7]]
    assert groups[0].id == 1 and groups[0].count == 3
    assert groups[0].sample == "Can I bring my dog to China?"  # each wording once: the first


def test_questions_differing_only_in_personal_details_are_one_group() -> None:
    groups = group_questions(
        [
            question(1, "my card was nicked, text me on 13812345678"),
            question(2, "my card was nicked, text me on 13999998888"),
        ]
    )
    assert len(groups) == 1
    assert groups[0].examples == ["my card was nicked, text me on [phone]"]
    assert THRESHOLD == 80


# ----- the report -----------------------------------------------------------------------------------------------
def test_the_report_groups_the_periods_gaps_with_their_most_likely_entry(engine: Engine, gaps: GapReview) -> None:
    stolen = log(engine, STOLEN, when=NOW - timedelta(days=2))
    log(engine, "My card was nicked, text me on 13999998888", when=NOW - timedelta(hours=3), user=BOB)
    log(engine, "my card got nicked, text me on 13812345678", "answer", feedback=-1)  # 👎: same group
    dog = log(engine, DOG, "clarify", feedback=-1)  # none of these
    log(engine, "how do I extend my permit", "answer", feedback=1)  # answered and liked: not a gap
    log(engine, "how do I extend my permit", "answer")  # answered, no feedback: not a gap
    log(engine, "Reissue", "browse", feedback=-1)  # opened from /topics: not a user's words
    old = log(engine, "which office handles Pudong companies", when=NOW - timedelta(days=8))
    log(engine, "asked in the future", when=NOW + timedelta(minutes=1))
    log(engine, "")  # erased (the user's request, or retention): nothing to review

    week = gaps.report(OPERATOR, "week", NOW)
    assert (week.questions, week.group_count) == (4, 2)
    first, second = week.groups
    assert first.id == stolen and first.count == 3 and second.id == dog
    assert first.reasons == {"fallback": 2, "thumbs_down": 1}
    assert second.reasons == {"none_of_these": 1}
    assert first.candidates[0] == "reissue"
    assert second.out_of_scope  # the classifier leans to out of scope for the dog
    assert week.since == datetime(2026, 5, 14, tzinfo=SHANGHAI)

    month = gaps.report(SUPERVISOR, "month", NOW)
    assert month.questions == 5 and old in [g.id for g in month.groups]
    assert len(gaps.report(OPERATOR, "week", NOW, limit=1).groups) == 1


def test_only_staff_review_gaps(engine: Engine, gaps: GapReview) -> None:
    group = log(engine, STOLEN)
    with pytest.raises(NotAllowed):
        gaps.report(ALICE, "week", NOW)
    with pytest.raises(NotAllowed):
        gaps.decide(ALICE, group, "week", Decision.REJECTED, None, NOW)
    with pytest.raises(NotAllowed):
        gaps.group(ALICE, group, "week", NOW)


# ----- accept / reject ------------------------------------------------------------------------------------------
def test_accepting_records_the_group_once_and_it_does_not_come_back(engine: Engine, gaps: GapReview) -> None:
    group = log(engine, STOLEN, when=NOW - timedelta(days=1))
    log(engine, "My card was nicked, text me on 13999998888", user=BOB)
    done = gaps.decide(OPERATOR, group, "week", Decision.ALTERNATE, "reissue", NOW)
    assert (done.group_id, done.decision, done.entry_id, done.count, done.examples) == (
        group,
        Decision.ALTERNATE,
        "reissue",
        2,
        1,
    )
    with Session(engine) as session:
        [row] = session.exec(select(GapReviewRow)).all()
        assert (row.question_id, row.decision, row.entry_id, row.reviewer_id, row.lang) == (
            group,
            "alternate",
            "reissue",
            OPERATOR,
            "en",
        )
        assert json.loads(row.examples) == ["my card was nicked, text me on [phone]"]
        audited = session.exec(select(AuditLog).where(AuditLog.action == "gap_reviewed")).all()
        assert [(a.actor_id, a.detail) for a in audited] == [(OPERATOR, f"group {group} alternate reissue")]
    assert gaps.report(OPERATOR, "week", NOW).groups == ()
    log(engine, "my card was nicked, text me on 13711112222", when=NOW + timedelta(hours=1))  # asked again later
    assert gaps.report(OPERATOR, "week", NOW + timedelta(hours=2)).groups == ()

    with pytest.raises(Conflict) as again:  # a second tap, or a colleague's
        gaps.decide(SUPERVISOR, group, "week", Decision.REJECTED, None, NOW)
    assert again.value.reason == Reason.ALREADY_REVIEWED
    with pytest.raises(Conflict):
        gaps.group(OPERATOR, group, "week", NOW)
    assert [e.entry_id for e in gaps.accepted()] == ["reissue"]


def test_stale_and_forged_decisions_are_refused(engine: Engine, gaps: GapReview) -> None:
    group = log(engine, STOLEN)
    answered = log(engine, "how do I extend my permit", "answer", feedback=1)
    old = log(engine, DOG, when=NOW - timedelta(days=9))
    for forged in (999_999, answered, old):  # no such question, not a gap, outside the week
        with pytest.raises(NotFound) as refused:
            gaps.decide(OPERATOR, forged, "week", Decision.REJECTED, None, NOW)
        assert refused.value.reason == Reason.QUESTION
    for entry in ("no-such-entry", "greeting", None):  # unknown, small talk, none
        with pytest.raises(NotFound) as refused:
            gaps.decide(OPERATOR, group, "week", Decision.ALTERNATE, entry, NOW)
        assert refused.value.reason == Reason.ENTRY
    assert gaps.decide(OPERATOR, old, "month", Decision.REJECTED, None, NOW).group_id == old  # in the month


def test_reject_and_out_of_scope(engine: Engine, gaps: GapReview) -> None:
    noise = log(engine, "asdfgh jkl")
    dog = log(engine, DOG, "clarify", feedback=-1)
    assert gaps.group(OPERATOR, dog, "week", NOW).candidates  # "pick another entry" has a list to offer
    gaps.decide(OPERATOR, noise, "week", Decision.REJECTED, None, NOW)
    done = gaps.decide(OPERATOR, dog, "week", Decision.OUT_OF_SCOPE, "reissue", NOW)
    assert done.entry_id is None  # an entry given with "out of scope" is ignored
    assert gaps.report(OPERATOR, "week", NOW).groups == ()
    assert gaps.accepted() == [Example(DOG, "en", None)]  # rejected questions are not training data


# ----- export ---------------------------------------------------------------------------------------------------
def test_the_export_is_training_lines_the_classifier_reads(
    engine: Engine, gaps: GapReview, kb: KnowledgeBase, tmp_path: Path
) -> None:
    stolen = log(engine, STOLEN)
    dog = log(engine, DOG, "clarify", feedback=-1)
    gaps.decide(OPERATOR, stolen, "week", Decision.ALTERNATE, "reissue", NOW)
    gaps.decide(OPERATOR, dog, "week", Decision.OUT_OF_SCOPE, None, NOW)
    out = tmp_path / "reviewed.jsonl"
    export = export_file(accepted_examples(engine), kb, out)
    assert (len(export.lines), export.duplicates, export.unknown) == (2, 0, 0)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines == [
        {"q": "my card was nicked, text me on [phone]", "expect": "reissue", "lang": "en", "kind": "reviewed"},
        {"q": DOG, "expect": None, "lang": "en", "kind": "reviewed"},
    ]
    examples = read_training_file(out, kb.entries)  # the classifier's own reader
    assert [(e.text, e.label) for e in examples] == [("my card was nicked, text me on [phone]", "reissue"), (DOG, OOS)]
    # a second export adds nothing: the lines are in the file already; its other lines are kept
    out.write_text(out.read_text(encoding="utf-8") + '{"q": "kept by hand", "expect": null}\n', encoding="utf-8")
    again = export_file(accepted_examples(engine), kb, out)
    assert (again.lines, again.duplicates) == ([], 2)
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3


def test_the_export_leaves_out_what_the_training_data_has_and_gone_entries(kb: KnowledgeBase) -> None:
    known = kb.entries["reissue"].questions["en"][0]
    export = export_lines(
        [
            Example(known.upper(), "en", "reissue"),  # already an alternate question (compared normalised)
            Example("what about my cat", "en", "retired-entry"),
            Example("permit card gone", "en", "reissue"),
            Example("Permit card gone!", "en", "reissue"),  # twice in the export
        ],
        kb,
    )
    assert (export.duplicates, export.unknown) == (2, 1)
    assert [json.loads(line)["q"] for line in export.lines] == ["permit card gone"]
    printed: list[str] = []
    export_file([Example("permit card gone", "en", "reissue")], kb, None, printed.append)
    assert [json.loads(line)["expect"] for line in printed] == ["reissue"]


def test_the_classifier_trains_on_reviewed_files_and_its_cache_hash_covers_them(tmp_path: Path) -> None:
    directory = tmp_path / "knowledge"
    shutil.copytree(Path(__file__).resolve().parent.parent / "knowledge", directory)
    kb = load_knowledge(directory, "default")
    before = training_set(kb)
    (directory / "training" / "reviewed.jsonl").write_text(
        json.dumps({"q": "my card was nicked", "expect": "reissue", "lang": "en", "kind": "reviewed"}) + "\n",
        encoding="utf-8",
    )
    after = training_set(kb)
    assert [(e.text, e.label) for e in after if e not in before] == [("my card was nicked", "reissue")]
    assert fingerprint(after, kb) != fingerprint(before, kb)  # the next start (or kb build) retrains


# ----- personal details -----------------------------------------------------------------------------------------
def test_personal_details_are_masked_in_suggestions_and_exports(
    engine: Engine, gaps: GapReview, kb: KnowledgeBase
) -> None:
    texts = [
        "lost my permit card, call 13812345678 or +86 139 1234 5678",
        "lost my permit card, office phone 020-12345678, mail alice.smith@example.com",
        "lost my permit card, passport E12345678",
        "permit card lost, my passport number is G1234567",
    ]
    ids = [log(engine, text) for text in texts]
    report = gaps.report(OPERATOR, "week", NOW)
    shown = json.dumps([[g.sample, g.examples, [q.text for q in g.questions]] for g in report.groups])
    for detail in PERSONAL:
        assert detail not in shown
    assert "[phone]" in shown and "[email]" in shown and "[passport]" in shown
    for group in report.groups:
        gaps.decide(OPERATOR, group.id, "week", Decision.ALTERNATE, "reissue", NOW)
    assert set(ids) >= {g.id for g in report.groups}
    exported = "\n".join(export_lines(accepted_examples(engine), kb).lines)
    for detail in PERSONAL:
        assert detail not in exported
    assert "[passport]" in exported and "[email]" in exported
    # the export masks again whatever it is given
    assert export_lines([Example("call me on 13812345678", "en", "reissue")], kb).lines == [
        json.dumps({"q": "call me on [phone]", "expect": "reissue", "lang": "en", "kind": "reviewed"})
    ]
    assert mask_personal("E12345678 / alice.smith@example.com / 13812345678") == "[passport] / [email] / [phone]"
