"""The materials checklist (/checklist, a 预审-style pre-check): a few button questions, then one list of
documents with its sources and the local exemptions that apply, built from the knowledge base's
``checklist.toml`` (``bot.answering.checklist_data``) — no rule is written here.

The answers are kept in the user's flow (``FlowName.CHECKLIST``; its data holds the answers, its step the
question waiting), so a restart mid-way loses nothing and "Ask staff to check my materials" can file a help
request (求助) carrying them, to which the user then adds photos and documents of their materials.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.answering.checklist_data import APOSTILLE, CATEGORIES, TASKS, WHERE, ChecklistData, matches
from bot.answering.knowledge import KnowledgeBase
from bot.answering.text import Lang
from bot.desk.flows import FlowName, Flows, FlowState
from bot.desk.tickets.common import TicketView
from bot.desk.tickets.filing import TicketFiling
from bot.i18n import N_, translator
from bot.notices import Notice
from bot.store.statuses import TicketKind

DEFAULT_CITY = "default"
"""The profile of "another city": a deployment on it keeps the file's order (local cities first)."""
ORIGIN = "checklist"
"""``Ticket.origin`` of a help request filed from the checklist."""


class Step(StrEnum):
    """The questions of ``FlowName.CHECKLIST`` in the order they are asked, then ``DONE`` (the list shown)."""

    TASK = "task"
    CATEGORY = "category"
    WHERE = "where"
    APOSTILLE = "apostille"
    CITY = "city"
    DONE = "done"


APPLICATION_TASKS = ("new", "change-employer")
"""The tasks that are applications (category, where from and the apostille matter); the others ask the city only."""
QUESTIONS: Mapping[str, str] = {
    Step.TASK: N_("What are you doing?"),
    Step.CATEGORY: N_("Which category is the applicant (A high-end talent, B professional, C other)?"),
    Step.WHERE: N_("Where is the applicant applying from?"),
    Step.APOSTILLE: N_(
        "Are the degree and the criminal record from a country of the Apostille Convention (in force for "
        "China since 7 Nov 2023)?"
    ),
    Step.CITY: N_("Where is the employer?"),
}
LABELS: Mapping[str, Mapping[str, str]] = {
    Step.TASK: {
        "new": N_("New application (新办)"),
        "change-employer": N_("Change of employer"),
        "extension": N_("Extension (延期)"),
        "change": N_("Change of details (变更)"),
        "reissue": N_("Reissue of a lost card (补办)"),
        "cancellation": N_("Cancellation (注销)"),
    },
    Step.CATEGORY: {"a": N_("Category A"), "b": N_("Category B"), "c": N_("Category C")},
    Step.WHERE: {"abroad": N_("From abroad"), "china": N_("Inside China")},
    Step.APOSTILLE: {"yes": N_("Yes, a member state"), "no": N_("No, not a member"), "unsure": N_("Not sure")},
}
"""Each question's choices, in the order shown (the city's come from ``checklist.toml``)."""
SUMMARY: Mapping[str, Mapping[str, str]] = {
    Step.WHERE: {"abroad": N_("applying from abroad"), "china": N_("applying inside China")},
    Step.APOSTILLE: {
        "yes": N_("documents from an Apostille Convention state"),
        "no": N_("documents from a non-member state"),
        "unsure": N_("Apostille Convention membership not known"),
    },
}
"""How an answer reads in the summary line, where the button's label would not say enough."""
assert tuple(LABELS[Step.TASK]) == TASKS and tuple(LABELS[Step.CATEGORY]) == CATEGORIES
assert tuple(LABELS[Step.WHERE]) == WHERE and tuple(LABELS[Step.APOSTILLE]) == APOSTILLE


def steps_for(answers: Mapping[str, str]) -> tuple[Step, ...]:
    """The questions asked for these answers (the task decides whether the application's three are)."""
    if answers.get(Step.TASK) in APPLICATION_TASKS:
        return (Step.TASK, Step.CATEGORY, Step.WHERE, Step.APOSTILLE, Step.CITY)
    return (Step.TASK, Step.CITY)


