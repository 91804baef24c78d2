"""Database engine and sessions: a SQLite file by default, PostgreSQL by ``DATABASE_URL``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine

import bot.store.models  # noqa: F401  (registers the tables on SQLModel.metadata)


def normalise_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    """Create the engine for *url*, its tables created or migrated (idempotent).

    SQLite gets WAL, a busy timeout and foreign keys; ``sqlite://`` (memory) shares one connection. Both
    hide bound parameters in errors (``hide_parameters``): a failing statement's message would otherwise
    carry a ticket's description or contact into the log.
    """
    url = normalise_url(url)
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=StaticPool if memory else None,
            hide_parameters=True,
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
    else:
        engine = create_engine(url, pool_size=10, max_overflow=20, hide_parameters=True)
        ping_when_idle(engine)
    migrate(engine)
    return engine


PING_AFTER_IDLE = 10.0
"""Seconds a pooled PostgreSQL connection may rest before it is checked (``ping_when_idle``)."""


def ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it has rested more than ``PING_AFTER_IDLE`` seconds.

    ``pool_pre_ping`` checks every connection at every checkout: one more round trip before each
    transaction, 2 of the 10 an answered question made on PostgreSQL (``scripts/bench_telegram.py``). The
    connections that go stale — the server restarted, a firewall dropped an idle socket — are the ones that
    rested; one that was used a moment ago is as good as the check would be. If the server goes away while
    connections are busy, the first statement that fails makes SQLAlchemy invalidate the whole pool (what
    ``pool_pre_ping`` would not have prevented either: the call in flight fails in both cases).
    """

    @event.listens_for(engine, "checkin")
    def _rested_since(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
        record.info["checked_in"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_rested(dbapi_connection, record, _proxy) -> None:  # type: ignore[no-untyped-def]
        checked_in = record.info.get("checked_in")
        if checked_in is None or time.monotonic() - checked_in < PING_AFTER_IDLE:
            return
        try:
            ok = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the pool discards it and connects afresh
            raise DisconnectionError("the pooled connection is gone") from exc
        if not ok:
            raise DisconnectionError("the pooled connection is gone")


MIGRATION_LOCK = 0x4844_4D49_4752_4154
"""The advisory lock key instances take (PostgreSQL) while they migrate: several starting at once, one migrates."""
MIGRATIONS = Path(__file__).parent / "migrations"
BASELINE = "0001"
"""The first migration: the schema as it was when migrations came in (2026-11-23)."""


def migrations_config() -> Config:
    """Alembic's configuration for ``bot/store/migrations`` (the connection goes in ``attributes["connection"]``)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def migrate(engine: Engine) -> None:
    """Bring the database's schema to the newest migration (``bot/store/migrations``), in one transaction.

    An empty database gets every table at once and is stamped as up to date; one made before
    migrations existed (tables, no ``alembic_version``) is taken to be at the baseline.
    """
    config = migrations_config()
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":  # several instances starting at once: one migrates, the others wait
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        tables = set(inspect(connection).get_table_names())
        if "alembic_version" not in tables:
            if not tables & set(SQLModel.metadata.tables):
                SQLModel.metadata.create_all(connection)
                command.stamp(config, "head")
                return
            command.stamp(config, BASELINE)
        command.upgrade(config, "head")


AMBIENT: ContextVar[Connection | None] = ContextVar("ambient_transaction", default=None)
"""The transaction a journaled step runs in (``bot.store.journal.Journal.step``): while it is set, ``begin``
and ``session_scope`` join it instead of opening their own, so the step's record commits with its effects."""


def _ambient(engine: Engine) -> Connection | None:
    connection = AMBIENT.get()
    return connection if connection is not None and connection.engine is engine else None


@contextmanager
def begin(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that commits on success (``engine.begin()``), or the ambient one."""
    ambient = _ambient(engine)
    if ambient is not None:
        yield ambient
        return
    with engine.begin() as connection:
        yield connection


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error (within the ambient transaction,
    if there is one: then it only flushes, and an error rolls the whole step back)."""
    ambient = _ambient(engine)
    if ambient is not None:
        with Session(bind=ambient, expire_on_commit=False, join_transaction_mode="rollback_only") as session:
            yield session
            session.flush()
        return
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
