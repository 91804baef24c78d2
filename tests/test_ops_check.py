"""``python -m bot check``: a line per check (token by getMe, database, migrations, knowledge base, webhook
settings), exit 0 only when none failed; the token is never printed."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import main
from bot.config import Settings, get_settings
from bot.ops.check import run_checks
from bot.store.db import make_engine
from tests.botapi import TOKEN, BotApiServer


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def checked(config: Settings, **kwargs: Any) -> tuple[int, list[str]]:
    lines: list[str] = []
    code = run_checks(config, say=lines.append, **kwargs)
    return code, lines


def line(lines: list[str], name: str) -> str:
    return next(x for x in lines if x.split(maxsplit=1)[1].startswith(name + ":"))


async def test_everything_in_order_passes_and_the_token_is_not_printed(botapi: BotApiServer, tmp_path: Path) -> None:
    database = tmp_path / "ok.sqlite3"
    make_engine(f"sqlite:///{database}").dispose()
    config = settings(telegram_bot_token=TOKEN, telegram_api_url=botapi.base_url, database_url=f"sqlite:///{database}")
    code, lines = await asyncio.to_thread(checked, config)
    assert code == 0, lines
    assert line(lines, "token").startswith("ok") and "@helpdesk_test_bot" in line(lines, "token")
    assert line(lines, "database").startswith("ok")
    assert line(lines, "migrations").startswith("ok")
    assert line(lines, "knowledge base").startswith("ok")
    assert lines[-1] == "All checks passed."
    assert not any(TOKEN in x or TOKEN.split(":")[1] in x for x in lines)


async def test_a_wrong_token_fails(botapi: BotApiServer, tmp_path: Path) -> None:
    database = tmp_path / "ok.sqlite3"
    make_engine(f"sqlite:///{database}").dispose()
    config = settings(
        telegram_bot_token="123456:WRONG", telegram_api_url=botapi.base_url, database_url=f"sqlite:///{database}"
    )
    code, lines = await asyncio.to_thread(checked, config)
    assert code == 1
    assert line(lines, "token").startswith("FAIL") and "401" in line(lines, "token")
    assert "WRONG" not in "\n".join(lines)


def test_no_token_is_skipped_with_a_note_a_missing_database_fails_and_migrate_fixes_it(tmp_path: Path) -> None:
    config = settings(database_url=f"sqlite:///{tmp_path}/new.sqlite3")
    code, lines = checked(config)
    assert code == 1
    assert line(lines, "token").startswith("skip") and "TELEGRAM_BOT_TOKEN" in line(lines, "token")
    assert line(lines, "database").startswith("FAIL")
    assert not (tmp_path / "new.sqlite3").exists()  # a check makes nothing
    code, lines = checked(config, migrate=True)
    assert code == 0, lines
    assert "0014" in line(lines, "migrations") or line(lines, "migrations").startswith("ok")


def test_an_unreachable_database_and_a_broken_knowledge_base_fail(tmp_path: Path) -> None:
    broken = tmp_path / "kb"
    broken.mkdir()
    (broken / "entries.toml").write_text("this is = not [valid", encoding="utf-8")
    config = settings(
        database_url="postgresql://nobody@127.0.0.1:1/none", helpdesk_kb_dir=broken, telegram_webhook_url=None
    )
    code, lines = checked(config)
    assert code == 1
    assert line(lines, "database").startswith("FAIL") and "cannot be reached" in line(lines, "database")
    assert line(lines, "migrations").startswith("skip")
    assert line(lines, "knowledge base").startswith("FAIL")
    assert lines[-1].startswith("2 check(s) failed")


def test_webhook_mode_without_a_secret_fails(tmp_path: Path) -> None:
    database = tmp_path / "ok.sqlite3"
    make_engine(f"sqlite:///{database}").dispose()
    config = settings(database_url=f"sqlite:///{database}", telegram_webhook_url="https://bot.example.org/hook")
    code, lines = checked(config)
    assert code == 1
    assert line(lines, "webhook").startswith("FAIL") and "TELEGRAM_WEBHOOK_SECRET" in line(lines, "webhook")
    config = settings(
        database_url=f"sqlite:///{database}",
        telegram_webhook_url="https://bot.example.org/hook",
        telegram_webhook_secret="abc_DEF-123",
    )
    code, lines = checked(config)
    assert code == 0, lines
    assert "ONE instance" in line(lines, "webhook")  # SQLite


def test_the_command_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/cli.sqlite3")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "")
    monkeypatch.chdir(tmp_path)  # no .env from the repository
    get_settings.cache_clear()
    try:
        assert main(["check", "--migrate"]) == 0
        assert main(["check", "--webhook"]) == 1  # webhook mode needs its URL and secret
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert "All checks passed." in out and "FAIL  webhook: webhook mode needs TELEGRAM_WEBHOOK_URL" in out
