"""End to end under faults: Telegram fails a fifth of the bot's calls and the helpdesk still keeps every promise.

The acceptance benchmark ``scripts/bench_faults.py`` in small: simulated users ask questions, file tickets
through the buttons, get staff replies and hold live chats, all at once, while the stand-in answers 20 % of
the sending and editing calls with 429, 500 or 502. The bot retries once here (after 0.05 s), so works are
also deferred and resumed from the journal. Every answer, ticket number, relay and notice must be delivered
exactly once, in order, and nothing else. A stand-in that loses one message and delivers another twice
shows that the checks would see it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from scripts.bench_faults import USER_BASE, FaultServer, SpeedClock, fault_settings, run_faults
from tests.telegram_fixtures import Clock, HelpdeskFactory


class Sabotaged(FaultServer):
    """A stand-in that records the 3rd message to the users twice and swallows the 6th (answered as sent)."""

    def __init__(self) -> None:
        super().__init__()
        self.to_users = 0

    async def _record(
        self, stored: Any, kind: str, parse_mode: str | None, raw: str | None, from_chat_id: int | None = None
    ) -> None:
        if kind != "edit" and USER_BASE <= stored.chat_id < USER_BASE + 1000:
            self.to_users += 1
            if self.to_users == 6:
                return
            if self.to_users == 3:
                await super()._record(stored, kind, parse_mode, raw, from_chat_id)
        await super()._record(stored, kind, parse_mode, raw, from_chat_id)


@pytest.fixture
async def botapi(request: pytest.FixtureRequest) -> AsyncIterator[FaultServer]:
    """The stand-in (replacing the shared fixture's), with the waits the simulated people need."""
    server: FaultServer = getattr(request, "param", FaultServer)()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def clock() -> Clock:
    """The application's clock runs 30 times faster: a deferred work is resumed after a second or so."""
    return SpeedClock(speed=30)


async def test_every_promise_kept_when_a_fifth_of_the_calls_fail(helpdesk_factory: HelpdeskFactory) -> None:
    desk = await helpdesk_factory(**fault_settings(retry_delays=(0.05,)))
    figures = await run_faults(desk, users=8, actions=60, fault_rate=0.2, seed=7, timeout=30)
    report = "\n".join(figures.lines())
    assert sum(figures.by_kind.values()) == 60, report
    assert sum(figures.faults.values()) > 20 and figures.deferrals > 0, report  # retried, and deferred too
    assert (figures.lost, figures.late, figures.duplicated, figures.unexpected) == ([], [], [], []), report
    assert figures.out_of_order == [] and figures.database == [], report
    assert figures.unfinished == 0 and figures.resumed == figures.deferred_works, report
    assert figures.ok, report


@pytest.mark.parametrize("botapi", [Sabotaged], indirect=True)
async def test_a_lost_and_a_doubled_message_are_found(helpdesk_factory: HelpdeskFactory) -> None:
    desk = await helpdesk_factory(**fault_settings())
    figures = await run_faults(desk, users=2, actions=12, fault_rate=0.0, seed=7, timeout=2)
    report = "\n".join(figures.lines())
    assert len(figures.lost) == 1 and len(figures.aborted) == 1, report
    assert len(figures.duplicated) == 1 and figures.unexpected == [], report
    assert not figures.ok, report
