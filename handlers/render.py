"""Rendering core values as Telegram messages: escaped HTML, split under 4096, id-only buttons."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.answering.answers import Reply, sources_text
from bot.answering.text import Lang
from bot.desk.ratings import LEVEL_LABELS
from bot.i18n import N_, translator
from bot.store.statuses import SessionOutcome
from handlers import callback_data as cd
from handlers.callback_data import Button

MESSAGE_LIMIT = 4096
CHUNK = 3900
"""Plain-text chunk size: escaping and the sources line must still fit in 4096."""


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts two)."""
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int) -> int:
    """How many characters of *text* fit in *limit* UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def split_text(text: str, limit: int = CHUNK) -> list[str]:
    """Split *text* into pieces of at most *limit* UTF-16 units, at paragraph, line or word breaks."""
    text = text.strip()
    pieces: list[str] = []
    while utf16_len(text) > limit:
        end = _fit(text, limit)
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = text.rfind(sep, end // 2, end)
            if cut != -1:
                break
        if cut == -1:
            cut = end
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces or [""]


def html_chunks(text: str, footer_html: str = "") -> list[str]:
    """Escape plain *text* into HTML messages under the limit; *footer_html* ends the last one."""
    chunks = [escape(piece, quote=False) for piece in split_text(text)]
    if footer_html:
        if utf16_len(chunks[-1]) + utf16_len(footer_html) + 2 <= MESSAGE_LIMIT:
            chunks[-1] += "\n\n" + footer_html
        else:
            chunks.append(footer_html)
    return chunks


class Keyboard(InlineKeyboardMarkup):
    """An inline keyboard of callback buttons that serialises itself straight from its (label, data) rows:
    python-telegram-bot's generic ``to_dict`` walks every attribute of every button, a tenth of a millisecond
    for an answer's seven. The JSON is the same."""

    def __init__(self, rows: Sequence[Sequence[tuple[str, str]]]) -> None:
        super().__init__([[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows])
        with self._unfrozen():
            self._rows = tuple(tuple(row) for row in rows)

    def to_dict(self, recursive: bool = True) -> dict[str, object]:
        rows = [[{"callback_data": data, "text": label} for label, data in row] for row in self._rows]
        return {"inline_keyboard": rows}


def keyboard(rows: Sequence[Sequence[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """Inline keyboard from rows of (label, callback_data)."""
    return Keyboard(rows)


def help_buttons(lang: Lang, question_id: int | None = None) -> list[tuple[str, str]]:
    """The "talk to a person" / "file a ticket" row."""
    _ = translator(lang).gettext
    ref = question_id if question_id is not None else 0
    return [
        (_("🙋 Talk to a person"), cd.make(Button.HUMAN, ref)),
        (_("📝 File a ticket"), cd.make(Button.NEW_TICKET, ref)),
    ]


def sources_html(reply: Reply) -> str:
    """The italic sources line of an answer (the sources' titles, escaped)."""
    if not reply.sources:
        return ""
    return "<i>" + escape(sources_text(reply), quote=False) + "</i>"


def answer_messages(
    reply: Reply, question_id: int, back_to_topics: bool = False
) -> tuple[list[str], InlineKeyboardMarkup | None]:
    """An answer with its sources, "was this helpful?" 👍/👎, its "see also" links, the help row and,
    for an entry opened from /topics, "back to topics". Small talk is the short text alone."""
    if reply.small_talk:
        return list(_answer_chunks(reply.text, "")), None
    _ = translator(reply.lang).gettext
    footer = sources_html(reply)
    footer += ("\n\n" if footer else "") + escape(_("Was this helpful?"), quote=False)
    rows = [
        [("👍", cd.make(Button.FEEDBACK, question_id, 1)), ("👎", cd.make(Button.FEEDBACK, question_id, 0))],
        *see_also_rows(reply, question_id),
        help_buttons(reply.lang, question_id),
    ]
    if back_to_topics:
        rows.append([(_("« Back to topics"), cd.make(Button.BACK_TO_TOPICS))])
    return list(_answer_chunks(reply.text, footer)), keyboard(rows)


def see_also_rows(reply: Reply, question_id: int) -> list[list[tuple[str, str]]]:
    """One button per related entry, labelled with its title (a link whose ids would not fit is left out)."""
    _ = translator(reply.lang).gettext
    rows: list[list[tuple[str, str]]] = []
    for option in reply.see_also:
        try:
            data = cd.make(Button.SEE_ALSO, question_id, option.entry_id)
        except ValueError:
            continue
        rows.append([(_("See also: {title}").format(title=option.title), data)])
    return rows


@lru_cache(maxsize=256)
def _answer_chunks(text: str, footer_html: str) -> tuple[str, ...]:
    """``html_chunks`` for knowledge-base answers: a few hundred texts, asked for again and again.
    (Only these: texts with users' own words are not kept.)"""
    return tuple(html_chunks(text, footer_html))


def clarify_message(reply: Reply, question_id: int) -> tuple[str, InlineKeyboardMarkup]:
    """The "did you mean" question with one button per candidate and "none of these"."""
    _ = translator(reply.lang).gettext
    rows = [[(opt.title, cd.make(Button.PICK, question_id, opt.entry_id))] for opt in reply.options]
    rows.append([(_("None of these"), cd.make(Button.NONE_OF_THESE, question_id))])
    return escape(reply.text, quote=False), keyboard(rows)


def fallback_message(reply: Reply, question_id: int) -> tuple[str, InlineKeyboardMarkup]:
    """An honest "I don't know" with the way to a person or a ticket."""
    return escape(reply.text, quote=False), keyboard([help_buttons(reply.lang, question_id)])


def rating_keyboard(lang: Lang, service: str, service_id: int) -> InlineKeyboardMarkup:
    """The five 好差评 levels, one per row (service ``t`` ticket or ``s`` session)."""
    _ = translator(lang).gettext
    return keyboard(
        [[(_(LEVEL_LABELS[level]), cd.make(Button.RATE, service, service_id, level))] for level in LEVEL_LABELS]
    )


OUTCOME_LABELS: Mapping[str, str] = {
    SessionOutcome.RESOLVED: N_("resolved"),
    SessionOutcome.UNRESOLVED: N_("unresolved"),
}
"""The outcomes an operator gives with /end, as the reader calls them (typed in either language)."""


def outcome_label(outcome: str, lang: Lang) -> str:
    """An /end outcome in *lang* (the word itself for an outcome without a label)."""
    label = OUTCOME_LABELS.get(outcome)
    return translator(lang).gettext(label) if label else outcome


def parse_outcome(word: str, lang: Lang) -> str:
    """The outcome an operator typed after /end: the English word or its translation in *lang*; anything else
    as it is, for the core to refuse (``Reason.UNKNOWN_OUTCOME``)."""
    word = word.strip().lower()
    found = [o for o in OUTCOME_LABELS if word in (o, outcome_label(o, lang).lower())]
    return found[0] if found else word


def language_name(code: str | None, lang: Lang) -> str:
    """A user's language ("Chinese" or "English"), named in the reader's *lang*."""
    _ = translator(lang).gettext
    return _("Chinese") if code == "zh" else _("English")


def handed_back_text(lang: Lang, count: int) -> str:
    """ " N live chats went back to the front of the queue." (empty for none): after /checkout or /staff remove."""
    if not count:
        return ""
    return " " + translator(lang).ngettext(
        "{count} live chat went back to the front of the queue.",
        "{count} live chats went back to the front of the queue.",
        count,
    ).format(count=count)
