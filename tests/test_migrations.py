"""Schema migrations (``bot/store/migrations``, Alembic): they build exactly the models' schema, new databases
start at the newest, and a database made before migrations existed is taken up from the baseline."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from bot.answering.helpdesk import Helpdesk
from bot.answering.knowledge import KnowledgeBase
from bot.store.db import BASELINE, make_engine, migrate, migrations_config
from tests.dbs import postgres_engine

NOW = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
HEAD = ScriptDirectory.from_config(migrations_config()).get_current_head()


def version(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on an empty database (no tables, nothing migrated)."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path}/empty.sqlite3")
        yield engine
        engine.dispose()
    else:
        with postgres_engine() as made:  # make_engine created the tables: drop them for an empty schema
            SQLModel.metadata.drop_all(made)
            with made.begin() as connection:
                connection.execute(text("DROP TABLE alembic_version"))
            yield made


def test_the_migrations_build_exactly_the_models_schema(empty: Engine) -> None:
    """Fails when a model changes without a migration (write one: see README, "Schema migrations")."""
    config = migrations_config()
    with empty.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")  # every migration from nothing, not the create_all shortcut
    with empty.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []
    assert version(empty) == HEAD


def test_a_new_database_starts_at_the_newest_migration(empty: Engine) -> None:
    migrate(empty)
    assert version(empty) == HEAD
    assert set(SQLModel.metadata.tables) <= set(inspect(empty).get_table_names())
    migrate(empty)  # again: nothing to do
    assert version(empty) == HEAD


def test_a_database_from_before_migrations_is_taken_up_from_the_baseline(tmp_path: Path, kb: KnowledgeBase) -> None:
    url = f"sqlite:///{tmp_path}/old.sqlite3"
    old = create_engine(url)
    config = migrations_config()
    with old.begin() as connection:  # the schema of 2026-11-23, made as it was then: no version table
        config.attributes["connection"] = connection
        command.upgrade(config, BASELINE)
        connection.execute(text("DROP TABLE alembic_version"))
    Helpdesk(kb, old).meet(1001, "Alice", "en", NOW)
    with old.begin() as connection:  # a ticket filed then: its deadline was never provisional
        connection.execute(
            text(
                "INSERT INTO ticket (number, user_id, kind, status, description, lang, origin, created_at, "
                "updated_at, due_at) VALUES ('T2603-0001', 1001, 'enquiry', 'new', 'A question.', 'en', 'bot', "
                ":now, :now, :now)"
            ),
            {"now": NOW},
        )
    old.dispose()

    engine = make_engine(url)
    assert HEAD is not None and version(engine) == HEAD
    user = Helpdesk(kb, engine).user(1001)
    assert user is not None and user.name == "Alice"  # the data is still there
    with engine.connect() as connection:
        assert connection.execute(text("SELECT number, due_provisional FROM ticket")).all() == [("T2603-0001", False)]
    engine.dispose()
