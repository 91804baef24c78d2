"""The curated knowledge base: loading, validation and answer texts.

Layout of a knowledge directory (``knowledge/`` in the repository)::

    topics.toml          the topic ids every deployment must cover
    synonyms.toml        [map] what people type = the knowledge base's word
    entries/*.toml       [[entry]] tables: id, theme, audience, titles, questions, answers, sources
    sources.toml         the sources registry: one table per source code (titles, official, issuer, year, link)
    profiles/*.toml      local profiles (office, hours, local rules), picked by HELPDESK_PROFILE
    checklist.toml       optional: the materials checklist (/checklist), built on the entries and sources
                         (``bot.answering.checklist_data``)

``load_knowledge`` either returns a complete, valid ``KnowledgeBase`` or raises
``KnowledgeBaseError`` listing every problem with its file, entry and field.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any

from bot.answering.checklist_data import ChecklistData, read_checklist
from bot.answering.text import Lang, SynonymMap, normalise
from bot.errors import KnowledgeBaseError, KnowledgeProblem

LANGS: tuple[Lang, Lang] = ("en", "zh")
THEMES = (
    "basics",
    "categories",
    "documents",
    "process",
    "new",
    "extension",
    "change",
    "reissue",
    "cancellation",
    "time-fees",
    "rules",
    "contact",
    "service",
    "smalltalk",
)
SMALL_TALK = "smalltalk"
"""The theme of greetings and thanks: answered lightly, never a domain question."""
AUDIENCES = ("applicant", "employer")
MIN_QUESTIONS = 4
MAX_QUESTION_CHARS = 200
MAX_ANSWER_CHARS = 1200
MAX_FILLED_ANSWER_CHARS = 2000
MAX_TITLE_CHARS = {"en": 48, "zh": 24}
PROFILE_KEYS_REQUIRED = ("office_name", "office_address", "office_hours", "office_phone")
SOURCES_FILE = "sources.toml"
MAX_SOURCE_TITLE_CHARS = {"en": 120, "zh": 60}
SOURCE_FIELDS = frozenset({"title_en", "title_zh", "official", "issuer", "year", "link"})

MAX_ENTRY_ID = 32
"""The longest entry id: buttons carry one with a question or session id in Telegram's 64 bytes of callback_data."""
_CJK = re.compile(r"[\u4e00-\u9fff]")
_SOURCE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_LINK = re.compile(r"(https?://)?[^\s/]+\.[^\s]+")


@dataclass(frozen=True)
class Entry:
    """One knowledge-base entry: a topic with its alternate questions and answers per language."""

    id: str
    theme: str
    audience: tuple[str, ...]
    title: Mapping[Lang, str]
    questions: Mapping[Lang, tuple[str, ...]]
    answer: Mapping[Lang, str]
    sources: tuple[str, ...]
    related: tuple[str, ...]
    file: str

    @property
    def small_talk(self) -> bool:
        """A greeting or thanks (theme ``SMALL_TALK``)."""
        return self.theme == SMALL_TALK


@dataclass(frozen=True)
class Source:
    """One entry of the sources registry: what a source code stands for, in both languages."""

    code: str
    title: Mapping[Lang, str]
    official: bool
    """A law, a government notice or a government body's own page, as against a report, an article or a note."""
    issuer: str | None = None
    year: int | None = None
    link: str | None = None


@dataclass(frozen=True)
class WorkingHours:
    """When the local office (and so the live desk) is staffed, before the holiday calendar."""

    timezone: str = "Asia/Shanghai"
    days: tuple[int, ...] = (1, 2, 3, 4, 5)
    open: time = time(9, 0)
    close: time = time(17, 0)
    lunch: tuple[time, time] | None = None


@dataclass(frozen=True)
class Profile:
    """A deployment's local details, filled into answers by ``{placeholder}``."""

    id: str
    values: Mapping[Lang, Mapping[str, str]]
    hours: WorkingHours = field(default_factory=WorkingHours)


