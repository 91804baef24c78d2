"""A learned second opinion: a linear text classifier trained from the knowledge base itself.

Every entry's title and alternate questions (both languages) are labelled examples of that entry;
``knowledge/training/*.jsonl`` adds real users' phrasings (``{"q", "expect"}``, ``expect`` null for out of
scope) and out-of-scope examples (``{"q", ...}`` without ``expect``: chit-chat, everyday life, other
services and countries, noise), which form an explicit out-of-scope class ``OOS``.

Features are TF-IDF weights (sublinear term frequency, l2-normalised) of the question's keyword tokens
(``bot.answering.text.tokenise`` after the synonym map: English stems, Chinese characters and pairs) and of
character n-grams (3–5 within English words, 1–3 within Chinese runs), so typos and unseen word forms
still share features. The model is a one-vs-rest linear SVM (scikit-learn's ``LinearSVC``, which fits
in well under a second, where a multinomial logistic regression took 7–10 s on two cores); its decision
values become probabilities through a softmax whose temperature was chosen by cross-validation.

scikit-learn is only imported to *train*. Its import alone costs about 0.9 s and 80 MB, so the trained
weights are stored as plain arrays (``.npz``) in a cache named by a hash of every input, and answering
uses numpy only: a warm start never imports scikit-learn. Editing the knowledge base or the training
files changes the hash, and the next start (or ``python -m bot kb build``) trains again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from bot.answering.knowledge import LANGS, KnowledgeBase
from bot.answering.text import normalise, tokenise

log = logging.getLogger(__name__)

OOS = "__out_of_scope__"
"""The label of the out-of-scope class."""
IN_SCOPE = "__in_scope__"
"""The label of every entry's examples when the knowledge base has more than ``MAX_ENTRY_CLASSES`` entries."""
MAX_ENTRY_CLASSES = 2000
"""Up to this many entries the classifier tells entries apart; beyond, its weights would not fit in memory
(10,000 classes × the vocabulary), so it only tells in scope from out of scope and the engine picks the entry."""
FEATURE_VERSION = 1
"""Bump when ``features`` (or the text normalisation it relies on) changes: cached models are retrained."""
C = 1.0
"""The SVM's regularisation (chosen by cross-validation, ``scripts/tune_blend.py``)."""
TEMPERATURE = 4.0
"""Decision values × this, through a softmax, give the probabilities (cross-validated)."""
DOMAIN_RATIO = 2.0
"""A token is a domain term when in-scope examples hold it this many times as often (per example) as everyday
out-of-scope ones (``GENERIC_KINDS``): near misses share the domain's words on purpose and do not count."""
GENERIC_KINDS = frozenset({"chitchat", "everyday", "general", "noise", "abuse"})
"""Kinds of out-of-scope examples (``knowledge/training/out_of_scope.jsonl``) that are everyday language."""
_RUN_RE = re.compile(r"[a-z0-9]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


@dataclass(frozen=True)
class Example:
    """One labelled training text: an entry id, or ``OOS``."""

    text: str
    label: str
    kind: str = ""
    """For out-of-scope examples, what kind (chitchat, everyday, near-miss …), where the file says."""


def mapped_text(text: str, kb: KnowledgeBase) -> str:
    """*text* normalised and mapped through the synonyms: what ``features`` reads."""
    return kb.synonyms.apply(normalise(text))


def features(mapped: str) -> list[str]:
    """The classifier's features of a mapped text (``mapped_text``): keyword tokens (``w:``) and character
    n-grams (``c:``)."""
    found = ["w:" + token for token in tokenise(mapped)]
    for run in _RUN_RE.findall(mapped):
        if run.isascii():
            padded = f" {run} "
            found += ["c:" + padded[i : i + n] for n in (3, 4, 5) for i in range(len(padded) - n + 1)]
        else:
            found += ["c:" + run[i : i + n] for n in (1, 2, 3) for i in range(len(run) - n + 1)]
    return found


def read_training(directory: Path, known: Iterable[str]) -> list[Example]:
    """The examples in ``directory/*.jsonl``; a line naming an entry that does not exist raises ValueError."""
    labels = set(known)
    paths = sorted(directory.glob("*.jsonl")) if directory.is_dir() else []
    return [example for path in paths for example in read_training_file(path, labels)]


def read_training_file(path: Path, labels: Collection[str]) -> list[Example]:
    """The examples in one JSONL file of ``{"q", "expect"?, "kind"?}`` lines (no ``expect``: out of scope)."""
    examples: list[Example] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            text, expect = str(raw["q"]), raw.get("expect")
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path.name}:{number}: not a JSON object with 'q' ({exc})") from exc
        if expect is not None and expect not in labels:
            raise ValueError(f"{path.name}:{number}: unknown entry {expect!r}")
        examples.append(Example(text, expect or OOS, str(raw.get("kind", ""))))
    return examples


