"""Turning a match into what the user reads: plain values any front end can render."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from bot.answering.knowledge import SMALL_TALK, KnowledgeBase, Source
from bot.answering.matching import Match, Matcher
from bot.answering.text import Lang, has_content
from bot.i18n import translator
from bot.privacy.redact import mask_personal

MAX_SEE_ALSO = 3
"""At most this many "see also" links under an answer."""
MAX_SOURCES = 3
"""At most this many sources under an answer (official ones first)."""
REPLY_CACHE = 4096
"""Replies kept by (question, language): a question asked again (the same words, as users of a helpdesk often
send) is answered without matching it again. A reply depends on nothing else, and is immutable."""
CACHED_QUESTION_CHARS = 300
"""Only questions up to this long are kept (a long message is rarely sent twice word for word)."""


@dataclass(frozen=True)
class Option:
    """A clarify choice or a "see also" link: the entry id (for buttons and numbers) and its title."""

    entry_id: str
    title: str


@dataclass(frozen=True)
class Reply:
    """The helpdesk's reply to one question, in the reply language, as plain text."""

    match: Match
    text: str
    sources: tuple[Source, ...] = ()
    """The sources to show (at most ``MAX_SOURCES``, official first): registry entries, shown by title."""
    options: tuple[Option, ...] = ()
    theme: str | None = None
    """The answered entry's theme (None for a clarify or a fallback)."""
    see_also: tuple[Option, ...] = ()
    """Related entries to offer under an answer (none for small talk)."""

    @property
    def lang(self) -> Lang:
        return self.match.lang

    @property
    def small_talk(self) -> bool:
        """A greeting or thanks: shown as the short text alone, without sources, feedback or links."""
        return self.theme == SMALL_TALK


class Answerer:
    """Answers questions from one knowledge base (the core's question-answering use case)."""

    def __init__(self, kb: KnowledgeBase, matcher: Matcher | None = None) -> None:
        self.kb = kb
        self.matcher = matcher or Matcher(kb)
        self._cached: Callable[[str, Lang | None], Reply] = lru_cache(maxsize=REPLY_CACHE)(self._ask)

    def see_also_ids(self, entry_id: str) -> tuple[str, ...]:
        """The entries offered as "see also" under *entry_id*'s answer: its first related ones, none for small talk."""
        entry = self.kb.entries[entry_id]
        if entry.small_talk:
            return ()
        related = [r for r in entry.related if r in self.kb.entries and r != entry_id]
        return tuple(related[:MAX_SEE_ALSO])

    def ask(self, question: str, lang: Lang | None = None) -> Reply:
        """Match *question* and compose the reply in *lang* (default: the question's language); the same
        question asked again gets the reply computed the first time (``REPLY_CACHE``). A question with personal
        details in it (``bot.privacy.redact``) is never kept in that cache: erasing a user's data leaves no copy
        in the process either."""
        if len(question) > CACHED_QUESTION_CHARS or mask_personal(question) != question:
            return self._ask(question, lang)  # long, or with a phone number, e-mail or passport number: not kept
        return self._cached(question, lang)

    def _ask(self, question: str, lang: Lang | None) -> Reply:
        match = self.matcher.match(question, lang)
        _ = translator(match.lang).gettext
        if not has_content(question):
            return Reply(match, _("Please type your question about the work permit, in English or Chinese."))
        if match.decision == "answer" and match.entry:
            return self.entry_reply(match.entry, match)
        if match.decision == "clarify":
            options = tuple(Option(eid, self.kb.title(eid, match.lang)) for eid in match.candidates)
            return Reply(match, _("I'm not quite sure what you mean. Is it one of these?"), options=options)
        values = self.kb.profile.values[match.lang]
        # The profile's office name and phone are phrases that may carry their own brackets: each gets a
        # sentence of its own, never an aside inside another.
        text = _(
            "Sorry, I don't have a reliable answer to that, and I'd rather not guess. "
            "Please ask again in other words, or contact {office}. To call them, use {phone}."
        ).format(office=values["office_name"], phone=values["office_phone"])
        return Reply(match, text)

    def entry_reply(self, entry_id: str, match: Match) -> Reply:
        """The reply for one entry (an answer, or the entry a user picked when clarifying)."""
        entry = self.kb.entries[entry_id]
        see_also = tuple(Option(r, self.kb.title(r, match.lang)) for r in self.see_also_ids(entry_id))
        sources = self.kb.cited(entry_id)[:MAX_SOURCES]
        return Reply(match, self.kb.answer(entry_id, match.lang), sources=sources, theme=entry.theme, see_also=see_also)

    def sources_line(self, reply: Reply) -> str:
        """ "Sources: …" in the reply's language, or empty."""
        return sources_text(reply)


def sources_text(reply: Reply) -> str:
    """ "Sources: title; title" (依据：…；…) in the reply's language, by title, never a code; or empty."""
    if not reply.sources:
        return ""
    _ = translator(reply.lang).gettext
    separator = "；" if reply.lang == "zh" else "; "
    return _("Sources: {sources}").format(sources=separator.join(s.title[reply.lang] for s in reply.sources))
