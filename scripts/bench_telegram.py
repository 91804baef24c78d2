"""Throughput of the Telegram front end against a bare python-telegram-bot echo bot, on the same stand-in server.

    python scripts/bench_telegram.py [--users 200] [--per-user 10] [--rate-limit 10000] [--skip-startup]

Both bots run long polling against the stand-in Bot API (``tests/botapi.py``) on loopback; the server
and its simulated users run in a process of their own, so the bot's process does only the bot's work.
All questions are pushed at once (``--per-user`` from each of ``--users`` users, taken from
``knowledge/training/questions-extra.jsonl``); the clock stops when every question has had its reply. Reported:
updates per second for each bot, our ratio to the echo bot, and our reply latency (push → reply
recorded by the server) p50/p99; first, the start-up time of ``python -m bot run`` to its first answer.

Our bot runs exactly as in production (handlers, database on a fresh SQLite file or, with
``--database-url``, a fresh schema on that PostgreSQL server; per-chat ordering,
AIORateLimiter), except that the overall send rate is raised with ``--rate-limit`` so that Telegram's
30 messages/s is not what is measured; ``--rate-limit 30`` shows the production throttle instead.
The echo bot is the bare library: ``ApplicationBuilder`` defaults and one MessageHandler, on asyncio's
own event loop. A third bot, the echo bot with the helpdesk's transport and event loop, separates that
set-up from our own work. ``--loop asyncio`` runs our bots on asyncio's loop instead of the production
one (uvloop). Runs are interleaved (``--repeat``) and medians reported, since this machine's speed drifts;
the ratio is the median of each round's helpdesk / bare echo. Each run also reports the CPU time its
process spent per update: the bot's, and the stand-in server's (with its simulated users).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update  # noqa: E402
from telegram.ext import (  # noqa: E402
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.answering.knowledge import load_knowledge  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.services import build_services  # noqa: E402
from bot.store.db import normalise_url  # noqa: E402
from handlers.app import PerChatUpdateProcessor, build_application, new_event_loop, settle  # noqa: E402
from handlers.context import BotData, HelpdeskContext, core  # noqa: E402
from handlers.durable import chat_of  # noqa: E402
from handlers.transport import AiohttpRequest  # noqa: E402
from tests.botapi import TOKEN, BotApiServer  # noqa: E402

AnyApp = Application[Any, Any, Any, Any, Any, Any]
ECHO_MARKUP = InlineKeyboardMarkup([[InlineKeyboardButton("👍", callback_data="fb:1:1")]])
"""The keyboard the echo bots with our transport send, as an answer has one."""


class TimedServer(BotApiServer):
    """The stand-in server, also noting when each bot message arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: defaultdict[int, list[float]] = defaultdict(list)
        self.expected = 0
        self.done = asyncio.Event()
        self.received = 0

    async def _record(
        self, stored: Any, kind: str, parse_mode: str | None, raw: str | None, from_chat_id: int | None = None
    ) -> None:
        self.arrivals[stored.chat_id].append(time.perf_counter())
        self.received += 1
        await super()._record(stored, kind, parse_mode, raw, from_chat_id)
        if self.received >= self.expected:
            self.done.set()


def questions(count: int) -> list[str]:
    lines = (ROOT / "knowledge" / "training" / "questions-extra.jsonl").read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["q"] for line in lines if line.strip()]
    return [texts[i % len(texts)] for i in range(count)]


async def _load(server: TimedServer, users: int, per_user: int) -> dict[str, float]:
    """Push every question at once and wait for every reply; timings as seen by the server."""
    texts = questions(users * per_user)
    server.expected = len(texts)
    pushed: defaultdict[int, list[float]] = defaultdict(list)
    start = time.perf_counter()
    for index, question in enumerate(texts):
        user = 10_000 + index % users
        pushed[user].append(time.perf_counter())
        await server.push_message(user, question, language_code="en", first_name="Bench")
    await asyncio.wait_for(server.done.wait(), 600)
    elapsed = time.perf_counter() - start
    latencies = sorted(
        (arrived - sent) * 1000
        for user, sent_times in pushed.items()
        for sent, arrived in zip(sent_times, server.arrivals[user], strict=False)
    )
    return {
        "updates": len(texts),
        "seconds": elapsed,
        "rate": len(texts) / elapsed,
        "p50": statistics.median(latencies),
        "p99": latencies[int(0.99 * (len(latencies) - 1))],
        "errors": float(len([e for e in server.errors if e.error_code != 429])),
    }


