"""/topics: browse the knowledge base by theme with inline keyboards; an entry opened here is answered
like a question (👍/👎, see also, a person or a ticket) with a way back to the themes."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot.answering.knowledge import Entry, KnowledgeBase
from bot.answering.text import Lang
from bot.answering.topics import group_by_id, group_entries, group_label, groups_for
from bot.errors import NotFound
from handlers import callback_data as cd
from handlers.callback_data import Button
from handlers.common import answer_query, edit_html, expired, meet, reply_html, tr
from handlers.context import HelpdeskContext, core
from handlers.render import answer_messages, keyboard


def _themes_keyboard(lang: Lang, role: str | None) -> InlineKeyboardMarkup:
    return keyboard([[(group_label(g, lang), cd.make(Button.THEME, g.id))] for g in groups_for(role)])


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
    entries = group_entries(kb, group)
    rows = [[(kb.title(e.id, user.lang), cd.make(Button.TOPIC, e.id))] for e in entries]
    rows.append([(_("« All themes"), cd.make(Button.THEMES))])
    text = escape(group_label(group, user.lang), quote=False)
    if await core(context, context.services.staff.get, user.id) is not None:
        text += "\n\n" + entry_ids_html(kb, entries, user.lang)
    await answer_query(update)
    try:
        await edit_html(query, text, keyboard(rows))
    except BadRequest:
        await reply_html(update, context, text, keyboard(rows))


def entry_ids_html(kb: KnowledgeBase, entries: list[Entry], lang: Lang) -> str:
    """For staff: each entry's id beside its title (tap to copy), for sending its answer with /kb ID."""
    heading = tr(lang).gettext("Entry ids, for /kb ID in a live chat:")
    lines = [escape(heading, quote=False)]
    lines += [f"• {escape(kb.title(e.id, lang), quote=False)}: <code>{escape(e.id)}</code>" for e in entries]
    return "\n".join(lines)


async def theme_list(update: Update, context: HelpdeskContext) -> None:
    """« All themes."""
    user = await meet(update, context)
    query = update.callback_query
    assert query is not None
    await answer_query(update)
    try:
        await edit_html(
            query, escape(tr(user.lang).gettext("Choose a theme:"), quote=False), _themes_keyboard(user.lang, user.role)
        )
    except BadRequest:
        await topics(update, context)


async def topic_entry(update: Update, context: HelpdeskContext) -> None:
    """An entry button: its answer (logged, for 👍/👎) with the buttons of any answer and "back to topics"."""
    user = await meet(update, context)
    data = cd.parse(update.callback_query.data if update.callback_query else None)
    if data is None or len(data.args) != 1:
        await expired(update, user.lang)
        return
    try:
        answered = await core(context, context.helpdesk.browse, user.id, data.args[0], user.lang, context.now())
    except NotFound:
        await expired(update, user.lang)
        return
    await answer_query(update)
    chunks, markup = answer_messages(answered.reply, answered.question_id, back_to_topics=True)
    await reply_html(update, context, chunks, markup)


async def back_to_topics(update: Update, context: HelpdeskContext) -> None:
    """ "Back to topics" under an answer: the themes in a new message, as /topics (the answer stays as it is)."""
    await answer_query(update)
    await topics(update, context)
