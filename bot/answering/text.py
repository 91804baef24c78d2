"""Text handling for matching: normalisation, tokenisation and language detection.

Everything here is pure and cached where it is hot. The pipeline for a question is
``normalise`` (NFKC, lower case, Traditional → Simplified, punctuation/emoji/control → space)
then the knowledge base's synonym map, then ``tokenise`` (English word stems and Chinese
characters and character pairs).
"""

from __future__ import annotations

import gzip
import importlib.resources
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Literal

import opencc
import snowballstemmer

Lang = Literal["en", "zh"]

MAX_QUESTION_CHARS = 500
"""Questions are cut to this many characters before matching: no FAQ question is longer."""

_T2S = opencc.OpenCC("t2s")
_STEMMER = snowballstemmer.stemmer("english")

_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_WORD_RE = re.compile(r"[a-zA-Z]{2,}")
_SURROGATES = re.compile("[\ud800-\udfff]")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})

ENGLISH_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "am",
        "was",
        "were",
        "be",
        "been",
        "being",
        "do",
        "does",
        "did",
        "done",
        "i",
        "i'm",
        "im",
        "me",
        "my",
        "mine",
        "we",
        "our",
        "us",
        "you",
        "your",
        "he",
        "his",
        "she",
        "her",
        "it",
        "its",
        "they",
        "their",
        "them",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "to",
        "of",
        "in",
        "on",
        "at",
        "by",
        "for",
        "from",
        "with",
        "about",
        "as",
        "into",
        "and",
        "or",
        "but",
        "if",
        "so",
        "than",
        "then",
        "too",
        "very",
        "just",
        "also",
        "please",
        "pls",
        "plz",
        "can",
        "could",
        "would",
        "should",
        "shall",
        "will",
        "may",
        "might",
        "must",
        "what",
        "whats",
        "what's",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "any",
        "some",
        "get",
        "got",
        "have",
        "has",
        "had",
        "want",
        "need",
        "know",
        "tell",
        "let",
        "s",
        "t",
        "don't",
        "dont",
        "isn't",
        "u",
        "ur",
        "r",
        "ya",
        "i've",
        "ive",
        "i'd",
        "id",
        "it's",
        "its",
        "there's",
        "let's",
        "lets",
        "gonna",
        "wanna",
        "gotta",
        "like",
        "happen",
        "happens",
        "happened",
        "happening",
        "thing",
        "things",
        "anything",
        "something",
        "way",
        "possible",
        "really",
        "actually",
        "ok",
        "okay",
        "question",
        "wondering",
        "wonder",
        "asking",
        "kindly",
        "dear",
        "sir",
        "madam",
        "guys",
        "else",
        "such",
        "own",
        "yes",
        "even",
        "however",
        "said",
        "say",
        "says",
    ]
)
"""Function words left out of the keyword signals (they stay in the fuzzy string)."""

CHINESE_STOPCHARS = frozenset("的了吗呢啊吧呀么嘛哦哈我你他她它们是在有要和与及或请问个这那就都也还什怎啥")
"""Single characters too common to count as keywords on their own (pairs still count)."""
_STOPCHAR_WORDS = (
    "申请 邀请 聘请 需要 要求 主要 重要 要件 有效 有关 所有 没有 拥有 具有 个人 个月 个体 个税 在华 在境 在职 在外 "
    "在读 在线 在校 现在 是否 就业 就职 成就 问题 询问 访问 疑问 顾问 还款 归还 和平 都市 首都 也门 他国 其他 你们"
)
STOPCHAR_WORDS = frozenset(_STOPCHAR_WORDS.split())
"""Words that hold a common function character; every other pair with one (是工, 要办, 在中) straddles words."""

