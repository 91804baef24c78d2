"""Database engines for tests: SQLite files, and PostgreSQL in a throw-away schema.

PostgreSQL comes from TEST_POSTGRES_URL (default: the local server's ``test`` database). Where none
is reachable the tests that need it skip with the reason, unless REQUIRE_POSTGRES=1 (set by
``.ci/run``), which turns the skip into a failure so CI cannot skip them silently.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from bot.store.db import make_engine, normalise_url

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    return normalise_url(os.environ.get("TEST_POSTGRES_URL", DEFAULT_PG))


@contextmanager
def postgres_engine() -> Iterator[Engine]:
    """An engine on a fresh schema of the test PostgreSQL server, dropped afterwards."""
    url = postgres_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        admin = create_engine(url, connect_args={"connect_timeout": 3})
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL is required here but not reachable at {url}: {exc}")
        pytest.skip(f"no PostgreSQL reachable at {url} ({type(exc).__name__}); set TEST_POSTGRES_URL")
    separator = "&" if "?" in url else "?"
    engine = make_engine(f"{url}{separator}options=-csearch_path%3D{schema}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
