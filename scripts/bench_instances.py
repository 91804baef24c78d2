"""One webhook instance against two, on one PostgreSQL database, side by side (issue 17 §5).

    python scripts/bench_instances.py [--users 40] [--per-user 5] [--connections 40] [--repeat 2]

Each round starts ``--instances`` processes of ``python -m bot run --webhook`` (1, then 2) on a fresh schema
of the PostgreSQL server (``TEST_POSTGRES_URL``, default the local ``test`` database), behind a round-robin
proxy; the stand-in Bot API (``tests/botapi.py``) posts updates to the proxy with ``--connections`` posts in
flight, as Telegram does with ``max_connections``. After a warm-up (every user's ``/start``), all questions are
pushed at once; the clock stops when the journal has every one of them finished. Reported: updates per
second, and the CPU seconds per update of the bot processes (together) and of this process (the stand-in,
the proxy and the simulated users). Rounds are interleaved (``--repeat``); medians are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlmodel import col  # noqa: E402

from bot.store.models import Work  # noqa: E402
from tests.botapi import TOKEN, BotApiServer  # noqa: E402
from tests.dbs import postgres_engine  # noqa: E402
from tests.test_e2e_crash import EN_QUESTIONS  # noqa: E402
from tests.test_e2e_instances import SECRET, Instance, RoundRobin, free_port  # noqa: E402

QUESTIONS = EN_QUESTIONS[:7]
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process *pid* so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def finished(engine: sa.engine.Engine) -> int:
    with engine.connect() as connection:
        query = sa.select(sa.func.count()).select_from(Work)
        query = query.where(col(Work.kind) == "update", col(Work.done_at).is_not(None))
        return int(connection.execute(query).scalar_one())


async def wait_finished(engine: sa.engine.Engine, count: int, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while finished(engine) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {finished(engine)} of {count} updates finished within {timeout}s")
        await asyncio.sleep(0.02)


async def one_round(instances: int, users: int, per_user: int, connections: int) -> dict[str, float]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-instances-"))
    with postgres_engine() as engine:
        botapi = BotApiServer()
        botapi.webhook_connections = connections
        await botapi.start()
        proxy_port = free_port()
        own = ("HELPDESK_", "TELEGRAM_", "DATABASE_", "LOG_", "METRICS_")
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith(own)}
        env.update(
            PYTHONPATH=str(ROOT),
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL=botapi.base_url,
            DATABASE_URL=engine.url.render_as_string(hide_password=False),
            TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{proxy_port}/telegram",
            TELEGRAM_WEBHOOK_SECRET=SECRET,
            TELEGRAM_WEBHOOK_MAX_CONNECTIONS=str(connections),
            HELPDESK_CACHE_DIR=str(ROOT / ".cache"),
            HELPDESK_HOURS="always",
            HELPDESK_ALERT_SECONDS="0",
            TELEGRAM_RATE_LIMIT="100000",
            LOG_LEVEL="WARNING",
        )
        bots = [Instance(n, workdir, env) for n in range(1, instances + 1)]
        proxy = RoundRobin([b.port for b in bots])
        await proxy.start(proxy_port)
        await asyncio.gather(*(b.start() for b in bots))
        try:
            while len([c for c in botapi.calls if c.method.lower() == "setwebhook"]) < instances:
                await asyncio.sleep(0.05)
            people = range(20_001, 20_001 + users)
            for user in people:
                await botapi.push_message(user, "/start", language_code="en")
            await wait_finished(engine, users)
            pids = [b.process.pid for b in bots if b.process is not None]
            bot_cpu, my_cpu = sum(map(cpu_seconds, pids)), own_cpu()
            began = time.perf_counter()
            for n in range(per_user):
                for user in people:
                    await botapi.push_message(user, QUESTIONS[(user + n) % len(QUESTIONS)], language_code="en")
            await wait_finished(engine, users * (per_user + 1))
            elapsed = time.perf_counter() - began
            updates = users * per_user
            return {
                "updates/s": updates / elapsed,
                "bot cpu ms/update": 1000 * (sum(map(cpu_seconds, pids)) - bot_cpu) / updates,
                "harness cpu ms/update": 1000 * (own_cpu() - my_cpu) / updates,
                "seconds": elapsed,
            }
        finally:
            await asyncio.gather(*(b.stop() for b in bots))
            await proxy.stop()
            await botapi.stop()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--per-user", type=int, default=5)
    parser.add_argument("--connections", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    results: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    for _ in range(args.repeat):
        for count in (1, 2):
            results[count].append(await one_round(count, args.users, args.per_user, args.connections))
    print(f"{args.users} users x {args.per_user} questions, {args.connections} webhook posts in flight, PostgreSQL")
    for count, rounds in results.items():
        medians = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
        runs = ", ".join(f"{r['updates/s']:.1f}" for r in rounds)
        print(
            f"  {count} instance(s): {medians['updates/s']:7.1f} updates/s   bot CPU "
            f"{medians['bot cpu ms/update']:5.2f} ms/update   harness CPU {medians['harness cpu ms/update']:5.2f} "
            f"ms/update   (runs: {runs})"
        )
    one = statistics.median(r["updates/s"] for r in results[1])
    two = statistics.median(r["updates/s"] for r in results[2])
    print(f"  two against one: {two / one:.2f}x   (this machine: {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
