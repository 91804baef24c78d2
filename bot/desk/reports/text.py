"""The figures as a supervisor reads them (/stats in Telegram and the console): plain text in the reader's
language, one section per family. The front ends escape it (Telegram: ``handlers.render.html_chunks``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from bot.answering.knowledge import KnowledgeBase
from bot.answering.text import Lang
from bot.desk.outreach.sources import source_lines
from bot.desk.ratings import LEVEL_LABELS
from bot.desk.reports.figures import Figures, LiveFigures, QuestionFigures, RatingFigures, TicketFigures
from bot.desk.tickets.common import KIND_LABELS
from bot.i18n import N_, Translator, translator

USAGE = N_(
    "Usage: /stats [today | week | month | YYYY-MM | FROM TO], e.g. /stats 2026-05 or /stats 2026-05-01 "
    "2026-05-15 (dates YYYY-MM-DD, Beijing time). Without a period: this month."
)
SHOWN_TEXT = 80
"""Longest unanswered question quoted (characters)."""
ROLE_NAMES: Mapping[str, str] = {
    "applicant": N_("applicant"),
    "employer": N_("employer HR contact"),
    "": N_("not chosen"),
}
LANG_NAMES: Mapping[str, str] = {"en": N_("English"), "zh": N_("Chinese")}


def percent(value: float | None, lang: Lang) -> str:
    """``66.7 %`` (``66.7%`` in Chinese); ``—`` when there is nothing to divide by."""
    if value is None:
        return "—"
    return f"{value * 100:.1f}" + ("%" if lang == "zh" else " %")


def duration(seconds: float | None, lang: Lang) -> str:
    """A span of time, rounded to what matters: ``45 s``, ``12 min``, ``3 h 20 min``, ``2 d 4 h``."""
    if seconds is None:
        return "—"
    _ = translator(lang).gettext
    total = round(seconds)
    if total < 60:
        return _("{n} s").format(n=total)
    minutes = round(seconds / 60)
    if minutes < 60:
        return _("{m} min").format(m=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("{h} h {m} min").format(h=hours, m=minutes)
    days, hours = divmod(hours, 24)
    return _("{d} d {h} h").format(d=days, h=hours)


def _listing(pairs: Iterable[tuple[str, int]], lang: Lang) -> str:
    separator = "，" if lang == "zh" else ", "
    return separator.join(f"{name} {count}" for name, count in pairs) or "—"


def _questions(q: QuestionFigures, lang: Lang, title: Callable[[str], str]) -> list[str]:
    t = translator(lang)
    _ = t.gettext

    def share(decision: str) -> str:
        count = q.by_decision.get(decision, 0)
        return f"{count} ({percent(count / q.asked, lang)})" if q.asked else "0"

    lines = [
        "❓ " + _("Questions"),
        _(
            "Typed questions: {asked} — answered {answered}, clarified {clarified}, no answer (fallback) {fallback}"
        ).format(asked=q.asked, answered=share("answer"), clarified=share("clarify"), fallback=share("fallback")),
        _("Answers opened by buttons: {count} (/topics {browse}, “see also” {related})").format(
            count=q.opened, browse=q.by_decision.get("browse", 0), related=q.by_decision.get("related", 0)
        ),
        _("By language: {list}").format(
            list=_listing(((_(LANG_NAMES.get(k, k)), n) for k, n in sorted(q.by_lang.items())), lang)
        ),
        _("By role: {list}").format(
            list=_listing(((_(ROLE_NAMES.get(k, k)), n) for k, n in sorted(q.by_role.items(), key=_role_order)), lang)
        ),
        _("👍 {up} · 👎 {down} · share of 👍: {rate}").format(
            up=q.thumbs_up, down=q.thumbs_down, rate=percent(q.up_rate, lang)
        ),
    ]
    if q.top_topics:
        lines.append(_("Top topics:"))
        lines += [f"  {n}× {title(entry)} ({entry})" for entry, n in q.top_topics]
    if q.top_unanswered:
        lines.append(_("Top unanswered questions:"))
        lines += [f"  {n}× {_shorten(text)}" for text, n in q.top_unanswered]
    return lines


def _role_order(item: tuple[str, int]) -> tuple[int, str]:
    order = list(ROLE_NAMES)
    return (order.index(item[0]) if item[0] in order else len(order), item[0])


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHOWN_TEXT else text[: SHOWN_TEXT - 1] + "…"


def _tickets(tk: TicketFigures, lang: Lang) -> list[str]:
    _ = translator(lang).gettext
    kinds = ((_(label), tk.by_kind.get(kind, 0)) for kind, label in KIND_LABELS.items() if tk.by_kind.get(kind))
    return [
        "🎫 " + _("Tickets"),
        _("Received: {count} — {kinds}").format(count=tk.received, kinds=_listing(kinds, lang)),
        _("Closed: {count} · 办结率 (closed / received): {rate}").format(
            count=tk.closed, rate=percent(tk.closed_rate, lang)
        ),
        _("Closed by the deadline: {count} · 按期办结率 (on time / closed): {rate}").format(
            count=tk.closed_on_time, rate=percent(tk.on_time_rate, lang)
        ),
        _("Overdue now (open and past the deadline, whenever received): {count}").format(count=tk.overdue_now),
        _("Median time to the first reply: {time} ({count} replied) · to closing: {close}").format(
            time=duration(tk.first_reply_median, lang),
            count=tk.replied,
            close=duration(tk.close_median, lang),
        ),
    ]


def _live(lv: LiveFigures, lang: Lang) -> list[str]:
    _ = translator(lang).gettext
    return [
        "💬 " + _("Live chats"),
        _("Served: {count} · waiting time: median {median}, 90% within {p90}").format(
            count=lv.served, median=duration(lv.wait_median, lang), p90=duration(lv.wait_p90, lang)
        ),
        _("Left the queue before being served: {count} · left a message (ticket) instead: {tickets}").format(
            count=lv.abandoned, tickets=lv.left_message
        ),
        _("By operator: {list}").format(list=_listing(((name or str(op), n) for op, name, n in lv.by_operator), lang)),
    ]


def _ratings(r: RatingFigures, lang: Lang) -> list[str]:
    _ = translator(lang).gettext
    levels = ((_(LEVEL_LABELS[level]), n) for level, n in sorted(r.by_level.items()))
    return [
        "⭐ " + _("Ratings (好差评)"),
        _("Ratings: {count} — {levels}").format(count=r.total, levels=_listing(levels, lang)),
        _("满意率 (top three levels): {satisfied} · 好评率 (非常满意 + 满意): {good}").format(
            satisfied=percent(r.satisfied_rate, lang), good=percent(r.good_rate, lang)
        ),
        _(
            "Bad ratings: {bad} · called back: {called} (回访率 {callback}) · resolved: {resolved} (整改率 {fix})"
        ).format(
            bad=r.bad,
            called=r.called_back,
            callback=percent(r.callback_rate, lang),
            resolved=r.resolved,
            fix=percent(r.fix_rate, lang),
        ),
    ]


def entry_title(kb: KnowledgeBase | None, lang: Lang) -> Callable[[str], str]:
    """An entry's title in *lang* (its id when the knowledge base no longer has it)."""

    def title(entry_id: str) -> str:
        entry = kb.entries.get(entry_id) if kb is not None else None
        if entry is None:
            return entry_id
        return entry.title.get(lang) or next(iter(entry.title.values()), entry_id)

    return title


def heading(figures: Figures, t: Translator) -> str:
    return t.gettext("📊 Statistics for {period} (Beijing time), as of {now} · {days} working days").format(
        period=figures.period.label, now=t.datetime(figures.now), days=figures.working_days
    )


def stats_text(figures: Figures, lang: Lang, kb: KnowledgeBase | None = None) -> str:
    """Every figure, by family, with labels in *lang*."""
    title = entry_title(kb, lang)
    sections = [
        [heading(figures, translator(lang))],
        _questions(figures.questions, lang, title),
        _tickets(figures.tickets, lang),
        _live(figures.live, lang),
        _ratings(figures.ratings, lang),
        source_lines(figures.sources, lang),  # users and questions by deep link (empty: no section)
    ]
    return "\n\n".join("\n".join(section) for section in sections if section)
