"""Matching a question to the knowledge base: answer, clarify or fallback.

For each entry the index holds its alternate questions and titles (both languages), normalised,
mapped through the synonyms and tokenised (see ``bot.answering.text``). A question is scored in two stages:

1. Keywords. Unknown English words are corrected to a known spelling first (one edit, two from 8
   letters; a swapped pair counts as one; a stem one edit from a known stem; two words run together).
   Chinese character pairs that bind more weakly than both neighbours (理工 in 办理工作) straddle a
   word boundary and are dropped. BM25 over entries finds candidates. *Coverage* is the share of the
   query's keyword weight (IDF) that the entry's vocabulary contains: unknown words such as
   "Japan" weigh heavily and pull coverage down, which keeps out-of-scope near misses out.
2. Similarity: the best IDF-weighted cosine with one of the entry's questions, and rapidfuzz
   ``token_sort_ratio`` with its best question.

The score is ``W_COSINE·cosine + W_COVERAGE·coverage + W_FUZZY·fuzzy`` in 0…1. The decision:
answer when the top score clears ``answer`` and leads the next by ``margin``; clarify with up to
three candidates when it clears ``clarify``; otherwise fallback. Guards: a question about another
service (a Chinese ID card, passport or 居住证, another country's visa, work abroad) falls back; one
about another kind of visa (tourist, student …) that says nothing about working is never answered
outright; small talk is answered only when every keyword is small talk.
Thresholds were calibrated with ``python -m bot kb eval`` (see README).
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.answering.classifier import OOS, TEMPERATURE, LinearModel, default_cache_dir, features, load_or_train
from bot.answering.knowledge import LANGS, KnowledgeBase
from bot.answering.text import (
    CHINESE_STOPCHARS,
    ENGLISH_STOPWORDS,
    Lang,
    detect_lang,
    english_words,
    has_cjk,
    is_english_word,
    join_tokens,
    normalise,
    stem,
    tokenise,
)

Decision = Literal["answer", "clarify", "fallback"]

_LATIN_RE = re.compile(r"(?<![a-z0-9'])[a-z]+(?![a-z0-9'])")

W_COSINE = 0.45
W_COVERAGE = 0.30
W_FUZZY = 0.25
BM25_K1 = 1.2
BM25_B = 0.5
CANDIDATES = 25
TYPO_MIN_LEN = 4
"""English words shorter than this are only corrected for swapped letters ("fee" and "fees" are both words)."""
MAX_CLARIFY = 3
NUMBER_WEIGHT = 1.0
CJK_CHAR_WEIGHT = 0.5
"""A lone Chinese character says less than a pair: its keyword weight is halved."""


_COUNTRIES = (
    "japan|korea|canada|usa|america|uk|britain|england|australia|germany|france|singapore|new zealand|ireland|"
    "日本|韩国|加拿大|美国|英国|澳洲|澳大利亚|德国|法国|新加坡|新西兰|爱尔兰|欧洲|europe|申根|schengen"
)
_NATIONALITIES = (
    "japanese|korean|canadian|american|british|australian|german|french|schengen|us|uk|"
    "uae|emirates|dubai|saudi|thai|vietnamese|malaysian|indonesian|russian|italian|spanish|dutch|swiss"
)
OTHER_SERVICE = re.compile(
    "|".join(
        [
            r"居住证|身份证|户口|户籍|(?<![a-z])(?:id card|identity card|hukou)(?![a-z])",
            r"中国护照|chinese passport|中国公民出国|出国劳务|出国工作|出国打工",
            # a Chinese citizen's own matters: applying for a passport, a returnee's degree check (留服认证)
            r"(?:申请|办理|办)(?:中国)?护照|中国公民.{0,8}护照|留服认证|留学服务中心|回国(?:找)?工作",
            r"结婚登记|登记结婚|结婚\S{0,3}登记",
            r"(?<![a-z])(?:register (?:a |our |my )?marriage|marriage registration)(?![a-z])",
            # going there (not going back home: "without flying back to the UK" is about China)
            rf"(?<![a-z])(?<!back )(?<!return )(?:for|to)(?: the)? (?:{_COUNTRIES})(?![a-z])",
            rf"(?<!回)(?:去|到|赴)(?:{_COUNTRIES})",
            rf"(?:{_COUNTRIES})\s*(?:的)?\s*(?:签证|工签|zvisa|工作许可|work permit)",
            rf"(?<![a-z])(?:{_NATIONALITIES}) (?:visa|zvisa|work permit|green card)(?![a-z])",
            r"(?<![a-z])(?:h ?1 ?b|h-1b|green card|iang|working holiday)(?![a-z])",
            # wanting to work there (not having worked there: "5 years in Germany" is experience to prove)
            rf"(?<![a-z])(?:want|wants|wanted|plan|plans|planning|going|hope|hoping|like)"
            rf" to (?:work|find a job|get a job) in(?: the)? (?:{_COUNTRIES})(?![a-z])",
            rf"(?:想|要|打算|准备)(?:在|去|到)(?:{_COUNTRIES})(?:工作|上班|打工|就业)",
            r"(?<![a-z])(?:hong kong|hk|macau|macao|taiwan)(?:'s)? (?:[a-z]+ ){0,2}(?:visa|work permit)(?![a-z])",
            r"(?:香港|澳门|台湾)\S{0,6}(?:签证|工签|工作许可)",
        ]
    )
)
"""A question about another service: a Chinese citizen's ID card, passport or domestic residence card (居住证),
marriage registration, Hong Kong's, Macau's or Taiwan's own visas,
work abroad, another country's visa or work permit. The knowledge base cannot answer it, whatever words it shares."""

