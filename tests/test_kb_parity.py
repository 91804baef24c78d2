"""English and Chinese answers of the shipped knowledge base carry the same figures.

For every entry the raw answer templates (placeholders left unfilled, so profile values cannot
interfere) are reduced to a multiset of normalised tokens:

* document numbers such as 外专发〔2017〕36号、40号 -> ``doc:2017/36``, ``doc:2017/40``
* article numbers: ``art. 43`` / 第四十三条 -> ``art:43``
* dates: ``7 Nov 2023`` / 2023年11月7日 -> ``date:2023-11-07`` (month and year alone -> ``date:2023-11``)
* every other number, normalised: full-width digits, thousands separators, ``2万`` = 20000,
  ``450k`` = 450000, both ends of a range (``35–45万`` = 350000 and 450000), percentages and
  decimals, and numerals written in words where they count something (十个工作日, 五年, 两年,
  一至五级, "five sub-items").

The two multisets must be equal, apart from differences listed in ``ALLOWED`` (none at present).
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Literal

import pytest

from bot.answering.knowledge import load_knowledge

Lang = Literal["en", "zh"]

ROOT = Path(__file__).resolve().parent.parent
KB_DIR = ROOT / "knowledge"

# Legitimate differences, per entry and language: tokens one language may carry in addition to
# the other, e.g. {"some-entry": {"zh": Counter({"3": 1})}}  # 三项 counts documents the English lists.
# Keep this minimal; every item needs its reason. Empty: every current difference was a real one.
ALLOWED: dict[str, dict[str, Counter[str]]] = {}

_DIGITS = str.maketrans("０１２３４５６７８９％．", "0123456789%.")
_CN_DIGITS = {char: value for value, char in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUM = "零〇一二两三四五六七八九十百千万"
# A Chinese numeral counts as a number only before a measure word or unit (十个工作日, 五年,
# 一至五级); this keeps set phrases such as 一窗受理, 一次一评, 之一, 统一, 三非 out.
_CN_MEASURES = "个|年|日|天|月|周岁|岁|分|级|倍|名|人|件|家|项|步|元|小时|学时|类"
_CN_RUN = rf"(?<![\d第{_CN_NUM}])([零〇一二两三四五六七八九十][{_CN_NUM}]*)"
_CN_NUMERAL = re.compile(rf"{_CN_RUN}(?=(?:{_CN_MEASURES}))")
_CN_RANGE_START = re.compile(rf"{_CN_RUN}(?=[至到~～–-][{_CN_NUM}]+(?:{_CN_MEASURES}))")
_CN_PERCENT = re.compile(rf"百分之([{_CN_NUM}]+|\d+(?:\.\d+)?)")
# "每…1人" / "每多一年" is a rate ("per person", "per extra year"), not a count of one.
_PER_ONE = re.compile(r"(每[^\d一二两三四五六七八九十，。；、\s]{0,6}?)[1一](?=个?(?:人|年|日|天|月|件|次))")
# In English answers a parenthesised Chinese gloss, e.g. "(来华工作90日以下)", repeats what the
# English just said; its figures are not counted twice (document numbers are taken out before).
_CJK_GLOSS = re.compile(r"[(（][^()（）]*[\u4e00-\u9fff][^()（）]*[)）]")

_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for m in names
}
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"

_EN_WORDS = {
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "ninety": 90,
    "hundred": 100,
}
_EN_WORD = re.compile(r"\b(" + "|".join(_EN_WORDS) + r")\b", re.IGNORECASE)
# "one" is a number only before a unit ("one year"), not in "one window" or "any one of".
_EN_ONE = re.compile(r"\bone(?=[\s-]+(?:working[\s-]+)?(?:year|month|week|day|hour|point|person)s?\b)", re.IGNORECASE)

_DOC = re.compile(r"[〔【\[（(]\s*(\d{4})\s*[〕】\]）)]\s*(\d+)\s*号((?:\s*(?:[、,，]|and|和|及)\s*\d+\s*号)*)")
_ART_EN = re.compile(r"\bart(?:icle)?s?\.?\s*(\d+)", re.IGNORECASE)
_ART_ZH = re.compile(rf"第([{_CN_NUM}\d]+)条")
_DATE_ZH = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*日)?")
_DATE_EN_DMY = re.compile(rf"\b(\d{{1,2}})\s+{_MONTH}\s+(\d{{4}})\b", re.IGNORECASE)
_DATE_EN_MDY = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}}),?\s+(\d{{4}})\b", re.IGNORECASE)
_DATE_EN_MY = re.compile(rf"\b{_MONTH}\s+(\d{{4}})\b", re.IGNORECASE)
_DATE_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_MULTIPLIER = r"\s*(万|千|k\b|%)?"
_WAN_QIAN = re.compile(r"(\d+)\s*万\s*(\d)\s*千")  # 3万9千 = 39000
_RANGE = re.compile(rf"({_NUMBER})\s*%?\s*(?:–|—|-|~|～|至|到|to)\s*({_NUMBER}){_MULTIPLIER}")
_SINGLE = re.compile(rf"({_NUMBER}){_MULTIPLIER}")
_SCALE = {"万": 10_000, "千": 1_000, "k": 1_000}


def chinese_numeral(text: str) -> int:
    """十 = 10, 十五 = 15, 四十三 = 43, 两 = 2, 一百 = 100, 三万 = 30000."""
    total, section, digit = 0, 0, 0
    for char in text:
        if char in _CN_DIGITS:
            digit = _CN_DIGITS[char]
        elif char in _CN_UNITS:
            section += (digit or 1) * _CN_UNITS[char]
            digit = 0
        elif char == "万":
            total += (section + digit) * 10_000
            section, digit = 0, 0
        else:
            raise ValueError(f"not a Chinese numeral: {text!r}")
    return total + section + digit


def _value(number: str, suffix: str | None = None) -> str:
    """A number as a canonical string: thousands separators dropped, 万/千/k applied, % kept."""
    value = Decimal(number.replace(",", "")) * _SCALE.get(suffix or "", 1)
    return format(value.normalize(), "f") + ("%" if suffix == "%" else "")


def _date(year: str, month: int | str, day: str | None = None) -> str:
    stamp = f"date:{int(year):04d}-{int(month):02d}"
    return f"{stamp}-{int(day):02d}" if day else stamp


def figures(text: str, lang: Lang) -> Counter[str]:
    """The normalised numbers, dates, document and article numbers in one answer in *lang*."""
    tokens: Counter[str] = Counter()
    text = text.translate(_DIGITS)

    def take(pattern: re.Pattern[str], make: Callable[[re.Match[str]], list[str]], source: str) -> str:
        def repl(match: re.Match[str]) -> str:
            for token in make(match):
                tokens[token] += 1
            return " "

        return pattern.sub(repl, source)

    def doc(m: re.Match[str]) -> list[str]:
        year, numbers = m.group(1), [m.group(2), *re.findall(r"(\d+)\s*号", m.group(3))]
        return [f"doc:{year}/{int(n)}" for n in numbers]

    def art(m: re.Match[str]) -> list[str]:
        raw = m.group(1)
        return [f"art:{int(raw) if raw.isdigit() else chinese_numeral(raw)}"]

    text = take(_DOC, doc, text)
    text = take(_ART_EN, art, text)
    text = take(_ART_ZH, art, text)
    text = take(_DATE_ISO, lambda m: [_date(m.group(1), m.group(2), m.group(3))], text)
    text = take(_DATE_ZH, lambda m: [_date(m.group(1), m.group(2), m.group(3))], text)
    text = take(_DATE_EN_DMY, lambda m: [_date(m.group(3), _MONTHS[m.group(2).lower()], m.group(1))], text)
    text = take(_DATE_EN_MDY, lambda m: [_date(m.group(3), _MONTHS[m.group(1).lower()], m.group(2))], text)
    text = take(_DATE_EN_MY, lambda m: [_date(m.group(2), _MONTHS[m.group(1).lower()])], text)
    if lang == "en":
        text = _CJK_GLOSS.sub(" ", text)
    if lang == "zh":
        text = _PER_ONE.sub(r"\1", text)
        text = _CN_PERCENT.sub(
            lambda m: f"{m.group(1) if m.group(1)[0].isdigit() else chinese_numeral(m.group(1))}%", text
        )
    # Chinese numerals become digits first, so that 一至五级 and 两万 go through the same rules.
    text = _CN_RANGE_START.sub(lambda m: f"{chinese_numeral(m.group(1))}", text)
    text = _CN_NUMERAL.sub(lambda m: f"{chinese_numeral(m.group(1))}", text)
    text = _EN_WORD.sub(lambda m: str(_EN_WORDS[m.group(1).lower()]), text)
    text = _EN_ONE.sub("1", text)
    text = _WAN_QIAN.sub(lambda m: str(int(m.group(1)) * 10_000 + int(m.group(2)) * 1_000), text)
    text = take(_RANGE, lambda m: [_value(m.group(1), m.group(3)), _value(m.group(2), m.group(3))], text)
    take(_SINGLE, lambda m: [_value(m.group(1), m.group(2))], text)
    return tokens


def raw_entries() -> dict[str, dict[str, str]]:
    """Every entry's unfilled answer templates, by id, straight from the TOML files."""
    found: dict[str, dict[str, str]] = {}
    for path in sorted((KB_DIR / "entries").glob("*.toml")):
        with path.open("rb") as fh:
            for raw in tomllib.load(fh).get("entry", []):
                found[raw["id"]] = {"en": raw["answer_en"], "zh": raw["answer_zh"]}
    return found


