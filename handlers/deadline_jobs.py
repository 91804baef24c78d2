"""Deadline alerts and the morning digest on the JobQueue (``bot.desk.tickets.alerts`` decides; this sends).

Each run is a journaled work (``handlers.app.durable_job``): the decision and its record are one step, so a
crash between deciding and sending resumes the sending after the restart instead of deciding again.
"""

from __future__ import annotations

from handlers.context import HelpdeskContext, core
from handlers.notify import deliver

JOB = "deadline-alerts"


async def deadline_alerts_job(context: HelpdeskContext) -> None:
    """Send what is due (and what ``python -m bot jobs run-due`` recorded for the bot to send)."""
    await deliver(context, await core(context, context.services.alerts.take_due, context.now()))
