"""``python -m bot user export|erase TELEGRAM_ID`` (staff acting on a user's request, audited) and
``python -m bot retention [--dry-run] [--now ISO]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.answering.text import Lang
from bot.config import Settings
from bot.i18n import translator
from bot.privacy.retention import KINDS, Retention, RetentionPolicy
from bot.privacy.rights import COMMAND_LINE, PersonalDataRights
from bot.store.db import make_engine

Say = Callable[[str], object]


def add_parsers(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    telegram_id: Callable[[str], int],
    parse_now: Callable[[str], datetime],
) -> None:
    """The ``user`` and ``retention`` commands (``bot.__main__`` passes its own argument types)."""
    user = sub.add_parser("user", help="a user's personal data, on their request (recorded in the audit log)")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    export = user_sub.add_parser("export", help="everything stored about the user, as JSON (and readable text)")
    export.add_argument("telegram_id", type=telegram_id)
    export.add_argument(
        "--out", type=Path, help="write the JSON to FILE and the readable text next to it (FILE.txt); default: print"
    )
    export.add_argument("--lang", choices=("en", "zh"), help="the readable text's language (default: the user's)")
    erase = user_sub.add_parser(
        "erase", help="erase or anonymise the user's personal data (anonymous ticket figures and the audit log stay)"
    )
    erase.add_argument("telegram_id", type=telegram_id)
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    retention = sub.add_parser("retention", help="erase or anonymise what has been kept its time (HELPDESK_KEEP_*)")
    retention.add_argument("--dry-run", action="store_true", help="only say what would be erased")
    retention.add_argument(
        "--now", type=parse_now, help="an ISO time (default: now); without an offset it is Beijing time"
    )


def user_command(
    settings: Settings, args: argparse.Namespace, now: datetime, say: Say = print, stdin: TextIO | None = None
) -> int:
    """``user export|erase``."""
    rights = PersonalDataRights(make_engine(settings.database_url))
    user_id: int = args.telegram_id
    if not rights.known(user_id):
        print(f"error: nothing is stored about {user_id}", file=sys.stderr)
        return 1
    if args.user_command == "export":
        data = rights.export(user_id, now, actor_id=COMMAND_LINE)
        profile = (data.sections.get("user") or [{}])[0]
        lang: Lang = args.lang or ("zh" if profile.get("lang") == "zh" else "en")
        if args.out is None:
            say(data.to_json())
            return 0
        out: Path = args.out
        text_path = out.with_name(out.name + ".txt")
        out.write_text(data.to_json() + "\n", encoding="utf-8")
        text_path.write_text(data.to_text(translator(lang)), encoding="utf-8")
        counts = ", ".join(f"{table} {len(rows)}" for table, rows in data.sections.items() if rows)
        say(f"Wrote {out} (JSON) and {text_path} (readable, {lang}): {counts}. Recorded in the audit log.")
        return 0
    if not args.yes:
        say(
            f"Erase the personal data of {user_id}? Their name, questions, ticket texts, contacts and attachments, "
            "live-chat messages and rating comments are erased; anonymous ticket figures and the audit log stay."
        )
        say("Type 'erase' to go on: ")
        if (stdin or sys.stdin).readline().strip().lower() != "erase":
            say("Nothing was erased.")
            return 1
    result = rights.erase(user_id, now, actor_id=COMMAND_LINE)
    if result.refused == "live":
        print(
            f"error: {user_id} is in a live chat or waiting for one; end it (or let them /cancel) first. "
            "Nothing was erased.",
            file=sys.stderr,
        )
        return 1
    changed = ", ".join(f"{table} {count}" for table, count in result.changed.items()) or "nothing"
    say(f"Erased the personal data of {user_id} ({changed}). Recorded in the audit log.")
    en = translator("en")
    for reason in result.kept:
        say(f"  kept: {en.gettext(reason)}")
    return 0


def retention_command(settings: Settings, args: argparse.Namespace, now: datetime, say: Say = print) -> int:
    """``retention [--dry-run] [--now ISO]``: erase what has expired and say how much of each kind."""
    policy = RetentionPolicy.from_settings(settings)
    counts = Retention(make_engine(settings.database_url), policy).run(now, dry_run=args.dry_run)
    periods = {
        "questions": f"question texts older than {policy.questions.days} days",
        "contacts": f"contacts of tickets closed over {policy.contacts.days} days ago",
        "tickets": f"tickets closed over {policy.tickets.days} days ago (anonymised)",
        "transcripts": f"live chats ended over {policy.transcripts.days} days ago (transcripts erased)",
    }
    say(f"As of {now.isoformat(timespec='minutes')}{' (dry run: nothing changed)' if args.dry_run else ''}:")
    for kind in KINDS:
        say(f"  {kind:<12} {counts[kind]:>6}  {'would be erased' if args.dry_run else 'erased'}: {periods[kind]}")
    return 0