@dataclass(frozen=True)
class Question:
    """A question waiting: its step, the text, the choices (value, label) in the user's language, and how
    many were answered before it (0: no Back)."""

    step: Step
    text: str
    choices: tuple[tuple[str, str], ...]
    number: int
    total: int


@dataclass(frozen=True)
class Line:
    """A document on the list, with the remarks that apply to it."""

    text: str
    notes: tuple[str, ...] = ()
    pledge: bool = False


@dataclass(frozen=True)
class Waiver:
    """Documents not needed here, and why (a local rule)."""

    reason: str
    documents: tuple[str, ...]


@dataclass(frozen=True)
class Checklist:
    """One checklist in one language: what to hand in, what is waived, the remarks, the sources."""

    summary: str
    city: str
    documents: tuple[Line, ...]
    waived: tuple[Waiver, ...]
    notes: tuple[str, ...]
    local: tuple[str, ...]
    sources: tuple[str, ...]
    entries: tuple[str, ...]
    """The knowledge-base entries it was built from, in order of first use (for "read more")."""


@dataclass(frozen=True)
class Standing:
    """Where the user is: the question waiting, or the checklist their answers give; *stale* when a button of
    another step was pressed (its message was old), so the current one is shown again."""

    question: Question | None = None
    checklist: Checklist | None = None
    stale: bool = False


def choices(data: ChecklistData, step: Step, lang: Lang, here: str | None = None) -> tuple[tuple[str, str], ...]:
    """The (value, label) choices of *step* in *lang*; the deployment's own city (profile *here*) first."""
    if step == Step.CITY:
        cities = sorted(data.cities, key=lambda c: c.profile != here or here == DEFAULT_CITY)
        return tuple((c.profile, c.name[lang]) for c in cities)
    _ = translator(lang).gettext
    return tuple((value, _(label)) for value, label in LABELS[step].items())


def summary(data: ChecklistData, answers: Mapping[str, str], lang: Lang) -> str:
    """The answers in one line: "Change of employer · Category B · applying inside China · …"."""
    _ = translator(lang).gettext
    parts: list[str] = []
    for step in steps_for(answers):
        value = answers.get(step)
        if value is None:
            continue
        if step == Step.CITY:
            city = data.city(value)
            parts.append(city.name[lang] if city else value)
        else:
            label = SUMMARY.get(step, LABELS[step]).get(value)
            parts.append(_(label) if label else value)
    return " · ".join(parts)


def build(kb: KnowledgeBase, answers: Mapping[str, str], lang: Lang) -> Checklist:
    """The checklist for *answers* in *lang*: the items whose conditions hold, less those a waiver removes,
    each with its remarks; the list's remarks, national then local; every source cited, official first."""
    data = kb.checklist
    assert data is not None, "no checklist in this knowledge base"
    rules = [r for r in data.rules if matches(r.when, answers)]
    items = [i for i in data.items if matches(i.when, answers)]
    waived_by = {target: rule for rule in rules if rule.kind == "waive" for target in rule.items}
    pledged = {target for rule in rules if rule.kind == "pledge" for target in rule.items}
    codes: list[str] = []
    entries: list[str] = []

    def cite(entry: str, sources: Sequence[str]) -> None:
        codes.extend(c for c in sources if c not in codes)
        if entry not in entries:
            entries.append(entry)

    documents: list[Line] = []
    for item in items:
        if item.id in waived_by:
            continue
        cite(item.entry, item.sources)
        remarks: list[str] = []
        for rule in rules:
            if rule.kind == "note" and item.id in rule.items:
                remarks.append(rule.text[lang])
                cite(rule.entry, rule.sources)
        documents.append(Line(item.text[lang], tuple(remarks), item.id in pledged))
    waivers: list[Waiver] = []
    for rule in rules:
        if rule.kind != "waive":
            continue
        gone = tuple(i.text[lang] for i in items if i.id in rule.items)
        if gone:
            waivers.append(Waiver(rule.text[lang], gone))
            cite(rule.entry, rule.sources)
    notes: list[str] = []
    local: list[str] = []
    for rule in rules:
        shown = rule.kind == "note" and not rule.items
        shown = shown or (rule.kind == "pledge" and any(i.id in rule.items and i.id not in waived_by for i in items))
        if shown:
            (local if rule.local else notes).append(rule.text[lang])
            cite(rule.entry, rule.sources)
    known = [kb.sources[c] for c in codes if c in kb.sources]
    titles = tuple(s.title[lang] for s in sorted(known, key=lambda s: not s.official))
    city = data.city(answers.get(Step.CITY, ""))
    return Checklist(
        summary(data, answers, lang),
        city.name[lang] if city else "",
        tuple(documents),
        tuple(waivers),
        tuple(notes),
        tuple(local),
        titles,
        tuple(entries),
    )