@dataclass(frozen=True)
class KnowledgeBase:
    """A validated knowledge base with the chosen local profile."""

    entries: Mapping[str, Entry]
    profile: Profile
    synonyms: SynonymMap
    topic_ids: tuple[str, ...]
    directory: Path
    sources: Mapping[str, Source] = field(default_factory=dict)
    checklist: ChecklistData | None = None
    """The materials checklist (``checklist.toml``), or None when the knowledge base has none."""

    def answer(self, entry_id: str, lang: Lang) -> str:
        """The entry's answer in *lang* with the local profile filled in."""
        return self.entries[entry_id].answer[lang].format_map(self.profile.values[lang])

    def title(self, entry_id: str, lang: Lang) -> str:
        """The entry's short title (for buttons and lists) in *lang*."""
        return self.entries[entry_id].title[lang]

    def by_theme(self, theme: str) -> list[Entry]:
        """Entries of one theme, in file order."""
        return [e for e in self.entries.values() if e.theme == theme]

    def cited(self, entry_id: str) -> tuple[Source, ...]:
        """The registry's sources of an entry: official ones first, otherwise in the entry's order."""
        found = [self.sources[code] for code in self.entries[entry_id].sources if code in self.sources]
        return tuple(sorted(found, key=lambda source: not source.official))


def placeholders(text: str) -> set[str]:
    """The ``{name}`` placeholders used in *text* (raises ValueError on unbalanced braces)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


class _Checker:
    """Collects problems while reading raw TOML data."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[KnowledgeProblem] = []
        self.invalid_ids: set[str] = set()
        self.cited: set[str] = set()
        """Every source code an entry names, invalid entries' too (so none is called unused by mistake)."""
        self.invalid_sources: set[str] = set()

    def add(self, file: Path | str, entry: str | None, fld: str | None, message: str) -> None:
        path = Path(file)
        if path.is_absolute() and path.is_relative_to(self.root):
            path = path.relative_to(self.root)
        self.problems.append(KnowledgeProblem(str(path), entry, fld, message))

    def text(self, file: Path, entry: str | None, data: Mapping[str, Any], key: str) -> str | None:
        value = data.get(key)
        if value is None:
            self.add(file, entry, key, "missing")
            return None
        if not isinstance(value, str) or not value.strip():
            self.add(file, entry, key, "must be a non-empty string")
            return None
        return value.strip()

    def texts(self, file: Path, entry: str | None, data: Mapping[str, Any], key: str) -> tuple[str, ...]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.add(file, entry, key, "must be a list of non-empty strings")
            return ()
        return tuple(v.strip() for v in value)


def _read_toml(path: Path, checker: _Checker) -> dict[str, Any] | None:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        checker.add(path, None, None, "file not found")
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        checker.add(path, None, None, f"not valid TOML: {exc}")
    return None


def _read_topics(directory: Path, checker: _Checker) -> tuple[str, ...]:
    path = directory / "topics.toml"
    data = _read_toml(path, checker)
    if data is None:
        return ()
    topics = data.get("topic", [])
    ids = tuple(str(t["id"]) for t in topics if isinstance(t, dict) and isinstance(t.get("id"), str))
    if not ids:
        checker.add(path, None, "topic", "no topics with an id")
    return ids


def _read_synonyms(directory: Path, checker: _Checker) -> SynonymMap:
    path = directory / "synonyms.toml"
    if not path.exists():
        return SynonymMap({})
    data = _read_toml(path, checker) or {}
    mapping = data.get("map", {})
    clean: dict[str, str] = {}
    if not isinstance(mapping, dict):
        checker.add(path, None, "map", "must be a table of strings")
        return SynonymMap({})
    for variant, canonical in mapping.items():
        if not isinstance(canonical, str) or not normalise(canonical) or not normalise(variant):
            checker.add(path, variant, "map", "variant and word must both have letters")
        elif normalise(variant) == normalise(canonical):
            checker.add(path, variant, "map", "maps a word to itself")
        else:
            clean[variant] = canonical
    return SynonymMap(clean)


def _read_sources(directory: Path, checker: _Checker) -> dict[str, Source] | None:
    """The sources registry (valid tables only), or None when the file cannot be read."""
    path = directory / SOURCES_FILE
    data = _read_toml(path, checker)
    if data is None:
        return None
    if not data:
        checker.add(path, None, None, "no sources")
    sources: dict[str, Source] = {}
    for code, raw in data.items():
        source = _read_source(path, code, raw, checker)
        if source is None:
            checker.invalid_sources.add(code)
        else:
            sources[code] = source
    return sources


