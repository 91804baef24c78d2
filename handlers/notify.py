"""Delivering the core's notices (replies, closures, alerts) to people, in their language."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from html import escape

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden

from bot.answering.text import Lang
from bot.desk.ratings import LEVEL_LABELS
from bot.desk.tickets import Notice
from bot.i18n import translator
from handlers import callback_data as cd
from handlers.context import HelpdeskContext, core
from handlers.live_notices import render_live
from handlers.render import html_chunks, keyboard, rating_keyboard

log = logging.getLogger(__name__)


def _render(notice: Notice, lang: Lang) -> tuple[list[str], InlineKeyboardMarkup | None]:
    live = render_live(notice, lang)
    if live is not None:
        return live
    _ = translator(lang).gettext
    p = notice.params
    number = escape(str(p.get("number", "")), quote=False)
    if notice.kind == "ticket_reply":
        head = "<b>" + escape(_("Reply to your ticket {number}:").format(number=p["number"]), quote=False) + "</b>"
        text = str(p.get("text") or "")
        markup = keyboard(
            [[(_("Reply"), cd.make("mtm", p["ticket_id"])), (_("Close ticket"), cd.make("mtc", p["ticket_id"]))]]
        )
        return [head + "\n" + chunk for chunk in html_chunks(text)] if text else [head], markup
    if notice.kind == "ticket_closed":
        text = _(
            "Your ticket {number} is closed.\nResolution: {resolution}\n\nHow satisfied are you with how it was "
            "handled? (one rating per ticket)"
        ).format(number=p["number"], resolution=p["resolution"])
        return html_chunks(text), rating_keyboard(lang, "t", int(p["ticket_id"]))
    if notice.kind == "ticket_reopened_by_staff":
        return [
            escape(_("Your ticket {number} has been reopened by the helpdesk.").format(number=p["number"]), quote=False)
        ], None
    if notice.kind == "ticket_user_message":
        return [
            escape(
                _("New message from the user on ticket {number}. Open it: /t {number}").format(number=p["number"]),
                quote=False,
            )
        ], None
    if notice.kind == "ticket_reopened":
        return [
            escape(_("The user reopened ticket {number}: /t {number}").format(number=p["number"]), quote=False)
        ], None
    if notice.kind == "ticket_assigned":
        return [
            escape(_("Ticket {number} has been assigned to you: /t {number}").format(number=p["number"]), quote=False)
        ], None
    if notice.kind == "bad_rating":
        what = _("ticket") if p["service"] == "ticket" else _("live chat")
        text = _("⚠️ Bad rating: {level} for {what} #{id} (user {user}). Please call back and follow up.").format(
            level=_(LEVEL_LABELS[int(p["level"])]), what=what, id=p["service_id"], user=p["user_id"]
        )
        if p.get("comment"):
            text += "\n" + _("Comment: {comment}").format(comment=p["comment"])
        return html_chunks(text), None
    if notice.kind == "ticket_due_later":
        text = _(
            "The official holiday schedule has been published, so the deadline of your ticket {number} moved: "
            "we will now answer by {due} (Beijing time)."
        ).format(number=p["number"], due=translator(lang).date(p["due"]))
        return [escape(text, quote=False)], None
    if notice.kind == "calendar_unknown":
        text = _(
            "📅 The official holiday schedule for {year} is not known yet. Deadlines that reach into {year} are "
            "provisional ({count} ticket(s) so far) and adjusted working days are not counted. When the State "
            "Council publishes its notice, enter it in {file} and restart the bot: the deadlines are then "
            "counted again. (A reminder once a week until it is done.)"
        ).format(year=p["year"], count=p["provisional"], file=p["file"])
        return [escape(text, quote=False)], None
    log.error("no rendering for notice kind %s", notice.kind)
    return [number], None


async def deliver(context: HelpdeskContext, notices: Iterable[Notice]) -> None:
    """Send each notice to its recipient (in their language); a user who blocked the bot is noted."""
    for notice in notices:
        user = await core(context.helpdesk.user, notice.user_id)
        lang: Lang = user.lang if user is not None else "en"
        chunks, markup = _render(notice, lang)
        try:
            for index, chunk in enumerate(chunks):
                await context.bot.send_message(
                    notice.user_id, chunk, parse_mode="HTML", reply_markup=markup if index == len(chunks) - 1 else None
                )
            file_id, file_kind = notice.params.get("file_id"), notice.params.get("file_kind")
            if file_id and file_kind == "photo":
                await context.bot.send_photo(notice.user_id, file_id)
            elif file_id:
                await context.bot.send_document(notice.user_id, file_id)
        except Forbidden:
            await core(context.helpdesk.mark_blocked, notice.user_id, context.now())
        except BadRequest as exc:  # e.g. the chat does not exist (a staff id never started the bot)
            log.warning("could not deliver a %s notice: %s", notice.kind, exc)