OTHER_VISA = re.compile(
    r"(?<![a-z])(?:tourist|student|study|business|visit|visitor|family|transit|visa free|l|x|m|q|s) visa(?![a-z])"
    r"|旅游签|学生签|留学签|商务签|探亲签|访问签|免签|过境|落地签"
    r"|注册\S{0,4}公司|公司注册|注册资本|设立\S{0,4}公司"
    r"|(?<![a-z])(?:register|registering|set up|open) (?:a |my |our )?company(?![a-z])"
)
"""Another kind of visa, or setting up a company: only in scope when the question is also about working."""

WORK_WORDS = re.compile(
    r"(?<![a-z])(?<!not )(?<!no )(?:work|works|working|job|jobs|employ\w*|hire|hired|hiring)(?![a-z])"
    r"|(?<!不)(?<!没)(?<!没有)(?:工作|上班|就业|打工|聘|雇|兼职)"
)
"""Working, said without a "not" ("I'm only studying, not working" is not about working)."""


def _says(pattern: re.Pattern[str], forms: tuple[str, ...]) -> bool:
    """Whether *pattern* occurs in any of the forms of a question."""
    return any(pattern.search(form) for form in forms)


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds on the combined 0…1 score (without a classifier: the engine's score alone)."""

    answer: float = 0.55
    margin: float = 0.05
    clarify: float = 0.45
    clarify_window: float = 0.15
    lone: float = 0.47
    """A single candidate, with no other within the clarify window, is answered from this score on."""


@dataclass(frozen=True)
class Blend:
    """How the classifier's probabilities and the engine's scores make one score. Chosen by cross-validation
    over ``knowledge/training`` (``scripts/tune_blend.py``: right − 4 × wrong − 2 × out of scope answered)."""

    engine_weight: float = 0.5
    """score = engine_weight × engine score + (1 − engine_weight) × classifier probability"""
    answer: float = 0.40
    margin: float = 0.10
    clarify: float = 0.30
    clarify_window: float = 0.15
    out_of_scope: float = 0.10
    """The classifier's out-of-scope probability from which a question falls back…"""
    out_of_scope_unless: float = 0.8
    """…unless the blended score of the best entry reaches this;"""
    out_of_scope_offer: float = 0.55
    """from this blended score on, a question that may be out of scope is offered its entries, not answered."""
    temperature: float = TEMPERATURE
    """The classifier's decision values × this, through a softmax, are its probabilities."""


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
class Evidence:
    """What is known about one question before deciding (see ``Matcher.evidence``)."""

    question: str
    lang: Lang
    ranked: tuple[tuple[str, float], ...]
    """The engine's candidates with their 0…1 scores, best first."""
    other_service: bool
    """The question is about another service (guard): never answered."""
    other_visa: bool
    """About another kind of visa, or setting up a company, and not about working: never answered outright."""
    coverages: np.ndarray
    """For each entry, the share of the question's keyword weight it knows."""
    keywords: int
    """How many keyword tokens the question has (0: function words only, such as 在吗)."""
    domain: bool
    """The question holds a domain term (the classifier's list)."""
    decision_values: np.ndarray | None
    """The classifier's decision value per class (None without a classifier)."""


_SENTENCE_RE = re.compile(r"(?<=[.?!;])\s+|(?<=[。？！；])\s*|\n+|(?<=[?!])")
"""Sentence ends: the punctuation stays with its sentence (a question keeps its question mark)."""
_CLAUSE_RE = re.compile(r"[，,]")
MIN_SENTENCE_TOKENS = 3
MAX_SENTENCES = 12
"""At most this many distinct sentences of one message are scored apart (each costs a full score)."""


AUTO: Literal["auto"] = "auto"
"""``Matcher(model=AUTO)``: the classifier for the knowledge base from the cache, trained if needed."""


class Matcher:
    """An index over one knowledge base, with its classifier; ``match`` is safe to call from many tasks.

    *model* is the trained classifier (``bot.answering.classifier``), ``AUTO`` to load or train it (cached in
    *cache_dir*), or None for the engine alone.
    """

    def __init__(
        self,
        kb: KnowledgeBase,
        thresholds: Thresholds | None = None,
        model: LinearModel | Literal["auto"] | None = AUTO,
        blend: Blend | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.kb = kb
        self.thresholds = thresholds or Thresholds()
        self.blend = blend or Blend()
        self.model = load_or_train(kb, cache_dir or default_cache_dir()) if model == AUTO else model
        english_words()  # loaded now, not on the first question
        self.entry_ids: list[str] = list(kb.entries)
        question_tokens: list[list[frozenset[str]]] = []
        self._question_strings: list[list[str]] = []
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        lengths: list[int] = []
        mapped_texts: list[list[str]] = []
        for index, entry_id in enumerate(self.entry_ids):
            entry = kb.entries[entry_id]
            texts = [entry.title[lang] for lang in LANGS]
            texts += [q for lang in LANGS for q in entry.questions[lang]]
            mapped = [self.kb.synonyms.apply(normalise(text)) for text in texts]
            mapped_texts.append(mapped)
            counts: Counter[str] = Counter()
            for text in mapped:
                counts.update(set(tokenise(text)))
            lengths.append(sum(counts.values()))
            for token, tf in counts.items():
                postings[token].append((index, tf))
        self._df = {token: len(plist) for token, plist in postings.items()}
        # Second pass, now that pair frequencies are known: the questions as the scorers see them.
        for mapped in mapped_texts:
            strings: list[str] = []
            sets: list[frozenset[str]] = []
            for text in mapped:
                tokens = tokenise(text, self._keep_pair)
                if tokens:
                    strings.append(join_tokens(sorted(tokens)))  # sorted once here: see ``_fuzzy``
                    sets.append(frozenset(tokens))
            self._question_strings.append(strings)
            question_tokens.append(sets)
        n = max(len(self.entry_ids), 1)
        self._idf = {t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in postings.items()}
        self._unknown_idf = math.log(1 + (n + 0.5) / 0.5)
        avg_len = (sum(lengths) / len(lengths)) if lengths else 1.0
        # BM25 contribution of each (token, entry) pair, precomputed: a query only adds arrays up.
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for token, plist in postings.items():
            idx = np.fromiter((i for i, _ in plist), dtype=np.int32, count=len(plist))
            freqs = np.fromiter((f for _, f in plist), dtype=np.float32, count=len(plist))
            doc_len = np.fromiter((lengths[i] for i, _ in plist), dtype=np.float32, count=len(plist))
            norm = BM25_K1 * (1 - BM25_B + BM25_B * doc_len / avg_len)
            self._postings[token] = (
                idx,
                (self._idf[token] * freqs * (BM25_K1 + 1) / (freqs + norm)).astype(np.float32),
            )
        # Known English spellings (before stemming), by initial: what typos are corrected to.
        surface: Counter[str] = Counter()
        for entry in kb.entries.values():
            for text in [entry.title[lang] for lang in LANGS] + [q for lang in LANGS for q in entry.questions[lang]]:
                surface.update(set(_LATIN_RE.findall(normalise(text))))
        for variant, canonical in kb.synonyms.mapping.items():
            surface.update(_LATIN_RE.findall(variant) + _LATIN_RE.findall(canonical))
        self._surface = frozenset(surface)
        self._latin_vocab: dict[str, list[str]] = defaultdict(list)
        for word, _count in sorted(surface.items(), key=lambda kv: (-kv[1], kv[0])):
            if len(word) >= 3 and word not in ENGLISH_STOPWORDS:
                self._latin_vocab[word[0]].append(word)  # most frequent first: ties go to the common word
        self._latin_stems: dict[str, list[str]] = defaultdict(list)
        for token in sorted(self._df, key=lambda t: (-self._df[t], t)):
            if token.isascii() and token.isalpha() and len(token) >= 5:
                self._latin_stems[token[0]].append(token)
        # Every question of every entry in one row space, so that a query scores them all with a few array
        # operations: which questions hold each token, each question's norm, where each entry's rows start.
        # An entry without questions gets one empty row (cosine 0), so that every entry has a row.
        question_rows: dict[str, list[int]] = defaultdict(list)
        norms: list[float] = []
        starts: list[int] = []
        for sets in question_tokens:
            starts.append(len(norms))
            for question in sets or [frozenset()]:
                for token in question:
                    question_rows[token].append(len(norms))
                norms.append(self._norm(question))
        self._question_rows = {token: np.array(rows, dtype=np.int32) for token, rows in question_rows.items()}
        self._question_norms = np.array(norms, dtype=np.float64)
        bounds = [*starts, len(norms)]
        self._entry_rows = [np.arange(bounds[i], bounds[i + 1], dtype=np.intp) for i in range(len(starts))]

    def _keep_pair(self, pair: str, left: str, right: str) -> bool:
        """False for a pair that binds more weakly than both its neighbours: it straddles a word boundary.

        In 办理工作许可 the pair 理工 is rarer in the knowledge base than 办理 and 工作 on either side of it,
        so it is a boundary, not a word; dropping it keeps rare accidental pairs from weighing like keywords.
        """
        if not left or not right:
            return True  # at either end of a run: kept (measured: judging ends by one neighbour does worse)
        df = self._df.get(pair, 0)
        return not (df < self._df.get(left, 0) and df < self._df.get(right, 0))

    def query_tokens(self, question: str) -> list[str]:
        """The question's keyword tokens, with English typos corrected to the knowledge base's words."""
        return list(self._query_tokens(question))

    @lru_cache(maxsize=1024)  # noqa: B019 - one matcher per process, bounded; a question is read 2–3 times
    def _query_tokens(self, question: str) -> tuple[str, ...]:
        text = normalise(question)
        if _LATIN_RE.search(text):
            text = _LATIN_RE.sub(lambda m: self._correct_word(m.group(0)), text)
        return tuple(tokenise(self.kb.synonyms.apply(text), self._keep_pair))

    def _weight(self, token: str) -> float:
        weight = self._idf.get(token)
        if weight is None:
            if len(token) == 2 and not token.isascii() and all(c in self._idf or c in CHINESE_STOPCHARS for c in token):
                return 0.0  # known (or function) characters that are not a known pair: a word boundary, not a word
            weight = self._unknown_idf
        if token.isdigit():
            weight = min(weight, NUMBER_WEIGHT)  # "63", "3 years": details, not the topic
        return weight * CJK_CHAR_WEIGHT if len(token) == 1 and not token.isascii() else weight

    def _norm(self, tokens: frozenset[str]) -> float:
        return math.sqrt(sum(self._weight(t) ** 2 for t in tokens)) or 1.0

    def _correct_word(self, word: str) -> str:
        """A known spelling for an unknown English *word* (typos, two words run together), else *word*.

        A word of the English language is never "corrected" into another (protection is not project,
        deported is not depart): it stays, unknown to the knowledge base, and says so in the scores.
        """
        if word in self._surface or word in ENGLISH_STOPWORDS or len(word) < 3 or stem(word) in self._postings:
            return word
        if is_english_word(word):
            return word
        return self._closest(word)

    @lru_cache(maxsize=16384)  # noqa: B019 - one matcher per process, bounded cache
    def _closest(self, word: str) -> str:
        # A typo rarely hits the first letter: compare with known words of the same initial only.
        # One edit (OSA: a swap counts as one) for short words, two from 8 letters on; 3-letter words: swaps only.
        words = self._latin_vocab.get(word[0], [])
        limit = 1 if len(word) < 8 else 2
        best = process.extractOne(word, words, scorer=OSA.distance, score_cutoff=limit)
        if best is not None and (len(word) >= TYPO_MIN_LEN or sorted(best[0]) == sorted(word)):
            return str(best[0])
        stemmed = stem(word)
        if len(stemmed) >= 5:  # "register" (stem regist) for "registration" (registr); "rejcted" for "rejected"
            best = process.extractOne(stemmed, self._latin_stems.get(word[0], []), scorer=OSA.distance, score_cutoff=1)
            if best is not None:
                return str(best[0])
        if len(word) >= 6:  # "workpermit", "residencepermit"
            for cut in range(3, len(word) - 2):
                left, right = word[:cut], word[cut:]
                if left in self._surface and right in self._surface:
                    return f"{left} {right}"
        return word

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

    def _coverages(self, weights: dict[str, float]) -> np.ndarray:
        """For every entry, the share of the query's keyword weight its vocabulary (its BM25 postings) knows."""
        known = np.zeros(len(self.entry_ids), dtype=np.float64)
        for token, weight in weights.items():
            posting = self._postings.get(token)
            if posting is not None:
                known[posting[0]] += weight
        total = sum(weights.values())
        return known / total if total else known

    def _cosines(self, squares: dict[str, float], norm: float, candidates: list[int]) -> list[float]:
        """For each candidate entry, the best IDF-weighted cosine between the query and one of its questions.

        *squares* holds the query tokens' squared weights: only tokens a question shares count in the dot
        product, so each token adds its square to the rows of the questions holding it. Only the
        candidates' rows are divided and compared, which keeps a large knowledge base cheap.
        """
        dots = np.zeros(len(self._question_norms), dtype=np.float64)
        for token, square in squares.items():
            rows = self._question_rows.get(token)
            if rows is not None:
                dots[rows] += square
        parts = [self._entry_rows[index] for index in candidates]
        rows = np.concatenate(parts)
        starts = np.cumsum([0] + [len(part) for part in parts[:-1]])
        best = np.maximum.reduceat(dots[rows] / (norm * self._question_norms[rows]), starts)
        return [float(value) for value in best]

    def _fuzzy(self, query: str, index: int) -> float:
        """rapidfuzz ``token_sort_ratio`` (0…1) between the query and the entry's closest question.

        That scorer is ``ratio`` over the tokens sorted: the questions are stored sorted, so only the query is.
        """
        best = process.extractOne(query, self._question_strings[index], scorer=fuzz.ratio)
        return best[1] / 100 if best else 0.0

    def score(self, question: str) -> list[tuple[str, float]]:
        """The candidate entries that can make the top three, with their combined 0…1 score, best first.

        The fuzzy similarity is the costly part, so candidates are taken by their score without it,
        and the rest are dropped once even a perfect fuzzy match (adding ``W_FUZZY``) could not lift
        them into the top three: the top three and their order are exactly those of scoring them all.
        """
        tokens = self.query_tokens(question)
        if not tokens:
            return []
        candidates = self._candidates(tokens)
        if not candidates:
            return []
        query = join_tokens(sorted(tokens))
        weights = {t: self._weight(t) for t in set(tokens)}
        squares = {t: w * w for t, w in weights.items()}
        norm = math.sqrt(sum(squares.values())) or 1.0
        cosines = self._cosines(squares, norm, candidates)
        coverages = self._coverages(weights)
        partial = [
            (W_COSINE * cosine + W_COVERAGE * float(coverages[index]), rank, index)
            for rank, (index, cosine) in enumerate(zip(candidates, cosines, strict=True))
        ]
        partial.sort(key=lambda item: (-item[0], item[1]))
        scored: list[tuple[float, int, str]] = []  # (score, BM25 rank for ties, entry id)
        best: list[float] = []  # the MAX_CLARIFY best scores so far, a min-heap: best[0] is the third
        for without_fuzzy, rank, index in partial:
            if len(best) == MAX_CLARIFY and without_fuzzy + W_FUZZY < best[0] - 1e-4:
                break
            combined = round(without_fuzzy + W_FUZZY * self._fuzzy(query, index), 4)
            scored.append((combined, rank, self.entry_ids[index]))
            heapq.heappush(best, combined)
            if len(best) > MAX_CLARIFY:
                heapq.heappop(best)
        scored.sort(key=lambda item: (-item[0], item[1]))
        return [(entry_id, score) for score, _rank, entry_id in scored]

    def _score_sentences(self, question: str) -> list[tuple[str, float]]:
        """Scores for the whole message, or for one of its sentences when that fits better.

        People write context before the question ("I'm an HR assistant at a factory … Could you give me
        the checklist for a first application?"): the context's words dilute the question's. A sentence
        only counts with at least ``MIN_SENTENCE_TOKENS`` keywords and when its best entry is among the
        whole message's top candidates and within ``clarify_window`` of its best (context can sharpen,
        not redirect). Of those, a question (ending in ? or ？) wins over a statement; a long Chinese
        sentence's last two clauses count as a sentence of their own.
        """
        whole = self.score(question)
        parts = [p.strip() for p in _SENTENCE_RE.split(question) if p.strip()]
        # Chinese runs a whole story together with commas: a long sentence's last two clauses, where the
        # question usually sits, are scored as a sentence of their own.
        for part in list(parts):
            clauses = [c for c in _CLAUSE_RE.split(part) if c.strip()]
            if len(clauses) >= 3 and has_cjk(part):
                parts.append("，".join(clauses[-2:]))
        sentences = list(dict.fromkeys(parts))
        if len(sentences) < 2 or not whole:
            return whole
        if len(sentences) > MAX_SENTENCES:  # a wall of text: its opening and its end, where questions sit
            sentences = sentences[:2] + sentences[2 - MAX_SENTENCES :]
        # Entries the whole message already leans to: among its top three, and near its best.
        near = whole[0][1] - self.thresholds.clarify_window
        agreeing = {entry_id for entry_id, score in whole[:MAX_CLARIFY] if score >= near}
        ranked, asked = whole, whole
        for sentence in sentences:
            if len(set(self.query_tokens(sentence))) < MIN_SENTENCE_TOKENS:
                continue
            candidate = self.score(sentence)
            # The sentence must point where the whole message already leans: context can sharpen, not redirect.
            if candidate and candidate[0][0] in agreeing:
                if candidate[0][1] > ranked[0][1]:
                    ranked = candidate
                if sentence.endswith(("?", "？")) and candidate[0][1] > asked[0][1]:
                    asked = candidate
        # A question that sharpens the message beats its context ("… offered me a job. Can I apply here?").
        return asked if asked is not whole else ranked

    def evidence(self, question: str, lang: Lang | None = None) -> Evidence:
        """Everything the decision reads about *question*: the engine's ranking, the classifier's
        probabilities, the guards (computed once; ``decide`` may weigh it under several settings)."""
        ranked = self._score_sentences(question)
        raw = normalise(question)
        # The guards read the words as typed and as the synonyms map them (公司 becomes 用人单位, say).
        forms = (raw, self.kb.synonyms.apply(raw))
        tokens = self.query_tokens(question)
        weights = {token: self._weight(token) for token in tokens}
        return Evidence(
            question=question,
            lang=lang or detect_lang(question),
            ranked=tuple(ranked),
            other_service=bool(ranked) and _says(OTHER_SERVICE, forms),
            other_visa=_says(OTHER_VISA, forms) and not _says(WORK_WORDS, forms),
            coverages=self._coverages(weights) if weights else np.zeros(len(self.entry_ids)),
            keywords=len(weights),
            domain=self.model is not None and not self.model.domain_terms.isdisjoint(tokens),
            decision_values=None if self.model is None else self.model.decision(features(forms[1])),
        )

    def match(self, question: str, lang: Lang | None = None) -> Match:
        """Decide answer / clarify / fallback for *question*; *lang* is the reply language if known."""
        return self.decide(self.evidence(question, lang))

    def decide(self, evidence: Evidence, blend: Blend | None = None) -> Match:
        """The decision for *evidence*: the engine and the classifier together, or the engine alone."""
        e = evidence
        if e.other_service:
            return Match(e.question, e.lang, "fallback", None, (), e.ranked[0][1])
        if self.model is None or e.decision_values is None:
            return self._decide_alone(e)
        b = blend or self.blend
        if not self.model.per_entry:  # a very large knowledge base: the classifier only guards the scope
            probabilities = self.model.softmax_array(e.decision_values, b.temperature)
            doubtful = self.model.out_of_scope(probabilities) >= b.out_of_scope
            best = e.ranked[0][1] if e.ranked else 0.0
            small_talk = bool(e.ranked) and self.kb.entries[e.ranked[0][0]].small_talk
            if (doubtful and best < b.out_of_scope_unless) or not (e.domain or small_talk):
                return Match(e.question, e.lang, "fallback", None, (), best)
            return self._decide_alone(e)
        return self._decide_blended(e, b)

    def _small_talk_only(self, evidence: Evidence, entry_id: str) -> bool:
        """ "hello" is a greeting, "translate good morning into Chinese" is not: every keyword must be small talk
        (a question of function words only, such as 在吗, has none to spoil it)."""
        return evidence.keywords == 0 or bool(evidence.coverages[self.entry_ids.index(entry_id)] >= 1.0)

    def _decide_alone(self, e: Evidence) -> Match:
        """The engine's scores alone (a knowledge base too small to train a classifier)."""
        t = self.thresholds
        if not e.ranked or e.ranked[0][1] < t.clarify:
            top = e.ranked[0][1] if e.ranked else 0.0
            return Match(e.question, e.lang, "fallback", None, (), top)
        best_id, best = e.ranked[0]
        may_answer = not e.other_visa
        if self.kb.entries[best_id].small_talk:
            may_answer = may_answer and self._small_talk_only(e, best_id)
        second = e.ranked[1][1] if len(e.ranked) > 1 else 0.0
        if may_answer and best >= t.answer and best - second >= t.margin:
            return Match(e.question, e.lang, "answer", best_id, (best_id,), best)
        floor = max(t.clarify, best - t.clarify_window)
        candidates = tuple(eid for eid, s in e.ranked[:MAX_CLARIFY] if s >= floor)
        if may_answer and len(candidates) == 1 and best >= t.lone and best - second >= t.margin:
            # "Did you mean X?" with X alone and nothing near it: answering is the better service.
            return Match(e.question, e.lang, "answer", best_id, (best_id,), best)
        return Match(e.question, e.lang, "clarify", None, candidates, best)

    def _decide_blended(self, e: Evidence, b: Blend) -> Match:
        """The engine's scores and the classifier's probabilities, blended; the classifier's out-of-scope
        class and the domain gate decline what the knowledge base does not cover."""
        assert self.model is not None and e.decision_values is not None
        model = self.model
        probabilities = model.softmax_array(e.decision_values, b.temperature)
        engine = dict(e.ranked)
        top = np.argpartition(-probabilities, MAX_CLARIFY)[: MAX_CLARIFY + 1]  # the learned top three (+ OOS)
        candidates = set(engine) | {model.classes[i] for i in top} - {OOS}
        w = b.engine_weight
        scored = sorted(
            (
                (round(w * engine.get(c, 0.0) + (1 - w) * float(probabilities[model.index[c]]), 4), c)
                for c in candidates
                if c in model.index or c in engine
            ),
            key=lambda item: (-item[0], item[1]),
        )
        if not scored:
            return Match(e.question, e.lang, "fallback", None, (), 0.0)
        best, best_id = scored[0]
        second = scored[1][0] if len(scored) > 1 else 0.0
        doubtful = model.out_of_scope(probabilities) >= b.out_of_scope and best < b.out_of_scope_unless
        if doubtful and best < b.out_of_scope_offer:
            return Match(e.question, e.lang, "fallback", None, (), best)
        may_answer = not e.other_visa
        if self.kb.entries[best_id].small_talk:
            may_answer = may_answer and self._small_talk_only(e, best_id)
        elif not e.domain:
            # the domain gate: nothing is answered on everyday words alone
            return Match(e.question, e.lang, "fallback", None, (), best)
        if may_answer and not doubtful and best >= b.answer and best - second >= b.margin:
            return Match(e.question, e.lang, "answer", best_id, (best_id,), best)
        if best < b.clarify:
            return Match(e.question, e.lang, "fallback", None, (), best)
        floor = max(b.clarify, best - b.clarify_window)
        options = tuple(c for s, c in scored[:MAX_CLARIFY] if s >= floor)
        return Match(e.question, e.lang, "clarify", None, options, best)
