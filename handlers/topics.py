"""/topics: browse the knowledge base by theme with inline keyboards."""

from __future__ import annotations

from html import escape

from telegram import Update
from telegram.error import BadRequest

from bot.errors import NotFound
from bot.topics import group_by_id, group_entries, group_label, groups_for
from handlers import callback_data as cd
from handlers.common import answer_query, expired, meet, reply_html, reply_text, tr
from handlers.context import HelpdeskContext, core
from handlers.render import html_chunks, keyboard, sources_html


def _themes_keyboard(lang, role):  # type: ignore[no-untyped-def]
    return keyboard([[(group_label(g, lang), cd.make("tg", g.id))] for g in groups_for(role)])


async def topics(update: Update, context: HelpdeskContext) -> None:
    """/topics: the list of themes (employer topics first for employer contacts)."""
    user = await meet(update, context)
    text = escape(tr(user.lang).gettext("Choose a theme:"), quote=False)
    await reply_html(update, context, text, _themes_keyboard(user.lang, user.role))


async def theme(update: Update, context: HelpdeskContext) -> None:
    """A theme button: its entries, and a way back."""
    user = await meet(update, context)
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    group = group_by_id(data.args[0]) if data and len(data.args) == 1 else None
    query = update.callback_query
    if group is None or query is None:
        await expired(update, user.lang)
        return
    _ = tr(user.lang).gettext
    kb = context.helpdesk.kb
    rows = [[(kb.title(e.id, user.lang), cd.make("te", e.id))] for e in group_entries(kb, group)]
    rows.append([(_("« All themes"), cd.make("tl"))])
    await answer_query(update)
    try:
        await query.edit_message_text(
            escape(group_label(group, user.lang), quote=False), parse_mode="HTML", reply_markup=keyboard(rows)
        )
    except BadRequest:
        await reply_text(update, context, group_label(group, user.lang), keyboard(rows))


async def theme_list(update: Update, context: HelpdeskContext) -> None:
    """« All themes."""
    user = await meet(update, context)
    query = update.callback_query
    assert query is not None
    await answer_query(update)
    try:
        await query.edit_message_text(
            escape(tr(user.lang).gettext("Choose a theme:"), quote=False),
            parse_mode="HTML",
            reply_markup=_themes_keyboard(user.lang, user.role),
        )
    except BadRequest:
        await topics(update, context)


async def topic_entry(update: Update, context: HelpdeskContext) -> None:
    """An entry button: its answer."""
    user = await meet(update, context)
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    if data is None or len(data.args) != 1:
        await expired(update, user.lang)
        return
    try:
        reply = await core(context.helpdesk.entry, data.args[0], user.lang)
    except NotFound:
        await expired(update, user.lang)
        return
    await answer_query(update)
    await reply_html(update, context, html_chunks(reply.text, sources_html(reply)))
