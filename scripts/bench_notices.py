"""A policy notice to many subscribers while the bot keeps answering questions (issue 16 §1).

    python scripts/bench_notices.py [--users 10000] [--askers 50] [--qps 5] [--rate-limit 30]

The helpdesk runs exactly as ``bot run`` sets it up (handlers, journal, AIORateLimiter at ``--rate-limit``
messages a second overall, uvloop) against the stand-in Bot API (``tests/botapi.py``), which runs with its
simulated users in a process of its own, as in ``scripts/bench_telegram.py``. ``--users`` subscribed HR contacts
(half English, half Chinese) are put in the database, a supervisor drafts and confirms a notice to them (core
calls, as the Send button makes), and the sending starts; meanwhile ``--askers`` other users ask questions, one
every ``1/--qps`` seconds in turn, until the last notice has arrived. Reported, as the server saw it: the send
rate (notices a second, first to last), each recipient's count of notices (must be exactly one), the report to
the supervisor, and the answer latency (question pushed → answer recorded) median and p95 during the send.

10,000 notices at Telegram's 30 a second take about 5.5 minutes; ``--users 1500`` shows the same rate in ~50 s.
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from telegram import Update  # noqa: E402

from bot.answering.knowledge import load_knowledge  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.desk.outreach.notices import Audience, NoticeText  # noqa: E402
from bot.services import build_services  # noqa: E402
from bot.store.models import User  # noqa: E402
from handlers import policy_notices  # noqa: E402
from handlers.app import build_application, new_event_loop, settle  # noqa: E402
from tests.botapi import TOKEN, BotApiServer  # noqa: E402

SUPERVISOR = 9_000_000
FIRST_RECIPIENT = 1_000_000
FIRST_ASKER = 5_000_000
TITLE = "Cancel permits within 10 working days"


class TimedServer(BotApiServer):
    """The stand-in server, noting when each bot message arrived and whether it was a notice."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: defaultdict[int, list[float]] = defaultdict(list)
        self.notices: defaultdict[int, int] = defaultdict(int)
        self.notice_times: list[float] = []
        self.report: str | None = None

    async def _record(
        self, stored: Any, kind: str, parse_mode: str | None, raw: str | None, from_chat_id: int | None = None
    ) -> None:
        now = time.perf_counter()
        text = stored.text or ""
        if text.startswith("📢 ") and stored.chat_id != SUPERVISOR:
            self.notices[stored.chat_id] += 1
            self.notice_times.append(now)
        elif stored.chat_id == SUPERVISOR and text.startswith("📢 Notice #"):
            self.report = text
        else:
            self.arrivals[stored.chat_id].append(now)
        await super()._record(stored, kind, parse_mode, raw, from_chat_id)


def questions(count: int) -> list[str]:
    lines = (ROOT / "knowledge" / "training" / "questions-extra.jsonl").read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["q"] for line in lines if line.strip()]
    return [texts[i % len(texts)] for i in range(count)]


def _serve(conn: Any, users: int, askers: int, qps: float) -> None:
    """The stand-in server and the users, in a process of their own."""

    async def main() -> None:
        server = TimedServer()
        await server.start()
        for index in range(users):
            server._user(FIRST_RECIPIENT + index, "HR", "zh-hans" if index % 2 else "en")
        for index in range(askers):
            server._user(FIRST_ASKER + index, "Asker", "en")
        server._user(SUPERVISOR, "Supervisor", "en")
        conn.send(server.base_url)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # the notice is confirmed
        start = time.perf_counter()
        texts = questions(100_000)
        pushed: defaultdict[int, list[float]] = defaultdict(list)
        asked = 0
        while len(server.notice_times) < users and time.perf_counter() - start < users / 5 + 120:
            user = FIRST_ASKER + asked % askers
            pushed[user].append(time.perf_counter())
            await server.push_message(user, texts[asked], language_code="en", first_name="Asker")
            asked += 1
            await asyncio.sleep(1 / qps)
        sent_for = time.perf_counter() - start
        await asyncio.sleep(5)  # the last answers and the report
        latencies = sorted(
            (arrived - sent) * 1000
            for user, times in pushed.items()
            for sent, arrived in zip(times, server.arrivals[user], strict=False)
        )
        answered = sum(min(len(times), len(server.arrivals[user])) for user, times in pushed.items())
        first, last = (server.notice_times[0], server.notice_times[-1]) if server.notice_times else (start, start)
        counts = [server.notices.get(FIRST_RECIPIENT + index, 0) for index in range(users)]
        conn.send(
            {
                "delivered": len(server.notice_times),
                "missing": sum(1 for c in counts if c == 0),
                "duplicated": sum(1 for c in counts if c > 1),
                "send_seconds": last - first,
                "rate": (len(server.notice_times) - 1) / (last - first) if last > first else 0.0,
                "until_last": sent_for,
                "asked": asked,
                "answered": answered,
                "p50": statistics.median(latencies) if latencies else float("nan"),
                "p95": latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan"),
                "max": latencies[-1] if latencies else float("nan"),
                "report": server.report,
                "errors": len([e for e in server.errors if e.error_code != 429]),
            }
        )
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # the bot has stopped
        await server.stop()

    asyncio.run(main())


