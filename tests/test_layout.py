"""The layout holds: the core (``bot``) and the terminal front end (``console``) never import python-telegram-bot.

Each package is imported module by module in a fresh interpreter (this one has telegram loaded by the
other tests), which then reports what it imported and which ``telegram`` modules came with it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

ALEMBIC_SCRIPTS = ("bot.store.migrations.env",)
"""Run by Alembic, not imported: importing it outside a migration fails. Migrating an empty database runs it
(and loads the migrations in ``versions/``), so it is covered all the same."""

IMPORT_ALL = """
import importlib, json, pkgutil, sys

package, skipped, then = sys.argv[1], set(sys.argv[2].split(",")) - {""}, sys.argv[3]
root = importlib.import_module(package)
imported = [package]
for info in pkgutil.walk_packages(root.__path__, package + "."):
    if info.name not in skipped:
        importlib.import_module(info.name)
        imported.append(info.name)
if then:
    exec(then)
telegram = sorted(name for name in sys.modules if name == "telegram" or name.startswith("telegram."))
print(json.dumps({"imported": imported, "telegram": telegram}))
"""

MIGRATE = "from bot.store.db import make_engine; make_engine('sqlite://').dispose()"


def import_all(package: str, skipped: tuple[str, ...] = (), then: str = "") -> dict[str, Any]:
    """Import every module of *package* (but *skipped*) in a fresh interpreter, run the code *then*, and
    report ``{"imported": [module names], "telegram": [telegram modules loaded]}``."""
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL, package, ",".join(skipped), then],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_core_does_not_import_telegram() -> None:
    result = import_all("bot", ALEMBIC_SCRIPTS, then=MIGRATE)
    assert {"bot.services", "bot.arrival", "bot.desk.flows", "bot.store.models", "bot.__main__"} <= set(
        result["imported"]
    )
    assert result["telegram"] == [], f"the core imported {result['telegram']}"


def test_the_console_does_not_import_telegram() -> None:
    result = import_all("console")
    assert {"console.desk", "console.terminal"} <= set(result["imported"])
    assert result["telegram"] == [], f"the console imported {result['telegram']}"


def test_the_check_sees_telegram_where_it_is_imported() -> None:
    result = import_all("handlers", then="")
    assert "handlers.context" in result["imported"] and "telegram" in result["telegram"]
