from bot.text import SynonymMap, detect_lang, normalise, strip_control, tokenise


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
    assert "要多" in tokens


def test_tokenise_mixed_language() -> None:
    tokens = tokenise(normalise("How long for 工作许可?"))
    assert "long" in tokens and "许可" in tokens


def test_synonyms_whole_words_for_english_anywhere_for_chinese() -> None:
    synonyms = SynonymMap({"renew": "extend", "工作证": "工作许可", "permit card": "work permit"})
    assert synonyms.apply("how to renew") == "how to extend"
    assert synonyms.apply("renewal") == "renewal"
    assert synonyms.apply("我的工作证丢了") == "我的 工作许可 丢了"
    assert synonyms.apply("lost my permit card") == "lost my work permit"


def test_detect_lang() -> None:
    assert detect_lang("How long does it take?") == "en"
    assert detect_lang("要多久") == "zh"
    assert detect_lang("how long for 工作许可?") == "en"
    assert detect_lang("工作许可 renew 要多久") == "zh"
    assert detect_lang("😀") == "en"


def test_strip_control_keeps_newlines() -> None:
    assert strip_control("a\x00b\nc\u200bd") == "ab\ncd"
