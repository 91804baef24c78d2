"""Every validation rule of the knowledge base, each on a small KB with one thing broken."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.errors import KnowledgeBaseError
from bot.knowledge import load_knowledge
from tests.kbfactory import ENTRIES, PROFILE, TOPICS, make_kb

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


def test_bad_id(tmp_path: Path) -> None:
    found = problems(make_kb(tmp_path, entries=ENTRIES.replace('id = "reissue"', 'id = "Lost Card"')))
    assert any("entries/main.toml [#2] id: missing or not a lower-case id" in p for p in found)


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


def test_cli_validate_ok(tmp_path: Path) -> None:
    result = _cli("kb", "validate", kb_dir=make_kb(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "OK: 2 entries" in result.stdout


def test_broken_kb_stops_start_up_naming_the_file(tmp_path: Path) -> None:
    kb_dir = make_kb(tmp_path, entries="[[entry]\n")
    result = _cli("ask", "hello", kb_dir=kb_dir)
    assert result.returncode == 2
    assert "entries/main.toml: not valid TOML" in result.stderr