RAW = raw_entries()


def test_the_shipped_knowledge_base_is_covered() -> None:
    kb = load_knowledge(KB_DIR, "default")
    assert set(RAW) == set(kb.entries)
    for entry_id, entry in kb.entries.items():
        assert RAW[entry_id]["en"].strip() == entry.answer["en"]
        assert RAW[entry_id]["zh"].strip() == entry.answer["zh"]


def test_allow_list_names_real_entries() -> None:
    assert set(ALLOWED) <= set(RAW)


@pytest.mark.parametrize("entry_id", sorted(RAW))
def test_english_and_chinese_carry_the_same_figures(entry_id: str) -> None:
    en, zh = figures(RAW[entry_id]["en"], "en"), figures(RAW[entry_id]["zh"], "zh")
    allowed = ALLOWED.get(entry_id, {})
    only_en = en - zh - allowed.get("en", Counter())
    only_zh = zh - en - allowed.get("zh", Counter())
    assert not only_en and not only_zh, (
        f"{entry_id}: only in English {sorted(only_en.elements())}, only in Chinese {sorted(only_zh.elements())}"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("外专发〔2017〕36号、40号", ["doc:2017/36", "doc:2017/40"]),
        ("(外专发〔2017〕36号, 40号)", ["doc:2017/36", "doc:2017/40"]),
        ("Exit-Entry Law art. 43", ["art:43"]),
        ("《出境入境管理法》第四十三条", ["art:43"]),
        ("Since 7 November 2023", ["date:2023-11-07"]),
        ("2023年11月7日起", ["date:2023-11-07"]),
        ("in Nov 2023", ["date:2023-11"]),
        ("2023年11月重新编制", ["date:2023-11"]),
        ("RMB 5,000–20,000", ["20000", "5000"]),
        ("处5000元以上2万元以下罚款", ["20000", "5000"]),
        ("25–35万14", ["14", "250000", "350000"]),
        ("250–350k 14", ["14", "250000", "350000"]),
        ("十个工作日，两年，五年", ["10", "2", "5"]),
        ("ten working days, two years, five years", ["10", "2", "5"]),
        ("HSK一至五级", ["1", "5"]),
        ("每非法聘用1人罚款1万元，每多一年加1分", ["1", "10000"]),
        ("１５个工作日，１００％", ["100%", "15"]),
        ("好评率百分之百，前100名", ["100", "100%"]),
        ("78.5% fully online, top-100", ["100", "78.5%"]),
        ("共计办理3万9千余件", ["39000"]),
        ("一窗受理、一次一评，三非之一，统一", []),
        ("one window, any one of them", []),
        ("one year", ["1"]),
    ],
)
def test_figures_normalises(text: str, expected: list[str]) -> None:
    lang: Lang = "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en"
    assert sorted(figures(text, lang).elements()) == sorted(expected)


def test_chinese_glosses_in_english_are_not_counted_twice() -> None:
    assert sorted(figures("Work of 90 days or less (来华工作90日以下)", "en").elements()) == ["90"]
    assert sorted(figures("(外专发〔2017〕36号, 40号)", "en").elements()) == ["doc:2017/36", "doc:2017/40"]
