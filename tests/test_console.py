"""The terminal console: the same engine, numbered choices when clarifying."""

from __future__ import annotations

import io

from bot.answering.answers import Answerer
from bot.answering.knowledge import KnowledgeBase
from console.terminal import run_console


def chat(answerer: Answerer, *lines: str, lang: str | None = None) -> list[str]:
    out: list[str] = []
    run_console(answerer, lang, io.StringIO("\n".join(lines) + "\n"), out.append)  # type: ignore[arg-type]
    return out


def test_answer_in_the_question_language(answerer: Answerer, kb: KnowledgeBase) -> None:
    out = chat(answerer, "工作许可收费吗")
    assert kb.answer("fees", "zh") in out[1]
    sources_line = out[1].splitlines()[-1]
    assert sources_line.startswith("依据：")
    assert kb.cited("fees")[0].title["zh"] in sources_line  # titles, not codes


def test_clarify_then_pick_by_number(answerer: Answerer, kb: KnowledgeBase) -> None:
    out = chat(answerer, "validity or processing time?", "1")
    assert "1." in out[1] and "0." in out[1]
    first_title = out[1].splitlines()[1].split(". ", 1)[1]
    chosen = next(e for e in kb.entries if kb.title(e, "en") == first_title)
    assert kb.answer(chosen, "en") in out[2]


def test_none_of_these_and_language_switch(answerer: Answerer) -> None:
    out = chat(answerer, "validity or processing time?", "0", "/lang zh", "is the permit free")
    assert "rephrase" in out[2]
    assert out[3] == "之后将用中文回复。"
    assert "不收取任何费用" in out[4] or "免费" in out[4]


def test_quit_and_blank_lines(answerer: Answerer) -> None:
    out = chat(answerer, "", "/quit", "hello")
    assert len(out) == 2  # banner, the blank line's polite reply; nothing after /quit
    assert "Please type your question" in out[1]


def test_small_talk_is_the_short_text_alone(answerer: Answerer, kb: KnowledgeBase) -> None:
    out = chat(answerer, "hello", "谢谢")
    assert out[1] == kb.answer("smalltalk-greeting", "en")  # no "Sources:" line
    assert out[2] == kb.answer("smalltalk-thanks", "zh")
    assert "依据" in chat(answerer, "工作许可收费吗")[1]  # other answers keep theirs
