"""Several instances on one database (``bot/store/leases.py``): job leases (two holders, expiry, renewal,
release), per-chat advisory locks across two instances, the shared queue of unfinished works in update_id
order, and a deferred job run claimed by one instance only."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from bot.store.db import make_engine
from bot.store.journal import JOB, Journal, NewWork, update_key
from bot.store.leases import ChatLocks, Leases, chats_due, claim_job_work, job_works_due, unfinished_updates
from tests.dbs import postgres_engine

NOW = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
TTL = timedelta(seconds=45)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        made = make_engine(f"sqlite:///{tmp_path}/leases.sqlite3")
        yield made
        made.dispose()
    else:
        with postgres_engine() as made:
            yield made


def test_one_holder_at_a_time_until_the_lease_expires(engine: Engine) -> None:
    leases = Leases(engine)
    assert leases.take("job:sweep", "a", NOW, TTL)
    assert not leases.take("job:sweep", "b", NOW + timedelta(seconds=10), TTL)  # a holds it
    assert leases.take("job:sweep", "a", NOW + timedelta(seconds=30), TTL)  # a renews: until +75 s
    assert not leases.take("job:sweep", "b", NOW + timedelta(seconds=70), TTL)
    assert leases.holder("job:sweep", NOW + timedelta(seconds=70)) == "a"
    assert leases.take("job:sweep", "b", NOW + timedelta(seconds=75), TTL)  # a stopped renewing: b takes over
    assert not leases.take("job:sweep", "a", NOW + timedelta(seconds=80), TTL)
    assert leases.holder("job:sweep", NOW + timedelta(seconds=80)) == "b"
    assert leases.take("job:other", "a", NOW, TTL)  # one lease per job


def test_a_released_lease_is_taken_at_once(engine: Engine) -> None:
    leases = Leases(engine)
    assert leases.take("job:sweep", "a", NOW, TTL) and leases.take("job:alerts", "a", NOW, TTL)
    assert leases.release("a") == 2
    assert leases.holder("job:sweep", NOW) is None
    assert leases.take("job:sweep", "b", NOW, TTL)


def test_a_chats_unfinished_works_are_read_in_update_id_order_whoever_admitted_them(engine: Engine) -> None:
    journal = Journal(engine)
    # admitted out of order (two instances), as created_at shows; update 9 is another chat's
    journal.admit([NewWork(update_key(12), chat_id=7, payload="{}")], NOW)
    journal.admit([NewWork(update_key(10), chat_id=7, payload="{}")], NOW + timedelta(seconds=1))
    journal.admit([NewWork(update_key(9), chat_id=8, payload="{}")], NOW)
    journal.admit([NewWork(update_key(11), chat_id=7, payload="{}")], NOW + timedelta(seconds=2))
    journal.finish([update_key(11)], NOW)
    assert [w.update_id for w in unfinished_updates(engine, 7)] == [10, 12]
    assert chats_due(engine, NOW + timedelta(seconds=30), timedelta(seconds=5)) == [7, 8]
    assert chats_due(engine, NOW, timedelta(seconds=5)) == []  # just admitted: their instances are on them


def test_a_deferred_job_run_is_claimed_by_one_instance(engine: Engine) -> None:
    journal = Journal(engine)
    journal.admit([NewWork("j:sweep:1", JOB, None, None, "sweep")], NOW)
    journal.defer("j:sweep:1", NOW + timedelta(seconds=30))
    assert job_works_due(engine, NOW, timedelta(minutes=10)) == []  # not due yet
    later = NOW + timedelta(seconds=31)
    seen_by_a = job_works_due(engine, later, timedelta(minutes=10))
    seen_by_b = job_works_due(engine, later, timedelta(minutes=10))
    assert [w.key for w in seen_by_a] == ["j:sweep:1"]
    assert claim_job_work(engine, seen_by_a[0], later, timedelta(minutes=10))
    assert not claim_job_work(engine, seen_by_b[0], later, timedelta(minutes=10))  # a has it
    assert job_works_due(engine, later, timedelta(minutes=10)) == []


@pytest.mark.postgres
def test_a_chats_lock_excludes_the_other_instance_until_released() -> None:
    with postgres_engine() as engine:
        other = create_engine(engine.url)  # a second instance: its own connections
        first, second = ChatLocks(engine), ChatLocks(other)
        try:
            assert first.try_lock(1001)
            assert not second.try_lock(1001)
            assert second.try_lock(1002)  # other chats are free
            first.unlock(1001)
            assert second.try_lock(1001)
            second.close()  # the instance dies: its connection closes, its locks go (when the server notices)
            for _ in range(200):
                if first.try_lock(1001):
                    break
                time.sleep(0.01)
            assert 1001 in first.held and first.try_lock(1002)
        finally:
            first.close()
            second.close()
            other.dispose()


def test_sqlite_has_no_chat_locks(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/one.sqlite3")
    with pytest.raises(ValueError, match="PostgreSQL"):
        ChatLocks(engine)
    engine.dispose()
