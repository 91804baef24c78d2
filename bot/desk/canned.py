"""Canned replies for operators (``knowledge/canned.toml``): short, reviewed texts in both languages."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from bot.answering.text import Lang
from bot.errors import KnowledgeBaseError, KnowledgeProblem

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
MAX_TEXT = 1000


@dataclass(frozen=True)
class Canned:
    """One canned reply."""

    id: str
    label: str
    en: str
    zh: str
    label_zh: str = ""
    """The label for operators who read Chinese (``label_zh`` in the file; the English one when missing)."""

    def text(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en

    def title(self, lang: Lang) -> str:
        """The label in the operator's language (their /canned buttons)."""
        return self.label_zh or self.label if lang == "zh" else self.label


def load_canned(path: Path) -> dict[str, Canned]:
    """The canned replies in file order; a missing file means none.

    A broken file raises ``KnowledgeBaseError`` naming the file, the reply and the field.
    """
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise KnowledgeBaseError([KnowledgeProblem(path.name, None, None, str(exc))]) from exc
    replies: dict[str, Canned] = {}
    problems: list[KnowledgeProblem] = []
    items = data.get("reply", [])
    for index, item in enumerate(items if isinstance(items, list) else [items], start=1):
        name = str(item.get("id", f"#{index}")) if isinstance(item, dict) else f"#{index}"
        if not isinstance(item, dict):
            problems.append(KnowledgeProblem(path.name, name, None, "not a table"))
            continue
        missing = [
            key for key in ("id", "label", "en", "zh") if not isinstance(item.get(key), str) or not item[key].strip()
        ]
        problems += [KnowledgeProblem(path.name, name, key, "missing or empty") for key in missing]
        if missing:
            continue
        label_zh = item.get("label_zh", "")
        if not isinstance(label_zh, str):
            problems.append(KnowledgeProblem(path.name, name, "label_zh", "must be text"))
            continue
        id_, label, en, zh = (item[key].strip() for key in ("id", "label", "en", "zh"))
        reply = Canned(id_, label, en, zh, label_zh.strip())
        if not ID_PATTERN.match(reply.id):
            problems.append(KnowledgeProblem(path.name, name, "id", "use lower-case letters, digits and dashes"))
        elif reply.id in replies:
            problems.append(KnowledgeProblem(path.name, name, "id", "used twice"))
        elif max(len(reply.en), len(reply.zh)) > MAX_TEXT:
            problems.append(KnowledgeProblem(path.name, name, "en/zh", f"longer than {MAX_TEXT} characters"))
        else:
            replies[reply.id] = reply
    if problems:
        raise KnowledgeBaseError(problems)
    return replies
