"""Alembic's environment: the helpdesk's tables (SQLModel metadata) on the connection ``bot.store.db.migrate``
hands over, or, from the command line, on the database named by ``DATABASE_URL``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import bot.store.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from bot.config import Settings
from bot.store.db import normalise_url


def run(connection: Connection) -> None:
    # Batch mode lets SQLite change columns and constraints (it copies the table); PostgreSQL alters in place.
    context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


given = context.config.attributes.get("connection")
if given is not None:
    run(given)
else:  # alembic -c bot/store/migrations/alembic.ini …
    engine = create_engine(normalise_url(Settings().database_url))
    with engine.begin() as connection:
        run(connection)
    engine.dispose()