def checklist_text(checklist: Checklist, lang: Lang) -> str:
    """The checklist as plain text (the caller escapes it for HTML)."""
    _ = translator(lang).gettext
    lines = [_("Your materials checklist: {answers}").format(answers=checklist.summary), "", _("To hand in:")]
    for number, line in enumerate(checklist.documents, 1):
        text = f"{number}. {line.text}"
        if line.pledge:
            text += ("" if lang == "zh" else " ") + _("(may follow later on a written pledge: see the local rules)")
        lines.append(text)
        lines += [f"   – {note}" for note in line.notes]
    for waiver in checklist.waived:
        lines += ["", _("Not needed here:")]
        lines += [f"• {document}" for document in waiver.documents]
        lines.append(f"   – {waiver.reason}")
    if checklist.notes:
        lines += ["", _("Good to know:")]
        lines += [f"• {note}" for note in checklist.notes]
    if checklist.local:
        lines += ["", _("Local rules ({city}):").format(city=checklist.city)]
        lines += [f"• {note}" for note in checklist.local]
    if checklist.sources:
        separator = "；" if lang == "zh" else "; "
        lines += ["", _("Sources: {sources}").format(sources=separator.join(checklist.sources))]
    lines += [
        "",
        _(
            "This list is a guide from the helpdesk's knowledge base; the office's own service guide decides. "
            "Staff can check your materials: press the button below."
        ),
    ]
    return "\n".join(lines)


def request_text(checklist: Checklist, lang: Lang) -> str:
    """The help request's description for staff: the answers and the documents on the list."""
    _ = translator(lang).gettext
    lines = [
        _("Please check my materials (from /checklist)."),
        _("Answers: {answers}").format(answers=checklist.summary),
        _("On my list:"),
        *(f"- {line.text}" for line in checklist.documents),
    ]
    if checklist.waived:
        lines.append(_("Not needed here:"))
        lines += [f"- {document}" for waiver in checklist.waived for document in waiver.documents]
    return "\n".join(lines)


