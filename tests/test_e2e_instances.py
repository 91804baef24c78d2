"""Two bot processes on one PostgreSQL database behind a round-robin webhook proxy (issue 17 §5).

Both run as in production, ``python -m bot run --webhook``, against the stand-in Bot API (``tests/botapi.py``),
which posts each update to the webhook URL — a small aiohttp proxy here that sends the updates to the two
instances in turn — one at a time, until it is answered 200, as Telegram does. So a chat's consecutive
updates reach different instances.

- **Order per chat**: users fire several questions without waiting; each chat's replies must be, message for
  message, the replies a reference user got asking the same questions one at a time.
- **No duplicates**: every chat has exactly those messages; the journal has every work finished once.
- **Timers once**: users waiting in the live desk's queue longer than the wait are offered a ticket by the
  live-desk sweep, which both instances run every 0.2 s: each user gets exactly one offer.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.engine import Engine
from sqlmodel import col

from bot.store.models import Work
from tests.botapi import TOKEN, BotApiServer
from tests.dbs import postgres_engine
from tests.test_e2e_crash import EN_QUESTIONS

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parent.parent
SECRET = "two-instances-secret"
SUPERVISOR = 9001
REFERENCE = 5000
USERS = (5001, 5002, 5003, 5004, 5005)
WAITERS = (5101, 5102, 5103)
QUESTIONS = EN_QUESTIONS[:5]
READY_WAIT = 60.0
SETTLE_WAIT = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RoundRobin:
    """The load balancer: each POST goes to the next instance in turn (its answer passed back as is)."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.turn = itertools.cycle(range(len(ports)))
        self.sent: list[int] = [0] * len(ports)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0

    async def start(self, port: int) -> None:
        self._session = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_post("/telegram", self.forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self.port = port
        await web.TCPSite(self._runner, "127.0.0.1", port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        index = next(self.turn)
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith(("x-telegram", "content-type"))}
        try:
            async with self._session.post(
                f"http://127.0.0.1:{self.ports[index]}/telegram", data=body, headers=headers
            ) as response:
                self.sent[index] += 1
                return web.Response(status=response.status, body=await response.read())
        except aiohttp.ClientError:
            return web.Response(status=502)


class Instance:
    """One ``python -m bot run --webhook`` process."""

    def __init__(self, number: int, workdir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.env = {**env, "TELEGRAM_WEBHOOK_PORT": str(self.port)}
        self.log = workdir / f"instance{number}.log"
        self.process: asyncio.subprocess.Process | None = None
        self._file: IO[str] | None = None

    async def start(self) -> None:
        self._file = self.log.open("w", encoding="utf-8")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--webhook",
            cwd=self.log.parent,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._file,
            stderr=self._file,
        )

    async def healthy(self, session: aiohttp.ClientSession) -> bool:
        try:
            async with session.get(f"http://127.0.0.1:{self.port}/healthz") as response:
                return response.status == 200
        except aiohttp.ClientError:
            return False

    async def metrics(self, session: aiohttp.ClientSession) -> str:
        async with session.get(f"http://127.0.0.1:{self.port}/metrics") as response:
            return await response.text()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self._file is not None:
            self._file.close()

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def sample(exposition: str, name: str) -> float:
    """The value of metric sample *name* (with its labels) in a Prometheus exposition (0 when absent)."""
    for line in exposition.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0


@pytest.fixture
def database() -> Iterator[Engine]:
    with postgres_engine() as engine:
        yield engine


class Cluster:
    def __init__(self, botapi: BotApiServer, engine: Engine, instances: list[Instance], proxy: RoundRobin) -> None:
        self.botapi, self.engine, self.instances, self.proxy = botapi, engine, instances, proxy

    def unfinished(self) -> int:
        with self.engine.connect() as connection:
            query = (
                sa.select(sa.func.count()).select_from(Work).where(col(Work.done_at).is_(None), Work.kind == "update")
            )
            return int(connection.execute(query).scalar_one())

    async def settled(self) -> None:
        """Until every update pushed was answered 200 and every update work is finished."""
        await self.botapi.wait_delivered(SETTLE_WAIT)
        deadline = time.monotonic() + SETTLE_WAIT
        while self.unfinished():
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.unfinished()} update work(s) not finished:\n{self.logs()}")
            await asyncio.sleep(0.05)

    def logs(self) -> str:
        return "\n".join(f"--- instance {i} ---\n{inst.tail()}" for i, inst in enumerate(self.instances))

    def texts(self, chat: int) -> list[str]:
        return [m.text for m in self.botapi.messages(chat)]


