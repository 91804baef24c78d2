"""Benchmark of the live desk: many users ask for a person at once while operators race to claim them.

    python scripts/bench_live.py [--users 200] [--operators 10] [--database-url URL]

Every user asks at the same moment (one thread each); each operator thread repeatedly looks at the
queue and claims one of the first few waiting users (so operators collide on purpose), exchanges a
message, and ends the session. At the end every user must have been served exactly once and nobody
lost. Reports claim latency (p50/p99/max), lost races and the total wall time.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.answering.knowledge import load_knowledge  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.desk.live.shared import QueueStatus  # noqa: E402
from bot.errors import Conflict  # noqa: E402
from bot.services import build_services  # noqa: E402
from bot.store.models import HelpRequest, LiveSession  # noqa: E402
from bot.store.statuses import HelpRequestStatus, SessionOutcome, StaffRole  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_threads(target: Callable[[int], None], ids: list[int]) -> float:
    """Run *target* for every id in a thread of its own, all at once; the wall time in seconds."""
    start = time.perf_counter()
    threads = [threading.Thread(target=target, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--operators", type=int, default=10)
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary folder")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{tmp.name}/bench.sqlite3"
    settings = Settings(database_url=url, helpdesk_hours="always", _env_file=None)  # type: ignore[call-arg]
    services = build_services(settings, load_knowledge(settings.helpdesk_kb_dir, settings.helpdesk_profile))
    now = datetime.now(UTC)
    operators = [900_000 + i for i in range(args.operators)]
    users = [100_000 + i for i in range(args.users)]
    for op in operators:
        services.staff.add(op, StaffRole.OPERATOR, f"Operator {op}", now)
        services.live_queue.check_in(op, now)

    # --- everyone asks at once -----------------------------------------------------------------
    start_gate = threading.Barrier(len(users))
    request_errors: list[BaseException] = []

    def ask(user: int) -> None:
        try:
            start_gate.wait()
            result, _ = services.live_queue.request(user, "en", "applicant", datetime.now(UTC))
            assert isinstance(result, QueueStatus)
        except BaseException as exc:
            request_errors.append(exc)

    queued_s = run_threads(ask, users)

    # --- operators race for them -----------------------------------------------------------------
    claim_ms: list[float] = []
    conflicts = 0
    served: dict[int, list[int]] = {}
    lock = threading.Lock()
    claim_errors: list[BaseException] = []

    def work(op: int) -> None:
        nonlocal conflicts
        rng = random.Random(op)
        try:
            while True:
                waiting = services.live_queue.waiting()
                if not waiting:
                    return
                target = rng.choice(waiting[:3])  # several operators go for the same few users
                begin = time.perf_counter()
                try:
                    view, _ = services.live_queue.claim(op, target.request_id, datetime.now(UTC))
                except Conflict:
                    with lock:
                        conflicts += 1
                    continue
                finally:
                    elapsed = (time.perf_counter() - begin) * 1000
                    with lock:
                        claim_ms.append(elapsed)
                services.live_relay.operator_says(op, "Hello, how can I help?", datetime.now(UTC), session_id=view.id)
                services.live_relay.user_says(view.user_id, "Thanks, my question is answered.", datetime.now(UTC))
                services.live_sessions.end(op, SessionOutcome.RESOLVED, datetime.now(UTC), view.id)
                with lock:
                    served.setdefault(view.user_id, []).append(op)
        except BaseException as exc:
            claim_errors.append(exc)

    served_s = run_threads(work, operators)

    with Session(services.engine) as session:
        still_waiting = session.exec(
            select(func.count()).select_from(HelpRequest).where(HelpRequest.status == HelpRequestStatus.WAITING)
        ).one()
        sessions = session.exec(select(func.count()).select_from(LiveSession)).one()
    twice = [u for u, ops in served.items() if len(ops) > 1]
    lost = [u for u in users if u not in served]
    backend = url.split(":", 1)[0]
    print(f"live desk benchmark on {backend}: {args.users} users, {args.operators} operators")
    print(f"  all {args.users} queued in {queued_s:.2f} s ({len(request_errors)} errors)")
    print(
        f"  served in {served_s:.2f} s: {len(served)} users, {sessions} sessions, served twice {len(twice)}, "
        f"lost {len(lost)}, still waiting {still_waiting}, errors {len(claim_errors)}"
    )
    print(
        f"  claims: {len(claim_ms)} attempts, {conflicts} lost races; latency p50 {statistics.median(claim_ms):.1f} ms,"
        f" p99 {percentile(claim_ms, 0.99):.1f} ms, max {max(claim_ms):.1f} ms"
    )
    ok = not request_errors and not claim_errors and not twice and not lost and still_waiting == 0
    ok = ok and sessions == args.users
    if not ok:
        for exc in (request_errors + claim_errors)[:3]:
            print(f"  error: {exc!r}")
    print("  OK: every user served exactly once" if ok else "  FAILED")
    tmp.cleanup()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
