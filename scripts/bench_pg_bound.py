"""The bound PostgreSQL sets on this machine: echo bots that do only the database work of an answered question.

    python scripts/bench_pg_bound.py [--database-url URL] [--repeat 3] [--users 200] [--per-user 10]

``scripts/bench_telegram.py`` compares the helpdesk with a bare echo bot. This benchmark asks how much of the
gap on PostgreSQL no change to the helpdesk's own code could close: between the bare echo bot (the baseline)
and bots that answer like the echo bot with the helpdesk's transport, doing in between exactly the database
work of an answered question and none of the helpdesk's logic:

- one transaction: the routing SELECT (``bot.arrival``'s own statement), the question log's INSERT and the
  journal's step row (``Journal.step``);
- after Telegram's answer, the sent message's journal row (``Journal.record_send``: one autocommit INSERT).

Those statements run through SQLAlchemy in three ways:

- ``threads``: psycopg on 4 threads (``DATABASE_WORKERS``), as the helpdesk runs them;
- ``psycopg async``: SQLAlchemy's asyncio extension with psycopg's async mode, on the event loop (the same
  synchronous code runs in a greenlet, as ``AsyncConnection.run_sync`` does: no thread hand-off);
- ``asyncpg``: the same with asyncpg.

The last two need ``pip install -e '.[bench]'`` (greenlet, asyncpg) and are skipped without them. Reported
per bot: updates per second, its ratio to the bare echo bot (median of the interleaved rounds) and the CPU
time the bot's process spent per update.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import statistics
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import sqlalchemy as sa  # noqa: E402
from bench_telegram import (  # noqa: E402
    ECHO_MARKUP,
    AnyApp,
    drop_schemas,
    echo_app,
    fresh_schema,
    report,
    run_on,
    transport_app,
)
from sqlalchemy.engine import Engine  # noqa: E402
from telegram import Update  # noqa: E402

from bot.arrival import _ROUTING  # noqa: E402
from bot.store.db import begin, make_engine, normalise_url  # noqa: E402
from bot.store.journal import Journal  # noqa: E402
from bot.store.models import QuestionLog, User  # noqa: E402
from handlers.app import new_event_loop  # noqa: E402
from handlers.context import HelpdeskContext, core  # noqa: E402

USERS_FROM = 10_000
"""The benchmark's users are 10,000 … (``bench_telegram._load``); they exist before the run (FK of the log)."""


def schema_with_users(database_url: str, users: int) -> str:
    """A new schema on the server, migrated, with the benchmark's users; its URL (search_path set)."""
    url = fresh_schema(database_url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    rows = [{"id": USERS_FROM + i, "display_name": "Bench", "created_at": now, "updated_at": now} for i in range(users)]
    with engine.begin() as connection:
        connection.execute(sa.insert(User), rows)
    engine.dispose()
    return url


def async_engine(url: str, driver: str) -> Engine:
    """The synchronous face of an asyncio engine on *url* (usable only inside ``greenlet_spawn``)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    if driver == "asyncpg":  # asyncpg takes the search path as a server setting, not as libpq's options
        parsed = sa.make_url(normalise_url(url))
        schema = parsed.query["options"].split("=", 1)[1]  # type: ignore[union-attr]
        plain = parsed.set(drivername="postgresql+asyncpg").difference_update_query(["options"])
        engine = create_async_engine(plain, pool_size=10, connect_args={"server_settings": {"search_path": schema}})
    else:
        engine = create_async_engine(normalise_url(url), pool_size=10)
    return engine.sync_engine


def database_echo(database_url: str, users: int, driver: str) -> Callable[[str], Awaitable[AnyApp]]:
    """The echo bot with the helpdesk's transport, doing an answered question's database work (module doc)."""

    async def make(base_url: str) -> AnyApp:
        url = schema_with_users(database_url, users)
        engine = make_engine(url) if driver == "threads" else async_engine(url, driver)
        journal = Journal(engine)
        log = sa.insert(QuestionLog)

        def answer_and_log(user_id: int, question: str, now: datetime) -> str:
            with begin(engine) as connection:  # joins the step's transaction
                params = {"user_id": user_id, "reply_to": None, "answered_since": now}
                connection.execute(_ROUTING, params).first()
                row = {"user_id": user_id, "text": question, "lang": "en", "decision": "answer", "created_at": now}
                connection.execute(log, row)
            return question

        async def run(context: HelpdeskContext, call: Callable[..., Any], *args: Any) -> Any:
            if driver == "threads":
                return await core(context, call, *args)  # on the core threads, as the helpdesk runs them
            from sqlalchemy.util import greenlet_spawn

            return await greenlet_spawn(call, *args)  # on the loop: the database's waits are awaited

        async def echo(update: Update, context: HelpdeskContext) -> None:
            message, user = update.effective_message, update.effective_user
            assert message is not None and user is not None
            now, key = datetime.now(UTC), f"u:{update.update_id}"
            question = await run(context, journal.step, key, 0, now, answer_and_log, user.id, message.text or "", now)
            await context.bot.send_message(
                message.chat_id, f"<b>echo</b> {question}", parse_mode="HTML", reply_markup=ECHO_MARKUP
            )
            await run(context, journal.record_send, key, 1, message.chat_id, now, b"")

        app = transport_app(base_url, echo)
        app.bot_data.use_workers(4 if driver == "threads" else 0)
        return app

    return make


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--per-user", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs of each bot; medians are reported")
    args = parser.parse_args()
    has_async = importlib.util.find_spec("greenlet") is not None
    drivers = ["threads"] + (["psycopg async"] if has_async else [])
    drivers += ["asyncpg"] if has_async and importlib.util.find_spec("asyncpg") is not None else []
    bots: list[tuple[str, Callable[[str], Awaitable[AnyApp]], Callable[[], asyncio.AbstractEventLoop]]] = [
        ("bare echo bot", echo_app, asyncio.new_event_loop)
    ]
    for driver in drivers:
        name = f"echo + question's writes, {driver}"
        bots.append((name, database_echo(args.database_url, args.users, driver.split()[0]), new_event_loop))
    print(
        f"PostgreSQL's bound: {args.users} users × {args.per_user} questions, pushed at once; "
        f"{args.repeat} interleaved runs, medians"
    )
    if len(drivers) < 3:
        print("  (psycopg async and asyncpg need `pip install -e '.[bench]'`: skipped)")
    results: dict[str, list[dict[str, float]]] = {name: [] for name, _make, _loop in bots}
    try:
        for _round in range(args.repeat):
            for name, make, loop in bots:
                results[name].append(run_on(loop(), make, args))
    finally:
        drop_schemas()
    echo = results["bare echo bot"]
    for name, runs in results.items():
        report(name, {key: statistics.median(r[key] for r in runs) for key in runs[0]})
        if runs is not echo:
            ratios = [o["rate"] / e["rate"] for o, e in zip(runs, echo, strict=True)]
            rounds = ", ".join(f"{r:.2f}" for r in ratios)
            print(f"    ratio to the bare echo bot: {statistics.median(ratios):.2f} (rounds {rounds})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
