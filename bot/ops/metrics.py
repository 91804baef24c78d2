"""Prometheus metrics (``prometheus-client``): served at ``/metrics`` on the webhook port, or on ``METRICS_PORT``
in polling mode (``handlers.webhook``).

Counters count what this process did since it started (Prometheus sums instances and handles restarts);
the backlog gauges are read from the database at each scrape, so every instance reports the same shared
numbers (take ``max`` across instances, not ``sum``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine
from sqlmodel import col

from bot.store.models import HelpRequest, Work
from bot.store.statuses import HelpRequestStatus

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry()
"""This process's counters (not the library's global registry: tests build several applications)."""

WORKS = Counter(
    "helpdesk_works_total",
    "Works handled: updates from Telegram and scheduled job runs, by kind and outcome (done, deferred).",
    ("kind", "outcome"),
    registry=REGISTRY,
)
UPDATES_RECEIVED = Counter(
    "helpdesk_updates_received_total",
    "Updates from Telegram by what became of them: admitted (new), duplicate (recorded already), skipped "
    "(unparsable), rejected (wrong secret token).",
    ("result",),
    registry=REGISTRY,
)
DECISIONS = Counter(
    "helpdesk_answer_decisions_total",
    "Replies to questions by the engine's decision: answer, clarify or fallback.",
    ("decision",),
    registry=REGISTRY,
)
SEND_FAILURES = Counter(
    "helpdesk_send_failures_total",
    "Bot API calls to a chat that failed: refused for good (blocked, chat not found) or failing for now "
    "(after the retries; the work is deferred).",
    ("kind",),
    registry=REGISTRY,
)
JOB_RUNS = Counter(
    "helpdesk_job_runs_total",
    "Several instances: scheduled job runs by job and outcome: run here (this instance holds the job's lease) or "
    "skipped (another instance holds it).",
    ("job", "outcome"),
    registry=REGISTRY,
)
UPDATE_QUEUE = Gauge(
    "helpdesk_update_queue_length",
    "Updates admitted by this process and waiting for a handler.",
    registry=REGISTRY,
)


def set_update_queue(size: Callable[[], float]) -> None:
    """Read the update queue's length at each scrape from *size*."""
    UPDATE_QUEUE.set_function(size)


class Backlog(Collector):
    """The shared numbers, read from the database at each scrape: the journal's unfinished and deferred
    works (messages owed), and the users waiting for a person in the live desk's queue."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        unfinished = GaugeMetricFamily(
            "helpdesk_journal_unfinished_works", "Works not finished (in flight, or deferred), all instances."
        )
        deferred = GaugeMetricFamily(
            "helpdesk_journal_deferred_works", "Works waiting to try a send again (Telegram failing for now)."
        )
        waiting = GaugeMetricFamily("helpdesk_live_queue_waiting", "Users waiting in the queue for a person.")
        up = GaugeMetricFamily("helpdesk_database_up", "1 if the database answered this scrape, else 0.")
        try:
            with self.engine.connect() as connection:
                open_works = sa.select(sa.func.count()).select_from(Work).where(col(Work.done_at).is_(None))
                total = connection.execute(open_works).scalar_one()
                later = connection.execute(open_works.where(col(Work.next_attempt_at).is_not(None))).scalar_one()
                queue = connection.execute(
                    sa.select(sa.func.count())
                    .select_from(HelpRequest)
                    .where(col(HelpRequest.status) == HelpRequestStatus.WAITING)
                ).scalar_one()
        except Exception as exc:
            log.warning("metrics: the database could not be read (%s)", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        unfinished.add_metric([], total)
        deferred.add_metric([], later)
        waiting.add_metric([], queue)
        up.add_metric([], 1)
        yield from (unfinished, deferred, waiting, up)


def exposition(engine: Engine | None) -> bytes:
    """The text exposition: this process's counters, then the shared backlog (if there is a database)."""
    text = generate_latest(REGISTRY)
    if engine is not None:
        shared = CollectorRegistry()
        shared.register(Backlog(engine))
        text += generate_latest(shared)
    return text


for _kind in ("update", "job"):
    for _outcome in ("done", "deferred"):
        WORKS.labels(_kind, _outcome)
for _result in ("admitted", "duplicate", "skipped", "rejected"):
    UPDATES_RECEIVED.labels(_result)
for _decision in ("answer", "clarify", "fallback"):
    DECISIONS.labels(_decision)
for _failure in ("refused", "deferred"):
    SEND_FAILURES.labels(_failure)
