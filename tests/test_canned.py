"""Canned replies for operators: the shipped file loads; a broken one names the file, reply and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.desk.canned import load_canned
from bot.errors import KnowledgeBaseError

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_canned_replies_load_in_both_languages() -> None:
    replies = load_canned(ROOT / "knowledge" / "canned.toml")
    assert "hello" in replies and len(replies) >= 5
    assert all(r.text("en") != r.text("zh") for r in replies.values())


def test_missing_file_means_no_canned_replies(tmp_path: Path) -> None:
    assert load_canned(tmp_path / "canned.toml") == {}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('[[reply]]\nid = "a"\nlabel = "A"\nen = "x"\n', "canned.toml [a] zh: missing or empty"),
        ('[[reply]]\nid = "A b"\nlabel = "A"\nen = "x"\nzh = "y"\n', "canned.toml [A b] id:"),
        ('[[reply]]\nid = "a"\nlabel = "A"\nen = "x"\nzh = "y"\n' * 2, "canned.toml [a] id: used twice"),
        ("[[reply]\n", "canned.toml:"),
    ],
)
def test_broken_canned_file_is_reported(tmp_path: Path, body: str, expected: str) -> None:
    path = tmp_path / "canned.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as info:
        load_canned(path)
    assert any(str(p).startswith(expected) for p in info.value.problems), [str(p) for p in info.value.problems]


def test_a_broken_canned_file_stops_start_up_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    from bot.__main__ import main
    from bot.config import get_settings

    kb_dir = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", kb_dir)
    (kb_dir / "canned.toml").write_text('[[reply]]\nid = "x"\n', encoding="utf-8")
    monkeypatch.setenv("HELPDESK_KB_DIR", str(kb_dir))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as stop:
            main(["ask", "hello"])
    finally:
        get_settings.cache_clear()
    assert stop.value.code == 2
    assert "canned.toml [x] zh: missing or empty" in capsys.readouterr().err
