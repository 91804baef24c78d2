"""Turning a match into what the user reads: plain values any front end can render."""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import translator
from bot.knowledge import KnowledgeBase
from bot.matching import Match, Matcher
from bot.text import Lang, has_content


@dataclass(frozen=True)
class Option:
    """A clarify choice: the entry id (for buttons and numbers) and its title."""

    entry_id: str
    title: str


@dataclass(frozen=True)
class Reply:
    """The helpdesk's reply to one question, in the reply language, as plain text."""

    match: Match
    text: str
    sources: tuple[str, ...] = ()
    options: tuple[Option, ...] = ()

    @property
    def lang(self) -> Lang:
        return self.match.lang


class Answerer:
    """Answers questions from one knowledge base (the core's question-answering use case)."""

    def __init__(self, kb: KnowledgeBase, matcher: Matcher | None = None) -> None:
        self.kb = kb
        self.matcher = matcher or Matcher(kb)

    def ask(self, question: str, lang: Lang | None = None) -> Reply:
        """Match *question* and compose the reply in *lang* (default: the question's language)."""
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
        text = _(
            "Sorry, I don't have a reliable answer to that, and I'd rather not guess. "
            "Please rephrase your question, or contact {office} ({phone})."
        ).format(office=values["office_name"], phone=values["office_phone"])
        return Reply(match, text)

    def entry_reply(self, entry_id: str, match: Match) -> Reply:
        """The reply for one entry (an answer, or the entry a user picked when clarifying)."""
        entry = self.kb.entries[entry_id]
        return Reply(match, self.kb.answer(entry_id, match.lang), sources=entry.sources)

    def sources_line(self, reply: Reply) -> str:
        """ "Sources: …" in the reply's language, or empty."""
        if not reply.sources:
            return ""
        _ = translator(reply.lang).gettext
        return _("Sources: {sources}").format(sources="; ".join(reply.sources))