def kb_examples(kb: KnowledgeBase) -> list[Example]:
    """Every entry's titles and alternate questions, labelled with the entry."""
    return [
        Example(text, entry.id)
        for entry in kb.entries.values()
        for lang in LANGS
        for text in (entry.title[lang], *entry.questions[lang])
    ]


@dataclass(frozen=True)
class LinearModel:
    """Trained weights, usable with numpy alone."""

    classes: tuple[str, ...]
    vocabulary: dict[str, int]
    idf: np.ndarray
    """(features,) float32"""
    coef: np.ndarray
    """(features, classes) float32: a query's few features select rows."""
    intercept: np.ndarray
    """(classes,) float32"""
    domain_terms: frozenset[str]
    """Keyword tokens much more frequent in scope than out of it (the domain gate)."""

    @property
    def per_entry(self) -> bool:
        """Whether the model tells entries apart (else only in scope from out of scope)."""
        return IN_SCOPE not in self.classes

    def decision(self, feats: Sequence[str]) -> np.ndarray:
        """The linear decision value of every class for a text's features."""
        vocabulary = self.vocabulary
        counts = {index: n for f, n in Counter(feats).items() if (index := vocabulary.get(f)) is not None}
        if not counts:
            return self.intercept.copy()
        rows = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))
        weights = tf * self.idf[rows]
        weights /= float(np.linalg.norm(weights)) or 1.0
        return np.asarray(weights @ self.coef[rows] + self.intercept)

    @cached_property
    def index(self) -> dict[str, int]:
        """Each class's position in ``classes`` (and in decision values)."""
        return {label: i for i, label in enumerate(self.classes)}

    def softmax_array(self, decision: np.ndarray, temperature: float = TEMPERATURE) -> np.ndarray:
        """Class probabilities from decision values (a softmax at *temperature*), in the order of ``classes``."""
        values = np.exp((decision - decision.max()) * temperature)
        return np.asarray(values / values.sum())

    def out_of_scope(self, probabilities: np.ndarray) -> float:
        """The out-of-scope class's probability (0 for a model without that class)."""
        index = self.index.get(OOS)
        return 0.0 if index is None else float(probabilities[index])

    def save(self, path: Path) -> None:
        """Write the model to *path* (``.npz``), atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        names = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        partial = path.with_name(path.name + ".partial.npz")
        np.savez(
            partial,
            classes=np.array(self.classes),
            vocabulary=np.array(names),
            idf=self.idf,
            coef=self.coef,
            intercept=self.intercept,
            domain_terms=np.array(sorted(self.domain_terms)),
        )
        partial.replace(path)

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        """Read a model written by ``save``."""
        with np.load(path, allow_pickle=False) as data:
            names = [str(name) for name in data["vocabulary"]]
            return cls(
                tuple(str(c) for c in data["classes"]),
                {name: index for index, name in enumerate(names)},
                data["idf"].astype(np.float32),
                data["coef"].astype(np.float32),
                data["intercept"].astype(np.float32),
                frozenset(str(t) for t in data["domain_terms"]),
            )


def train(examples: Sequence[Example], kb: KnowledgeBase) -> LinearModel | None:
    """Fit the model (imports scikit-learn); None when there are fewer than two classes to tell apart."""
    if len({e.label for e in examples} - {OOS}) > MAX_ENTRY_CLASSES:
        examples = [e if e.label == OOS else Example(e.text, IN_SCOPE, e.kind) for e in examples]
    if len({e.label for e in examples}) < 2:
        return None
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vectorizer = TfidfVectorizer(analyzer=lambda text: features(mapped_text(text, kb)), sublinear_tf=True)
    matrix = vectorizer.fit_transform([e.text for e in examples])
    svm = LinearSVC(C=C).fit(matrix, [e.label for e in examples])
    coef = svm.coef_ if len(svm.classes_) > 2 else np.vstack([-svm.coef_[0], svm.coef_[0]])
    intercept = svm.intercept_ if len(svm.classes_) > 2 else np.array([-svm.intercept_[0], svm.intercept_[0]])
    return LinearModel(
        tuple(str(c) for c in svm.classes_),
        {str(k): int(v) for k, v in vectorizer.vocabulary_.items()},
        vectorizer.idf_.astype(np.float32),
        np.ascontiguousarray(coef.T, dtype=np.float32),
        intercept.astype(np.float32),
        domain_terms(examples, kb),
    )


def domain_terms(examples: Sequence[Example], kb: KnowledgeBase) -> frozenset[str]:
    """Keyword tokens of the domain: in at least two in-scope examples and ``DOMAIN_RATIO`` times as
    frequent (per example) in scope as in everyday out-of-scope language. Small talk's words are not domain terms."""
    inside: Counter[str] = Counter()
    outside: Counter[str] = Counter()
    n_in = n_out = 0
    small_talk = {e.id for e in kb.entries.values() if e.small_talk}
    for example in examples:
        tokens = set(tokenise(kb.synonyms.apply(normalise(example.text))))
        if example.label == OOS:
            if example.kind in GENERIC_KINDS:
                outside.update(tokens)
                n_out += 1
        elif example.label not in small_talk:
            inside.update(tokens)
            n_in += 1
    n_in, n_out = max(n_in, 1), max(n_out, 1)
    return frozenset(
        token
        for token, count in inside.items()
        if count >= 2 and (count / n_in) >= DOMAIN_RATIO * ((outside[token] + 0.5) / n_out)
    )


