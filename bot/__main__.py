"""Command line: ``python -m bot`` (also installed as ``helpdesk``).

run [--webhook]           the Telegram bot when TELEGRAM_BOT_TOKEN is set, else the console
console [--lang en|zh] [--as applicant|operator|supervisor]
                          chat in the terminal; tickets on both sides
ask [QUESTION] [--lang en|zh] [--json]
                          answer one question, or one per line of standard input
kb validate               check the knowledge base, every profile and the calendar files; exit 1 on problems
calendar [YEAR ...]       the holiday schedule in force for each year (default: this year and next)
kb eval FILE.jsonl        score the engine on labelled questions
kb build                  train the classifier now (it is cached by a hash of its inputs)
kb gaps-export [--out FILE]
                          the questions accepted in /gaps, as training lines to review and commit
deliveries [--days N]     messages owed, and those Telegram refused for good
qr SOURCE --out FILE.png [--username NAME]
                          the QR code of the deep link t.me/<bot>?start=SOURCE (users counted by source in /stats)
staff add ID --role operator|supervisor --name NAME, staff list, staff remove ID [--hand-back]
check [--webhook] [--migrate]
                          before start: token, database, migrations, knowledge base (and webhook settings)
jobs run-due [--now ISO-TIME]
                          record the deadline alerts, the digest, the permit reminders and the monthly report
                          due as of that time
                          (the bot sends them)
user export ID [--out FILE], user erase ID [--yes]
                          a user's personal data on their request (audited)
retention [--dry-run] [--now ISO-TIME]
                          erase or anonymise what has been kept its time
report --from DATE --to DATE [--format xlsx|csv] [--out FILE]
                          the statistics of a period: an Excel workbook, or a zip of CSV files
notice draft FILE.toml, notice list
                          record a policy notice's draft (a supervisor previews and sends it in Telegram: /notices);
                          the latest notices with their counts
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, TextIO

import holidays

from bot.answering.answers import Answerer, Reply
from bot.answering.classifier import kb_examples, training_set
from bot.answering.evaluation import evaluate, format_report, read_labelled
from bot.answering.knowledge import KnowledgeBase, load_knowledge
from bot.answering.text import Lang, strip_control
from bot.config import Settings, get_settings
from bot.desk.calendar_files import load_calendar_files, template
from bot.desk.canned import load_canned
from bot.desk.outreach import notice_cli
from bot.desk.reports import cli as report_cli
from bot.desk.workdays import SHANGHAI, ScheduleSource, WorkCalendar
from bot.errors import KnowledgeBaseError, KnowledgeProblem
from bot.logs import configure_logging
from bot.numbers import parse_user_id
from bot.privacy import cli as privacy_cli
from bot.store.statuses import StaffRole
from console.terminal import render_plain, run_console

if TYPE_CHECKING:
    from bot.desk.staff import StaffRegistry

log = logging.getLogger("bot")
STAFF_ROLE_NAMES = tuple(role.value for role in StaffRole)
"""The ``--role`` / ``--as`` words (plain strings, so that argparse's messages show them plainly)."""


def _telegram_id(text: str) -> int:
    """An argparse type: a Telegram user id (ASCII digits, positive, below 2**52; ``bot.numbers``)."""
    user_id = parse_user_id(text)
    if user_id is None:
        raise argparse.ArgumentTypeError(f"not a Telegram user id: {text!r}")
    return user_id


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helpdesk", description="Foreigner's Work Permit helpdesk")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the Telegram bot (or the console without a token)")
    run.add_argument(
        "--webhook",
        action="store_true",
        help="behind Telegram's webhook (TELEGRAM_WEBHOOK_URL, TELEGRAM_WEBHOOK_SECRET; docs/deploy.md) instead of "
        "long polling; also when TELEGRAM_WEBHOOK_URL is set",
    )
    console = sub.add_parser("console", help="chat in the terminal")
    console.add_argument("--lang", choices=("en", "zh"))
    console.add_argument(
        "--as",
        dest="side",
        choices=("applicant", *STAFF_ROLE_NAMES),
        default="applicant",
        help="play the applicant (default) or the staff side of tickets",
    )
    console.add_argument(
        "--user-id", type=_telegram_id, help="the console user's id (default 1 for applicants, 2 for staff)"
    )
    ask = sub.add_parser("ask", help="answer questions")
    ask.add_argument("question", nargs="?", help="the question; omitted: one per line from standard input")
    ask.add_argument("--lang", choices=("en", "zh"), help="reply language (default: the question's)")
    ask.add_argument("--json", action="store_true", help="one JSON object per line")
    staff = sub.add_parser("staff", help="the staff registry")
    staff_sub = staff.add_subparsers(dest="staff_command", required=True)
    add = staff_sub.add_parser("add", help="add a member of staff, or change their role or name")
    add.add_argument("telegram_id", type=_telegram_id)
    add.add_argument("--role", choices=STAFF_ROLE_NAMES, required=True)
    add.add_argument("--name", required=True, help="the display name users see in live chats")
    staff_sub.add_parser("list", help="list the staff")
    remove = staff_sub.add_parser(
        "remove",
        help="remove a member of staff (refused while they have live chats, unless --hand-back)",
    )
    remove.add_argument("telegram_id", type=_telegram_id)
    remove.add_argument(
        "--hand-back",
        action="store_true",
        help="hand their live chats back to the front of the queue; the users are NOT told (no Telegram "
        "from here): /staff remove in Telegram tells them",
    )
    check = sub.add_parser(
        "check", help="before start: token (getMe), database, migrations, knowledge base; exit 1 on a failure"
    )
    check.add_argument("--webhook", action="store_true", help="check webhook mode's settings too")
    check.add_argument("--migrate", action="store_true", help="bring the database to the newest migration first")
    kb = sub.add_parser("kb", help="knowledge-base tools")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    kb_sub.add_parser("validate", help="check the knowledge base")
    kb_sub.add_parser("build", help="train the classifier (cached by a hash of its inputs)")
    ev = kb_sub.add_parser("eval", help="score the engine on a JSONL file of {q, expect}")
    ev.add_argument("file")
    ev.add_argument("--misses", action="store_true", help="list every question not answered correctly")
    gaps_export = kb_sub.add_parser(
        "gaps-export", help="the examples staff accepted in /gaps, as training lines (JSONL) to review and commit"
    )
    gaps_export.add_argument(
        "--out", help="append the new lines to this file (e.g. knowledge/training/reviewed.jsonl); default: print them"
    )
    deliveries = sub.add_parser(
        "deliveries", help="messages owed and not yet sent, and those Telegram refused for good (blocked, …)"
    )
    deliveries.add_argument("--days", type=int, default=7, help="refusals of the last DAYS days (default 7)")
    qr = sub.add_parser("qr", help="the QR code of the deep link t.me/<bot>?start=SOURCE (where users came from)")
    qr.add_argument("source", help="1-32 of A-Z a-z 0-9 _ -, e.g. window1")
    qr.add_argument("--out", required=True, help="the PNG file to write")
    qr.add_argument("--username", help="the bot's username (default: asked from Telegram with TELEGRAM_BOT_TOKEN)")
    calendar = sub.add_parser("calendar", help="the holiday schedule in force for each year")
    calendar.add_argument("years", nargs="*", type=int, help="default: this year and next")
    jobs = sub.add_parser("jobs", help="scheduled work")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    run_due_parser = jobs_sub.add_parser(
        "run-due",
        help="record the deadline alerts, the morning digest, the permit reminders and the monthly report due as "
        "of --now, once, and "
        "print them (the bot "
        "sends them on its next run: there is no Telegram from here)",
    )
    run_due_parser.add_argument(
        "--now", type=parse_now, help="an ISO time (default: now); without an offset it is Beijing time"
    )
    privacy_cli.add_parsers(sub, _telegram_id, parse_now)
    notice_cli.add_parsers(sub)
    report_cli.add_parser(sub)
    return parser


def load_kb_or_exit(settings: Settings) -> KnowledgeBase:
    """Load the knowledge base; on problems print each (file, entry, field) and exit 2."""
    try:
        kb = load_knowledge(settings.helpdesk_kb_dir, settings.helpdesk_profile)
        load_canned(settings.helpdesk_kb_dir / "canned.toml")  # checked now: the bot and console need it
        load_calendar_files(settings.helpdesk_kb_dir / "calendar")
        try:
            training_set(kb)  # the classifier's data: a line naming a missing entry stops start-up here
        except ValueError as exc:
            raise KnowledgeBaseError([KnowledgeProblem("training", None, None, str(exc))]) from exc
        return kb
    except KnowledgeBaseError as exc:
        print(f"The knowledge base in {settings.helpdesk_kb_dir} cannot be used:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        raise SystemExit(2) from exc


def reply_json(answerer: Answerer, reply: Reply) -> str:
    """The ``ask --json`` line for one reply."""
    match = reply.match
    return json.dumps(
        {
            "question": match.question,
            "lang": match.lang,
            "decision": match.decision,
            "entry": match.entry,
            "candidates": list(match.candidates),
            "score": match.score,
            "answer": reply.text if match.decision == "answer" else None,
        },
        ensure_ascii=False,
    )


def _ask(answerer: Answerer, question: str | None, lang: Lang | None, as_json: bool, stdin: TextIO) -> int:
    if question is None and hasattr(stdin, "reconfigure"):
        stdin.reconfigure(errors="replace")  # binary junk on standard input is read, not fatal
    questions = [question] if question is not None else (line.rstrip("\n") for line in stdin)
    out = sys.stdout
    for raw in questions:
        text = strip_control(raw)
        reply = answerer.ask(text, lang)
        if as_json:
            out.write(reply_json(answerer, reply) + "\n")
        else:
            out.write(render_plain(answerer, reply) + "\n\n")
    out.flush()
    return 0


def _kb_validate(settings: Settings, now: datetime) -> int:
    problems = []
    try:
        kb = load_knowledge(settings.helpdesk_kb_dir, settings.helpdesk_profile)
        canned = load_canned(settings.helpdesk_kb_dir / "canned.toml")
    except KnowledgeBaseError as exc:
        problems += exc.problems
    try:
        office = load_calendar_files(settings.helpdesk_kb_dir / "calendar")
    except KnowledgeBaseError as exc:
        problems += exc.problems
    if not problems:
        try:
            training = training_set(kb)
        except ValueError as exc:
            problems.append(KnowledgeProblem("training", None, None, str(exc)))
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"{len(problems)} problem(s) found.", file=sys.stderr)
        return 1
    questions = sum(len(qs) for e in kb.entries.values() for qs in e.questions.values())
    print(
        f"OK: {len(kb.entries)} entries, {questions} alternate questions, {len(kb.topic_ids)} topics covered, "
        f"{len(canned)} canned replies, {len(training) - len(kb_examples(kb))} training lines, "
        f"{len(office)} holiday schedule file(s)."
    )
    if kb.checklist is not None:
        print(
            f"Checklist: {len(kb.checklist.items)} documents, {len(kb.checklist.rules)} rules, "
            f"{len(kb.checklist.cities)} cities."
        )
    for year in WorkCalendar(office).years_to_enter(now):
        print(
            f"warning: the official holiday schedule for {year} is not known yet, so deadlines that reach into "
            f"{year} are provisional. Enter the State Council's notice in {settings.kb_dir_label}/{template(year)}."
        )
    return 0


def _calendar(settings: Settings, years: list[int], now: datetime) -> int:
    """``calendar [YEAR …]``: each year's source, days off and adjusted working days."""
    calendar = WorkCalendar(load_calendar_files(settings.helpdesk_kb_dir / "calendar"))
    today = now.astimezone(SHANGHAI).date()
    for year in years or [today.year, today.year + 1]:
        schedule = calendar.schedule(year)
        source = {
            ScheduleSource.OFFICE: f"office file {settings.kb_dir_label}/{template(year)} ({schedule.notice})",
            ScheduleSource.PACKAGE: f"the holidays package {holidays.__version__}",
            ScheduleSource.PROVISIONAL: (
                "PROVISIONAL: statutory holidays only, no adjusted working days; "
                f"enter the official schedule in {settings.kb_dir_label}/{template(year)}"
            ),
        }[schedule.source]
        print(f"{year}: {source}")
        print("  days off:          " + _days(schedule.days_off))
        print("  adjusted workdays: " + (_days(schedule.workdays) or "none"))
    return 0


def _days(days: frozenset[date]) -> str:
    return ", ".join(f"{day:%m-%d %a}" for day in sorted(days))


def _kb_build(kb: KnowledgeBase, settings: Settings) -> int:
    """``kb build``: train (or find in the cache) the classifier for the knowledge base."""
    import time

    from bot.answering.classifier import cache_file, load_or_train, training_set

    started = time.perf_counter()
    examples = training_set(kb)
    model = load_or_train(kb, settings.helpdesk_cache_dir)
    if model is None:
        print("Classifier: not enough classes to train one; the engine answers alone.")
        return 0
    path = cache_file(settings.helpdesk_cache_dir, examples, kb)
    print(
        f"Classifier: {len(model.classes)} classes, {len(model.vocabulary)} features, {len(examples)} examples, "
        f"{len(model.domain_terms)} domain terms; {path} ({time.perf_counter() - started:.1f} s)"
    )
    return 0


def _kb_eval(answerer: Answerer, path: str, misses: bool) -> int:
    from pathlib import Path

    items = read_labelled(Path(path))
    tallies, results = evaluate(answerer.matcher, items)
    if misses:
        for item, match, result in results:
            if result not in ("correct", "fallback") or (result == "fallback" and item.expect):
                if item.expect is None and result == "fallback":
                    continue
                found = match.entry or ",".join(match.candidates)
                print(f"{result:16} {item.expect or '-':24} {match.decision:8} {found:30} {match.score:.3f} {item.q}")
    print(format_report(tallies))
    return 0


def _kb_gaps_export(kb: KnowledgeBase, settings: Settings, out: str | None) -> int:
    """``kb gaps-export``: the accepted gap-review examples the training data lacks (``bot.answering.gaps``)."""
    from pathlib import Path

    from bot.answering.gaps import accepted_examples, export_file
    from bot.store.db import make_engine

    export = export_file(accepted_examples(make_engine(settings.database_url)), kb, Path(out) if out else None)
    where = out or "standard output"
    print(
        f"{len(export.lines)} new example(s) to {where}; left out: {export.duplicates} already in the training data, "
        f"{export.unknown} of an entry that no longer exists. Review them, then commit the file into "
        "knowledge/training/.",
        file=sys.stderr,
    )
    return 0


def _staff(settings: Settings, args: argparse.Namespace) -> int:
    """``staff add|list|remove`` on the configured database."""
    from bot.desk.staff import StaffRegistry
    from bot.errors import HelpdeskError, NotFound
    from bot.store.db import make_engine

    registry = StaffRegistry(make_engine(settings.database_url))
    now = datetime.now(UTC)
    try:
        if args.staff_command == "add":
            member = registry.add(args.telegram_id, args.role, args.name, now)
            print(f"{member.user_id} {member.name}: {member.role}")
        elif args.staff_command == "remove":
            return _staff_remove(registry, args.telegram_id, args.hand_back, now)
        else:
            members = registry.list()
            for member in members:
                print(f"{member.user_id}\t{member.role}\t{member.name}" + ("\tchecked in" if member.checked_in else ""))
            if not members:
                print("No staff yet: python -m bot staff add TELEGRAM_ID --role supervisor --name NAME")
    except NotFound:
        print(f"error: {args.telegram_id} is not a member of staff", file=sys.stderr)
        return 1
    except (HelpdeskError, ValueError) as exc:
        print(f"error: {exc or type(exc).__name__}", file=sys.stderr)
        return 1
    return 0


def _staff_remove(registry: StaffRegistry, user_id: int, hand_back: bool, now: datetime) -> int:
    """``staff remove ID [--hand-back]``: like /staff remove, in one transaction, but nobody can be told
    from here; so a member with live chats is removed only with ``--hand-back``, and the output says so."""
    from bot.desk.live.queue import live_chats, remove_operator
    from bot.errors import NotFound
    from bot.store.db import session_scope

    with session_scope(registry.engine) as session:
        chats = live_chats(session, user_id)
        if chats and not hand_back and registry.get(user_id) is not None:
            print(
                f"error: {user_id} has {chats} live chat(s). Remove them with /staff remove in Telegram (their "
                "users are told and go back to the front of the queue), or ask them to /checkout first, or pass "
                "--hand-back (the chats go back to the front of the queue, but the users are not told).",
                file=sys.stderr,
            )
            return 1
        try:
            member, again = remove_operator(session, user_id, now)
        except NotFound:
            print(f"error: {user_id} is not a member of staff", file=sys.stderr)
            return 1
    print(f"{member.user_id} {member.name}: removed")
    if again:
        print(
            f"{len(again)} live chat(s) went back to the front of the queue. The users were NOT told (the command "
            "line sends no Telegram messages): /human shows them their place, and checked-in operators see them "
            "in /queue."
        )
    return 0


def _deliveries(settings: Settings, days: int, now: datetime) -> int:
    """``deliveries``: the works still owing a message, and the messages Telegram refused for good."""
    from bot.store.db import make_engine
    from bot.store.journal import Journal

    journal = Journal(make_engine(settings.database_url))
    owed = journal.unfinished()
    print(f"Owed, not yet sent: {len(owed)} (updates and job runs whose messages wait for Telegram)")
    for work in owed:
        when = (
            f"next attempt {work.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC"
            if work.next_attempt_at
            else "not finished (done first at the next start)"
        )
        print(f"  {work.key}	chat {work.chat_id or '-'}	{work.attempts} attempt(s)	{when}")
    failed = journal.failed_sends(now - timedelta(days=days))
    print(f"Refused by Telegram for good in the last {days} day(s): {len(failed)}")
    for send in failed:
        print(f"  {send.at:%Y-%m-%d %H:%M:%S} UTC	chat {send.chat_id}	{send.error}	({send.work_key})")
    return 0


def parse_now(text: str) -> datetime:
    """``--now``: an ISO time; without an offset it is Beijing time (argparse type)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO time: {text!r} (e.g. 2026-05-06T09:30)") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=SHANGHAI)


def run_due(settings: Settings, now: datetime, say: Callable[[str], object] = print) -> int:
    """``jobs run-due``: decide and record the deadline alerts and the digest due as of *now*, once, and say
    what was recorded and for whom. Nothing is sent from here (no Telegram): the bot sends what was
    recorded on its next run (``bot.desk.tickets.alerts``)."""
    from bot.desk.outreach.reminders import PermitReminders, parse_leads, reminder_report
    from bot.desk.reports.monthly import MonthlyReports
    from bot.desk.tickets.alerts import AlertPolicy, DeadlineAlerts
    from bot.store.db import make_engine

    calendar = WorkCalendar(load_calendar_files(settings.helpdesk_kb_dir / "calendar"))
    policy = AlertPolicy(settings.helpdesk_digest_hour, AlertPolicy.parse_recipients(settings.helpdesk_digest_to))
    engine = make_engine(settings.database_url)
    alerts = DeadlineAlerts(engine, calendar, policy)
    leads, hour = parse_leads(settings.helpdesk_reminder_days), settings.helpdesk_reminder_hour
    for line in reminder_report(PermitReminders(engine, calendar, leads, hour).record_due(now), now):
        say(line)  # permit reminders (/reminders) go out any day from their hour: reported first, when any
    monthly = MonthlyReports.from_settings(engine, calendar, settings).record_due(now)
    if monthly:  # last month's workbook, on the first working day of a month (bot.desk.reports.monthly)
        recipients = ", ".join(str(report.user_id) for report in monthly)
        say(f"Monthly report {monthly[0].period.label} recorded → {recipients} (the bot sends the workbook).")
    local = now.astimezone(SHANGHAI)
    if not calendar.is_working_day(local.date()) or local.hour < policy.digest_hour:
        say(
            f"{local:%Y-%m-%d} is not a working day: nothing is due (alerts and the digest go out on working days "
            f"from {policy.digest_hour:02d}:00 Beijing time)."
            if not calendar.is_working_day(local.date())
            else f"{local:%Y-%m-%d %H:%M} is before {policy.digest_hour:02d}:00 (Beijing time): nothing is due yet."
        )
        return 0
    decisions = alerts.record_due(now)
    say(f"As of {local:%Y-%m-%d %H:%M} (Beijing time):")
    for decision in decisions:
        say(f"  {decision.kind:<9} {decision.about:<11} → {', '.join(map(str, decision.recipients))}")
    if not decisions:
        say("Nothing new is due: what was due was recorded before (each alert and digest is recorded once).")
        return 0
    say(
        f"Recorded {len(decisions)} alert(s). The command line sends no Telegram messages: the bot sends them on "
        "its next run (when it starts, then every HELPDESK_ALERT_SECONDS)."
    )
    return 0


def quiet_migrations() -> None:
    """Alembic's INFO lines ("Context impl SQLiteImpl.", "Running stamp_revision …") mean nothing to someone at
    the console or running a command: only its warnings and errors are shown there (the bot's log keeps all)."""
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLogger().getEffectiveLevel()))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m bot`` and ``helpdesk``."""
    args = _parser().parse_args(argv)
    settings = get_settings()
    configure_logging(settings)  # LOG_FILE rotates; every record is redacted (bot.logs)
    if not (args.command == "run" and settings.telegram_bot_token is not None):
        quiet_migrations()  # the console and the tools print their own output, not Alembic's chatter
    if args.command == "check":
        from bot.ops.check import run_checks

        return run_checks(settings, webhook=args.webhook, migrate=args.migrate)
    if args.command == "kb" and args.kb_command == "validate":
        return _kb_validate(settings, datetime.now(UTC))
    if args.command == "calendar":
        try:
            return _calendar(settings, args.years, datetime.now(UTC))
        except KnowledgeBaseError as exc:
            print("\n".join(str(p) for p in exc.problems), file=sys.stderr)
            return 1
    if args.command == "staff":
        return _staff(settings, args)
    if args.command == "qr":
        from bot.desk.outreach.qr import run_qr

        return run_qr(settings, args.source, args.out, args.username)
    if args.command == "deliveries":
        return _deliveries(settings, args.days, datetime.now(UTC))
    if args.command == "user":
        return privacy_cli.user_command(settings, args, datetime.now(UTC))
    if args.command == "retention":
        return privacy_cli.retention_command(settings, args, args.now or datetime.now(UTC))
    if args.command == "report":
        return report_cli.report_command(settings, args, datetime.now(UTC))
    if args.command == "jobs":
        try:
            return run_due(settings, args.now or datetime.now(UTC))
        except (KnowledgeBaseError, ValueError) as exc:  # a broken calendar file, bad recipients
            print(f"error: {exc}", file=sys.stderr)
            return 1
    kb = load_kb_or_exit(settings)
    if args.command == "kb" and args.kb_command == "build":
        return _kb_build(kb, settings)
    if args.command == "notice":
        return notice_cli.notice_command(settings, args, kb, datetime.now(UTC))
    if args.command == "kb" and args.kb_command == "gaps-export":
        return _kb_gaps_export(kb, settings, args.out)
    answerer = Answerer(kb)
    if args.command == "ask":
        return _ask(answerer, args.question, args.lang, args.json, sys.stdin)
    if args.command == "kb":
        return _kb_eval(answerer, args.file, args.misses)
    if args.command == "run" and settings.telegram_bot_token is not None:
        from handlers.app import run_telegram  # imported late: the core stays free of telegram

        return run_telegram(settings, kb, webhook=args.webhook)
    return _console(settings, kb, answerer, args)


def _console(settings: Settings, kb: KnowledgeBase, answerer: Answerer, args: argparse.Namespace) -> int:
    """The terminal console, with tickets on the configured database (staff side with --as)."""
    from bot.services import build_services
    from console.desk import DeskConsole

    side = getattr(args, "side", "applicant")
    lang = getattr(args, "lang", None)
    as_staff = side != "applicant"
    user_id = getattr(args, "user_id", None) or (2 if as_staff else 1)
    services = build_services(settings, kb)

    def clock() -> datetime:
        return datetime.now(UTC)

    services.helpdesk.meet(user_id, f"console {side}", lang, clock())
    if as_staff and services.staff.get(user_id) is None:
        services.staff.add(user_id, side, f"Console {side}", clock())
        print(f"(console user {user_id} registered as {side}; `python -m bot staff remove {user_id}` undoes it)")
    desk = DeskConsole(services, user_id, lang or "en", clock, as_staff=as_staff)
    run_console(answerer, lang, desk=desk)
    return 0


if __name__ == "__main__":
    sys.exit(main())
