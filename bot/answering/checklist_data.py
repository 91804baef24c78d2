"""The materials checklist's data (``knowledge/checklist.toml``): documents and the rules that change them.

Read and checked with the rest of the knowledge base (``bot.answering.knowledge.load_knowledge``): every item
and rule names the entry that explains it and cites only sources that entry cites, so the checklist says
nothing its entry does not (a rule lives in one place: the checklist only picks and arranges). The file's
header describes its tables; ``bot.desk.outreach.checklist`` asks the questions and applies the rules.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.answering.knowledge import Entry, Source
    from bot.answering.text import Lang

CHECKLIST_FILE = "checklist.toml"
TASKS = ("new", "change-employer", "extension", "change", "reissue", "cancellation")
"""What is being done: the five sub-items, with a change of employer (a new application) on its own."""
CATEGORIES = ("a", "b", "c")
WHERE = ("abroad", "china")
APOSTILLE = ("yes", "no", "unsure")
QUESTION_VALUES: Mapping[str, tuple[str, ...]] = {
    "task": TASKS,
    "category": CATEGORIES,
    "where": WHERE,
    "apostille": APOSTILLE,
}
"""The values each question's answer may take (``city``: the profiles of the ``[[city]]`` tables)."""
KINDS = ("waive", "pledge", "note")
MAX_TEXT_CHARS = {"en": 300, "zh": 150}
_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LANGS: tuple[Lang, Lang] = ("en", "zh")

Problem = Callable[[Path, "str | None", "str | None", str], None]
"""Notes a problem: (file, item or rule id, field, message)."""


@dataclass(frozen=True)
class City:
    """A choice of the city question: a local profile and its short name."""

    profile: str
    name: Mapping[Lang, str]


@dataclass(frozen=True)
class ChecklistItem:
    """A document to hand in, when its conditions hold."""

    id: str
    entry: str
    sources: tuple[str, ...]
    when: Mapping[str, tuple[str, ...]]
    text: Mapping[Lang, str]


@dataclass(frozen=True)
class ChecklistRule:
    """What an answer changes: documents waived, accepted on a pledge, or a remark (on documents or the list)."""

    id: str
    kind: str
    items: tuple[str, ...]
    entry: str
    sources: tuple[str, ...]
    when: Mapping[str, tuple[str, ...]]
    text: Mapping[Lang, str]

    @property
    def local(self) -> bool:
        """A rule of some cities only (its conditions name a city)."""
        return "city" in self.when


@dataclass(frozen=True)
class ChecklistData:
    """The whole checklist file, validated."""

    cities: tuple[City, ...]
    items: tuple[ChecklistItem, ...]
    rules: tuple[ChecklistRule, ...]

    def city(self, profile: str) -> City | None:
        """The city choice of *profile*, or None."""
        return next((c for c in self.cities if c.profile == profile), None)


def matches(when: Mapping[str, tuple[str, ...]], answers: Mapping[str, str]) -> bool:
    """Whether every condition holds: each named question was answered with one of its values."""
    return all(answers.get(key) in values for key, values in when.items())