def _read_source(path: Path, code: str, raw: Any, checker: _Checker) -> Source | None:
    """One registry table; None (with the problems noted) when anything in it is wrong."""
    if not isinstance(raw, dict):
        checker.add(path, code, None, "must be a table")
        return None
    before = len(checker.problems)
    if not _SOURCE_CODE.fullmatch(code):
        checker.add(path, code, None, "a source code is ASCII letters, digits and -")
    titles: dict[Lang, str] = {}
    for lang in LANGS:
        key = f"title_{lang}"
        titles[lang] = checker.text(path, code, raw, key) or ""
        if len(titles[lang]) > MAX_SOURCE_TITLE_CHARS[lang]:
            checker.add(path, code, key, f"longer than {MAX_SOURCE_TITLE_CHARS[lang]} characters")
        if titles[lang] == code:
            checker.add(path, code, key, "must be a readable title, not the code")
    if titles["zh"] and not _CJK.search(titles["zh"]):
        checker.add(path, code, "title_zh", "has no Chinese")
    official = raw.get("official")
    if official is None:
        checker.add(path, code, "official", "missing")
    elif not isinstance(official, bool):
        checker.add(path, code, "official", "must be true or false")
    issuer = checker.text(path, code, raw, "issuer") if "issuer" in raw else None
    year = raw.get("year")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2100):
        checker.add(path, code, "year", "must be a year such as 2017")
    link = raw.get("link")
    if link is not None and not (isinstance(link, str) and _LINK.fullmatch(link)):
        checker.add(path, code, "link", "must be a web address without spaces")
    for key in raw:
        if key not in SOURCE_FIELDS:
            checker.add(path, code, key, "unknown field")
    if len(checker.problems) > before:
        return None
    return Source(code, titles, bool(official), issuer, year, link)


def _check_citations(directory: Path, entries: list[Entry], sources: Mapping[str, Source], checker: _Checker) -> None:
    """Every code an entry cites is in the registry, once; every code in the registry is cited."""
    known = set(sources) | checker.invalid_sources
    for entry in entries:
        seen: set[str] = set()
        for code in entry.sources:
            if code not in known:
                checker.add(entry.file, entry.id, "sources", f"unknown source {code!r} (not in {SOURCES_FILE})")
            elif code in seen:
                checker.add(entry.file, entry.id, "sources", f"{code!r} is cited twice")
            seen.add(code)
    for code in sources:
        if code not in checker.cited:
            checker.add(directory / SOURCES_FILE, code, None, "not cited by any entry")


def _parse_time(value: Any) -> time:
    if not isinstance(value, str):
        raise ValueError("must be a string HH:MM")
    return time.fromisoformat(value)


def _read_hours(path: Path, raw: Any, checker: _Checker) -> WorkingHours:
    if raw is None:
        return WorkingHours()
    if not isinstance(raw, dict):
        checker.add(path, None, "hours", "must be a table")
        return WorkingHours()
    try:
        days = tuple(int(d) for d in raw.get("days", (1, 2, 3, 4, 5)))
        if not days or any(d < 1 or d > 7 for d in days):
            raise ValueError("days must be ISO weekdays 1-7")
        opening, closing = _parse_time(raw.get("open", "09:00")), _parse_time(raw.get("close", "17:00"))
        if opening >= closing:
            raise ValueError("open must be before close")
        lunch = raw.get("lunch")
        lunch_pair = None
        if lunch is not None:
            lunch_pair = (_parse_time(lunch[0]), _parse_time(lunch[1]))
            if not opening <= lunch_pair[0] < lunch_pair[1] <= closing:
                raise ValueError("lunch must lie inside opening hours")
        return WorkingHours(str(raw.get("timezone", "Asia/Shanghai")), days, opening, closing, lunch_pair)
    except (ValueError, TypeError, IndexError) as exc:
        checker.add(path, None, "hours", str(exc))
        return WorkingHours()


