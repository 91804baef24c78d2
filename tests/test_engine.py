"""The answer engine on the shipped knowledge base: decisions, languages, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.answering.answers import Answerer
from bot.answering.evaluation import evaluate, read_labelled
from bot.answering.knowledge import KnowledgeBase, load_knowledge
from bot.answering.matching import Matcher, Thresholds
from tests.conftest import KB_DIR, ROOT, SHARED


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("I lost my work permit card", "reissue"),
        ("工作许可证丢了怎么办", "reissue"),
        ("工作許可證遺失怎麼補辦", "reissue"),  # Traditional characters
        ("how much does the work permit cost", "fees"),
        ("my employee resigned, how do we cancel his permit", "cancellation"),
        ("does china accept apostile now", "apostille"),  # typo
        ("hello", "smalltalk-greeting"),
        ("谢谢", "smalltalk-thanks"),
    ],
)
def test_confident_answers(answerer: Answerer, question: str, entry: str) -> None:
    match = answerer.matcher.match(question)
    assert (match.decision, match.entry) == ("answer", entry)


@pytest.mark.parametrize(
    "question",
    ["What's the weather tomorrow?", "明天天气怎么样", "tell me a joke", "给我写一首诗", "asdfgh qwerty"],
)
def test_out_of_scope_falls_back(answerer: Answerer, question: str) -> None:
    assert answerer.matcher.match(question).decision == "fallback"


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("my work permit card got lsot, how to replace", "reissue"),  # typo, swapped letters
        ("employe resinged, cancel the permit?", "cancellation"),  # typos
        ("residense permit where to apply", "residence-permit"),
        ("工作許可證弄丟了怎麼辦", "reissue"),  # Traditional, colloquial
        ("辦工作許可要不要錢", "fees"),  # Traditional, A-not-A question
        ("跳槽了 工作许可要重新办吗", "change-employer"),
        ("they turned down our application, what now", "rejection"),  # refused, denied, declined … = rejected
        ("申请被拒绝了还能再申请吗", "rejection"),
        ("where do i apply for the RP", "residence-permit"),  # RP = residence permit
        ("工作许可延期要提前多久申请", "extension"),
    ],
)
def test_variants_typos_and_traditional(answerer: Answerer, question: str, entry: str) -> None:
    match = answerer.matcher.match(question)
    assert (match.decision, match.entry) == ("answer", entry)


@pytest.mark.parametrize(
    "question",
    [
        "can I extend my tourist visa",  # another visa, not about working
        "学生签证怎么续签",
        "how long does a Japanese visa take",  # another country's visa
        "我想去加拿大工作要办什么",
        "北京居住证怎么办理",  # the domestic residence card, not the residence permit
        "身份证丢了去哪补",  # a Chinese citizen's ID card
        "how do we register our marriage in Shanghai",  # civil affairs
        "日本 工作签证需要什么材料",  # another country's visa, however it is spaced
        "US work permit processing time",  # another country's work permit
        "how do I get an H-1B for my brother",  # another country's visa, by its name
        "Hong Kong talent visa for graduates",  # Hong Kong's own system
        "和外国人结婚怎么登记",  # civil affairs, however it is worded
        "my cousin from Shanghai wants to work in Germany, which permit",  # work abroad
        "我想在加拿大上班需要什么",
        "申请护照要带哪些材料",  # a Chinese citizen's passport
        "留学回来回国找工作，留服认证怎么做",  # a returnee's degree check
        "注册公司需要哪些材料",  # setting up a company (公司 is mapped to 用人单位: the guard reads both)
        "设立外资公司要什么流程",
        "my student visa ends soon, how do I extend it? I'm only studying, not working",  # "not working"
        "台湾的外国人工作许可怎么申请",  # Taiwan's own system
        "our Chinese engineer goes to Dubai next month, how do we get a UAE visa",
        "我是中国公民，护照丢了怎么补办",
    ],
)
def test_other_services_are_not_answered(answerer: Answerer, question: str) -> None:
    assert answerer.matcher.match(question).decision != "answer"


def test_going_back_home_is_not_a_question_about_another_country(answerer: Answerer) -> None:
    match = answerer.matcher.match("can I apply for the work permit here without flying back to the UK?")
    assert match.decision == "answer" and match.entry == "apply-inside-china"


def test_the_question_in_a_message_outweighs_its_context(answerer: Answerer) -> None:
    message = (
        "I'm married to a Chinese citizen and live in Chengdu on a family residence permit. "
        "A local company offered me a job. "  # alone, this sentence scores "overview" higher
        "Can I apply for the work permit here without flying back to the UK?"
    )
    match = answerer.matcher.match(message)
    assert match.decision == "answer" and match.entry == "apply-inside-china"


def test_a_generic_sentence_cannot_redirect_the_message(answerer: Answerer) -> None:
    # "要交什么材料？" alone is about a new application; the message is about cancelling.
    match = answerer.matcher.match("我们公司下个月要关门了，还有三个外籍员工，他们的工作许可谁来注销？要交什么材料？")
    assert match.decision == "answer" and match.entry == "cancellation"


def test_a_long_chinese_sentence_is_read_by_its_last_clauses(answerer: Answerer) -> None:
    message = "我们新来的员工学历认证还没办下来，大使馆说还要几周，能不能先提交申请，材料以后再补交？"
    match = answerer.matcher.match(message)  # one comma-run sentence: its story dilutes its question
    assert match.decision == "answer" and match.entry == "pledge-acceptance"


def test_having_worked_abroad_is_not_a_question_about_working_abroad() -> None:
    from bot.answering.matching import OTHER_SERVICE
    from bot.answering.text import normalise

    for question in (
        "I'm German and currently working in Germany, a company in Shanghai offered me a job",
        "我在日本工作了五年，工作经历证明怎么开",
        "can I apply for the work permit here without flying back to the UK?",
    ):
        assert not OTHER_SERVICE.search(normalise(question)), question
    assert OTHER_SERVICE.search(normalise("my brother wants to work in Germany"))


def test_working_on_another_visa_is_still_in_scope(answerer: Answerer) -> None:
    match = answerer.matcher.match("can I work here while on a tourist visa")
    assert match.decision in ("answer", "clarify")
    assert "illegal-employment" in match.candidates


def test_ambiguous_question_clarifies_with_at_most_three(answerer: Answerer) -> None:
    match = answerer.matcher.match("validity or processing time?")
    assert match.decision == "clarify"
    assert 2 <= len(match.candidates) <= 3
    assert {"processing-time", "validity-period"} <= set(match.candidates)


def test_reply_language_follows_setting_else_script(answerer: Answerer, kb: KnowledgeBase) -> None:
    assert answerer.ask("工作许可收费吗").lang == "zh"
    assert answerer.ask("工作许可收费吗").text == kb.answer("fees", "zh")
    assert answerer.ask("is the work permit free", "zh").text == kb.answer("fees", "zh")
    assert answerer.ask("how long for 工作许可 extension?").lang == "en"


@pytest.mark.parametrize("junk", ["", "   \n\t ", "😀🙏🎉", "\x00\x01\x02\x1b[31m", "a" * 10_000, "\udcff\ufffd"])
def test_bad_input_gets_a_polite_reply(answerer: Answerer, junk: str) -> None:
    reply = answerer.ask(junk)
    assert reply.text
    assert reply.match.decision in ("fallback", "clarify", "answer")


def test_fallback_offers_the_office(answerer: Answerer, kb: KnowledgeBase) -> None:
    reply = answerer.ask("recommend a good restaurant")
    assert reply.match.decision == "fallback"
    assert kb.profile.values["en"]["office_name"] in reply.text


def test_profiles_fill_local_details() -> None:
    changning = load_knowledge(KB_DIR, "changning")
    dongguan = load_knowledge(KB_DIR, "dongguan")
    assert changning.answer("office-hours-contact", "en") != dongguan.answer("office-hours-contact", "en")
    assert "{" not in changning.answer("office-hours-contact", "zh")


def test_kb_topics_match_the_shared_list(kb: KnowledgeBase) -> None:
    shared = SHARED / "kb" / "topics.toml"
    if not shared.exists():
        pytest.skip(f"no {shared}")
    import tomllib

    ids = {t["id"] for t in tomllib.loads(shared.read_text(encoding="utf-8"))["topic"]}
    assert ids == set(kb.topic_ids)
    assert ids <= set(kb.entries)


def test_dev_set_regression_gate(answerer: Answerer) -> None:
    """The labelled dev questions: the level reached, kept (see README for the figures)."""
    path = SHARED / "kb" / "dev.jsonl"
    if not path.exists():
        pytest.skip(f"no {path}")
    tallies, _ = evaluate(answerer.matcher, read_labelled(path))
    overall = tallies["all"]
    assert overall.rate("correct") >= 0.96
    assert overall.rate("wrong") <= 0.01
    assert overall.rate("answered", "out") <= 0.07


@pytest.mark.parametrize(
    ("name", "correct", "wrong", "out_answered"),
    [
        # Written blind on 2026-11-29 by two authors who saw neither the knowledge base nor any other set,
        # kept out of training and scored once, last (see README "Quality"): the honest estimate.
        ("eval_blind5.jsonl", 0.92, 0.01, 0.02),  # applicants, mostly English: 93.0 %, 0.5 %, 0 of 60
        ("eval_blind6.jsonl", 0.92, 0.02, 0.02),  # HR contacts, mostly Chinese: 93.0 %, 1.5 %, 0 of 60
    ],
)
def test_blind_set_gates(answerer: Answerer, name: str, correct: float, wrong: float, out_answered: float) -> None:
    """The held-out sets: never trained or tuned on (a test below checks that they stay out of training)."""
    tallies, _ = evaluate(answerer.matcher, read_labelled(ROOT / "tests" / "data" / name))
    overall = tallies["all"]
    assert overall.rate("correct") >= correct
    assert overall.rate("wrong") <= wrong
    assert overall.rate("answered", "out") <= out_answered


def test_the_blind_sets_stay_out_of_training(kb: KnowledgeBase) -> None:
    """Nothing is copied from the blind sets into training. Independent authors do write some of the same
    short phrases ("hello", "tell me a joke", "转人工"): 30 and 28 of 260 lines coincide word for word with
    a training text, and the README reports the figures without them too."""
    from bot.answering.classifier import training_set
    from bot.answering.text import normalise

    trained = {normalise(e.text) for e in training_set(kb)}
    for name in ("eval_blind5.jsonl", "eval_blind6.jsonl"):
        items = read_labelled(ROOT / "tests" / "data" / name)
        shared = [i.q for i in items if normalise(i.q) in trained]
        assert len(shared) <= 0.12 * len(items), shared


def test_the_training_phrasings_are_learned(answerer: Answerer) -> None:
    """Real users' phrasings in knowledge/training are training data now: a regression check of the fit."""
    for path in sorted((ROOT / "knowledge" / "training").glob("questions-*.jsonl")):
        tallies, _ = evaluate(answerer.matcher, read_labelled(path))
        overall = tallies["all"]
        assert overall.rate("correct") >= 0.95, path.name
        assert overall.rate("wrong") <= 0.01, path.name
        assert overall.rate("answered", "out") <= 0.03, path.name


