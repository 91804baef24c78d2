"""The holiday calendar's scheduled work: recounting provisional deadlines at start-up, the weekly reminder."""

from __future__ import annotations

import logging

from handlers.context import HelpdeskContext, core
from handlers.notify import deliver

log = logging.getLogger(__name__)

UPKEEP_INTERVAL = 900.0
"""Seconds between checks for the weekly reminder (it goes out once a week, in office hours)."""


async def recount_deadlines_job(context: HelpdeskContext) -> None:
    """Once at start-up: provisional deadlines counted again on the calendar now in force."""
    changes, notices = await core(context, context.services.deadlines.recompute_deadlines, context.now())
    if changes:
        still = sum(change.provisional for change in changes)
        log.info(
            "deadlines counted again on the holiday calendar: %d changed, %d still provisional", len(changes), still
        )
    await deliver(context, notices)


async def calendar_upkeep_job(context: HelpdeskContext) -> None:
    """Tell supervisors, once a week, that a year's official holiday schedule is still missing."""
    await deliver(context, await core(context, context.services.upkeep.remind, context.now()))