def subscribers(engine: sa.engine.Engine, users: int, now: datetime) -> None:
    """*users* subscribed HR contacts, half English, half Chinese (as if each had sent /subscribe)."""
    rows = [
        {
            "id": FIRST_RECIPIENT + index,
            "display_name": "HR",
            "lang": "zh" if index % 2 else "en",
            "client_lang": "zh" if index % 2 else "en",
            "role": "employer",
            "subscribed": True,
            "blocked": False,
            "created_at": now,
            "updated_at": now,
        }
        for index in range(users)
    ]
    with engine.begin() as connection:
        connection.execute(sa.insert(User), rows)


async def bench(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    parent, child = multiprocessing.get_context("spawn").Pipe()
    process = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(child, args.users, args.askers, args.qps)
    )
    process.start()
    loop = asyncio.get_running_loop()
    base_url = await loop.run_in_executor(None, parent.recv)
    settings = Settings(  # type: ignore[call-arg]
        telegram_bot_token=TOKEN,  # type: ignore[arg-type]
        telegram_api_url=base_url,
        database_url=f"sqlite:///{folder}/bench-notices.sqlite3",
        telegram_rate_limit=args.rate_limit,
        helpdesk_hours="always",
        _env_file=None,
    )
    services = build_services(settings, load_knowledge(settings.helpdesk_kb_dir, settings.helpdesk_profile))
    now = datetime.now(UTC)
    services.staff.add(SUPERVISOR, "supervisor", "Wang Fang", now)
    subscribers(services.engine, args.users, now)
    app = build_application(services, clock=lambda: datetime.now(UTC))
    settle()
    await app.initialize()
    await app.start()
    assert app.updater is not None and app.job_queue is not None
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES)
    en = NoticeText(TITLE, "When an employee leaves, cancel their work permit within 10 working days.")
    zh = NoticeText("请在10个工作日内注销工作许可", "外籍员工离职后，请在10个工作日内办理工作许可注销。")
    draft = services.notices.draft(SUPERVISOR, en, zh, Audience.EMPLOYERS, "cancellation", now)
    confirmed = services.notices.confirm(SUPERVISOR, draft.id, datetime.now(UTC))  # what Send does
    app.job_queue.run_once(policy_notices.pump, when=0)
    parent.send("go")
    result: dict[str, Any] = await loop.run_in_executor(None, parent.recv)
    view = services.notices.get(SUPERVISOR, draft.id)
    result |= {"recipients": confirmed.recipients, "status": view.status, "db_sent": view.sent}
    await app.updater.stop()
    await app.stop()
    await app.shutdown()
    parent.send("done")
    await loop.run_in_executor(None, process.join)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=10_000, help="subscribers the notice goes to")
    parser.add_argument("--askers", type=int, default=50, help="other users asking questions meanwhile")
    parser.add_argument("--qps", type=float, default=5.0, help="questions a second during the send")
    parser.add_argument("--rate-limit", type=float, default=30.0, help="TELEGRAM_RATE_LIMIT (messages a second)")
    args = parser.parse_args()
    loop = new_event_loop()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            r = loop.run_until_complete(bench(args, Path(tmp)))
        finally:
            loop.close()
    print(
        f"Notice to {r['recipients']} subscribers at TELEGRAM_RATE_LIMIT={args.rate_limit:g}, "
        f"{args.qps:g} questions/s from {args.askers} other users meanwhile:"
    )
    print(
        f"  delivered {r['delivered']} in {r['send_seconds']:.1f} s = {r['rate']:.1f} notices/s "
        f"(missing {r['missing']}, duplicated {r['duplicated']}; status {r['status']}, {r['db_sent']} recorded sent)"
    )
    print(
        f"  questions answered during the send: {r['answered']} of {r['asked']}; "
        f"answer latency median {r['p50']:.0f} ms, p95 {r['p95']:.0f} ms, max {r['max']:.0f} ms"
    )
    print(f"  report to the supervisor: {r['report']!r}; refused calls: {r['errors']}")
    ok = r["missing"] == 0 and r["duplicated"] == 0 and r["status"] == "done"
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