def _serve(conn: Any, users: int, per_user: int) -> None:
    """The stand-in server and the users, in a process of their own (so the bot's process is the bot's alone)."""

    async def main() -> None:
        server = TimedServer()
        await server.start()
        conn.send(server.base_url)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # the bot is polling
        cpu = time.process_time()
        result = await _load(server, users, per_user)
        result["server_cpu_ms"] = (time.process_time() - cpu) * 1000 / result["updates"]
        conn.send(result)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # the bot has stopped
        await server.stop()

    asyncio.run(main())


async def run(make_app: Callable[[str], Awaitable[AnyApp]], users: int, per_user: int) -> dict[str, float]:
    """One bot against the stand-in server running in another process."""
    parent, child = multiprocessing.get_context("spawn").Pipe()
    process = multiprocessing.get_context("spawn").Process(target=_serve, args=(child, users, per_user))
    process.start()
    loop = asyncio.get_running_loop()
    base_url = await loop.run_in_executor(None, parent.recv)
    app = await make_app(base_url)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    cpu = time.process_time()
    parent.send("go")
    result: dict[str, float] = await loop.run_in_executor(None, parent.recv)
    result["cpu_ms"] = (time.process_time() - cpu) * 1000 / result["updates"]
    await app.updater.stop()
    await app.stop()
    await app.shutdown()
    parent.send("done")
    await loop.run_in_executor(None, process.join)
    return result


async def echo_app(base_url: str) -> AnyApp:
    async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(update.effective_message.text or "")

    app = ApplicationBuilder().token(TOKEN).base_url(base_url).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    return app


class InOrder:
    """Per-chat order as ``UpdateDesk.handle`` keeps it, without the journal (the helpdesk's own work)."""

    def __init__(self) -> None:
        self.locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def handle(self, update: object, body: Awaitable[Any]) -> None:
        async with self.locks[chat_of(update)]:
            await body

    def flush(self) -> None:
        pass


def transport_app(base_url: str, on_text: Callable[[Update, HelpdeskContext], Awaitable[None]]) -> AnyApp:
    """An application set up as the helpdesk's (rate limiter, per-chat ordering, aiohttp transport, its context
    types) with one handler, *on_text*, for text messages: the echo bots that measure our set-up."""
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(base_url)
        .context_types(ContextTypes(context=HelpdeskContext, bot_data=BotData))
        .rate_limiter(AIORateLimiter(overall_max_rate=10_000, overall_time_period=1))
        .concurrent_updates(PerChatUpdateProcessor(InOrder(), 16))  # type: ignore[arg-type]
        .request(AiohttpRequest(connection_pool_size=16))
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, on_text))
    return app


async def echo_like_helpdesk(base_url: str) -> AnyApp:
    """The echo bot with the helpdesk's transport: rate limiter, per-chat ordering, HTML with a keyboard,
    a call through ``core()`` as on SQLite. What is left between this and the helpdesk is our own work."""

    async def echo(update: Update, context: HelpdeskContext) -> None:
        assert update.effective_message is not None
        text = await core(context, str, update.effective_message.text or "")  # no workers: as for SQLite
        await context.bot.send_message(
            update.effective_message.chat_id, f"<b>echo</b> {text}", parse_mode="HTML", reply_markup=ECHO_MARKUP
        )

    return transport_app(base_url, echo)


SCHEMAS: list[tuple[str, str]] = []
"""PostgreSQL schemas made for runs (``--database-url``), dropped at the end."""


def drop_schemas() -> None:
    for database_url, schema in SCHEMAS:
        admin = create_engine(normalise_url(database_url))
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def fresh_schema(database_url: str) -> str:
    """A new, empty schema on the server of *database_url* (dropped at the end: ``SCHEMAS``); the URL that uses it."""
    schema = f"bench_{time.time_ns()}"
    admin = create_engine(normalise_url(database_url))
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    SCHEMAS.append((database_url, schema))
    separator = "&" if "?" in database_url else "?"
    return f"{database_url}{separator}options=-csearch_path%3D{schema}"


def helpdesk_app(rate_limit: float, folder: Path, database_url: str | None) -> Callable[[str], Awaitable[AnyApp]]:
    async def make(base_url: str) -> AnyApp:
        # a fresh schema on that server, or a fresh SQLite file, for each run
        url = fresh_schema(database_url) if database_url else f"sqlite:///{folder}/bench-{time.time_ns()}.sqlite3"
        settings = Settings(
            telegram_bot_token=TOKEN,
            telegram_api_url=base_url,  # type: ignore[call-arg]
            database_url=url,
            telegram_rate_limit=rate_limit,
            _env_file=None,
        )
        services = build_services(settings, load_knowledge(settings.helpdesk_kb_dir, settings.helpdesk_profile))
        app = build_application(services, clock=lambda: datetime.now(UTC))
        settle()  # as `bot run` does after start-up
        return app

    return make


