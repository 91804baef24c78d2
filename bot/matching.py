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

import numpy as np
from rapidfuzz import fuzz, process

from bot.knowledge import LANGS, KnowledgeBase
from bot.text import Lang, detect_lang, join_tokens, normalise, tokenise

Decision = Literal["answer", "clarify", "fallback"]

W_COSINE = 0.45
W_COVERAGE = 0.30
W_FUZZY = 0.25
BM25_K1 = 1.2
BM25_B = 0.5
CANDIDATES = 25
TYPO_CUTOFF = 84.0
MAX_CLARIFY = 3
NUMBER_WEIGHT = 1.0
CJK_CHAR_WEIGHT = 0.5
"""A lone Chinese character says less than a pair: its keyword weight is halved."""


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds on the combined 0…1 score."""

    answer: float = 0.55
    margin: float = 0.05
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


class Matcher:
    """An index over one knowledge base; ``match`` is safe to call from many tasks."""

    def __init__(self, kb: KnowledgeBase, thresholds: Thresholds | None = None) -> None:
        self.kb = kb
        self.thresholds = thresholds or Thresholds()
        self.entry_ids: list[str] = list(kb.entries)
        question_tokens: list[list[frozenset[str]]] = []
        self._question_strings: list[list[str]] = []
        self._vocab: list[frozenset[str]] = []
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        lengths: list[int] = []
        for index, entry_id in enumerate(self.entry_ids):
            entry = kb.entries[entry_id]
            texts = [entry.title[lang] for lang in LANGS]
            texts += [q for lang in LANGS for q in entry.questions[lang]]
            strings: list[str] = []
            sets: list[frozenset[str]] = []
            counts: Counter[str] = Counter()
            for text in texts:
                tokens = self._tokens(text)
                if tokens:
                    strings.append(join_tokens(tokens))
                    sets.append(frozenset(tokens))
                    counts.update(set(tokens))
            self._question_strings.append(strings)
            question_tokens.append(sets)
            self._vocab.append(frozenset(counts))
            lengths.append(sum(counts.values()))
            for token, tf in counts.items():
                postings[token].append((index, tf))
        n = max(len(self.entry_ids), 1)
        self._idf = {t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in postings.items()}
        self._unknown_idf = math.log(1 + (n + 0.5) / 0.5)
        avg_len = (sum(lengths) / len(lengths)) if lengths else 1.0
        # BM25 contribution of each (token, entry) pair, precomputed: a query only adds arrays up.
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for token, plist in postings.items():
            idx = np.fromiter((i for i, _ in plist), dtype=np.int32, count=len(plist))
            tf = np.fromiter((f for _, f in plist), dtype=np.float32, count=len(plist))
            doc_len = np.fromiter((lengths[i] for i, _ in plist), dtype=np.float32, count=len(plist))
            norm = BM25_K1 * (1 - BM25_B + BM25_B * doc_len / avg_len)
            self._postings[token] = (idx, (self._idf[token] * tf * (BM25_K1 + 1) / (tf + norm)).astype(np.float32))
        self._latin_vocab: dict[str, list[str]] = defaultdict(list)
        for token in sorted(postings):
            if token.isascii() and len(token) >= 4:
                self._latin_vocab[token[0]].append(token)
        self._questions = [[(qs, self._norm(qs)) for qs in sets] for sets in question_tokens]

    def _tokens(self, text: str) -> list[str]:
        return tokenise(self.kb.synonyms.apply(normalise(text)))

    def _weight(self, token: str) -> float:
        weight = self._idf.get(token)
        if weight is None:
            if len(token) == 2 and not token.isascii() and token[0] in self._idf and token[1] in self._idf:
                return 0.0  # two known characters that are not a known pair: a word boundary, not a word
            weight = self._unknown_idf
        if token.isdigit():
            weight = min(weight, NUMBER_WEIGHT)  # "63", "3 years": details, not the topic
        return weight * CJK_CHAR_WEIGHT if len(token) == 1 and not token.isascii() else weight

    def _norm(self, tokens: frozenset[str]) -> float:
        return math.sqrt(sum(self._weight(t) ** 2 for t in tokens)) or 1.0

    def _correct(self, tokens: Iterable[str]) -> list[str]:
        """Replace unknown English words by a close known one (typos), leave the rest."""
        out = []
        for token in tokens:
            if token in self._postings or not token.isascii() or len(token) < 4:
                out.append(token)
                continue
            # A typo rarely hits the first letter: compare with known words of the same initial only.
            words = self._latin_vocab.get(token[0], [])
            best = process.extractOne(token, words, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF)
            out.append(best[0] if best else token)
        return out

    def _candidates(self, tokens: Iterable[str]) -> list[int]:
        """The entries with the best BM25 scores (at most ``CANDIDATES``), best first."""
        scores = np.zeros(len(self.entry_ids), dtype=np.float32)
        for token in set(tokens):
            posting = self._postings.get(token)
            if posting is not None:
                scores[posting[0]] += posting[1]
        hits = int(np.count_nonzero(scores))
        if hits == 0:
            return []
        k = min(CANDIDATES, hits)
        top = np.argpartition(-scores, k - 1)[:k]
        return [int(i) for i in top[np.argsort(-scores[top])]]

    def _coverage(self, tokens: frozenset[str], index: int) -> float:
        """Share of the query's keyword weight that the entry's vocabulary knows."""
        total = known = 0.0
        vocab = self._vocab[index]
        for token in tokens:
            weight = self._weight(token)
            total += weight
            if token in vocab:
                known += weight
        return known / total if total else 0.0

    def _cosine(self, tokens: frozenset[str], norm: float, index: int) -> float:
        """Best IDF-weighted cosine between the query and one of the entry's questions."""
        best = 0.0
        for question, q_norm in self._questions[index]:
            common = tokens & question
            if common:
                dot = sum(self._weight(t) ** 2 for t in common)
                best = max(best, dot / (norm * q_norm))
        return best

    def score(self, question: str) -> list[tuple[str, float]]:
        """Every candidate entry with its combined 0…1 score, best first."""
        tokens = self._correct(self._tokens(question))
        if not tokens:
            return []
        candidates = self._candidates(tokens)
        if not candidates:
            return []
        query = join_tokens(tokens)
        token_set = frozenset(tokens)
        norm = self._norm(token_set)
        scored = []
        for index in candidates:
            best = process.extractOne(query, self._question_strings[index], scorer=fuzz.token_sort_ratio)
            fuzzy = best[1] / 100 if best else 0.0
            combined = (
                W_COSINE * self._cosine(token_set, norm, index)
                + W_COVERAGE * self._coverage(token_set, index)
                + W_FUZZY * fuzzy
            )
            scored.append((self.entry_ids[index], round(combined, 4)))
        scored.sort(key=lambda kv: kv[1], reverse=True)
        return scored

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
        if best >= t.answer and best - second >= t.margin:
            return Match(question, reply_lang, "answer", best_id, (best_id,), best)
        floor = max(t.clarify, best - t.clarify_window)
        candidates = tuple(eid for eid, s in ranked[:MAX_CLARIFY] if s >= floor)
        return Match(question, reply_lang, "clarify", None, candidates, best)
