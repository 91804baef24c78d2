"""The monthly report on the JobQueue: last month's workbook to each recipient, once (``bot.desk.reports.monthly``
decides and records; this builds the workbook and sends it as a document).

Each run is a journaled work (``handlers.app.durable_job``): the decision is one step (what is owed: the month
and who gets it), each document a send. The workbook is built when it is sent, off the event loop and outside
the journal (``handlers.reads.read``): its bytes (close to a megabyte) are never stored, and no copy of the
month's personal data outlives an erasure on disk. A run handled again after a crash rebuilds it only if a
document is still to be sent (the sends already made are not made again).
"""

from __future__ import annotations

import logging
from html import escape

from telegram.error import BadRequest, Forbidden

from bot.desk.reports.figures import Period
from bot.desk.reports.monthly import MonthlyReportDue
from handlers.common import tr
from handlers.context import HelpdeskContext, core
from handlers.durable import CURRENT
from handlers.reads import read
from handlers.stats import send_upload

log = logging.getLogger(__name__)
JOB = "monthly-report"


def _next_step_done() -> bool:
    """Whether the run's next step (a document's send) was done before: handled again, it is not made again."""
    work = CURRENT.get()
    return work is not None and work.seq + 1 in work.recorded


async def monthly_report_job(context: HelpdeskContext) -> None:
    """Send what is due (and what ``python -m bot jobs run-due`` recorded for the bot to send)."""
    monthly = context.services.reports.monthly
    if monthly is None:
        return
    due: list[MonthlyReportDue] = await core(context, monthly.take_due, context.now())
    books: dict[Period, bytes] = {}
    for item in due:
        period = item.period
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
        book = books.get(period)
        if book is None and not _next_step_done():
            book = books[period] = await read(context, context.services.reports.workbook, period, context.now())
        try:
            await send_upload(
                context.bot,
                item.user_id,
                f"report-{period.label}.xlsx",
                book or b"",  # empty: sent before the crash, its recorded send stands (nothing is uploaded)
                photo=False,
                caption_html=escape(caption, quote=False),
            )
        except Forbidden:
            await core(context, context.helpdesk.mark_blocked, item.user_id, context.now())
        except BadRequest as exc:  # e.g. a supervisor who never started the bot
            log.warning("could not send the monthly report: %s", exc)