def _read_profile(path: Path, checker: _Checker) -> Profile | None:
    data = _read_toml(path, checker)
    if data is None:
        return None
    values: dict[Lang, dict[str, str]] = {}
    for lang in LANGS:
        table = data.get(lang)
        if not isinstance(table, dict):
            checker.add(path, None, lang, "missing table")
            return None
        bad = [k for k, v in table.items() if not isinstance(v, str)]
        for key in bad:
            checker.add(path, None, f"{lang}.{key}", "must be a string")
        values[lang] = {k: v.strip() for k, v in table.items() if isinstance(v, str)}
        for key in PROFILE_KEYS_REQUIRED:
            if not values[lang].get(key):
                checker.add(path, None, f"{lang}.{key}", "missing")
    for key in set(values["en"]) ^ set(values["zh"]):
        checker.add(path, None, key, "must be given in both [en] and [zh]")
    hours = _read_hours(path, data.get("hours"), checker)
    return Profile(path.stem, values, hours)


def _read_entries(directory: Path, checker: _Checker) -> Iterator[Entry]:
    files = sorted((directory / "entries").glob("*.toml"))
    if not files:
        checker.add(directory / "entries", None, None, "no entry files (*.toml)")
    for path in files:
        data = _read_toml(path, checker)
        if data is None:
            continue
        raw_entries = data.get("entry")
        if not isinstance(raw_entries, list):
            checker.add(path, None, "entry", "no [[entry]] tables")
            continue
        for index, raw in enumerate(raw_entries):
            entry = _read_entry(path, index, raw, checker)
            if entry is not None:
                yield entry