def _run(*args: str, stdin: str | bytes = "") -> subprocess.CompletedProcess[bytes]:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run([sys.executable, "-m", "bot", *args], input=data, capture_output=True, cwd=ROOT, timeout=120)


def test_ask_json_from_standard_input() -> None:
    result = _run("ask", "--json", stdin="工作许可收费吗\n😀\nvalidity or processing time?\n")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [r["decision"] for r in rows] == ["answer", "fallback", "clarify"]
    assert rows[0]["entry"] == "fees" and rows[0]["lang"] == "zh" and rows[0]["answer"]
    assert rows[2]["entry"] is None and rows[2]["answer"] is None and len(rows[2]["candidates"]) >= 2
    assert set(rows[0]) == {"question", "lang", "decision", "entry", "candidates", "score", "answer"}


def test_ask_survives_binary_junk() -> None:
    result = _run("ask", "--json", stdin=bytes(range(256)) * 4 + b"\nfees?\n")
    assert result.returncode == 0, result.stderr
    assert all(json.loads(line) for line in result.stdout.decode().splitlines())


def test_ask_one_question_with_language() -> None:
    result = _run("ask", "I lost my permit card", "--lang", "zh")
    assert result.returncode == 0
    assert "补办" in result.stdout.decode()


def test_kb_eval_command_reports_per_language(tmp_path: Path) -> None:
    labelled = tmp_path / "q.jsonl"
    labelled.write_text('{"q": "工作许可收费吗", "expect": "fees"}\n{"q": "tell me a joke", "expect": null}\n')
    result = _run("kb", "eval", str(labelled))
    out = result.stdout.decode()
    assert result.returncode == 0
    assert "[all] in scope 1: correct 1 (100.0%)" in out
    assert "[zh] in scope 1" in out and "[en] out of scope 1" in out


