"""Browsing the knowledge base by theme (``/topics``)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.answering.knowledge import Entry, KnowledgeBase
from bot.answering.text import Lang
from bot.i18n import N_, translator


@dataclass(frozen=True)
class Group:
    """A browsing group: a stable id, an English label (translated at use) and the KB themes in it."""

    id: str
    label: str
    themes: tuple[str, ...] = ()
    entries: tuple[str, ...] = ()


GROUPS: tuple[Group, ...] = (
    Group("new", N_("New application (新办)"), ("new", "process")),
    Group("extension", N_("Extension (延期)"), ("extension",)),
    Group("change", N_("Change (变更)"), ("change",)),
    Group("reissue", N_("Reissue (补办)"), ("reissue",)),
    Group("cancellation", N_("Cancellation (注销)"), ("cancellation",)),
    Group("categories", N_("Categories and who can apply"), ("basics", "categories")),
    Group("documents", N_("Documents"), ("documents",)),
    Group("time-fees", N_("Time and fees"), ("time-fees",)),
    Group("rules", N_("Rules and penalties"), ("rules",)),
    Group("contact", N_("Contact and services"), ("contact", "service")),
)
EMPLOYER_GROUP = Group(
    "employer",
    N_("For employers"),
    entries=("employer-requirements", "apply-online", "cancellation", "change-employer", "illegal-employment"),
)


def groups_for(role: str | None) -> tuple[Group, ...]:
    """The groups in browsing order: employer contacts see their own group first."""
    return (EMPLOYER_GROUP, *GROUPS) if role == "employer" else GROUPS


def group_by_id(group_id: str) -> Group | None:
    """The group with *group_id*, or None for an unknown (stale or forged) id."""
    return next((g for g in (EMPLOYER_GROUP, *GROUPS) if g.id == group_id), None)


def group_entries(kb: KnowledgeBase, group: Group) -> list[Entry]:
    """The entries shown in *group* (fixed ones first, then by theme in file order)."""
    chosen = [kb.entries[e] for e in group.entries if e in kb.entries]
    chosen += [e for e in kb.entries.values() if e.theme in group.themes and e not in chosen]
    return chosen


def group_label(group: Group, lang: Lang) -> str:
    """The group's label in *lang*."""
    return translator(lang).gettext(group.label)
