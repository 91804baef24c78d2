"""Every validation rule of the knowledge base, each on a small KB with one thing broken."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.answering.knowledge import load_knowledge
from bot.errors import KnowledgeBaseError
from tests.kbfactory import ENTRIES, PROFILE, SOURCES, TOPICS, make_kb

ROOT = Path(__file__).resolve().parent.parent


def problems(directory: Path, profile: str = "default") -> list[str]:
    with pytest.raises(KnowledgeBaseError) as info:
        load_knowledge(directory, profile)
    return [str(p) for p in info.value.problems]


def test_small_kb_loads_and_fills_profile(tmp_path: Path) -> None:
    kb = load_knowledge(make_kb(tmp_path))
    assert set(kb.entries) == {"fees", "reissue"}
    assert kb.answer("fees", "en") == "The work permit is free. Ask the office."
    assert kb.answer("fees", "zh") == "工作许可不收费。请咨询办理窗口。"


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    found = problems(
        make_kb(
            tmp_path,
            entries=ENTRIES + "\n[[entry]\nid = ",
        )
    )
    assert any(p.startswith("entries/main.toml: not valid TOML") for p in found)


def test_missing_topic(tmp_path: Path) -> None:
    topics = TOPICS + '\n[[topic]]\nid = "apostille"\nen = "x"\nzh = "y"\n'
    found = problems(make_kb(tmp_path, topics=topics))
    assert any("topics.toml [apostille]: topic has no entry" in p for p in found)


def test_missing_language(tmp_path: Path) -> None:
    found = problems(make_kb(tmp_path, entries=ENTRIES.replace('answer_zh = "请在系统中申请补办。"\n', "")))
    assert found == ["entries/main.toml [reissue] answer_zh: missing"]


def test_too_few_alternate_questions(tmp_path: Path) -> None:
    entries = ENTRIES.replace('"card damaged", ', "")
    found = problems(make_kb(tmp_path, entries=entries))
    assert any("[reissue] questions_en: 3 alternate questions; at least 4 needed" in p for p in found)


def test_question_shared_by_two_entries(tmp_path: Path) -> None:
    entries = ENTRIES.replace('"card damaged"', '"Is there a fee?"')
    found = problems(make_kb(tmp_path, entries=entries))
    assert any("[reissue] questions_en: 'Is there a fee?' is also a question of fees" in p for p in found)


def test_unknown_placeholder(tmp_path: Path) -> None:
    entries = ENTRIES.replace("Apply for a reissue online.", "Call {hotline}.")
    found = problems(make_kb(tmp_path, entries=entries))
    assert any("[reissue] answer_en: placeholder {hotline} unknown to profile 'default'" in p for p in found)


def test_unbalanced_braces(tmp_path: Path) -> None:
    entries = ENTRIES.replace("Apply for a reissue online.", "Apply {online.")
    found = problems(make_kb(tmp_path, entries=entries))
    assert any("[reissue] answer_en: bad placeholder braces" in p for p in found)


def test_answer_too_long(tmp_path: Path) -> None:
    entries = ENTRIES.replace("Apply for a reissue online.", "x" * 1300)
    found = problems(make_kb(tmp_path, entries=entries))
    assert any("[reissue] answer_en: 1300 characters; at most 1200" in p for p in found)


def test_chinese_fields_need_chinese(tmp_path: Path) -> None:
    entries = ENTRIES.replace('"证被偷了"', '"stolen card"').replace("请在系统中申请补办。", "reissue")
    found = problems(make_kb(tmp_path, entries=entries))
    assert any("[reissue] questions_zh: question has no Chinese" in p for p in found)
    assert any("[reissue] answer_zh: has no Chinese" in p for p in found)


def test_unknown_theme_audience_field_and_related(tmp_path: Path) -> None:
    entries = ENTRIES.replace('theme = "reissue"', 'theme = "misc"\ncolour = "red"\naudience = ["tourist"]').replace(
        'related = ["reissue"]', 'related = ["nowhere"]'
    )
    found = problems(make_kb(tmp_path, entries=entries))
    assert any("[reissue] theme: unknown theme 'misc'" in p for p in found)
    assert any("[reissue] colour: unknown field" in p for p in found)
    assert any("[reissue] audience: unknown audience 'tourist'" in p for p in found)
    assert any("[fees] related: unknown entry 'nowhere'" in p for p in found)


def test_duplicate_id_and_missing_sources(tmp_path: Path) -> None:
    entries = ENTRIES.replace('id = "reissue"', 'id = "fees"')
    found = problems(make_kb(tmp_path, entries=entries))
    assert any("[fees] id: duplicate id" in p for p in found)
    found = problems(make_kb(tmp_path / "b", entries=ENTRIES.replace('sources = ["SH-RE"]', "sources = []")))
    assert any("[reissue] sources: at least one source is needed" in p for p in found)


def test_sources_registry_loads_with_the_knowledge_base(tmp_path: Path) -> None:
    kb = load_knowledge(make_kb(tmp_path))
    assert set(kb.sources) == {"CN", "SH-RE"}
    changning = kb.sources["CN"]
    assert (changning.title["zh"], changning.official, changning.year) == (
        "长宁区科学技术委员会2022年度行政许可实施情况年度报告",
        False,
        2022,
    )
    assert kb.sources["SH-RE"].issuer is None and kb.sources["SH-RE"].link == "zwdt.sh.gov.cn"


def test_unknown_and_repeated_source_codes(tmp_path: Path) -> None:
    entries = ENTRIES.replace('sources = ["CN"]', 'sources = ["CN", "SHIT", "CN"]')
    found = problems(make_kb(tmp_path, entries=entries))
    assert found == [
        "entries/main.toml [fees] sources: unknown source 'SHIT' (not in sources.toml)",
        "entries/main.toml [fees] sources: 'CN' is cited twice",
    ]


def test_registry_code_cited_by_no_entry(tmp_path: Path) -> None:
    sources = SOURCES + '\n[DG]\ntitle_en = "Dongguan report"\ntitle_zh = "东莞报告"\nofficial = false\n'
    assert problems(make_kb(tmp_path, sources=sources)) == ["sources.toml [DG]: not cited by any entry"]


def test_registry_code_cited_only_by_a_broken_entry_is_not_called_unused(tmp_path: Path) -> None:
    found = problems(make_kb(tmp_path, entries=ENTRIES.replace('answer_zh = "请在系统中申请补办。"\n', "")))
    assert found == ["entries/main.toml [reissue] answer_zh: missing"]


def test_source_missing_required_fields(tmp_path: Path) -> None:
    sources = SOURCES.replace('title_zh = "上海：工作许可补办（zwdt.sh.gov.cn）"\n', "").replace(
        "official = true\n", ""
    )
    found = problems(make_kb(tmp_path, sources=sources))
    # the entry citing SH-RE is not told its source is unknown: the registry's own problem is enough
    assert found == ["sources.toml [SH-RE] title_zh: missing", "sources.toml [SH-RE] official: missing"]


def test_source_field_values(tmp_path: Path) -> None:
    sources = (
        SOURCES.replace("year = 2022", 'year = "2022年"')
        .replace('link = "zwdt.sh.gov.cn"', 'link = "see the Shanghai portal"\ncolour = "red"')
        .replace("official = true", 'official = "yes"')
        .replace('title_en = "Changning (Shanghai)', 'title_en = "CN"\nx = "Changning (Shanghai)')
        .replace('title_zh = "上海：工作许可补办（zwdt.sh.gov.cn）"', 'title_zh = "Shanghai reissue"')
    )
    found = problems(make_kb(tmp_path, sources=sources))
    assert "sources.toml [CN] title_en: must be a readable title, not the code" in found
    assert "sources.toml [CN] year: must be a year such as 2017" in found
    assert "sources.toml [CN] x: unknown field" in found
    assert "sources.toml [SH-RE] title_zh: has no Chinese" in found
    assert "sources.toml [SH-RE] official: must be true or false" in found
    assert "sources.toml [SH-RE] link: must be a web address without spaces" in found
    assert "sources.toml [SH-RE] colour: unknown field" in found
    assert not any("unknown source" in p for p in found)


def test_source_code_title_length_and_table(tmp_path: Path) -> None:
    sources = 'stray = "not a table"\n' + SOURCES.replace("[SH-RE]", '["外专发〔2017〕36号"]').replace(
        "Changning (Shanghai)", "Changning " * 20
    )
    entries = ENTRIES.replace('sources = ["SH-RE"]', 'sources = ["外专发〔2017〕36号"]')
    found = problems(make_kb(tmp_path, entries=entries, sources=sources))
    assert "sources.toml [外专发〔2017〕36号]: a source code is ASCII letters, digits and -" in found
    assert "sources.toml [CN] title_en: longer than 120 characters" in found
    assert "sources.toml [stray]: must be a table" in found


def test_missing_sources_file_is_one_problem(tmp_path: Path) -> None:
    assert problems(make_kb(tmp_path, sources=None)) == ["sources.toml: file not found"]


def test_bad_id(tmp_path: Path) -> None:
    found = problems(make_kb(tmp_path, entries=ENTRIES.replace('id = "reissue"', 'id = "Lost Card"')))
    assert any("entries/main.toml [#2] id: missing or not a lower-case id" in p for p in found)


def test_an_id_too_long_for_a_button_is_refused(tmp_path: Path) -> None:
    long_id = "reissue-" + "x" * 30  # a /gaps or /kb button carries it with an id in Telegram's 64 bytes
    found = problems(make_kb(tmp_path, entries=ENTRIES.replace('id = "reissue"', f'id = "{long_id}"')))
    assert any(f"[{long_id}] id: longer than 32 characters" in p for p in found), found


def test_profile_keys_and_hours(tmp_path: Path) -> None:
    profile = PROFILE.replace('office_phone = "12345"\n[zh]', 'office_phone = "12345"\nextra = "x"\n[zh]')
    profile = profile.replace('open = "09:00"', 'open = "18:00"')
    found = problems(make_kb(tmp_path, profile=profile))
    assert any("default.toml extra: must be given in both [en] and [zh]" in p for p in found)
    assert any("default.toml hours: open must be before close" in p for p in found)


def test_profile_missing_required_key(tmp_path: Path) -> None:
    found = problems(make_kb(tmp_path, profile=PROFILE.replace('office_hours = "工作日"\n', "")))
    assert any("default.toml zh.office_hours: missing" in p for p in found)


def test_unknown_profile_is_named(tmp_path: Path) -> None:
    found = problems(make_kb(tmp_path), profile="shenzhen")
    assert any("shenzhen.toml: profile not found or invalid (have: default)" in p for p in found)


def test_missing_directory(tmp_path: Path) -> None:
    assert problems(tmp_path / "nope") == [f"{tmp_path / 'nope'}: knowledge directory not found"]


def _cli(*args: str, kb_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {"HELPDESK_KB_DIR": str(kb_dir), "PATH": "/usr/bin:/bin", "HOME": str(kb_dir)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60
    )


def test_cli_validate_reports_each_problem_and_exits_1(tmp_path: Path) -> None:
    kb_dir = make_kb(tmp_path, entries=ENTRIES.replace('answer_zh = "请在系统中申请补办。"\n', ""))
    result = _cli("kb", "validate", kb_dir=kb_dir)
    assert result.returncode == 1
    assert "entries/main.toml [reissue] answer_zh: missing" in result.stderr


def test_cli_validate_names_the_unknown_source(tmp_path: Path) -> None:
    kb_dir = make_kb(tmp_path, entries=ENTRIES.replace('sources = ["CN"]', 'sources = ["DG23"]'))
    result = _cli("kb", "validate", kb_dir=kb_dir)
    assert result.returncode == 1
    assert "entries/main.toml [fees] sources: unknown source 'DG23' (not in sources.toml)" in result.stderr
    assert "sources.toml [CN]: not cited by any entry" in result.stderr


def test_cli_validate_ok(tmp_path: Path) -> None:
    result = _cli("kb", "validate", kb_dir=make_kb(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "OK: 2 entries" in result.stdout


def test_broken_kb_stops_start_up_naming_the_file(tmp_path: Path) -> None:
    kb_dir = make_kb(tmp_path, entries="[[entry]\n")
    result = _cli("ask", "hello", kb_dir=kb_dir)
    assert result.returncode == 2
    assert "entries/main.toml: not valid TOML" in result.stderr