def _read_entry(path: Path, index: int, raw: dict[str, Any], checker: _Checker) -> Entry | None:
    rel = str(path.relative_to(checker.root)) if path.is_relative_to(checker.root) else str(path)
    entry_id = raw.get("id")
    if not isinstance(entry_id, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", entry_id or ""):
        checker.add(rel, f"#{index + 1}", "id", "missing or not a lower-case id (letters, digits, -)")
        return None
    if len(entry_id) > MAX_ENTRY_ID:
        checker.add(rel, entry_id, "id", f"longer than {MAX_ENTRY_ID} characters (buttons carry it in 64 bytes)")
        return None
    before = len(checker.problems)
    theme = checker.text(path, entry_id, raw, "theme")
    if theme is not None and theme not in THEMES:
        checker.add(path, entry_id, "theme", f"unknown theme {theme!r} (one of {', '.join(THEMES)})")
    audience = checker.texts(path, entry_id, raw, "audience") or AUDIENCES
    for who in audience:
        if who not in AUDIENCES:
            checker.add(path, entry_id, "audience", f"unknown audience {who!r}")
    titles: dict[Lang, str] = {}
    questions: dict[Lang, tuple[str, ...]] = {}
    answers: dict[Lang, str] = {}
    for lang in LANGS:
        titles[lang] = checker.text(path, entry_id, raw, f"title_{lang}") or ""
        if len(titles[lang]) > MAX_TITLE_CHARS[lang]:
            checker.add(path, entry_id, f"title_{lang}", f"longer than {MAX_TITLE_CHARS[lang]} characters")
        questions[lang] = checker.texts(path, entry_id, raw, f"questions_{lang}")
        if len(questions[lang]) < MIN_QUESTIONS:
            checker.add(
                path,
                entry_id,
                f"questions_{lang}",
                f"{len(questions[lang])} alternate questions; at least {MIN_QUESTIONS} needed",
            )
        for q in questions[lang]:
            if len(q) > MAX_QUESTION_CHARS:
                checker.add(
                    path, entry_id, f"questions_{lang}", f"question longer than {MAX_QUESTION_CHARS}: {q[:40]}…"
                )
            if lang == "zh" and not _CJK.search(q):
                checker.add(path, entry_id, "questions_zh", f"question has no Chinese: {q!r}")
        answers[lang] = checker.text(path, entry_id, raw, f"answer_{lang}") or ""
        if len(answers[lang]) > MAX_ANSWER_CHARS:
            checker.add(
                path,
                entry_id,
                f"answer_{lang}",
                f"{len(answers[lang])} characters; at most {MAX_ANSWER_CHARS}",
            )
        if lang == "zh" and answers[lang] and not _CJK.search(answers[lang]):
            checker.add(path, entry_id, "answer_zh", "has no Chinese")
    sources = checker.texts(path, entry_id, raw, "sources")
    checker.cited.update(sources)
    if not sources:
        checker.add(path, entry_id, "sources", "at least one source is needed")
    related = checker.texts(path, entry_id, raw, "related")
    known = {"id", "theme", "audience", "sources", "related"} | {
        f"{k}_{lang}" for k in ("title", "questions", "answer") for lang in LANGS
    }
    for key in raw:
        if key not in known:
            checker.add(path, entry_id, key, "unknown field")
    if len(checker.problems) > before:
        checker.invalid_ids.add(entry_id)
        return None
    return Entry(entry_id, theme or "", audience, titles, questions, answers, sources, related, rel)


def _cross_checks(
    directory: Path,
    entries: list[Entry],
    topic_ids: tuple[str, ...],
    profiles: list[Profile],
    checker: _Checker,
) -> None:
    seen: dict[str, Entry] = {}
    owner: dict[str, str] = {}
    for entry in entries:
        if entry.id in seen:
            checker.add(entry.file, entry.id, "id", f"duplicate id (also in {seen[entry.id].file})")
        seen[entry.id] = entry
        for lang in LANGS:
            for q in entry.questions[lang]:
                key = normalise(q)
                if key in owner and owner[key] != entry.id:
                    checker.add(entry.file, entry.id, f"questions_{lang}", f"{q!r} is also a question of {owner[key]}")
                owner.setdefault(key, entry.id)
    for topic in topic_ids:
        if topic not in seen and topic not in checker.invalid_ids:
            checker.add(directory / "topics.toml", topic, None, "topic has no entry")
    for entry in entries:
        for rel in entry.related:
            if rel not in seen and rel not in checker.invalid_ids:
                checker.add(entry.file, entry.id, "related", f"unknown entry {rel!r}")
        for lang in LANGS:
            try:
                names = placeholders(entry.answer[lang])
            except ValueError as exc:
                checker.add(entry.file, entry.id, f"answer_{lang}", f"bad placeholder braces: {exc}")
                continue
            for profile in profiles:
                missing = names - set(profile.values[lang])
                for name in sorted(missing):
                    checker.add(
                        entry.file,
                        entry.id,
                        f"answer_{lang}",
                        f"placeholder {{{name}}} unknown to profile {profile.id!r}",
                    )
                if not missing:
                    filled = entry.answer[lang].format_map(profile.values[lang])
                    if len(filled) > MAX_FILLED_ANSWER_CHARS:
                        checker.add(
                            entry.file,
                            entry.id,
                            f"answer_{lang}",
                            f"{len(filled)} characters with profile {profile.id!r}; at most {MAX_FILLED_ANSWER_CHARS}",
                        )


def available_profiles(directory: Path) -> list[str]:
    """Ids (file stems) of the profiles shipped in *directory*/profiles."""
    return sorted(p.stem for p in (directory / "profiles").glob("*.toml"))


def load_knowledge(directory: Path, profile_id: str = "default") -> KnowledgeBase:
    """Read and validate the knowledge base in *directory* with the local profile *profile_id*.

    Every profile shipped is checked (so any can be chosen later); the chosen one must exist. The sources
    registry must hold every code the entries cite, and nothing they do not.
    Raises ``KnowledgeBaseError`` carrying every problem found.
    """
    checker = _Checker(directory)
    if not directory.is_dir():
        raise KnowledgeBaseError([KnowledgeProblem(str(directory), None, None, "knowledge directory not found")])
    topic_ids = _read_topics(directory, checker)
    synonyms = _read_synonyms(directory, checker)
    profiles = [p for path in sorted((directory / "profiles").glob("*.toml")) if (p := _read_profile(path, checker))]
    entries = list(_read_entries(directory, checker))
    sources = _read_sources(directory, checker)
    _cross_checks(directory, entries, topic_ids, profiles, checker)
    if sources is not None:
        _check_citations(directory, entries, sources, checker)
    checklist = read_checklist(
        directory, checker.add, {e.id: e for e in entries}, sources or {}, tuple(p.id for p in profiles)
    )
    chosen = next((p for p in profiles if p.id == profile_id), None)
    if chosen is None:
        names = ", ".join(p.id for p in profiles) or "none"
        checker.add(
            directory / "profiles" / f"{profile_id}.toml", None, None, f"profile not found or invalid (have: {names})"
        )
    if checker.problems or chosen is None:
        raise KnowledgeBaseError(checker.problems)
    return KnowledgeBase({e.id: e for e in entries}, chosen, synonyms, topic_ids, directory, sources or {}, checklist)
