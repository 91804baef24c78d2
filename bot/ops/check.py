"""``python -m bot check``: what must hold before the bot starts, one line per check; exit 0 when all hold.

- **token**: Telegram's ``getMe`` answers with the bot (skipped, with a note, when no token is set);
- **database**: it can be reached (``DATABASE_URL``, shown without its password);
- **migrations**: its schema is at the newest migration (``--migrate`` brings it there first);
- **knowledge base**: every file, profile, canned reply, calendar file and training line is valid;
- **webhook**: in webhook mode, the URL and the secret token are usable; several instances need PostgreSQL.

The token is never printed; errors are named by kind, not by a message that could quote a secret.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from bot.config import Settings

OK, FAIL, SKIP = "ok", "FAIL", "skip"
TELEGRAM_API = "https://api.telegram.org/bot"
SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,256}")
"""What Telegram accepts as a webhook secret token."""
TIMEOUT = 10.0


@dataclass(frozen=True)
class Result:
    """One check's outcome: ``ok``, ``FAIL`` or ``skip``, its name and what was found."""

    status: str
    name: str
    detail: str

    def line(self) -> str:
        return f"{self.status:<5} {self.name}: {self.detail}"


def webhook_problem(settings: Settings) -> str | None:
    """What stops webhook mode from starting with these settings (None: nothing)."""
    url = settings.telegram_webhook_url
    if not url:
        return "webhook mode needs TELEGRAM_WEBHOOK_URL (the public https:// URL Telegram posts to)"
    if not url.startswith(("https://", "http://")):
        return "TELEGRAM_WEBHOOK_URL must be an https:// URL"
    secret = settings.telegram_webhook_secret.get_secret_value() if settings.telegram_webhook_secret else ""
    if not secret:
        return (
            "webhook mode needs TELEGRAM_WEBHOOK_SECRET (1-256 characters A-Z a-z 0-9 _ -; e.g. "
            "`openssl rand -hex 32`): Telegram sends it with every update and anything without it is refused"
        )
    if not SECRET_PATTERN.fullmatch(secret):
        return "TELEGRAM_WEBHOOK_SECRET may only hold 1-256 characters A-Z a-z 0-9 _ -"
    return None


def check_token(settings: Settings) -> Result:
    if settings.telegram_bot_token is None:
        return Result(SKIP, "token", "TELEGRAM_BOT_TOKEN is not set (`bot run` would start the console instead)")
    base = (settings.telegram_api_url or TELEGRAM_API).rstrip("/")
    url = f"{base}{settings.telegram_bot_token.get_secret_value()}/getMe"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return Result(FAIL, "token", f"Telegram refused it (HTTP {exc.code}; 401: the token is wrong or revoked)")
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        return Result(FAIL, "token", f"Telegram could not be reached ({type(exc).__name__})")
    bot = body.get("result") if isinstance(body, dict) and body.get("ok") else None
    if not isinstance(bot, dict):
        return Result(FAIL, "token", "getMe did not answer with a bot")
    return Result(OK, "token", f"@{bot.get('username')} (id {bot.get('id')})")


def _database_label(settings: Settings) -> str:
    try:
        return make_url(settings.database_url).render_as_string(hide_password=True)
    except Exception:
        return "DATABASE_URL"