CHINESE_STOPPAIRS = frozenset(
    [
        "怎么",
        "什么",
        "怎样",
        "如何",
        "请问",
        "一下",
        "我们",
        "你们",
        "他们",
        "咱们",
        "这个",
        "那个",
        "这样",
        "那样",
        "哪里",
        "在哪",
        "哪儿",
        "哪个",
        "就是",
        "还是",
        "或者",
        "如果",
        "因为",
        "所以",
        "但是",
        "然后",
        "已经",
        "现在",
        "目前",
        "听说",
        "是否",
        "能否",
        "么办",
        "么样",
        "么时",
        "问一",
    ]
)
"""Character pairs any question may carry (how, what, please, we …): not keywords."""


def to_simplified(text: str) -> str:
    """Convert Traditional Chinese characters to Simplified (other text is unchanged)."""
    return _T2S.convert(text)


def _clean_char(ch: str) -> str:
    cat = unicodedata.category(ch)
    if cat[0] in "LN" or ch == "'":
        return ch
    if cat == "Mn" or cat == "Mc":  # combining marks: drop, keep the base letter
        return ""
    return " "


@lru_cache(maxsize=8192)
def normalise(text: str) -> str:
    """Return *text* ready for matching.

    NFKC (full-width forms), lower case, Traditional → Simplified, every character that is not a
    letter or digit (punctuation such as ，？！, symbols, emoji, control characters) becomes a space,
    runs of spaces collapse. Overlong input is cut to ``MAX_QUESTION_CHARS``.
    """
    text = _SURROGATES.sub("", text[: MAX_QUESTION_CHARS * 2])  # lone surrogates from broken input
    text = unicodedata.normalize("NFKC", text)[:MAX_QUESTION_CHARS]
    text = to_simplified(text.lower()).translate(_QUOTES)
    text = "".join(_clean_char(ch) for ch in text)
    text = text.replace("'", " ' ").replace(" ' ", "'") if "'" in text else text
    return " ".join(part.strip("'") for part in text.split() if part.strip("'"))


_CODE_REWRITES = (
    # "A类", "a 类人才", "B级" → categorya …; "category A", "class B", "tier C" → the same
    (re.compile(r"(?<![a-z0-9])([abc])\s*(?:类|级)"), r" category\1 "),
    (re.compile(r"(?<![a-z0-9])(?:category|categories|class|type|tier)\s+([abc])(?![a-z0-9'])"), r" category\1 "),
    (re.compile(r"(?<![a-z0-9])([abc])\s*(?:category|class|tier|type)(?![a-z])"), r" category\1 "),
    # "Z visa", "z签证", "Z字签证" → zvisa
    (re.compile(r"(?<![a-z0-9])z\s*(?:字\s*)?(?:visa|签证|签)"), " zvisa "),
)


def rewrite_codes(text: str) -> str:
    """Glue one-letter codes to their noun so they survive tokenising (A类 → categorya, Z visa → zvisa)."""
    if not any(ch in text for ch in "abcz"):
        return text
    for pattern, replacement in _CODE_REWRITES:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


def trie_pattern(words: Iterable[str]) -> str:
    """A regular expression matching any of *words*, longest first, factored by common prefixes.

    Python's ``re`` tries the branches of an alternation one after another at every position of the
    text: with hundreds of synonyms that was most of the time spent on a question. Factored, each
    position costs one character test. Greedy optional tails keep "longest first", and a lookahead
    after the pattern that fails makes it back off to a shorter word, as a sorted alternation would.
    """
    trie: dict[str, dict] = {}  # type: ignore[type-arg]
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # a word ends here

    def build(node: dict) -> str:  # type: ignore[type-arg]
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


class SynonymMap:
    """Rewrites what people type into the knowledge base's words, longest variant first.

    English variants match whole words; Chinese variants match anywhere.
    """

    def __init__(self, mapping: Mapping[str, str]) -> None:
        self.mapping = {normalise(k): normalise(v) for k, v in mapping.items() if normalise(k)}
        if not self.mapping:
            self._re: re.Pattern[str] | None = None
            return
        chinese = [v for v in self.mapping if _CJK_RE.search(v[0]) and _CJK_RE.search(v[-1])]
        words = [v for v in self.mapping if v not in set(chinese)]
        parts = [rf"(?<![a-z0-9]){trie_pattern(words)}(?![a-z0-9])"] if words else []
        parts += [trie_pattern(chinese)] if chinese else []
        self._re = re.compile("|".join(parts))

    def apply(self, text: str) -> str:
        """Replace every known variant in already-normalised *text* (and glue category codes)."""
        text = rewrite_codes(text)
        if self._re is None:
            return text
        return " ".join(self._re.sub(lambda m: f" {self.mapping[m.group(0)]} ", text).split())


