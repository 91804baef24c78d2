"""/stats for supervisors: the figures of a period in the reader's language, and its charts on a button.

The core is ``bot.desk.reports`` (figures by SQL, the text, the charts); everything here is refused to anyone
but a supervisor, in the core (``Reports.stats``, ``Reports.charts``) and up front (``require_staff``). Both
are read off the event loop (``handlers.reads``): a year's figures take a while on a large database; the charts'
images are not kept in the work journal.
"""

from __future__ import annotations

import functools

from telegram import Bot, InputFile, Message, Update
from telegram.constants import ParseMode
from telegram.error import Forbidden

from bot.desk.reports.service import BadPeriod, Chart, read_period
from bot.desk.reports.text import USAGE, stats_text
from bot.errors import NotAllowed
from handlers import callback_data as cd
from handlers.callback_data import Button
from handlers.common import answer_query, drop_keyboard, expired, reply_text, tr
from handlers.context import HelpdeskContext, core
from handlers.durable import sent
from handlers.reads import read, read_step
from handlers.render import keyboard
from handlers.staff import require_staff


async def send_upload(
    bot: Bot, chat_id: int, name: str, content: bytes, photo: bool, caption_html: str = ""
) -> Message:
    """Send *content* made here (a chart, a workbook) as a photo or a document: a journaled step, as every
    send (``handlers.durable.sent``)."""
    upload = InputFile(content, filename=name)
    method = bot.send_photo if photo else bot.send_document
    call = functools.partial(method, chat_id, upload, caption=caption_html or None, parse_mode=ParseMode.HTML)
    message: Message = await sent(bot, chat_id, call)
    return message


async def stats_command(update: Update, context: HelpdeskContext) -> None:
    """/stats [today|week|month|YYYY-MM|FROM TO]: every figure of the period, and a Charts button."""
    user, member = await require_staff(update, context, supervisor=True)
    if member is None:
        return
    _ = tr(user.lang).gettext
    words = " ".join(context.args or [])
    try:
        figures = await read_step(context, context.services.reports.stats, user.id, words, context.now())
    except BadPeriod:
        await reply_text(update, context, _(USAGE))
        return
    markup = keyboard([[(_("📊 Charts"), cd.make(Button.STATS_CHARTS, figures.period.token))]])
    await reply_text(update, context, stats_text(figures, user.lang, context.services.kb), markup)


async def charts_button(update: Update, context: HelpdeskContext) -> None:
    """The Charts button under /stats: three charts of its period, as photos."""
    user, member = await require_staff(update, context, supervisor=True)
    if member is None:
        return
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    if data is None or len(data.args) != 1:
        await expired(update, user.lang)
        return
    try:
        read_period(data.args[0], context.now())
    except BadPeriod:
        await expired(update, user.lang)
        return
    if not await drop_keyboard(update):  # the button was taken already: a double tap sends the charts once
        await answer_query(update)
        return
    try:
        charts: list[Chart] = await read(context, context.services.reports.charts, user.id, data.args[0], context.now())
    except (BadPeriod, NotAllowed):
        await expired(update, user.lang)
        return
    await answer_query(update)
    chat = update.effective_chat
    assert chat is not None
    try:
        for chart in charts:
            await send_upload(context.bot, chat.id, chart.name, chart.png, photo=True)
    except Forbidden:
        await core(context, context.helpdesk.mark_blocked, user.id, context.now())
