"""The PostgreSQL connection pool: a connection that rested is checked before use (and replaced when the
server dropped it); one used a moment ago is not (no extra round trip per transaction); a message's record
is written in one statement, without BEGIN and COMMIT, and is there at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from psycopg._connection_base import BaseConnection
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

import bot.store.db as db
from bot.answering.knowledge import KnowledgeBase
from bot.config import Settings
from bot.services import build_services
from bot.store.journal import SENT, Journal, NewWork
from handlers.app import build_application
from tests.dbs import postgres_engine

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine() -> Iterator[Engine]:
    with postgres_engine() as made:
        yield made


def backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def terminate(pid: int) -> None:
    """Drop backend *pid* from the server's side (as a server restart or a firewall would)."""
    with postgres_engine() as other, other.begin() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def counting_pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    pings: list[int] = []
    do_ping = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(1)
        return do_ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return pings


def test_a_connection_used_a_moment_ago_is_not_pinged(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    pings = counting_pings(engine, monkeypatch)
    pids = {backend_pid(engine) for _ in range(5)}
    assert len(pids) == 1  # the same pooled connection each time
    assert pings == []


def test_a_rested_connection_the_server_dropped_is_replaced(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    pings = counting_pings(engine, monkeypatch)
    dropped = backend_pid(engine)
    terminate(dropped)
    monkeypatch.setattr(db, "PING_AFTER_IDLE", 0.0)  # as if it had rested longer than the limit
    assert backend_pid(engine) != dropped  # no error: the check found it gone and the pool connected afresh
    assert pings


def test_a_sent_message_is_recorded_at_once_in_one_statement(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    journal = Journal(engine)
    journal.admit([NewWork("u:1", chat_id=5)], NOW)
    commands: list[bytes] = []
    original = BaseConnection._exec_command

    def spy(self: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
        commands.append(bytes(command))
        return original(self, command, *args, **kwargs)

    monkeypatch.setattr(BaseConnection, "_exec_command", spy)
    journal.record_send("u:1", 1, 5, NOW, b'{"one": [[5, 1]]}')
    monkeypatch.undo()
    assert not [c for c in commands if c.startswith((b"BEGIN", b"COMMIT"))]
    other = create_engine(engine.url)  # another session sees it: it is committed
    try:
        with other.connect() as connection:
            kinds = connection.execute(text("SELECT kind FROM workstep WHERE work_key = 'u:1'")).scalars().all()
    finally:
        other.dispose()
    assert kinds == [SENT]


def test_a_failed_statement_outside_a_transaction_leaves_the_connection_usable(engine: Engine) -> None:
    journal = Journal(engine)
    journal.admit([NewWork("u:2", chat_id=5)], NOW)
    journal.record_send("u:2", 1, 5, NOW, b"{}")
    with pytest.raises(IntegrityError):  # the same step twice
        journal.record_send("u:2", 1, 5, NOW, b"{}")
    journal.record_send("u:2", 2, 5, NOW, b"{}")
    assert sorted(journal.steps("u:2")) == [1, 2]


def test_postgresql_runs_core_calls_on_database_workers_threads(engine: Engine, kb: KnowledgeBase) -> None:
    settings = Settings(telegram_bot_token="123:abc", database_workers=3, _env_file=None)  # type: ignore[call-arg, arg-type]
    app = build_application(build_services(settings, kb, engine=engine))
    workers = app.bot_data.workers
    assert workers is not None and workers._max_workers == 3
    app.bot_data.use_workers(0)