def fingerprint(examples: Sequence[Example], kb: KnowledgeBase) -> str:
    """A hash of everything the model is trained from (examples, synonyms, settings, feature version)."""
    digest = hashlib.sha256()
    header = {
        "version": FEATURE_VERSION,
        "max_classes": MAX_ENTRY_CLASSES,
        "C": C,
        "ratio": DOMAIN_RATIO,
        "generic": sorted(GENERIC_KINDS),
        "synonyms": sorted(kb.synonyms.mapping.items()),
    }
    digest.update(json.dumps(header, ensure_ascii=False).encode())
    small_talk = sorted(e.id for e in kb.entries.values() if e.small_talk)
    digest.update(json.dumps(small_talk).encode())
    for example in examples:
        digest.update(f"\x00{example.label}\x01{example.kind}\x02{example.text}".encode())
    return digest.hexdigest()[:20]


def training_set(kb: KnowledgeBase) -> list[Example]:
    """The knowledge base's own examples plus ``knowledge/training/*.jsonl``."""
    return kb_examples(kb) + read_training(kb.directory / "training", kb.entries)


def default_cache_dir() -> Path:
    """``HELPDESK_CACHE_DIR`` (default ``.cache/`` in the project)."""
    from bot.config import get_settings

    return get_settings().helpdesk_cache_dir


def cache_file(cache_dir: Path, examples: Sequence[Example], kb: KnowledgeBase) -> Path:
    """Where the model trained from *examples* is cached: named by their hash."""
    return cache_dir / f"classifier-{fingerprint(examples, kb)}.npz"


def load_or_train(kb: KnowledgeBase, cache_dir: Path | None) -> LinearModel | None:
    """The model for *kb*: from the cache when its inputs are unchanged, else trained (and cached)."""
    examples = training_set(kb)
    if cache_dir is None:
        return train(examples, kb)
    path = cache_file(cache_dir, examples, kb)
    if path.exists():
        try:
            return LinearModel.load(path)
        except (OSError, ValueError, KeyError) as exc:  # a damaged cache file: train again
            log.warning("classifier cache %s unreadable (%s): training again", path.name, type(exc).__name__)
    model = train(examples, kb)
    if model is not None:
        try:
            model.save(path)
        except OSError as exc:  # a read-only checkout still answers; it just trains at each start
            log.warning("could not cache the classifier in %s: %s", cache_dir, exc)
    return model