class _Reader:
    def __init__(
        self,
        path: Path,
        problem: Problem,
        entries: Mapping[str, Entry],
        sources: Mapping[str, Source],
        profiles: tuple[str, ...],
    ) -> None:
        self.path, self.problem, self.entries, self.sources, self.profiles = path, problem, entries, sources, profiles
        self.failed = False

    def add(self, ident: str | None, fld: str | None, message: str) -> None:
        self.failed = True
        self.problem(self.path, ident, fld, message)

    def texts(self, ident: str, raw: Mapping[str, Any], key: str) -> dict[Lang, str]:
        found: dict[Lang, str] = {}
        for lang in _LANGS:
            name = f"{key}_{lang}"
            value = raw.get(name)
            if not isinstance(value, str) or not value.strip():
                self.add(ident, name, "missing" if value is None else "must be a non-empty string")
                continue
            found[lang] = value.strip()
            if len(found[lang]) > MAX_TEXT_CHARS[lang]:
                self.add(ident, name, f"longer than {MAX_TEXT_CHARS[lang]} characters")
            if lang == "zh" and not _CJK.search(found[lang]):
                self.add(ident, name, "has no Chinese")
        return found

    def strings(self, ident: str, raw: Mapping[str, Any], key: str) -> tuple[str, ...]:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.add(ident, key, "must be a list of non-empty strings")
            return ()
        return tuple(value)

    def when(self, ident: str, raw: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
        value = raw.get("when", {})
        if not isinstance(value, dict):
            self.add(ident, "when", "must be a table of lists")
            return {}
        allowed = {**QUESTION_VALUES, "city": self.profiles}
        conditions: dict[str, tuple[str, ...]] = {}
        for key, values in value.items():
            if key not in allowed:
                self.add(ident, f"when.{key}", f"unknown question (one of {', '.join(allowed)})")
                continue
            if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
                self.add(ident, f"when.{key}", "must be a non-empty list of strings")
                continue
            for v in values:
                if v not in allowed[key]:
                    self.add(ident, f"when.{key}", f"unknown value {v!r} (one of {', '.join(allowed[key])})")
            conditions[key] = tuple(values)
        return conditions

    def grounded(self, ident: str, raw: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
        """The entry and the sources: a known entry, and only sources that entry cites."""
        entry_id = raw.get("entry")
        entry = self.entries.get(entry_id) if isinstance(entry_id, str) else None
        if entry is None:
            self.add(ident, "entry", f"unknown entry {entry_id!r}")
        codes = self.strings(ident, raw, "sources")
        if not codes and "sources" not in raw:
            self.add(ident, "sources", "at least one source is needed")
        for code in codes:
            if code not in self.sources:
                self.add(ident, "sources", f"unknown source {code!r}")
            elif entry is not None and code not in entry.sources:
                self.add(ident, "sources", f"{code!r} is not cited by its entry {entry.id!r}")
        return (entry_id if isinstance(entry_id, str) else ""), codes

    def fields(self, ident: str, raw: Mapping[str, Any], known: set[str]) -> None:
        for key in raw:
            if key not in known:
                self.add(ident, key, "unknown field")


def read_checklist(
    directory: Path,
    problem: Problem,
    entries: Mapping[str, Entry],
    sources: Mapping[str, Source],
    profiles: tuple[str, ...],
) -> ChecklistData | None:
    """Read ``checklist.toml`` in *directory*; None when there is none (the checklist is then not offered) or
    when it has problems (each noted through *problem*). *profiles*: the ids of the profiles shipped."""
    path = directory / CHECKLIST_FILE
    if not path.exists():
        return None
    reader = _Reader(path, problem, entries, sources, ())
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        reader.add(None, None, f"not valid TOML: {exc}")
        return None
    cities: list[City] = []
    for index, raw in enumerate(data.get("city", [])):
        where = f"city #{index + 1}"
        profile = raw.get("profile") if isinstance(raw, dict) else None
        if not isinstance(profile, str) or profile not in profiles:
            reader.add(where, "profile", f"unknown profile {profile!r} (have: {', '.join(profiles)})")
            continue
        if any(c.profile == profile for c in cities):
            reader.add(where, "profile", f"{profile!r} is listed twice")
        reader.fields(where, raw, {"profile", "name_en", "name_zh"})
        cities.append(City(profile, reader.texts(profile, raw, "name")))
    if not cities:
        reader.add(None, "city", "no [[city]] tables")
    reader.profiles = tuple(c.profile for c in cities)
    items: list[ChecklistItem] = []
    seen: set[str] = set()
    for index, raw in enumerate(data.get("item", [])):
        ident = _ident(reader, raw, index, "item", seen)
        if ident is None:
            continue
        entry, codes = reader.grounded(ident, raw)
        reader.fields(ident, raw, {"id", "entry", "sources", "when", "text_en", "text_zh"})
        items.append(ChecklistItem(ident, entry, codes, reader.when(ident, raw), reader.texts(ident, raw, "text")))
    item_ids = {i.id for i in items}
    rules: list[ChecklistRule] = []
    for index, raw in enumerate(data.get("rule", [])):
        ident = _ident(reader, raw, index, "rule", seen)
        if ident is None:
            continue
        kind = raw.get("kind")
        if kind not in KINDS:
            reader.add(ident, "kind", f"must be one of {', '.join(KINDS)}")
        targets = reader.strings(ident, raw, "items")
        for target in targets:
            if target not in item_ids:
                reader.add(ident, "items", f"unknown item {target!r}")
        if kind in ("waive", "pledge") and not targets:
            reader.add(ident, "items", f"a {kind} rule names the documents it applies to")
        entry, codes = reader.grounded(ident, raw)
        reader.fields(ident, raw, {"id", "kind", "items", "entry", "sources", "when", "text_en", "text_zh"})
        rules.append(
            ChecklistRule(
                ident,
                str(kind),
                targets,
                entry,
                codes,
                reader.when(ident, raw),
                reader.texts(ident, raw, "text"),
            )
        )
    for task in TASKS:
        if not any(task in i.when.get("task", TASKS) for i in items):
            reader.add(None, "item", f"no document for the task {task!r}")
    for key in data:
        if key not in ("city", "item", "rule"):
            reader.add(None, key, "unknown table (city, item, rule)")
    if reader.failed:
        return None
    return ChecklistData(tuple(cities), tuple(items), tuple(rules))


def _ident(reader: _Reader, raw: Any, index: int, table: str, seen: set[str]) -> str | None:
    """The id of an item or rule (unique over both), or None (with the problem noted)."""
    ident = raw.get("id") if isinstance(raw, dict) else None
    if not isinstance(ident, str) or not _ID.fullmatch(ident):
        reader.add(f"{table} #{index + 1}", "id", "missing or not a lower-case id (letters, digits, -)")
        return None
    if ident in seen:
        reader.add(ident, "id", "duplicate id")
    seen.add(ident)
    return ident