@pytest.fixture
async def cluster(botapi: BotApiServer, database: Engine, tmp_path: Path) -> AsyncIterator[Cluster]:
    proxy_port = free_port()
    botapi.meet(SUPERVISOR, "en")  # a job at start-up may write to the supervisor (e.g. the calendar reminder)
    own = ("HELPDESK_", "TELEGRAM_", "DATABASE_", "LOG_", "METRICS_")
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(own)}
    env.update(
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=botapi.base_url,
        DATABASE_URL=database.url.render_as_string(hide_password=False),
        TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{proxy_port}/telegram",
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        HELPDESK_CACHE_DIR=str(ROOT / ".cache"),
        HELPDESK_SUPERVISORS=str(SUPERVISOR),
        HELPDESK_HOURS="always",
        HELPDESK_SWEEP_SECONDS="0.2",  # both instances sweep the live desk's timers five times a second
        HELPDESK_QUEUE_WAIT_MINUTES="0.05",  # three seconds in the queue: a ticket is offered
        HELPDESK_ALERT_SECONDS="0",
        HELPDESK_CALENDAR_REMINDERS="false",  # the run checks its own timers, at whatever time it is
        TELEGRAM_RATE_LIMIT="1000",
        LOG_LEVEL="INFO",
    )
    instances = [Instance(n, tmp_path, env) for n in (1, 2)]
    proxy = RoundRobin([i.port for i in instances])
    await proxy.start(proxy_port)
    await asyncio.gather(*(i.start() for i in instances))
    cluster = Cluster(botapi, database, instances, proxy)
    try:
        async with aiohttp.ClientSession() as session:
            deadline = time.monotonic() + READY_WAIT
            while not all([await i.healthy(session) for i in instances]) or botapi.webhook is None:
                for instance in instances:
                    if instance.process is not None and instance.process.returncode is not None:
                        raise AssertionError(f"an instance exited at start-up:\n{cluster.logs()}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"the instances did not start within {READY_WAIT}s:\n{cluster.logs()}")
                await asyncio.sleep(0.1)
        yield cluster
    finally:
        await asyncio.gather(*(i.stop() for i in instances))
        await proxy.stop()


async def test_two_instances_keep_each_chats_order_send_nothing_twice_and_fire_timers_once(cluster: Cluster) -> None:
    botapi = cluster.botapi
    everyone = (SUPERVISOR, REFERENCE, *USERS, *WAITERS)
    for user in everyone:  # first contact (welcome) out of the way
        await botapi.push_message(user, "/start", language_code="en")
    await cluster.settled()
    for user in everyone:
        botapi.mark(user)
    start = {user: len(botapi.messages(user)) for user in everyone}

    # the reference: each question alone, its replies recorded
    replies: dict[str, list[str]] = {}
    for question in QUESTIONS:
        before = len(cluster.texts(REFERENCE))
        await botapi.push_message(REFERENCE, question, language_code="en")
        await cluster.settled()
        replies[question] = cluster.texts(REFERENCE)[before:]
        assert replies[question], f"no reply to {question!r}"

    # each user fires every question (in an order of their own) without waiting; consecutive updates of a chat
    # reach the two instances in turn (the stand-in posts in update_id order, the proxy alternates)
    orders = {user: QUESTIONS[n % len(QUESTIONS) :] + QUESTIONS[: n % len(QUESTIONS)] for n, user in enumerate(USERS)}
    for user in USERS:
        for question in orders[user]:
            await botapi.push_message(user, question, language_code="en")
    for round_ in range(len(QUESTIONS)):  # and interleaved across chats too (an odd number of users)
        for user in USERS:
            await botapi.push_message(user, orders[user][(round_ + 2) % len(QUESTIONS)], language_code="en")
    await cluster.settled()
    for user in USERS:
        expected = [text for q in orders[user] for text in replies[q]]
        expected += [text for r in range(len(QUESTIONS)) for text in replies[orders[user][(r + 2) % len(QUESTIONS)]]]
        assert cluster.texts(user)[start[user] :] == expected, f"chat {user}: replies out of order or repeated"

    # timers once: both instances sweep; each waiting user gets one offer
    for user in WAITERS:
        await botapi.push_message(user, "/human", language_code="en")
    await cluster.settled()
    for user in WAITERS:
        await botapi.wait_for(user, lambda m: any(d.startswith("hm:") for d in m.data), timeout=SETTLE_WAIT)
    await asyncio.sleep(1.5)  # fifteen more sweeps of each instance: time for a second offer, were there one
    for user in WAITERS:
        offers = [m for m in botapi.messages(user) if any(d.startswith("hm:") for d in m.data)]
        assert len(offers) == 1, f"user {user} got {len(offers)} offers"

    # both instances handled updates; the sweeps ran on one only (it holds the lease), the other skipped them
    assert all(cluster.proxy.sent), cluster.proxy.sent
    runs = []
    async with aiohttp.ClientSession() as session:
        for instance in cluster.instances:
            text = await instance.metrics(session)
            assert sample(text, 'helpdesk_works_total{kind="update",outcome="done"}') > 0
            runs.append(
                (
                    sample(text, 'helpdesk_job_runs_total{job="live-desk-timers",outcome="run"}'),
                    sample(text, 'helpdesk_job_runs_total{job="live-desk-timers",outcome="skipped"}'),
                )
            )
    (ran1, skipped1), (ran2, skipped2) = runs
    assert (ran1 > 0 and skipped1 == 0 and ran2 == 0 and skipped2 > 0) or (
        ran2 > 0 and skipped2 == 0 and ran1 == 0 and skipped1 > 0
    ), runs
    assert cluster.unfinished() == 0
    assert botapi.errors == [], botapi.errors
    for instance in cluster.instances:
        assert " ERROR " not in instance.log.read_text(encoding="utf-8"), instance.tail()
