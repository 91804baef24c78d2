"""The sources under an answer: at most three, official ones first, by title in the reply language, never a code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.answering.answers import MAX_SOURCES, Answerer
from bot.answering.knowledge import KnowledgeBase, load_knowledge
from bot.answering.matching import Match
from bot.answering.text import Lang
from console.terminal import render_plain
from handlers.render import answer_messages
from tests.kbfactory import ENTRIES, SOURCES, make_kb

# "fees" cites five sources, official ones (LAW, SH-RE) after two others; one title needs escaping.
FIVE_SOURCES = (
    SOURCES
    + """
[WEB]
title_en = "Fees & <charges> (example.org)"
title_zh = "收费与<费用>（example.org）"
official = false

[LAW]
title_en = "Exit-Entry Law, article 41"
title_zh = "出境入境管理法第四十一条"
official = true

[NEWS]
title_en = "A news article"
title_zh = "一篇新闻"
official = false
"""
)
CODES = ("WEB", "CN", "LAW", "NEWS", "SH-RE")

EXPECTED = {
    "en": "Sources: Exit-Entry Law, article 41; Shanghai: work permit reissue (zwdt.sh.gov.cn); "
    "Fees & <charges> (example.org)",
    "zh": "依据：出境入境管理法第四十一条；上海：工作许可补办（zwdt.sh.gov.cn）；收费与<费用>（example.org）",
}


@pytest.fixture
def small_answerer(tmp_path: Path) -> Answerer:
    entries = ENTRIES.replace('sources = ["CN"]', f"sources = {list(CODES)!r}".replace("'", '"'))
    return Answerer(load_knowledge(make_kb(tmp_path, entries=entries, sources=FIVE_SOURCES)))


def answered(entry_id: str, lang: Lang) -> Match:
    return Match("q", lang, "answer", entry_id, (entry_id,), 0.9)


def has_code(text: str, codes: tuple[str, ...]) -> bool:
    return any(re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text) for code in codes)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_three_sources_official_first_by_title(small_answerer: Answerer, lang: Lang) -> None:
    reply = small_answerer.entry_reply("fees", answered("fees", lang))
    assert [s.code for s in reply.sources] == ["LAW", "SH-RE", "WEB"]  # official first, then the entry's order
    line = small_answerer.sources_line(reply)
    assert line == EXPECTED[lang]
    assert not has_code(line, CODES)
    assert render_plain(small_answerer, reply).endswith("\n" + EXPECTED[lang])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_telegram_sources_line_is_escaped_italic(small_answerer: Answerer, lang: Lang) -> None:
    reply = small_answerer.entry_reply("fees", answered("fees", lang))
    chunks, _markup = answer_messages(reply, 1)
    html = "".join(chunks)
    expected = EXPECTED[lang].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert f"<i>{expected}</i>" in html
    assert "<charges>" not in html and "<费用>" not in html
    assert not has_code(html, CODES)


def test_an_entry_with_one_source(small_answerer: Answerer) -> None:
    reply = small_answerer.entry_reply("reissue", answered("reissue", "zh"))
    assert small_answerer.sources_line(reply) == "依据：上海：工作许可补办（zwdt.sh.gov.cn）"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_shipped_answers_show_titles_never_codes(kb: KnowledgeBase, lang: Lang) -> None:
    answerer = Answerer(kb)
    codes = tuple(kb.sources)
    for entry_id, entry in kb.entries.items():
        reply = answerer.entry_reply(entry_id, answered(entry_id, lang))
        shown = reply.sources
        assert 1 <= len(shown) <= MAX_SOURCES, entry_id
        assert [s.official for s in shown] == sorted((s.official for s in shown), reverse=True), entry_id
        if any(kb.sources[c].official for c in entry.sources):
            assert shown[0].official, entry_id
        line = answerer.sources_line(reply)
        assert not has_code(line, codes), (entry_id, line)


def test_shipped_registry_codes_are_plain_ascii(kb: KnowledgeBase) -> None:
    assert all(re.fullmatch(r"[A-Za-z0-9-]+", code) for code in kb.sources)
    assert not {"SHIT", "SHIT21"} & set(kb.sources)
    helpdesk = kb.sources["helpdesk"]
    assert (helpdesk.title["en"], helpdesk.title["zh"], helpdesk.official) == (
        "Helpdesk service note",
        "本咨询台服务说明",
        False,
    )
