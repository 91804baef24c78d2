"""``python -m bot staff add|list|remove`` on the configured database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.config import get_settings


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'staff.sqlite3'}")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_add_list_remove(database: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["staff", "list"]) == 0
    assert "No staff yet" in capsys.readouterr().out
    assert main(["staff", "add", "5", "--role", "operator", "--name", "Li Na"]) == 0
    assert main(["staff", "add", "6", "--role", "supervisor", "--name", "Wang Fang"]) == 0
    capsys.readouterr()
    assert main(["staff", "list"]) == 0
    listing = capsys.readouterr().out
    assert "5\toperator\tLi Na" in listing and "6\tsupervisor\tWang Fang" in listing
    assert main(["staff", "remove", "5"]) == 0
    assert main(["staff", "remove", "5"]) == 1
    assert "5 is not a member of staff" in capsys.readouterr().err
    main(["staff", "list"])
    assert "Li Na" not in capsys.readouterr().out


def test_role_must_be_known(database: None) -> None:
    with pytest.raises(SystemExit):
        main(["staff", "add", "5", "--role", "admin", "--name", "X"])
