"""Finding knowledge-base entries for an operator's ``/kb WORDS``: the answering engine's ranking of the
words, then the entries whose title holds them. In memory, no database: the operator picks one (a button)
and it is sent to the user as ``/kb ENTRY_ID`` sends it.
"""

from __future__ import annotations

from typing import NamedTuple

from bot.answering.helpdesk import Helpdesk
from bot.answering.text import Lang, normalise

MAX_FOUND = 5
"""At most this many entries are offered (one button each)."""
MIN_SCORE = 0.3
"""The engine's score (0…1) an entry needs to be offered: the "did you mean" threshold of the answering."""
WITHIN = 0.3
"""…and no further than this below the best one: a clear winner is offered alone, close ones together."""


class FoundEntry(NamedTuple):
    """An entry matching the operator's words: its id and its title in the operator's language."""

    entry_id: str
    title: str


def _in_title(word: str, title_words: list[str], title: str) -> bool:
    """Whether a normalised *word* is in a title: Chinese anywhere in it, other words at a word's start."""
    if not word.isascii():
        return word in title
    return any(t.startswith(word) for t in title_words)


def find_entries(helpdesk: Helpdesk, words: str, lang: Lang, limit: int = MAX_FOUND) -> list[FoundEntry]:
    """The entries that best match *words*, best first: those the engine scores at least ``MIN_SCORE`` and
    within ``WITHIN`` of the best (small talk left out), then those with every word in their title, in
    either language."""
    kb = helpdesk.kb
    scored = [(e, score) for e, score in helpdesk.answerer.matcher.score(words) if not kb.entries[e].small_talk]
    floor = max(MIN_SCORE, scored[0][1] - WITHIN) if scored else MIN_SCORE
    ranked = [entry_id for entry_id, score in scored if score >= floor]
    wanted = normalise(words).split()
    titled = []
    for entry_id, entry in kb.entries.items():
        titles = [normalise(title) for title in entry.title.values()]
        if wanted and not entry.small_talk and any(all(_in_title(w, t.split(), t) for w in wanted) for t in titles):
            titled.append(entry_id)
    found = list(dict.fromkeys([*ranked, *titled]))[:limit]
    return [FoundEntry(entry_id, kb.title(entry_id, lang)) for entry_id in found]