@dataclass(frozen=True)
class Checklists:
    """The checklist flow over the knowledge base's data, and the help request it can end with."""

    kb: KnowledgeBase
    flows: Flows
    filing: TicketFiling

    @property
    def available(self) -> bool:
        """Whether the knowledge base has a checklist."""
        return self.kb.checklist is not None

    def _data(self) -> ChecklistData:
        data = self.kb.checklist
        assert data is not None, "no checklist in this knowledge base"
        return data

    def _state(self, user_id: int) -> FlowState | None:
        state = self.flows.get(user_id)
        return state if state is not None and state.name == FlowName.CHECKLIST else None

    def _standing(self, answers: Mapping[str, str], step: str, lang: Lang, stale: bool = False) -> Standing:
        if step == Step.DONE:
            return Standing(checklist=build(self.kb, answers, lang), stale=stale)
        asked = steps_for(answers)
        current = Step(step)
        text = translator(lang).gettext(QUESTIONS[current])
        offered = choices(self._data(), current, lang, self.kb.profile.id)
        question = Question(current, text, offered, asked.index(current), len(asked))
        return Standing(question=question, stale=stale)

    def _put(self, user_id: int, answers: dict[str, str], lang: Lang, now: datetime) -> Standing:
        """Save the answers and move to the first question not answered (or the list)."""
        step = next((s for s in steps_for(answers) if s not in answers), Step.DONE)
        self.flows.set(user_id, FlowState(FlowName.CHECKLIST, step, answers), now)
        return self._standing(answers, step, lang)

    def start(self, user_id: int, lang: Lang, now: datetime) -> Standing:
        """Begin (or begin again): the first question. Replaces any other flow the user was in."""
        return self._put(user_id, {}, lang, now)

    def current(self, user_id: int, lang: Lang) -> Standing | None:
        """Where the user is, or None outside the checklist."""
        state = self._state(user_id)
        if state is None or (state.step != Step.DONE and state.step not in QUESTIONS):
            return None
        return self._standing(_answers(state), state.step, lang)

    def answer(self, user_id: int, step: str, value: str, lang: Lang, now: datetime) -> Standing | None:
        """A choice for *step*; None outside the checklist. A button of another step (an old message) or a value
        that is not a choice leaves everything as it is and shows where the user is (``stale``)."""
        state = self._state(user_id)
        if state is None:
            return None
        answers = _answers(state)
        valid = {v for v, _label in choices(self._data(), Step(step), lang)} if step in QUESTIONS else set()
        if step != state.step or value not in valid:
            return self._standing(answers, state.step, lang, stale=True) if _known(state.step) else None
        answers[step] = value
        if step == Step.TASK:  # a different task asks different questions: keep only what still applies
            answers = {k: v for k, v in answers.items() if k in steps_for(answers)}
        return self._put(user_id, answers, lang, now)

    def back(self, user_id: int, step: str, lang: Lang, now: datetime) -> Standing | None:
        """Back from *step* to the question before it (its answer is asked again); None outside the checklist."""
        state = self._state(user_id)
        if state is None or not _known(state.step):
            return None
        answers = _answers(state)
        if step != state.step:
            return self._standing(answers, state.step, lang, stale=True)
        asked = [s for s in steps_for(answers) if s in answers]
        if not asked:
            return self._standing(answers, state.step, lang)
        previous = asked[-1]
        answers.pop(previous)
        self.flows.set(user_id, FlowState(FlowName.CHECKLIST, previous, answers), now)
        return self._standing(answers, previous, lang)

    def cancel(self, user_id: int) -> bool:
        """Leave the checklist; whether the user was in it."""
        if self._state(user_id) is None:
            return False
        self.flows.clear(user_id)
        return True

    def request_check(self, user_id: int, lang: Lang, now: datetime) -> tuple[TicketView, list[Notice]] | None:
        """ "Ask staff to check my materials": a help request (求助) carrying the answers and the list, and the
        notices telling staff; the checklist flow ends. None unless the user's checklist is complete."""
        state = self._state(user_id)
        if state is None or state.step != Step.DONE:
            return None
        checklist = build(self.kb, _answers(state), lang)
        description = request_text(checklist, lang)[: self.filing.policy.max_description]
        view, notices = self.filing.open_ticket(user_id, TicketKind.HELP, description, lang, now, origin=ORIGIN)
        self.flows.clear(user_id)
        return view, notices


def _answers(state: FlowState) -> dict[str, str]:
    return {k: v for k, v in state.data.items() if isinstance(k, str) and isinstance(v, str)}


def _known(step: str) -> bool:
    return step == Step.DONE or step in QUESTIONS
