"""Scoring the engine against labelled questions (``kb eval``)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.answering.matching import Match, Matcher
from bot.answering.text import detect_lang

IN_SCOPE_OUTCOMES = ("correct", "clarified-right", "clarified-wrong", "wrong", "fallback")
OUT_OF_SCOPE_OUTCOMES = ("answered", "clarified", "fallback")


@dataclass(frozen=True)
class Labelled:
    """One labelled question: ``expect`` is an entry id, or None for out of scope."""

    q: str
    expect: str | None


@dataclass
class Tally:
    """Outcome counts for one group of questions."""

    in_scope: Counter[str] = field(default_factory=Counter)
    out_of_scope: Counter[str] = field(default_factory=Counter)

    def rate(self, outcome: str, scope: str = "in") -> float:
        counter = self.in_scope if scope == "in" else self.out_of_scope
        total = sum(counter.values())
        return counter[outcome] / total if total else 0.0


def read_labelled(path: Path) -> list[Labelled]:
    """Read a JSONL file of ``{"q": ..., "expect": id-or-null}`` lines (blank lines skipped)."""
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            items.append(Labelled(str(raw["q"]), raw.get("expect")))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a {{'q', 'expect'}} object ({exc})") from exc
    return items


def outcome(item: Labelled, match: Match) -> str:
    """Classify one result."""
    if item.expect is None:
        return {"answer": "answered", "clarify": "clarified"}.get(match.decision, "fallback")
    if match.decision == "answer":
        return "correct" if match.entry == item.expect else "wrong"
    if match.decision == "clarify":
        return "clarified-right" if item.expect in match.candidates else "clarified-wrong"
    return "fallback"


def evaluate(matcher: Matcher, items: Iterable[Labelled]) -> tuple[dict[str, Tally], list[tuple[Labelled, Match, str]]]:
    """Tallies overall ("all") and per language, plus every result for listing misses."""
    tallies = {"all": Tally(), "en": Tally(), "zh": Tally()}
    results = []
    for item in items:
        match = matcher.match(item.q)
        result = outcome(item, match)
        for key in ("all", detect_lang(item.q)):
            counter = tallies[key].in_scope if item.expect is not None else tallies[key].out_of_scope
            counter[result] += 1
        results.append((item, match, result))
    return tallies, results


def format_report(tallies: dict[str, Tally]) -> str:
    """A plain-text table of the tallies."""
    lines = []
    for key, tally in tallies.items():
        n_in, n_out = sum(tally.in_scope.values()), sum(tally.out_of_scope.values())
        parts = [f"{o} {tally.in_scope[o]} ({tally.rate(o):.1%})" for o in IN_SCOPE_OUTCOMES]
        lines.append(f"[{key}] in scope {n_in}: " + ", ".join(parts))
        parts = [f"{o} {tally.out_of_scope[o]} ({tally.rate(o, 'out'):.1%})" for o in OUT_OF_SCOPE_OUTCOMES]
        lines.append(f"[{key}] out of scope {n_out}: " + ", ".join(parts))
    return "\n".join(lines)