def report(name: str, r: dict[str, float]) -> None:
    print(
        f"  {name:32} {int(r['updates'])} updates in {r['seconds']:.2f} s = {r['rate']:.0f} updates/s; "
        f"reply latency p50 {r['p50']:.0f} ms, p99 {r['p99']:.0f} ms; bot CPU {r['cpu_ms']:.2f} ms/update, "
        f"server {r['server_cpu_ms']:.2f}; "
        f"refused calls {int(r['errors'])}"
    )


async def startup(folder: Path, cache_dir: Path | None = None) -> float:
    """Seconds from launching ``python -m bot run`` to the first answer arriving at the stand-in server
    (with *cache_dir*, an empty classifier cache: the cold start that trains it)."""
    import os
    import signal

    server = TimedServer()
    server.expected = 1
    await server.start()
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": server.base_url,
        "DATABASE_URL": f"sqlite:///{folder}/startup.sqlite3",
        "LOG_LEVEL": "WARNING",
        **({"HELPDESK_CACHE_DIR": str(cache_dir)} if cache_dir is not None else {}),
    }
    begin = time.perf_counter()
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=ROOT, env=env)
    await server.push_message(42, "how long is the work permit valid", language_code="en", first_name="First")
    await asyncio.wait_for(server.done.wait(), 60)
    elapsed = time.perf_counter() - begin
    process.send_signal(signal.SIGINT)
    await process.wait()
    await server.stop()
    return elapsed


Runner = Callable[[str], Awaitable[AnyApp]]


def run_on(loop: asyncio.AbstractEventLoop, make_app: Runner, args: argparse.Namespace) -> dict[str, float]:
    """One run of one bot, on an event loop of its own (the bare echo bot's is asyncio's default)."""
    try:
        return loop.run_until_complete(run(make_app, args.users, args.per_user))
    finally:
        loop.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--per-user", type=int, default=10)
    parser.add_argument("--rate-limit", type=float, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs of each bot; medians are reported")
    parser.add_argument("--loop", choices=["production", "asyncio"], default="production")
    parser.add_argument("--skip-echo", action="store_true")
    parser.add_argument("--database-url", help="PostgreSQL URL: the helpdesk on a fresh schema there (default SQLite)")
    parser.add_argument("--skip-startup", action="store_true", help="only the throughput rounds, not the start-up runs")
    args = parser.parse_args()
    ours_loop = new_event_loop if args.loop == "production" else asyncio.new_event_loop
    bots: list[tuple[str, Runner, Callable[[], asyncio.AbstractEventLoop]]] = []
    if not args.skip_echo:
        bots.append(("bare echo bot", echo_app, asyncio.new_event_loop))
        bots.append(("echo, helpdesk's transport", echo_like_helpdesk, ours_loop))
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_startup:
            seconds = asyncio.run(startup(Path(tmp)))
            print(f"  start-up of `python -m bot run` to the first answer: {seconds:.2f} s (target ≤ 2 s)")
            cold = asyncio.run(startup(Path(tmp), Path(tmp) / "empty-cache"))
            print(f"  the same with an empty classifier cache (it trains): {cold:.2f} s (target ≤ 6 s)")
        helpdesk = helpdesk_app(args.rate_limit, Path(tmp), args.database_url)
        bots.append((f"helpdesk (rate limit {args.rate_limit:g}/s)", helpdesk, ours_loop))
        print(
            f"Telegram front end: {args.users} users × {args.per_user} questions, pushed at once; "
            f"{args.repeat} interleaved runs, medians; our bots on the {args.loop} event loop"
        )
        results: dict[str, list[dict[str, float]]] = {name: [] for name, _make, _loop in bots}
        try:
            for _round in range(args.repeat):
                for name, make, loop in bots:
                    results[name].append(run_on(loop(), make, args))
        finally:
            drop_schemas()
    for name, runs in results.items():
        report(name, {key: statistics.median(r[key] for r in runs) for key in runs[0]})
    ours = results[bots[-1][0]]
    if not args.skip_echo:
        ratios = [o["rate"] / e["rate"] for o, e in zip(ours, results["bare echo bot"], strict=True)]
        print(
            f"  ratio helpdesk / bare echo: {statistics.median(ratios):.2f} "
            f"(each run: {', '.join(f'{r:.2f}' for r in ratios)}; target ≥ 0.70)"
        )
    return 0 if all(r["errors"] == 0 for r in ours) else 1


if __name__ == "__main__":
    sys.exit(main())