def test_a_lone_candidate_is_answered_not_offered_alone(kb: KnowledgeBase) -> None:
    """Between the clarify and answer thresholds, one candidate with nothing near it is answered."""
    question = "HR here, how do we cancel a permit"  # cancellation ~0.94, the next entry ~0.61
    # the engine alone (no classifier: a knowledge base too small to train one)
    strict = Matcher(kb, Thresholds(answer=0.99, lone=0.99), model=None)  # too low for either rule: offered
    offered = strict.match(question, "en")
    assert (offered.decision, offered.candidates) == ("clarify", ("cancellation",))
    lone = Matcher(kb, Thresholds(answer=0.99, lone=0.50), model=None).match(question, "en")
    assert (lone.decision, lone.entry) == ("answer", "cancellation")
    assert Thresholds().clarify < Thresholds().lone < Thresholds().answer


def test_a_wall_of_sentences_is_scored_by_its_opening_and_its_end(
    answerer: Answerer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.answering.matching import MAX_SENTENCES

    matcher = answerer.matcher
    scored: list[str] = []
    score = matcher.score

    def counting(question: str) -> list[tuple[str, float]]:
        scored.append(question)
        return score(question)

    monkeypatch.setattr(matcher, "score", counting)
    filler = [f"Our company number {i} hired a new engineer from abroad last month." for i in range(150)]
    question = "How long is the work permit valid?"
    answerer.ask(" ".join([*filler, question, question, question]), "en")
    assert len(scored) == 1 + MAX_SENTENCES  # the whole message, then the sentences kept
    assert scored[1:3] == filler[:2]  # the opening
    assert scored.count(question) == 1 and scored[-1] == question  # the end, repeats scored once


# ----- the cases that made us add the classifier (issue 11) ------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("延期需要准备哪些材料", "extension"),  # not the new-application list
        ("Do I apply for the Z visa myself or does the company do it?", "z-visa"),
        ("one more thing - is there any fee for the work permit?", "fees"),
        ("I'm in the UK right now. What do I need to do to get a work permit?", "process-from-abroad"),
        ("在吗", "smalltalk-greeting"),
        ("hello", "smalltalk-greeting"),
        ("谢谢", "smalltalk-thanks"),
        ("bye", "smalltalk-thanks"),
        ("wat is the fee", "fees"),  # a short typo is still fixed
    ],
)
def test_the_examples_of_the_issue_are_answered_right(answerer: Answerer, question: str, entry: str) -> None:
    match = answerer.matcher.match(question)
    assert (match.decision, match.entry) == ("answer", entry)


@pytest.mark.parametrize(
    "question",
    [
        "can i bring my dog",
        "can I bring my cat on the plane",
        "what's your name",
        "tell me a joke",
        "附近有什么好吃的",
        "asdfgh",
        "useless bot",
        "how do I renew my driving licence",
    ],
)
def test_everyday_questions_are_declined(answerer: Answerer, question: str) -> None:
    assert answerer.matcher.match(question).decision == "fallback"


def test_are_you_a_robot_is_never_answered_with_an_entry(answerer: Answerer) -> None:
    # at most offered: the entry about reaching a person (online-assistance) knows 机器人
    assert answerer.matcher.match("你是机器人吗").decision != "answer"


def test_english_words_are_never_corrected_into_other_words(answerer: Answerer) -> None:
    matcher = answerer.matcher
    for word, not_into in (("protection", "project"), ("deported", "depart"), ("case", "cash")):
        assert not_into not in matcher.query_tokens(f"my {word}"), word
        assert matcher._correct_word(word) == word
    from bot.answering.text import is_english_word

    assert not is_english_word("wat") and not is_english_word("permt")  # rare or no words: still correctable
    assert matcher._correct_word("permt") == "permit"
    assert matcher._correct_word("documants") == "documents"