ENGLISH_WORD_MIN_FREQUENCY = 1000
"""Words at least this frequent in pyspellchecker's English list (~19,000 of them) are words of the language;
rarer entries ("wat", a temple) may still be typos of a knowledge-base word."""


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Common English words (pyspellchecker's word-frequency list, MIT), loaded once."""
    resource = importlib.resources.files("spellchecker") / "resources" / "en.json.gz"
    with resource.open("rb") as raw, gzip.open(raw) as unpacked:
        frequencies: dict[str, int] = json.load(unpacked)
    return frozenset(word for word, count in frequencies.items() if count >= ENGLISH_WORD_MIN_FREQUENCY)


def is_english_word(word: str) -> bool:
    """Whether *word* (lower case) is a common word of the English language, so never a typo to correct."""
    return word in english_words()


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """English stem of one lower-case word (Snowball)."""
    return _STEMMER.stemWord(word) if word.isascii() and word.isalpha() else word


PairFilter = Callable[[str, str, str], bool]
"""``keep(pair, left_pair, right_pair)``: whether a Chinese character pair counts, seen with its neighbours."""


def tokenise(text: str, keep_pair: PairFilter | None = None) -> list[str]:
    """Split normalised text into keyword tokens.

    English words become Snowball stems (stopwords dropped); a run of Chinese characters becomes its
    characters (common function characters dropped) and its overlapping character pairs, so that
    工作许可要多久 and 工作许可需要多长时间 share 工作/作许/许可/… without a dictionary. *keep_pair*
    may drop pairs that straddle a word boundary (see ``bot.answering.matching``); a pair at either end of a run
    has ``""`` for its missing neighbour.
    """
    tokens: list[str] = []
    for run in _WORD_RE.findall(text):
        if _CJK_RE.match(run):
            tokens.extend(ch for ch in run if ch not in CHINESE_STOPCHARS)
            last = len(run) - 2
            for i in range(last + 1):
                pair = run[i : i + 2]
                if pair in CHINESE_STOPPAIRS or (
                    (pair[0] in CHINESE_STOPCHARS or pair[1] in CHINESE_STOPCHARS) and pair not in STOPCHAR_WORDS
                ):
                    continue
                left, right = (run[i - 1 : i + 1] if i else ""), (run[i + 1 : i + 3] if i < last else "")
                if keep_pair is None or keep_pair(pair, left, right):
                    tokens.append(pair)
        elif run not in ENGLISH_STOPWORDS:
            tokens.append(stem(run.replace("'", "")))
    return tokens


def detect_lang(text: str) -> Lang:
    """Guess the language a message is written in: Chinese if Chinese carries it, else English.

    A Chinese character counts as half a word, so "how long for 工作许可?" is English and
    "工作许可 renew 要多久" is Chinese. Text with neither (emoji, digits) counts as English.
    """
    cjk = len(_CJK_RE.findall(text))
    latin = len(_LATIN_WORD_RE.findall(text))
    return "zh" if cjk and cjk / 2 >= latin else "en"


def has_cjk(text: str) -> bool:
    """True when *text* has a Chinese character."""
    return _CJK_RE.search(text) is not None


def has_content(text: str) -> bool:
    """True when *text* has at least one letter or digit worth matching."""
    return bool(normalise(text))


def strip_control(text: str) -> str:
    """Remove control and format characters other than newline and tab (for storing and echoing)."""
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"))


def join_tokens(tokens: Iterable[str]) -> str:
    """Join tokens with spaces, the form the fuzzy scorers compare."""
    return " ".join(tokens)