def check_database(settings: Settings, migrate: bool = False) -> list[Result]:
    """The database reachable, then its migrations at head (``migrate``: brought there first)."""
    from bot.store.db import make_engine, migrations_config, normalise_url

    label = _database_label(settings)
    url = normalise_url(settings.database_url)
    database = make_url(url).database if url.startswith("sqlite") else None
    if database and database != ":memory:" and not migrate and not Path(database).exists():
        return [
            Result(
                FAIL, "database", f"{label}: the file does not exist (`--migrate`, or the bot's first start, makes it)"
            ),
            Result(SKIP, "migrations", "no database"),
        ]
    try:
        engine = make_engine(url) if migrate else sa.create_engine(url, connect_args=_connect_args(url))
    except Exception as exc:
        return [
            Result(FAIL, "database", f"{label}: {type(exc).__name__}"),
            Result(SKIP, "migrations", "no database"),
        ]
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
            current = MigrationContext.configure(connection).get_current_revision()
    except Exception as exc:
        engine.dispose()
        return [
            Result(FAIL, "database", f"{label}: cannot be reached ({type(exc).__name__})"),
            Result(SKIP, "migrations", "no database"),
        ]
    engine.dispose()
    head = ScriptDirectory.from_config(migrations_config()).get_current_head()
    results = [Result(OK, "database", f"{label} ({engine.dialect.name})")]
    if current == head:
        results.append(Result(OK, "migrations", f"at the newest, {head}"))
    elif current is None:
        results.append(
            Result(
                FAIL,
                "migrations",
                f"an empty database: `python -m bot check --migrate` (or the bot's "
                f"first start) creates the tables at {head}",
            )
        )
    else:
        results.append(
            Result(
                FAIL,
                "migrations",
                f"at {current}, the code's newest is {head}: `python -m bot check --migrate` "
                "brings it there (the bot also does at start)",
            )
        )
    return results


def _connect_args(url: str) -> dict[str, object]:
    return {"connect_timeout": int(TIMEOUT)} if url.startswith("postgresql") else {}


def check_knowledge(settings: Settings) -> Result:
    from bot.answering.classifier import training_set
    from bot.answering.knowledge import load_knowledge
    from bot.desk.calendar_files import load_calendar_files
    from bot.desk.canned import load_canned
    from bot.errors import KnowledgeBaseError

    try:
        kb = load_knowledge(settings.helpdesk_kb_dir, settings.helpdesk_profile)
        canned = load_canned(settings.helpdesk_kb_dir / "canned.toml")
        load_calendar_files(settings.helpdesk_kb_dir / "calendar")
        training_set(kb)
    except KnowledgeBaseError as exc:
        problems = "; ".join(str(p) for p in exc.problems[:3]) + (" …" if len(exc.problems) > 3 else "")
        return Result(
            FAIL, "knowledge base", f"{len(exc.problems)} problem(s) (`python -m bot kb validate`): {problems}"
        )
    except ValueError as exc:
        return Result(FAIL, "knowledge base", f"training: {exc}")
    return Result(
        OK,
        "knowledge base",
        f"{settings.kb_dir_label}, profile {settings.helpdesk_profile}: {len(kb.entries)} entries, "
        f"{len(canned)} canned replies",
    )


def check_webhook(settings: Settings, webhook: bool) -> Result:
    if not (webhook or settings.telegram_webhook_url):
        port = f"; /metrics on port {settings.metrics_port}" if settings.metrics_port else ""
        return Result(SKIP, "webhook", f"long polling (no TELEGRAM_WEBHOOK_URL){port}")
    problem = webhook_problem(settings)
    if problem is not None:
        return Result(FAIL, "webhook", problem)
    several = (
        "several instances may share this database"
        if settings.database_url.startswith(("postgres://", "postgresql"))
        else "SQLite: run ONE instance only (several need PostgreSQL)"
    )
    served = f"{settings.telegram_webhook_listen}:{settings.telegram_webhook_port}"
    return Result(OK, "webhook", f"{settings.telegram_webhook_url} served on {served}; {several}")


def run_checks(
    settings: Settings, webhook: bool = False, migrate: bool = False, say: Callable[[str], object] = print
) -> int:
    """Every check, a line each; 0 when none failed, else 1."""
    results = [check_token(settings), *check_database(settings, migrate), check_knowledge(settings)]
    results.append(check_webhook(settings, webhook))
    for result in results:
        say(result.line())
    failed = [r.name for r in results if r.status == FAIL]
    say(f"{len(failed)} check(s) failed: {', '.join(failed)}" if failed else "All checks passed.")
    return 1 if failed else 0
