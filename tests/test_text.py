import re

from bot.answering.text import SynonymMap, detect_lang, normalise, strip_control, tokenise, trie_pattern


def test_normalise_full_width_case_and_chinese_punctuation() -> None:
    assert normalise("Ｈｏｗ ＬＯＮＧ？") == "how long"
    assert normalise("工作许可，要多久？！") == "工作许可 要多久"


def test_normalise_traditional_to_simplified() -> None:
    assert normalise("工作許可證續簽") == "工作许可证续签"


def test_normalise_drops_emoji_control_and_zero_width() -> None:
    assert normalise("😀 visa\x00\x07\u200b fee 🙏") == "visa fee"
    assert normalise("😀😀😀") == ""
    assert normalise("\x00\x01\x02") == ""


def test_normalise_keeps_apostrophes_inside_words_only() -> None:
    assert normalise("What’s the 'fee'?") == "what's the fee"


def test_normalise_cuts_overlong_input() -> None:
    assert len(normalise("a" * 10_000)) <= 500


def test_tokenise_english_stems_without_stopwords() -> None:
    assert tokenise("how do i cancel the permits") == ["cancel", "permit"]


def test_tokenise_chinese_characters_and_pairs() -> None:
    tokens = tokenise("许可要多久")
    assert {"许可", "多久", "许", "可", "久"} <= set(tokens)
    assert "要" not in tokens  # a function character alone carries no meaning
    assert "要多" not in tokens  # nor a pair that joins it to the next word


def test_pairs_with_a_function_character_are_kept_only_when_they_are_words() -> None:
    tokens = set(tokenise("什么是工作许可"))
    assert {"工作", "许可"} <= tokens and not {"么是", "是工", "什"} & tokens
    assert {"申请", "有效"} <= set(tokenise("申请有效期"))


def test_tokenise_mixed_language() -> None:
    tokens = tokenise(normalise("How long for 工作许可?"))
    assert "long" in tokens and "许可" in tokens


def test_synonyms_whole_words_for_english_anywhere_for_chinese() -> None:
    synonyms = SynonymMap({"renew": "extend", "工作证": "工作许可", "permit card": "work permit"})
    assert synonyms.apply("how to renew") == "how to extend"
    assert synonyms.apply("renewal") == "renewal"
    assert synonyms.apply("我的工作证丢了") == "我的 工作许可 丢了"
    assert synonyms.apply("lost my permit card") == "lost my work permit"


def test_synonyms_take_the_longest_variant_that_is_a_whole_word() -> None:
    synonyms = SynonymMap({"permit": "licence", "permit card": "work permit", "permit cards": "work permits"})
    assert synonyms.apply("two permit cards") == "two work permits"
    assert synonyms.apply("a permit cardboard box") == "a licence cardboard box"  # "card" is not a word here
    assert synonyms.apply("permits") == "permits"


def test_trie_pattern_matches_the_same_as_a_longest_first_alternation() -> None:
    words = ["work", "work permit", "worker", "工作", "工作许可", "a", "a+b", "w.p"]
    factored = re.compile(trie_pattern(words))
    plain = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))
    for text in ["work permit", "workers", "工作许可证", "a+b=c", "w.p and wxp", "wor", ""]:
        assert factored.findall(text) == plain.findall(text), text


def test_detect_lang() -> None:
    assert detect_lang("How long does it take?") == "en"
    assert detect_lang("要多久") == "zh"
    assert detect_lang("how long for 工作许可?") == "en"
    assert detect_lang("工作许可 renew 要多久") == "zh"
    assert detect_lang("😀") == "en"


def test_strip_control_keeps_newlines() -> None:
    assert strip_control("a\x00b\nc\u200bd") == "ab\ncd"


def test_tokenise_drops_question_word_pairs_and_asks_about_boundaries() -> None:
    tokens = tokenise("怎么办理")
    assert "怎么" not in tokens and "办理" in tokens
    dropped = tokenise("办理工作", keep_pair=lambda pair, left, right: pair != "理工")
    assert "理工" not in dropped and {"办理", "工作"} <= set(dropped)
    seen: list[tuple[str, str, str]] = []
    tokenise("工作许可", keep_pair=lambda pair, left, right: seen.append((pair, left, right)) or True)
    assert seen == [("工作", "", "作许"), ("作许", "工作", "许可"), ("许可", "作许", "")]


def test_chat_words_are_stopwords() -> None:
    assert tokenise("what happens to my permit u know") == ["permit"]
