"""Matching a question to the knowledge base: answer, clarify or fallback.

For each entry the index holds its alternate questions and titles (both languages), normalised,
mapped through the synonyms and tokenised (see ``bot.text``). A question is scored in two stages:

1. Keywords. BM25 over entries finds candidates; query words that the knowledge base does not know
   are corrected to a close known word when there is one (typos). *Coverage* is the share of the
   query's keyword weight (IDF) that the entry's vocabulary contains: unknown words such as
   "tourist" or "Japan" weigh heavily and pull coverage down, which is what keeps out-of-scope
   near misses out.
2. Fuzzy. rapidfuzz compares the query's token string with each candidate's questions
   (token_sort and token_set ratios, best question counts).

The score is ``W_FUZZY·fuzzy + W_COVERAGE·coverage + W_BM25·relative BM25`` in 0…1. The decision:
answer when the top score clears ``answer`` and leads the next by ``margin`` (or clears ``sure``);
clarify with up to three candidates when it clears ``clarify``; otherwise fallback.
Thresholds were calibrated with ``python -m bot kb eval`` (see README).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz, process

from bot.knowledge import LANGS, KnowledgeBase
from bot.text import Lang, detect_lang, join_tokens, normalise, tokenise

Decision = Literal["answer", "clarify", "fallback"]

W_FUZZY = 0.40
W_COVERAGE = 0.45
W_BM25 = 0.15
BM25_K1 = 1.2
BM25_B = 0.5
CANDIDATES = 25
TYPO_CUTOFF = 84.0
MAX_CLARIFY = 3


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds on the combined 0…1 score."""

    answer: float = 0.62
    sure: float = 0.80
    margin: float = 0.06
    clarify: float = 0.45
    clarify_window: float = 0.15


@dataclass(frozen=True)
class Match:
    """What the engine decided for one question."""

    question: str
    lang: Lang
    decision: Decision
    entry: str | None
    candidates: tuple[str, ...]
    score: float


@dataclass(frozen=True)
class _Scored:
    entry: int
    score: float


class Matcher:
    """An index over one knowledge base; ``match`` is safe to call from many tasks."""

    def __init__(self, kb: KnowledgeBase, thresholds: Thresholds | None = None) -> None:
        self.kb = kb
        self.thresholds = thresholds or Thresholds()
        self.entry_ids: list[str] = list(kb.entries)
        self._question_strings: list[list[str]] = []
        self._vocab: list[frozenset[str]] = []
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        lengths: list[int] = []
        for index, entry_id in enumerate(self.entry_ids):
            entry = kb.entries[entry_id]
            texts = [entry.title[lang] for lang in LANGS]
            texts += [q for lang in LANGS for q in entry.questions[lang]]
            strings: list[str] = []
            counts: Counter[str] = Counter()
            for text in texts:
                tokens = self._tokens(text)
                if tokens:
                    strings.append(join_tokens(tokens))
                    counts.update(set(tokens))
            self._question_strings.append(strings)
            self._vocab.append(frozenset(counts))
            lengths.append(sum(counts.values()))
            for token, tf in counts.items():
                postings[token].append((index, tf))
        self._postings = dict(postings)
        n = max(len(self.entry_ids), 1)
        self._idf = {t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in postings.items()}
        self._unknown_idf = math.log(1 + (n + 0.5) / 0.5)
        self._avg_len = (sum(lengths) / len(lengths)) if lengths else 1.0
        self._lengths = lengths
        self._latin_vocab = sorted(t for t in postings if t.isascii() and len(t) >= 4)

    def _tokens(self, text: str) -> list[str]:
        return tokenise(self.kb.synonyms.apply(normalise(text)))

    def _correct(self, tokens: Iterable[str]) -> list[str]:
        """Replace unknown English words by a close known one (typos), leave the rest."""
        out = []
        for token in tokens:
            if token in self._postings or not token.isascii() or len(token) < 4:
                out.append(token)
                continue
            best = process.extractOne(token, self._latin_vocab, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF)
            out.append(best[0] if best else token)
        return out

    def _bm25(self, tokens: list[str]) -> dict[int, float]:
        scores: dict[int, float] = defaultdict(float)
        for token in set(tokens):
            idf = self._idf.get(token)
            if idf is None:
                continue
            for index, tf in self._postings[token]:
                norm = BM25_K1 * (1 - BM25_B + BM25_B * self._lengths[index] / self._avg_len)
                scores[index] += idf * tf * (BM25_K1 + 1) / (tf + norm)
        return scores

    def _coverage(self, tokens: set[str], index: int) -> float:
        total = known = 0.0
        vocab = self._vocab[index]
        for token in tokens:
            weight = self._idf.get(token, self._unknown_idf)
            if len(token) == 1 and not token.isascii():
                weight *= 0.5  # a lone Chinese character says less than a pair
            total += weight
            if token in vocab:
                known += weight
        return known / total if total else 0.0

    def score(self, question: str) -> list[tuple[str, float]]:
        """Every candidate entry with its combined score, best first."""
        tokens = self._correct(self._tokens(question))
        if not tokens:
            return []
        bm25 = self._bm25(tokens)
        if not bm25:
            return []
        ranked = sorted(bm25.items(), key=lambda kv: kv[1], reverse=True)[:CANDIDATES]
        top_bm25 = ranked[0][1]
        query = join_tokens(tokens)
        token_set = set(tokens)
        scored = []
        for index, bm in ranked:
            strings = self._question_strings[index]
            sort_best = process.extractOne(query, strings, scorer=fuzz.token_sort_ratio)
            set_best = process.extractOne(query, strings, scorer=fuzz.token_set_ratio)
            fuzzy = (sort_best[1] if sort_best else 0.0) * 0.5 + (set_best[1] if set_best else 0.0) * 0.5
            combined = W_FUZZY * fuzzy / 100 + W_COVERAGE * self._coverage(token_set, index) + W_BM25 * bm / top_bm25
            scored.append(_Scored(index, combined))
        scored.sort(key=lambda s: s.score, reverse=True)
        return [(self.entry_ids[s.entry], round(s.score, 4)) for s in scored]

    def match(self, question: str, lang: Lang | None = None) -> Match:
        """Decide answer / clarify / fallback for *question*; *lang* is the reply language if known."""
        reply_lang: Lang = lang or detect_lang(question)
        ranked = self.score(question)
        t = self.thresholds
        if not ranked or ranked[0][1] < t.clarify:
            top = ranked[0][1] if ranked else 0.0
            return Match(question, reply_lang, "fallback", None, (), top)
        best_id, best = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        if best >= t.sure or (best >= t.answer and best - second >= t.margin):
            return Match(question, reply_lang, "answer", best_id, (best_id,), best)
        floor = max(t.clarify, best - t.clarify_window)
        candidates = tuple(eid for eid, s in ranked[:MAX_CLARIFY] if s >= floor)
        return Match(question, reply_lang, "clarify", None, candidates, best)
