"""The monthly report on the JobQueue: last month's workbook to each supervisor, once (``bot.desk.reports.monthly``
decides and records; this builds the workbook and sends it as a document).

Each run is a journaled work (``handlers.app.durable_job``): the decision is one step, each workbook another
(the same bytes are sent again after a crash, not rebuilt), each document a send.
"""

from __future__ import annotations

import logging
from html import escape

from telegram.error import BadRequest, Forbidden

from bot.desk.reports.figures import Period
from bot.desk.reports.monthly import MonthlyReportDue
from handlers.common import tr
from handlers.context import HelpdeskContext, core
from handlers.stats import send_upload

log = logging.getLogger(__name__)
JOB = "monthly-report"


async def monthly_report_job(context: HelpdeskContext) -> None:
    """Send what is due (and what ``python -m bot jobs run-due`` recorded for the bot to send)."""
    monthly = context.services.reports.monthly
    if monthly is None:
        return
    due: list[MonthlyReportDue] = await core(context, monthly.take_due, context.now())
    books: dict[Period, bytes] = {}
    for item in due:
        period = item.period
        if period not in books:
            books[period] = await core(context, context.services.reports.workbook, period, context.now())
        user = await core(context, context.helpdesk.user, item.user_id)
        lang = user.lang if user is not None else "en"
        caption = (
            tr(lang)
            .gettext(
                "📊 Monthly report for {month} (Beijing time): the figures, and every ticket, rating, live chat and "
                "day's questions, in Chinese and English. /stats {month} shows the figures here."
            )
            .format(month=period.label)
        )
        try:
            await send_upload(
                context.bot,
                item.user_id,
                f"report-{period.label}.xlsx",
                books[period],
                photo=False,
                caption_html=escape(caption, quote=False),
            )
        except Forbidden:
            await core(context, context.helpdesk.mark_blocked, item.user_id, context.now())
        except BadRequest as exc:  # e.g. a supervisor who never started the bot
            log.warning("could not send the monthly report: %s", exc)
