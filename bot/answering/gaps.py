"""The knowledge-gap review: what real users asked that the helpdesk could not answer well, for staff to learn from.

A *gap question* is a typed question (decision ``answer``, ``clarify`` or ``fallback``; not an entry opened by a
button) that fell back, got 👎, or whose clarify choices the user rejected ("none of these": ``feedback`` −1 on a
clarify with no choice made, see ``Helpdesk.none_of_these``). ``GapReview.report`` groups a period's gap questions
by similarity and names each group's most likely entry; staff then decide each group once (``decide``): its
questions become alternate questions of an entry, or out-of-scope examples, or nothing (rejected). A decided group
does not come back: later questions similar to it are left out.

Grouping is greedy: questions oldest first, each joins the group whose first question is most similar to it, if
at least ``THRESHOLD``, else starts a group. Similarity is rapidfuzz's ``token_sort_ratio`` (word order does not
matter) on the question masked (``bot.privacy.redact``) and normalised (``bot.answering.text.normalise``: case,
width, Traditional → Simplified, punctuation). ``THRESHOLD`` is 80: over the 1,766 labelled user phrasings in
``knowledge/training/questions-*.jsonl``, 96.8 % of the pairs scoring 80 or more are about the same entry (70: 92.8 %,
so one wrong example in every 14 pairs would be accepted with a group; 90: 99.6 %, but only 44 % as many pairs
group at all). An accepted group teaches the classifier all its questions, so a wrong merge costs more than a
missed one: staff see up to ``SHOWN_EXAMPLES`` of them on the card.

Accepted examples are not written into ``knowledge/`` by the bot: ``export_lines`` (``python -m bot kb gaps-export``)
turns them into training lines a maintainer reviews and commits (``knowledge/training/reviewed*.jsonl``), and the
classifier retrains on the next start or ``kb build`` (its cache is named by a hash of every training line).
Personal details never leave masked. No Telegram here; time is passed in.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from pathlib import Path

import sqlalchemy as sa
from rapidfuzz import fuzz, process
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.answering.classifier import IN_SCOPE, OOS, training_set
from bot.answering.knowledge import KnowledgeBase
from bot.answering.matching import Matcher
from bot.answering.text import Lang, detect_lang, has_content, normalise
from bot.desk.staff import StaffRegistry, audit
from bot.desk.workdays import SHANGHAI
from bot.errors import Conflict, InvalidInput, NotFound, Reason
from bot.privacy.redact import mask_personal
from bot.store.db import session_scope
from bot.store.models import GapReview as GapReviewRow
from bot.store.models import QuestionLog

THRESHOLD = 80
"""Least ``token_sort_ratio`` (0–100) for a question to join a group (see the module's docstring for why 80)."""
PERIODS: dict[str, int] = {"week": 7, "month": 30}
"""A period's length in days, ending today (Beijing time): "week" is today and the six days before."""
MAX_QUESTIONS = 2000
"""At most this many gap questions (the newest) are grouped: a bounded cost for /gaps."""
MAX_GROUPS = 10
"""/gaps shows this many groups (the largest first)."""
MAX_CANDIDATES = 5
"""Entries offered by "pick another entry"."""
SHOWN_EXAMPLES = 3
"""Distinct questions of a group shown on its card."""
TYPED = ("answer", "clarify", "fallback")
"""Decisions of typed questions (``browse`` and ``related`` are entries opened by a button: not a user's words)."""


class GapReason(StrEnum):
    """Why a question is a gap question."""

    FALLBACK = "fallback"
    THUMBS_DOWN = "thumbs_down"
    NONE_OF_THESE = "none_of_these"


class Decision(StrEnum):
    """What staff decided for a group (``GapReview.decision``)."""

    ALTERNATE = "alternate"  # alternate questions of an entry
    OUT_OF_SCOPE = "out_of_scope"  # examples of the out-of-scope class
    REJECTED = "rejected"  # nothing to learn (noise, a one-off, a wrong grouping)


@dataclass(frozen=True)
class GapQuestion:
    """One gap question, masked; ``key`` is what grouping compares."""

    id: int
    text: str
    key: str
    reason: GapReason
    created_at: datetime


@dataclass(frozen=True)
class GapGroup:
    """Similar gap questions, oldest first; identified by its first question's id."""

    questions: tuple[GapQuestion, ...]
    candidates: tuple[str, ...] = ()
    """The engine's most likely entries for the sample, best first (filled for the groups shown)."""
    out_of_scope: bool = False
    """The classifier finds the sample more likely out of scope than any entry."""

    @property
    def id(self) -> int:
        return self.questions[0].id

    @property
    def key(self) -> str:
        return self.questions[0].key

    @property
    def count(self) -> int:
        return len(self.questions)

    @property
    def sample(self) -> str:
        """The group's most frequent wording (compared normalised; the oldest on a tie), masked."""
        wordings = self._wordings()
        counts = Counter(q.key for q in self.questions)
        order = {key: index for index, key in enumerate(wordings)}
        return wordings[max(counts, key=lambda key: (counts[key], -order[key]))]

    @property
    def examples(self) -> list[str]:
        """The distinct wordings (compared normalised), masked, oldest first."""
        return list(self._wordings().values())

    def _wordings(self) -> dict[str, str]:
        wordings: dict[str, str] = {}
        for q in self.questions:
            wordings.setdefault(q.key, q.text)
        return wordings

    @property
    def reasons(self) -> Counter[str]:
        """How many questions fell back, got 👎, or "none of these"."""
        return Counter(str(q.reason) for q in self.questions)

    @property
    def newest(self) -> datetime:
        return max(q.created_at for q in self.questions)


@dataclass(frozen=True)
class GapReport:
    """The gap questions of a period, grouped: the largest groups, with their most likely entries."""

    period: str
    since: datetime
    questions: int
    group_count: int
    groups: tuple[GapGroup, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Reviewed:
    """A group decided: what was recorded."""

    group_id: int
    decision: Decision
    entry_id: str | None
    count: int
    examples: int


@dataclass(frozen=True)
class Example:
    """An accepted training example: a masked question and its entry (None: out of scope)."""

    text: str
    lang: Lang
    entry_id: str | None


def gap_key(text: str) -> str:
    """What grouping compares: the question masked and normalised."""
    return normalise(mask_personal(text))


def gap_reason(decision: str, feedback: int | None, chosen_entry: str | None) -> GapReason | None:
    """Why a logged question is a gap question, or None when it is not one."""
    if decision not in TYPED:
        return None
    if decision == "fallback":
        return GapReason.FALLBACK
    if feedback is not None and feedback < 0:
        return GapReason.NONE_OF_THESE if decision == "clarify" and chosen_entry is None else GapReason.THUMBS_DOWN
    return None


def period_start(period: str, now: datetime) -> datetime:
    """The start of *period* (``week``/``month``) ending at *now*: Beijing midnight, 7 or 30 days back with today."""
    if period not in PERIODS:
        raise InvalidInput(Reason.USAGE)
    today = now.astimezone(SHANGHAI).date()
    return datetime.combine(today - timedelta(days=PERIODS[period] - 1), time(0), tzinfo=SHANGHAI)


def similar(key: str, keys: Sequence[str], threshold: int = THRESHOLD) -> int | None:
    """The index of the key in *keys* most similar to *key* (at least *threshold*), or None."""
    if not keys:
        return None
    found = process.extractOne(key, keys, scorer=fuzz.token_sort_ratio, score_cutoff=threshold)
    return None if found is None else int(found[2])


def group_questions(questions: Iterable[GapQuestion], threshold: int = THRESHOLD) -> list[GapGroup]:
    """Greedy grouping, in the given order (oldest first): each question joins the group whose first question is
    most similar to it (at least *threshold*), else starts one. Groups in order of their first question."""
    members: list[list[GapQuestion]] = []
    keys: list[str] = []
    exact: dict[str, int] = {}
    for question in questions:
        index = exact.get(question.key)
        if index is None:
            index = similar(question.key, keys, threshold)
        if index is None:
            index = len(keys)
            keys.append(question.key)
            members.append([])
        exact.setdefault(question.key, index)
        members[index].append(question)
    return [GapGroup(tuple(group)) for group in members]


def largest_first(groups: Iterable[GapGroup]) -> list[GapGroup]:
    """Groups by size, then the most recently asked first."""
    return sorted(groups, key=lambda g: (-g.count, -g.newest.timestamp(), g.id))


class GapReview:
    """The staff's knowledge-gap review over the question log (staff only: operators and supervisors)."""

    def __init__(self, engine: Engine, staff: StaffRegistry, kb: KnowledgeBase, matcher: Matcher) -> None:
        self.engine = engine
        self.staff = staff
        self.kb = kb
        self.matcher = matcher

    # ----- reading ------------------------------------------------------------------------------------
    def report(self, actor_id: int, period: str, now: datetime, limit: int = MAX_GROUPS) -> GapReport:
        """The period's gap questions not reviewed yet, grouped; the *limit* largest groups with their most
        likely entries."""
        self.staff.require(actor_id)
        since = period_start(period, now)
        with session_scope(self.engine) as session:
            groups = self._groups(session, since, now)
        shown = tuple(self.suggest(group) for group in largest_first(groups)[:limit])
        return GapReport(period, since, sum(g.count for g in groups), len(groups), shown)

    def group(self, actor_id: int, group_id: int, period: str, now: datetime) -> GapGroup:
        """One group of the period (by its first question's id) with up to ``MAX_CANDIDATES`` likely entries.

        Raises ``Conflict(ALREADY_REVIEWED)`` once it was decided, ``NotFound(QUESTION)`` when it is no gap of the
        period (a forged button, or the period moved on)."""
        self.staff.require(actor_id)
        since = period_start(period, now)
        with session_scope(self.engine) as session:
            return self.suggest(self._find(session, group_id, since, now), MAX_CANDIDATES)

    def suggest(self, group: GapGroup, limit: int = MAX_CANDIDATES) -> GapGroup:
        """*group* with the engine's most likely entries for its sample (small talk left out)."""
        candidates, out_of_scope = self.candidates(group.sample, limit)
        return GapGroup(group.questions, candidates, out_of_scope)

    def candidates(self, text: str, limit: int = MAX_CANDIDATES) -> tuple[tuple[str, ...], bool]:
        """The entries most likely meant by *text*, best first (the engine's scores blended with the classifier's
        probabilities as when answering), and whether the classifier finds it more likely out of scope."""
        matcher = self.matcher
        evidence = matcher.evidence(text, detect_lang(text))
        scores = dict(evidence.ranked)
        model = matcher.model
        out_of_scope = False
        if model is not None and evidence.decision_values is not None and model.per_entry:
            probabilities = model.softmax_array(evidence.decision_values, matcher.blend.temperature)
            w = matcher.blend.engine_weight
            scores = {
                label: w * scores.get(label, 0.0) + (1 - w) * float(probabilities[index])
                for label, index in model.index.items()
                if label not in (OOS, IN_SCOPE)
            }
            best_entry = max((float(probabilities[i]) for c, i in model.index.items() if c not in (OOS, IN_SCOPE)))
            out_of_scope = model.out_of_scope(probabilities) > best_entry
        ranked = sorted(
            (entry for entry in scores if entry in self.kb.entries and not self.kb.entries[entry].small_talk),
            key=lambda entry: (-scores[entry], entry),
        )
        return tuple(ranked[:limit]), out_of_scope

    def _questions(self, session: Session, since: datetime, now: datetime) -> list[GapQuestion]:
        """The gap questions asked from *since* to *now* (the newest ``MAX_QUESTIONS``), oldest first, masked."""
        query = (
            sa.select(
                col(QuestionLog.id),
                col(QuestionLog.text),
                col(QuestionLog.decision),
                col(QuestionLog.feedback),
                col(QuestionLog.chosen_entry),
                col(QuestionLog.created_at),
            )
            .where(
                col(QuestionLog.created_at) >= since,
                col(QuestionLog.created_at) <= now,
                col(QuestionLog.decision).in_(TYPED),
                col(QuestionLog.text) != "",  # erased (at the user's request, or by retention)
                sa.or_(col(QuestionLog.decision) == "fallback", col(QuestionLog.feedback) < 0),
            )
            .order_by(col(QuestionLog.id).desc())
            .limit(MAX_QUESTIONS)
        )
        found: list[GapQuestion] = []
        for row in reversed(session.execute(query).all()):
            reason = gap_reason(row.decision, row.feedback, row.chosen_entry)
            if reason is not None and has_content(row.text):
                text = mask_personal(row.text)
                found.append(GapQuestion(row.id, text, normalise(text), reason, row.created_at))
        return found

    def _groups(self, session: Session, since: datetime, now: datetime) -> list[GapGroup]:
        """The period's groups, without the questions like a group decided before."""
        reviewed = list(session.exec(select(GapReviewRow.key)).all())
        fresh = [q for q in self._questions(session, since, now) if similar(q.key, reviewed) is None]
        return group_questions(fresh)

    def _find(self, session: Session, group_id: int, since: datetime, now: datetime) -> GapGroup:
        """The period's group whose first question is *group_id* (else the one holding it)."""
        if session.exec(select(GapReviewRow.id).where(GapReviewRow.question_id == group_id)).first() is not None:
            raise Conflict(Reason.ALREADY_REVIEWED)
        groups = self._groups(session, since, now)
        found = next((g for g in groups if g.id == group_id), None)
        found = found or next((g for g in groups if any(q.id == group_id for q in g.questions)), None)
        if found is not None:
            return found
        row = session.get(QuestionLog, group_id)
        reviewed = list(session.exec(select(GapReviewRow.key)).all())
        if row is not None and similar(gap_key(row.text), reviewed) is not None:
            raise Conflict(Reason.ALREADY_REVIEWED)
        raise NotFound(Reason.QUESTION)

    # ----- deciding -----------------------------------------------------------------------------------
    def decide(
        self, actor_id: int, group_id: int, period: str, decision: str, entry_id: str | None, now: datetime
    ) -> Reviewed:
        """Record staff's decision for the group: alternate questions of *entry_id*, out of scope, or rejected.
        Once only: a second decision raises ``Conflict(ALREADY_REVIEWED)``; an unknown entry (or a small-talk
        one) ``NotFound(ENTRY)``; a group no longer in the period ``NotFound(QUESTION)``."""
        self.staff.require(actor_id)
        if decision not in set(Decision):
            raise InvalidInput(Reason.USAGE)
        if decision == Decision.ALTERNATE:
            if entry_id is None or entry_id not in self.kb.entries or self.kb.entries[entry_id].small_talk:
                raise NotFound(Reason.ENTRY)
        else:
            entry_id = None
        since = period_start(period, now)
        with session_scope(self.engine) as session:
            group = self._find(session, group_id, since, now)
            examples = group.examples
            session.add(
                GapReviewRow(
                    question_id=group.id,
                    key=group.key,
                    decision=decision,
                    entry_id=entry_id,
                    lang=detect_lang(group.sample),
                    examples=json.dumps(examples, ensure_ascii=False),
                    count=group.count,
                    reviewer_id=actor_id,
                    reviewed_at=now,
                )
            )
            detail = f"group {group.id} {decision} {entry_id or ''}".strip()
            audit(session, actor_id, "gap_reviewed", now, detail=detail)
        return Reviewed(group.id, Decision(decision), entry_id, group.count, len(examples))

    def accepted(self) -> list[Example]:
        """Every accepted example (``accepted_examples``)."""
        return accepted_examples(self.engine)


def accepted_examples(engine: Engine) -> list[Example]:
    """Every accepted example (alternate questions and out-of-scope ones), oldest decision first, masked."""
    with session_scope(engine) as session:
        query = (
            select(GapReviewRow)
            .where(col(GapReviewRow.decision).in_((Decision.ALTERNATE, Decision.OUT_OF_SCOPE)))
            .order_by(col(GapReviewRow.reviewed_at), col(GapReviewRow.id))
        )
        return [
            Example(mask_personal(str(text)), detect_lang(str(text)), row.entry_id)
            for row in session.exec(query).all()
            for text in json.loads(row.examples)
        ]


@dataclass(frozen=True)
class Export:
    """What ``export_lines`` produced: the new lines and what it left out."""

    lines: list[str]
    duplicates: int
    """Examples already in the training data or the knowledge base (or twice in the export)."""
    unknown: int
    """Examples of an entry the knowledge base no longer has."""


def export_line(example: Example) -> str:
    """One training line (``knowledge/training/README.md``): ``{"q", "expect", "lang", "kind": "reviewed"}``,
    ``expect`` null for out of scope."""
    line = {"q": mask_personal(example.text), "expect": example.entry_id, "lang": example.lang, "kind": "reviewed"}
    return json.dumps(line, ensure_ascii=False)


def export_lines(examples: Iterable[Example], kb: KnowledgeBase, existing: Iterable[str] = ()) -> Export:
    """The training lines for *examples* that the training data lacks: not already among the knowledge base's
    questions or ``knowledge/training`` (compared normalised), nor in *existing* (texts of the file being
    extended), nor naming an entry that is gone."""
    seen = {normalise(e.text) for e in training_set(kb)} | {normalise(text) for text in existing}
    lines: list[str] = []
    duplicates = unknown = 0
    for example in examples:
        if example.entry_id is not None and example.entry_id not in kb.entries:
            unknown += 1
            continue
        key = normalise(mask_personal(example.text))
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        lines.append(export_line(example))
    return Export(lines, duplicates, unknown)


def export_file(
    examples: Sequence[Example], kb: KnowledgeBase, out: Path | None, say: Callable[[str], object] = print
) -> Export:
    """``python -m bot kb gaps-export``: the accepted examples the training data lacks, as JSONL lines, appended
    to *out* (created if missing; its lines kept) or printed to standard output (*say*). A maintainer reviews the
    file and commits it into ``knowledge/training/`` (``reviewed*.jsonl``); the bot never writes there itself."""
    existing: list[str] = []
    if out is not None and out.exists():
        for line in out.read_text(encoding="utf-8").splitlines():
            if line.strip():
                existing.append(str(json.loads(line).get("q", "")))
    export = export_lines(examples, kb, existing)
    if out is None:
        for line in export.lines:
            say(line)
    elif export.lines:
        out.parent.mkdir(parents=True, exist_ok=True)
        before = out.read_text(encoding="utf-8") if out.exists() else ""
        joiner = "" if not before or before.endswith("\n") else "\n"
        out.write_text(before + joiner + "\n".join(export.lines) + "\n", encoding="utf-8")
    return export
