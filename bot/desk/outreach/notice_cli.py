"""``python -m bot notice draft FILE.toml`` and ``notice list``: policy notices from the command line.

The command line has no Telegram connection: it records a draft (``bot.desk.outreach.notices.read_draft_file``
gives the file's format) that a supervisor previews and sends in Telegram (/notices → "Preview draft #N" →
Send), and lists the notices with their counts. It never sends anything itself.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from bot.answering.knowledge import KnowledgeBase
from bot.config import Settings
from bot.error_texts import error_text
from bot.errors import Refusal


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``notice draft FILE.toml`` and ``notice list``."""
    notice = sub.add_parser("notice", help="policy notices to subscribers (drafted here, sent from Telegram)")
    notice_sub = notice.add_subparsers(dest="notice_command", required=True)
    draft = notice_sub.add_parser(
        "draft",
        help="record a draft from a TOML file (audience, entry, [en] and [zh] title and body); a supervisor "
        "previews and sends it in Telegram with /notices",
    )
    draft.add_argument("file", help="the TOML file")
    notice_sub.add_parser("list", help="the latest notices, with their status and counts")


def notice_command(
    settings: Settings, args: argparse.Namespace, kb: KnowledgeBase, now: datetime, say: Callable[[str], object] = print
) -> int:
    """Run ``notice draft`` or ``notice list``; the exit status."""
    from bot.desk.outreach.notices import PolicyNotices, read_draft_file
    from bot.desk.staff import StaffRegistry
    from bot.store.db import make_engine

    engine = make_engine(settings.database_url)
    notices = PolicyNotices(engine, StaffRegistry(engine), kb.entries)
    if args.notice_command == "draft":
        try:
            fields = read_draft_file(Path(args.file).read_text(encoding="utf-8"))
            view = notices.draft(None, now=now, **fields)
        except (OSError, ValueError) as exc:  # unreadable, not TOML, a field missing or malformed
            print(f"error: {args.file}: {exc}", file=sys.stderr)
            return 1
        except Refusal as exc:  # too long, no such entry
            print(f"error: {args.file}: {error_text(exc, 'en')}", file=sys.stderr)
            return 1
        say(
            f"Draft #{view.id} recorded ({view.audience}, {notices.reach(view.audience)} subscriber(s) now"
            + (f", “More” → {view.entry_id}" if view.entry_id else "")
            + f"). A supervisor previews and sends it in Telegram: /notices → “Preview draft #{view.id}” → Send."
        )
        return 0
    for view in notices.recent():
        counts = (
            f"{view.recipients} recipient(s): sent {view.sent}, failed {view.failed}, blocked {view.blocked}"
            if view.status == "done"
            else f"{view.recipients - view.pending} of {view.recipients} done"
            if view.status == "sending"
            else ""
        )
        say(f"#{view.id}  {view.status:<9} {view.audience:<10} {view.en.title}" + (f"  ({counts})" if counts else ""))
    return 0
