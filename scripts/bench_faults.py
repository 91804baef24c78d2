"""Fault benchmark: the helpdesk keeps every promise while Telegram fails a share of its calls at random.

    python scripts/bench_faults.py [--users 50] [--actions 500] [--fault-rate 0.2] [--seed 1]
                                   [--operators 4] [--retry-delays 0.05,0.1,0.2,0.4,0.8] [--clock-speed 30]
                                   [--rate-limit 30] [--timeout 120] [--database-url URL] [--verbose]

The real application runs in-process (as ``tests/telegram_fixtures.Helpdesk`` runs it: long polling,
the work journal, per-chat order, the rate limiter) on a fresh SQLite file, or with ``--database-url``
on a fresh schema of that PostgreSQL server, against the stand-in Bot API (``tests/botapi.py``) told to
answer ``--fault-rate`` of the sending and editing calls with 429 (retry after 1 s), 500 or 502.

Simulated users act concurrently, each one action after the other, every action waiting (event-driven,
``--timeout`` at most) for what it is owed: knowledge questions (real ones from knowledge/training and
../shared/kb, English and Chinese), tickets filed through the whole button flow, staff ``/reply`` to them
(a notice the owner must receive), and live chats (operators check in, users ask for a person, an
operator claims, messages relayed both ways, ``/end`` or ``/cancel``, a rating, a bad one alerting the
supervisor). The mix is drawn from ``--seed``.

Then, from what the stand-in recorded as delivered (only successful calls are): every question got its
answer (the knowledge base's exact text) once, every filed ticket's number was shown, every relay and
notice was delivered exactly once and in order in each chat; nothing else was sent (a message whose text
that chat was already given and is not owed again is a duplicate); no call was refused but by the faults,
no error logged; the journal has no work left unfinished, and the database holds each ticket, staff reply,
live chat and rating once. The exit status is 1 if any check fails.

Printed: the actions by kind, updates, Bot API calls and the faults by code, calls retried in place,
works deferred and resumed (from the journal), messages delivered and owed by category, lost, late,
duplicated, unexpected, out of order, button presses answered, wall time and time per action. Reported
but not failed: queue-place notices that reach a user already connected (sent by another chat's work),
a resumed work answering its button press again (Telegram refuses: too old), and python-telegram-bot's
AIORateLimiter logging an ERROR for each 429 it hands on to the bot's own retries.

The bot's retries wait ``--retry-delays`` (production: 0.5,1,2,4,8 s) between attempts; a 429 waits its
retry_after of 1 s, as Telegram asks. The application's clock runs ``--clock-speed`` times faster than
real time, so a work deferred after the retries ran out is resumed after ``RESUME_DELAYS`` / speed real
seconds (the look for due works runs every 0.2 s); the live desk's own timers are switched off.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import random
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlmodel import Session, col, select  # noqa: E402

from bot.answering.answers import Answerer  # noqa: E402
from bot.answering.helpdesk import MAX_MESSAGE_CHARS  # noqa: E402
from bot.answering.knowledge import load_knowledge  # noqa: E402
from bot.answering.text import Lang, detect_lang, has_content, strip_control  # noqa: E402
from bot.arrival import clearly_answered  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.desk.ratings import BAD_LEVELS, LEVEL_LABELS  # noqa: E402
from bot.desk.tickets.common import KINDS  # noqa: E402
from bot.i18n import translator  # noqa: E402
from bot.store.db import normalise_url  # noqa: E402
from bot.store.models import LiveSession, Rating, Ticket, TicketMessage, Work  # noqa: E402
from handlers.durable import RESUME_DELAYS  # noqa: E402
from handlers.render import answer_messages, clarify_message, fallback_message  # noqa: E402
from tests.botapi import SENT_KINDS, TEXT_LIMIT, BotApiServer, SentMessage, format_text  # noqa: E402
from tests.telegram_fixtures import ERROR_TEXTS, START, Clock, Helpdesk  # noqa: E402

QUESTION_FILES = (
    *sorted((ROOT / "knowledge" / "training").glob("questions-*.jsonl")),
    ROOT.parent / "shared" / "kb" / "dev.jsonl",
)
USER_BASE = 100_000
OPERATOR_BASE = 900_001
SUPERVISOR = 900_000
CLIENT_CODE: dict[Lang, str] = {"en": "en", "zh": "zh-hans"}
FAST_RETRIES = (0.05, 0.1, 0.2, 0.4, 0.8)
RESUME_SECONDS = 0.2
ACTION_KINDS = (
    "question",
    "ticket",
    "staff_reply",
    "live_start",
    "relay_to_operator",
    "relay_to_user",
    "live_end",
)
FLOOD_ERROR = "Rate limit hit after maximum of "
"""How python-telegram-bot's AIORateLimiter begins the ERROR it logs for each 429 it hands on."""
NOT_NEEDED = 1e6
"""Minutes (and seconds) for the live desk's timers: they never fire during a run."""


def fault_settings(retry_delays: tuple[float, ...] = FAST_RETRIES) -> dict[str, Any]:
    """The settings of a fault run: short retries, a frequent look for deferred works, no live-desk timers."""
    return {
        "helpdesk_supervisors": str(SUPERVISOR),
        "telegram_retry_delays": retry_delays,
        "helpdesk_resume_seconds": RESUME_SECONDS,
        "helpdesk_sweep_seconds": NOT_NEEDED,
        "helpdesk_queue_wait_minutes": NOT_NEEDED,
        "helpdesk_idle_remind_minutes": NOT_NEEDED,
        "helpdesk_idle_close_minutes": NOT_NEEDED,
    }


# --------------------------------------------------------------------------------------------------------
# The stand-in and the clock
# --------------------------------------------------------------------------------------------------------
class FaultServer(BotApiServer):
    """The stand-in Bot API, with waits that many simulated people can run at once on one chat."""

    def log_of(self, chat_id: int) -> list[SentMessage]:
        """Everything the bot did in the chat (the live record, not a copy: read it, never change it)."""
        return self._log[chat_id]

    async def until(self, ready: Callable[[], bool], timeout: float) -> bool:
        """Wait until *ready* (tested whenever the bot did something); False after *timeout* seconds."""
        try:
            async with self._cond:
                await asyncio.wait_for(self._cond.wait_for(ready), timeout)
        except TimeoutError:
            return False
        return True


class SpeedClock(Clock):
    """The application's clock: from *now*, running *speed* times faster than real time."""

    def __init__(self, now: datetime = START, speed: float = 30.0) -> None:
        super().__init__(now)
        self.speed = speed
        self._origin = time.monotonic()

    def __call__(self) -> datetime:
        return self.now + timedelta(seconds=(time.monotonic() - self._origin) * self.speed)


# --------------------------------------------------------------------------------------------------------
# What is owed, and what was delivered
# --------------------------------------------------------------------------------------------------------
CATEGORIES = ("answer", "ticket_number", "relay", "notice", "reply")
"""What an owed message is: an answer to a question, a ticket's number, a relayed message, a notice to
someone who did not write (staff reply, claim, offer, end, alert), or a reply in the conversation."""


@dataclass(eq=False)
class Owed:
    """A message the bot owes: in *chat*, matching *match*, for the simulated user *user*'s action."""

    chat: int
    category: str
    what: str
    user: int
    action: str
    since: int
    match: Callable[[SentMessage], bool]
    index: int | None = None
    message: SentMessage | None = None
    late: bool = False


class Lost(Exception):
    """An owed message did not arrive in time: the user's remaining actions are not done."""

    def __init__(self, owed: Owed, timeout: float) -> None:
        super().__init__(f"{owed.what} in chat {owed.chat} (for {owed.action}) not delivered within {timeout:.0f} s")
        self.owed = owed


class Ledger:
    """Matches owed messages to what the stand-in recorded, each delivered message to at most one debt."""

    def __init__(self, server: FaultServer, timeout: float) -> None:
        self.server = server
        self.timeout = timeout
        self.start = {chat: len(server.log_of(chat)) for chat in server.chats()}
        self.owed: list[Owed] = []
        self.claimed: dict[tuple[int, int], Owed] = {}

    def mark(self, chat: int) -> int:
        """Where the chat's record is now: what an action owes arrives after this."""
        return len(self.server.log_of(chat))

    def _claim(self, owed: Owed, cursor: list[int]) -> bool:
        log = self.server.log_of(owed.chat)
        while cursor[0] < len(log):
            index = cursor[0]
            message = log[index]
            if (owed.chat, index) not in self.claimed and message.kind in SENT_KINDS and owed.match(message):
                self.claimed[(owed.chat, index)] = owed
                owed.index, owed.message = index, message
                return True
            cursor[0] += 1  # never matches later: records do not change and claims are not given back
        return False

    async def expect(
        self,
        chat: int,
        category: str,
        what: str,
        user: int,
        action: str,
        since: int,
        match: Callable[[SentMessage], bool],
    ) -> SentMessage:
        """The first unclaimed message in *chat* after *since* that matches (raises ``Lost`` after the timeout)."""
        owed = Owed(chat, category, what, user, action, since, match)
        self.owed.append(owed)
        cursor = [max(since, self.start.get(chat, 0))]
        if not await self.server.until(lambda: self._claim(owed, cursor), self.timeout):
            raise Lost(owed, self.timeout)
        assert owed.message is not None
        return owed.message

    def settle_late(self) -> None:
        """After the run: look once more for the owed messages that had not arrived in time."""
        for owed in self.owed:
            if owed.message is None:
                owed.late = self._claim(owed, [max(owed.since, self.start.get(owed.chat, 0))])


# --------------------------------------------------------------------------------------------------------
# Texts the bot sends, as patterns (translated, with the fields left open)
# --------------------------------------------------------------------------------------------------------
def template(lang: Lang, message: str) -> re.Pattern[str]:
    """The translated *message* as a regular expression, each ``{field}`` matching any text."""
    parts = re.split(r"\{\w+\}", translator(lang).gettext(message))
    return re.compile("(.+?)".join(re.escape(part) for part in parts), re.S)


def text_is(pattern: re.Pattern[str], data_prefix: str | None = None) -> Callable[[SentMessage], bool]:
    """A message whose whole text matches *pattern* (and that has a button starting *data_prefix*)."""

    def match(message: SentMessage) -> bool:
        if data_prefix is not None and not any(d.startswith(data_prefix) for d in message.data):
            return False
        return pattern.fullmatch(message.text) is not None

    return match


def exactly(text: str) -> Callable[[SentMessage], bool]:
    return lambda message: message.text == text


def visible(chunks: list[str]) -> list[str]:
    """The HTML messages as the user reads them (what the stand-in records)."""
    return [format_text(chunk, "HTML", TEXT_LIMIT)[0] for chunk in chunks]


class Questions:
    """Real questions by language, and the answer the knowledge base gives each (as the user reads it)."""

    def __init__(self, answerer: Answerer) -> None:
        self.answerer = answerer
        self.by_lang: dict[Lang, list[str]] = {"en": [], "zh": []}
        seen: set[str] = set()
        for path in QUESTION_FILES:
            if not path.exists():
                continue
            for line in path.read_text(encoding="utf-8").splitlines():
                text = json.loads(line).get("q", "") if line.strip() else ""
                clean = strip_control(text)
                if text in seen or not has_content(clean) or len(clean) > MAX_MESSAGE_CHARS or text.startswith("/"):
                    continue
                seen.add(text)
                self.by_lang["zh" if re.search(r"[\u4e00-\u9fff]", text) else "en"].append(text)

    def clear(self, question: str) -> bool:
        """Whether the knowledge base clearly answers *question* (else, after a staff reply to one of the
        user's tickets, the bot first asks whether the message is for that ticket)."""
        clean = strip_control(question)
        return clearly_answered(self.answerer.ask(clean, detect_lang(clean)))

    def answer(self, question: str) -> list[str]:
        """The messages that answer *question* from someone who has not chosen a language."""
        clean = strip_control(question)
        reply = self.answerer.ask(clean, detect_lang(clean))
        if reply.match.decision == "answer":
            chunks, _markup = answer_messages(reply, 1)
        elif reply.match.decision == "clarify":
            chunks = [clarify_message(reply, 1)[0]]
        else:
            chunks = [fallback_message(reply, 1)[0]]
        return visible(chunks)


# --------------------------------------------------------------------------------------------------------
# The simulated people
# --------------------------------------------------------------------------------------------------------
@dataclass
class LiveChat:
    operator: int
    session: int
    relayed: int | None = None
    """The operator's copy of the user's latest relayed message: the operator replies to it."""


@dataclass
class SimUser:
    uid: int
    lang: Lang
    rng: random.Random
    plan: list[str]
    tickets: list[tuple[str, str]] = field(default_factory=list)
    """(number, token of the description) of each ticket filed."""
    answered: set[str] = field(default_factory=set)
    """The numbers of the tickets staff replied to (each is then "answered")."""
    live: LiveChat | None = None
    done: int = 0
    aborted: str | None = None

    @property
    def name(self) -> str:
        return f"User{self.uid}"


def make_plan(actions: int, rng: random.Random) -> list[str]:
    """A user's actions, drawn as a small state machine (idle ↔ in a live chat) that ends idle."""
    plan: list[str] = []
    live, relayed, tickets = False, False, 0
    for left in range(actions, 0, -1):
        if live:
            if left == 1 or (relayed and rng.random() < 0.3):
                kind, live = "live_end", False
            elif not relayed:
                kind = "relay_to_operator"  # the operator answers by replying to the user's message
            else:
                kind = rng.choice(("relay_to_operator", "relay_to_user"))
            relayed = relayed or kind == "relay_to_operator"
        else:
            weights = {
                "question": 45,
                "ticket": 20,
                "staff_reply": 15 if tickets else 0,
                "live_start": 20 if left >= 3 else 0,
            }
            kind = rng.choices(list(weights), list(weights.values()))[0]
            tickets += kind == "ticket"
            live, relayed = kind == "live_start", False
        plan.append(kind)
    return plan


SENTENCES = (
    "My employer changed its address, do I need to update my permit?",
    "I uploaded the diploma twice & the portal still says <missing>.",
    "我的工作许可证丢了，需要补办吗？",
    "Can you check the status of my application please",
    "公司地址变更了，需要做什么？",
    "Thanks, that helps a lot!",
    'The photo was rejected: "background not white". What size is right?',
)


@dataclass
class Figures:
    """What a run did and found (``lines`` prints them; ``ok`` says whether every check passed)."""

    users: int = 0
    actions_planned: int = 0
    operators: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    updates: int = 0
    presses: int = 0
    calls: int = 0
    fault_calls: int = 0
    faults: Counter[int] = field(default_factory=Counter)
    deferred_works: int = 0
    deferrals: int = 0
    resumed: int = 0
    unfinished: int = 0
    retried: int = 0
    callbacks_unanswered: int = 0
    delivered: int = 0
    owed_by_category: Counter[str] = field(default_factory=Counter)
    queue_notices: int = 0
    stale_queue_notices: list[str] = field(default_factory=list)
    """Queue-place notices delivered when the user no longer waited (connected already): reported, not failed."""
    lost: list[str] = field(default_factory=list)
    late: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    out_of_order: list[str] = field(default_factory=list)
    aborted: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    callbacks_too_old: int = 0
    errors_logged: list[str] = field(default_factory=list)
    flood_errors: int = 0
    """ERROR lines python-telegram-bot's AIORateLimiter writes for each 429 it hands on (``max_retries=0``),
    although ``GuardedBot`` then retries the call: counted apart, not a failure of this benchmark."""
    warnings: Counter[str] = field(default_factory=Counter)
    database: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    settings: str = ""

    @property
    def ok(self) -> bool:
        problems = (self.lost, self.late, self.duplicated, self.unexpected, self.out_of_order, self.aborted)
        return not any(problems) and not self.refused and not self.errors_logged and not self.database

    def lines(self) -> list[str]:
        """The figures, a few lines, then each problem found (at most ten of a kind)."""
        kinds = ", ".join(f"{kind} {self.by_kind[kind]}" for kind in ACTION_KINDS if self.by_kind[kind])
        faults = sum(self.faults.values())
        share = faults / self.fault_calls if self.fault_calls else 0.0
        codes = ", ".join(f"{code} × {self.faults[code]}" for code in sorted(self.faults)) or "none"
        owed = ", ".join(f"{c} {self.owed_by_category[c]}" for c in CATEGORIES if self.owed_by_category[c])
        answered = self.presses - self.callbacks_unanswered
        out = [
            f"  {self.settings}",
            f"  users {self.users}, operators {self.operators}, supervisor 1",
            f"  actions {sum(self.by_kind.values())} of {self.actions_planned}: {kinds}",
            f"  updates pushed {self.updates}, {self.presses} of them button presses",
            f"  Bot API calls {self.calls}, {self.fault_calls} sending or editing; faults injected {faults} "
            f"({share:.1%}): {codes}",
            f"  retried in place {self.retried}; works deferred {self.deferred_works} ({self.deferrals} deferrals), "
            f"resumed and finished {self.resumed}, left unfinished {self.unfinished}",
            f"  messages delivered {self.delivered}: owed {sum(self.owed_by_category.values())} ({owed}); "
            f"queue-place notices {self.queue_notices}, {len(self.stale_queue_notices)} of them after the user "
            "was connected",
            f"  lost {len(self.lost)}, late {len(self.late)}, duplicated {len(self.duplicated)}, "
            f"unexpected {len(self.unexpected)}, out of order {len(self.out_of_order)}, "
            f"users stopped {len(self.aborted)}",
            f"  button presses answered {answered} of {self.presses}; answered again by a resumed work (refused: "
            f"too old) {self.callbacks_too_old}",
            f"  other refusals {len(self.refused)}; errors logged {len(self.errors_logged)}, besides the rate "
            f"limiter's ERROR for each 429 it hands on to the retries: {self.flood_errors}",
            f"  wall time {self.wall:.1f} s; per action p50 {percentile(self.latencies, 0.5):.2f} s, "
            f"p99 {percentile(self.latencies, 0.99):.2f} s, max {percentile(self.latencies, 1):.2f} s",
        ]
        if self.warnings:
            out.append("  warnings logged: " + "; ".join(f"{n} × {w}" for w, n in self.warnings.most_common(4)))
        for title, items in (
            ("LOST", self.lost),
            ("LATE", self.late),
            ("DUPLICATED", self.duplicated),
            ("UNEXPECTED", self.unexpected),
            ("OUT OF ORDER", self.out_of_order),
            ("STOPPED", self.aborted),
            ("REFUSED", self.refused),
            ("ERROR LOGGED", self.errors_logged),
            ("DATABASE", self.database),
            ("NOTE, QUEUE PLACE AFTER CONNECTED", self.stale_queue_notices),
        ):
            shown = 3 if title.startswith("NOTE") else 10
            out += [f"  {title}: {item}" for item in items[:shown]]
            if len(items) > shown:
                out.append(f"  {title}: … and {len(items) - shown} more")
        return out


def percentile(values: list[float], q: float) -> float:
    """The *q* quantile of *values* (0 for none)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


class LogTap(logging.Handler):
    """Keeps the warnings and errors the application logs during a run."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def tapped() -> Iterator[LogTap]:
    tap = LogTap()
    root = logging.getLogger()
    root.addHandler(tap)
    try:
        yield tap
    finally:
        root.removeHandler(tap)


class FaultRun:
    """One run: the simulated people acting on a started helpdesk whose stand-in injects faults."""

    def __init__(
        self,
        desk: Helpdesk,
        users: int,
        actions: int,
        seed: int,
        operators: int = 0,
        timeout: float = 120.0,
    ) -> None:
        assert isinstance(desk.botapi, FaultServer), "the helpdesk must run against a FaultServer"
        self.desk = desk
        self.server: FaultServer = desk.botapi
        self.engine = desk.services.engine
        """Kept to read the journal and the tables after the application stopped (a disposed engine reconnects)."""
        self.timeout = timeout
        self.operators = [OPERATOR_BASE + i for i in range(operators or max(2, min(6, users // 12)))]
        self.staff = [*self.operators, SUPERVISOR]
        self.questions = Questions(desk.services.helpdesk.answerer)
        per_user = [actions // users + (1 if i < actions % users else 0) for i in range(users)]
        self.users: list[SimUser] = []
        for i, count in enumerate(per_user):
            rng = random.Random(seed * 1_000_003 + i)
            self.users.append(SimUser(USER_BASE + i, "zh" if i % 2 else "en", rng, make_plan(count, rng)))
        self.actions = actions
        self.ledger: Ledger | None = None
        self.presses: list[str] = []
        self.updates = 0
        self.tokens = 0
        self.latencies: list[float] = []
        self.by_kind: Counter[str] = Counter()

    # ----- set-up: staff who have started the bot, operators checked in ---------------------------------
    async def prepare(self) -> None:
        """Before the faults: staff members start the bot and the operators check in."""
        now = self.desk.clock()
        for number, op in enumerate(self.operators, 1):
            self.desk.services.staff.add(op, "operator", f"Operator {number}", now, SUPERVISOR)
        for member in self.staff:
            await self.desk.send(member, "/start", language_code="en", first_name=f"Staff{member}")
        for op in self.operators:
            await self.desk.send(op, "/checkin", language_code="en")
        await self.desk.settle()

    # ----- talking ------------------------------------------------------------------------------------
    def token(self, user: SimUser) -> str:
        self.tokens += 1
        return f"[{user.uid}-{self.tokens}]"

    async def push(self, sender: int, text: str, lang: Lang = "en", reply_to: int | None = None) -> None:
        self.updates += 1
        name = f"Staff{sender}" if sender in self.staff else f"User{sender}"
        await self.server.push_message(
            sender, text, language_code=CLIENT_CODE[lang], first_name=name, reply_to_message_id=reply_to
        )

    async def press(self, user: int, message: SentMessage, data: str) -> None:
        self.updates += 1
        self.presses.append(await self.server.press(user, message, data))

    async def owe(
        self,
        chat: int,
        category: str,
        what: str,
        user: SimUser,
        since: dict[int, int],
        match: Callable[[SentMessage], bool],
    ) -> SentMessage:
        assert self.ledger is not None
        action = f"{user.name} action {user.done + 1} ({user.plan[user.done]})"
        return await self.ledger.expect(chat, category, what, user.uid, action, since[chat], match)

    def marks(self, *chats: int) -> dict[int, int]:
        assert self.ledger is not None
        return {chat: self.ledger.mark(chat) for chat in chats}

    # ----- the actions --------------------------------------------------------------------------------
    async def question(self, user: SimUser) -> None:
        text = user.rng.choice(self.questions.by_lang[user.lang])
        since = self.marks(user.uid)
        await self.push(user.uid, text, user.lang)
        if len(user.answered) == 1 and not self.questions.clear(text):
            # one ticket answered by staff: "is this message for your ticket?" — no, it is a new question
            offer = await self.owe(
                user.uid, "reply", f"ticket offer for {text[:40]!r}", user, since, lambda m: "on:t" in m.data
            )
            since = self.marks(user.uid)
            await self.press(user.uid, offer, "on:t")
        for number, expected in enumerate(self.questions.answer(text), 1):
            await self.owe(user.uid, "answer", f"answer part {number} to {text[:40]!r}", user, since, exactly(expected))

    async def ticket(self, user: SimUser) -> None:
        lang, uid, rng = user.lang, user.uid, user.rng
        kind = rng.choice(KINDS)
        since = self.marks(uid)
        await self.push(uid, "/ticket", lang)
        prompt = await self.owe(
            uid,
            "reply",
            "ticket kind prompt",
            user,
            since,
            text_is(template(lang, "What kind of ticket is it?"), f"tk:{kind}"),
        )
        await self.press(uid, prompt, f"tk:{kind}")
        describe = template(
            lang,
            "Please describe the matter in one message (at most {limit} characters). You can add documents or "
            "photos after filing.",
        )
        await self.owe(uid, "reply", "description prompt", user, since, text_is(describe))
        token = self.token(user)
        await self.push(uid, f"{token} {rng.choice(SENTENCES)}", lang)
        contact_prompt = template(lang, "Optional: a phone number or e-mail address where staff can reach you.")
        ask_contact = await self.owe(uid, "reply", "contact prompt", user, since, text_is(contact_prompt, "ts:contact"))
        if rng.random() < 0.5:
            await self.press(uid, ask_contact, "ts:contact")
        else:
            await self.push(uid, f"sim{uid}@example.com", lang)
        reference = template(lang, "Optional: your application or permit number, if you have one.")
        ask_reference = await self.owe(
            uid, "reply", "reference prompt", user, since, text_is(reference, "ts:reference")
        )
        await self.press(uid, ask_reference, "ts:reference")
        check = translator(lang).gettext("Please check your ticket:")
        summary = await self.owe(
            uid,
            "reply",
            "ticket summary",
            user,
            since,
            lambda m: m.text.startswith(check) and token in m.text and "tok" in m.data,
        )
        since.update(self.marks(*self.operators))  # checked in: each is told of the new ticket
        await self.press(uid, summary, "tok")
        filed = template(
            lang,
            "Thank you. Your ticket number is {number}. We will answer by {due} (Beijing time). You can follow it "
            "with /mytickets.",
        )
        confirmation = await self.owe(uid, "ticket_number", "ticket number", user, since, text_is(filed))
        number = re.search(r"T\d{4}-\d{4,}", confirmation.text)
        assert number is not None
        user.tickets.append((number.group(0), token))
        arrived = f"🆕 New ticket {number.group(0)} · "
        for op in self.operators:
            await self.owe(
                op,
                "notice",
                f"new ticket {number.group(0)}",
                user,
                since,
                lambda m: m.text.startswith(arrived) and any(d.startswith("sv:") for d in m.data),
            )

    async def staff_reply(self, user: SimUser) -> None:
        assert user.tickets, "planned after a ticket (a user whose filing failed stopped there)"
        number, _token = user.rng.choice(user.tickets)
        member = user.rng.choice(self.staff)
        text = f"{self.token(user)} {user.rng.choice(SENTENCES)}"
        since = self.marks(member, user.uid)
        await self.push(member, f"/reply {number} {text}")
        done = translator("en").gettext("Reply sent to the user of {number}.").format(number=number)
        await self.owe(member, "reply", f"/reply {number} confirmation", user, since, exactly(done))
        name = self.desk.services.staff.require(member).name  # replies are signed by the member of staff
        head = (
            translator(user.lang).gettext("Reply to your ticket {number} from {name}:").format(number=number, name=name)
        )
        await self.owe(user.uid, "notice", f"staff reply on {number}", user, since, exactly(f"{head}\n{text}"))
        user.answered.add(number)

    async def live_start(self, user: SimUser) -> None:
        uid, lang = user.uid, user.lang
        since = self.marks(uid, *self.operators)
        await self.push(uid, "/human", lang)
        queue = template(
            lang,
            "You are number {position} in the queue for a person. Estimated wait: about {minutes} min. I will tell "
            "you when your place changes; /cancel leaves the queue.",
        )
        await self.owe(uid, "reply", "queue place", user, since, text_is(queue, "hq"))
        line = f"\n{user.name} · "
        offers: dict[int, SentMessage] = {}
        for op in self.operators:
            offers[op] = await self.owe(
                op,
                "notice",
                f"offer of {user.name}",
                user,
                since,
                lambda m: line in m.text and any(d.startswith("cl:") for d in m.data),
            )
        op = user.rng.choice(self.operators)
        since = self.marks(uid, op)
        await self.press(op, offers[op], offers[op].data[0])
        chatting = re.compile(re.escape(f"You are now chatting with {user.name} (chat #") + r"(\d+),")
        claimed = await self.owe(
            op, "reply", f"claim of {user.name}", user, since, lambda m: chatting.match(m.text) is not None
        )
        session = chatting.match(claimed.text)
        assert session is not None
        name = f"Operator {self.operators.index(op) + 1}"
        connected = template(
            lang,
            "You are now connected with {operator} from the helpdesk. Write your message here; /cancel ends the chat.",
        )
        await self.owe(uid, "notice", "connected", user, since, lambda m: text_is(connected)(m) and name in m.text)
        user.live = LiveChat(op, int(session.group(1)))

    async def relay_to_operator(self, user: SimUser) -> None:
        live = user.live
        assert live is not None
        texts = [f"{self.token(user)} {user.rng.choice(SENTENCES)}" for _ in range(user.rng.randint(1, 3))]
        since = self.marks(live.operator)
        for text in texts:  # at once: they must arrive in this order
            await self.push(user.uid, text, user.lang)
        for text in texts:
            header = f"💬 {user.name} · #{live.session}\n"
            relayed = await self.owe(
                live.operator, "relay", f"relay {text[:24]!r}", user, since, exactly(header + text)
            )
            live.relayed = relayed.message_id

    async def relay_to_user(self, user: SimUser) -> None:
        live = user.live
        assert live is not None and live.relayed is not None
        name = f"Operator {self.operators.index(live.operator) + 1}"
        texts = [f"{self.token(user)} {user.rng.choice(SENTENCES)}" for _ in range(user.rng.randint(1, 3))]
        since = self.marks(user.uid)
        for text in texts:
            await self.push(live.operator, text, reply_to=live.relayed)
        for text in texts:
            await self.owe(user.uid, "relay", f"relay {text[:24]!r}", user, since, exactly(f"{name}\n{text}"))

    async def live_end(self, user: SimUser) -> None:
        live, uid, lang, rng = user.live, user.uid, user.lang, user.rng
        assert live is not None and live.relayed is not None
        since = self.marks(uid, live.operator)
        if rng.random() < 0.7:
            await self.push(live.operator, "/end", reply_to=live.relayed)
            ended = f"Chat #{live.session} ended (resolved). The user has been asked to rate it."
            await self.owe(live.operator, "reply", f"end of chat #{live.session}", user, since, exactly(ended))
        else:
            await self.push(uid, "/cancel", lang)
            left = f"The user ended chat #{live.session}."
            await self.owe(live.operator, "notice", f"user left chat #{live.session}", user, since, exactly(left))
        user.live = None
        ask = translator(lang).gettext("The chat with the helpdesk has ended.")
        rating = await self.owe(
            uid,
            "notice",
            "rating request",
            user,
            since,
            lambda m: m.text.startswith(ask) and f"rt:s:{live.session}:1" in m.data,
        )
        level = (
            rng.choice(BAD_LEVELS)
            if rng.random() < 0.2
            else rng.choice([lv for lv in LEVEL_LABELS if lv not in BAD_LEVELS])
        )
        since = self.marks(uid, SUPERVISOR)
        await self.press(uid, rating, f"rt:s:{live.session}:{level}")
        _ = translator(lang).gettext
        if level not in BAD_LEVELS:
            thanks = _("Thank you for your rating: {level}.").format(level=_(LEVEL_LABELS[level]))
            await self.owe(uid, "reply", "rating thanks", user, since, exactly(thanks))
            return
        sorry = _(
            "We are sorry. A supervisor will follow up with you. If you like, tell us in one message what went wrong."
        )
        apology = await self.owe(uid, "reply", "bad rating apology", user, since, exactly(sorry))
        alert = re.compile(
            r"⚠️ Bad rating: .+ for live chat #" + str(live.session) + rf"\. .+\nUser: .+ · id {uid}\n.+", re.S
        )
        await self.owe(SUPERVISOR, "notice", f"bad rating alert for #{live.session}", user, since, text_is(alert))
        since = self.marks(uid, SUPERVISOR)
        if rng.random() < 0.5:
            await self.press(uid, apology, apology.data[0])
            await self.owe(uid, "reply", "thanks after skip", user, since, exactly(_("Thank you.")))
            return
        comment = f"{self.token(user)} {rng.choice(SENTENCES)}"
        await self.push(uid, comment, lang)
        passed = _("Thank you. Your comment has been passed to a supervisor.")
        await self.owe(uid, "reply", "comment thanks", user, since, exactly(passed))
        await self.owe(
            SUPERVISOR,
            "notice",
            "alert with the comment",
            user,
            since,
            lambda m: m.text.endswith(f"\nComment: {comment}"),
        )

    # ----- running --------------------------------------------------------------------------------------
    async def act(self, user: SimUser) -> None:
        actions: dict[str, Callable[[SimUser], Any]] = {
            "question": self.question,
            "ticket": self.ticket,
            "staff_reply": self.staff_reply,
            "live_start": self.live_start,
            "relay_to_operator": self.relay_to_operator,
            "relay_to_user": self.relay_to_user,
            "live_end": self.live_end,
        }
        for kind in user.plan:
            begin = time.perf_counter()
            try:
                await actions[kind](user)
            except Lost as exc:
                user.aborted = str(exc)
                return
            self.latencies.append(time.perf_counter() - begin)
            self.by_kind[kind] += 1
            user.done += 1

    async def drain(self) -> None:
        """Until every update pushed is handled and no work waits to be resumed (deferred ones included)."""
        desk = self.desk.app.bot_data.desk
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            await self.desk.settle(self.timeout)
            if not any(desk.waiting.values()) and not desk.waiting_jobs:
                return
            await asyncio.sleep(RESUME_SECONDS)

    async def run(self) -> Figures:
        """Act (faults must be on), then drain; ``check`` afterwards, once the application has stopped."""
        self.ledger = Ledger(self.server, self.timeout)
        begin = time.perf_counter()
        await asyncio.gather(*(self.act(user) for user in self.users))
        await self.drain()
        figures = Figures(wall=time.perf_counter() - begin)
        return figures

    def check(self, figures: Figures, tap: LogTap) -> Figures:
        """Everything owed delivered once, in order; nothing else; the journal and the database agree."""
        server = self.server
        figures.users, figures.actions_planned, figures.operators = len(self.users), self.actions, len(self.operators)
        figures.by_kind, figures.latencies = self.by_kind, self.latencies
        figures.updates, figures.presses = self.updates, len(self.presses)
        figures.calls = len(server.calls)
        figures.fault_calls = sum(1 for call in server.calls if call.method.lower() in server.fault_methods)
        figures.faults = Counter(server.faults)
        figures.aborted = [u.aborted for u in self.users if u.aborted]
        self._owed(figures)
        self._extras(figures)
        self._bot_api(figures)
        self._log(figures, tap)
        self._journal(figures)
        self._database(figures)
        return figures

    def _owed(self, figures: Figures) -> None:
        """Each debt delivered (in time), and each person's debts in each chat in the order incurred."""
        assert self.ledger is not None
        self.ledger.settle_late()
        streams: dict[tuple[int, int], list[Owed]] = {}
        for owed in self.ledger.owed:
            where = f"{owed.what} in chat {owed.chat}, for {owed.action}"
            if owed.message is None:
                figures.lost.append(where)
                continue
            if owed.late:
                figures.late.append(f"{where} (after the timeout)")
            figures.owed_by_category[owed.category] += 1
            streams.setdefault((owed.chat, owed.user), []).append(owed)
        for (chat, _user), debts in streams.items():
            for before, after in itertools.pairwise(debts):
                if (after.index or 0) < (before.index or 0):
                    figures.out_of_order.append(
                        f"chat {chat}: {after.what!r} ({after.action}) arrived before {before.what!r} ({before.action})"
                    )

    def _extras(self, figures: Figures) -> None:
        """Nothing delivered but what was owed, and the queue-place notices (owed to whoever waits): a message
        whose text that chat was already given is a duplicate, any other one unexpected."""
        assert self.ledger is not None
        claimed, log_of = self.ledger.claimed, self.server.log_of
        place = "Your place in the queue: {position}. Estimated wait: about {minutes} min."
        queue_place = {user.uid: template(user.lang, place) for user in self.users}
        for chat in self.server.chats():
            log = log_of(chat)
            given: dict[str, Owed] = {}
            waiting = False  # in the queue: between the queue-place reply and "connected"
            for index in range(self.ledger.start.get(chat, 0), len(log)):
                message = log[index]
                if message.kind not in SENT_KINDS:
                    continue
                figures.delivered += 1
                debt = claimed.get((chat, index))
                if debt is not None:
                    given.setdefault(message.text, debt)
                    waiting = debt.what == "queue place" or (waiting and debt.what != "connected")
                elif chat in queue_place and queue_place[chat].fullmatch(message.text):
                    figures.queue_notices += 1
                    if not waiting:
                        figures.stale_queue_notices.append(f"chat {chat} message {message.message_id}")
                else:
                    what = f"chat {chat} message {message.message_id}: {message.text[:90]!r}"
                    if message.text in ERROR_TEXTS:
                        what += " (the error handler's apology)"
                    first = given.get(message.text)
                    if first is not None:
                        figures.duplicated.append(f"{what} again (first for {first.action})")
                    else:
                        figures.unexpected.append(what)

    def _bot_api(self, figures: Figures) -> None:
        """Calls refused other than by the faults, and the button presses left unanswered."""
        server, too_old = self.server, "query is too old"
        for error in server.errors:
            if error.method.lower() == "answercallbackquery" and too_old in error.description:
                figures.callbacks_too_old += 1
            else:
                figures.refused.append(f"{error.method} {error.error_code} {error.description} (chat {error.chat_id})")
        figures.callbacks_unanswered = sum(1 for query in self.presses if query not in server.callback_answers)

    @staticmethod
    def _log(figures: Figures, tap: LogTap) -> None:
        """Errors logged (the rate limiter's line for each 429 apart), and the warnings by kind."""
        for record in tap.records:
            if record.name == "telegram.ext.AIORateLimiter" and record.getMessage().startswith(FLOOD_ERROR):
                figures.flood_errors += 1
            elif record.levelno >= logging.ERROR:
                figures.errors_logged.append(f"{record.name}: {record.getMessage()[:160]}")
            else:
                figures.warnings[re.sub(r"\d+", "N", str(record.msg))[:80]] += 1

    def _journal(self, figures: Figures) -> None:
        """Works deferred (``attempts``) and resumed, from the journal (read after the application stopped)."""
        with Session(self.engine) as session:
            rows = session.exec(select(Work.attempts, Work.done_at)).all()
        figures.deferred_works = sum(1 for attempts, _done in rows if attempts)
        figures.deferrals = sum(attempts for attempts, _done in rows)
        figures.resumed = sum(1 for attempts, done in rows if attempts and done is not None)
        figures.unfinished = sum(1 for _attempts, done in rows if done is None)
        figures.retried = sum(figures.faults.values()) - figures.deferrals - figures.callbacks_unanswered
        if figures.unfinished:
            figures.database.append(f"{figures.unfinished} work(s) left unfinished in the journal")

    def _database(self, figures: Figures) -> None:
        """Each ticket filed once and shown to its owner; each staff reply, session and rating recorded once."""
        with Session(self.engine) as session:
            tickets = {t.number: t for t in session.exec(select(Ticket))}
            staff_messages = session.exec(
                select(sa.func.count())
                .select_from(TicketMessage)
                .where(col(TicketMessage.kind) == "reply", col(TicketMessage.author_id).in_(self.staff))
            ).one()
            sessions = session.exec(select(sa.func.count()).select_from(LiveSession)).one()
            ratings = session.exec(select(sa.func.count()).select_from(Rating)).one()
        shown = {number: (u.uid, token) for u in self.users for number, token in u.tickets}
        for number, (uid, token) in shown.items():
            ticket = tickets.get(number)
            if ticket is None or ticket.user_id != uid or token not in ticket.description:
                figures.database.append(f"ticket {number} shown to {uid} is not theirs in the database")
        if len(tickets) != len(shown):
            figures.database.append(f"{len(tickets)} tickets in the database, {len(shown)} filed and shown")
        expected_replies = self.by_kind["staff_reply"]
        if staff_messages != expected_replies:
            figures.database.append(f"{staff_messages} staff messages on tickets, {expected_replies} replies sent")
        if sessions != self.by_kind["live_start"]:
            figures.database.append(f"{sessions} live sessions, {self.by_kind['live_start']} started")
        if ratings != self.by_kind["live_end"]:
            figures.database.append(f"{ratings} ratings, {self.by_kind['live_end']} chats ended and rated")


async def run_faults(
    desk: Helpdesk, users: int, actions: int, fault_rate: float, seed: int, timeout: float = 120.0, operators: int = 0
) -> Figures:
    """Prepare *desk* (started, on a ``FaultServer``), inject the faults, run the simulated people, stop the
    application (so the journal has every finished work marked) and check. The figures."""
    run = FaultRun(desk, users, actions, seed, operators, timeout)
    await run.prepare()
    with tapped() as tap:
        desk.botapi.inject_faults(fault_rate, seed)
        try:
            figures = await run.run()
        finally:
            desk.botapi.inject_faults(0.0, seed)
        settings = desk.settings()
        await desk.stop()
        figures = run.check(figures, tap)
    run.engine.dispose()
    figures.settings = describe(settings, desk.clock)
    return figures


def describe(settings: Settings, clock: Clock) -> str:
    """The database and the settings that shape a run, for its figures."""
    speed = clock.speed if isinstance(clock, SpeedClock) else 1.0
    resumes = ", ".join(f"{delay / speed:g}" for delay in RESUME_DELAYS)
    return (
        f"{normalise_url(settings.database_url).split(':', 1)[0].split('+')[0]}; telegram_retry_delays="
        f"{','.join(f'{d:g}' for d in settings.telegram_retry_delays)} s (production 0.5,1,2,4,8), a 429 waits "
        f"its retry_after (1 s); app clock ×{speed:g}: a deferred work is resumed after {resumes} s, looked for "
        f"every {settings.helpdesk_resume_seconds:g} s; telegram_rate_limit={settings.telegram_rate_limit:g}/s"
    )


# --------------------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------------------
@contextmanager
def database(url: str | None) -> Iterator[dict[str, Any]]:
    """The settings for a fresh schema on the PostgreSQL server *url*, dropped afterwards (none without a
    URL: the helpdesk's own fresh SQLite file)."""
    if not url:
        yield {}
        return
    schema = f"bench_faults_{time.time_ns()}"
    admin = sa.create_engine(normalise_url(url))
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    try:
        yield {"database_url": f"{url}{separator}options=-csearch_path%3D{schema}"}
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


async def bench(args: argparse.Namespace) -> Figures:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    kb = load_knowledge(settings.helpdesk_kb_dir, settings.helpdesk_profile)
    server = FaultServer()
    await server.start()
    delays = tuple(float(d) for d in args.retry_delays.split(","))
    try:
        with tempfile.TemporaryDirectory() as folder, database(args.database_url) as url:
            overrides = {**fault_settings(delays), "telegram_rate_limit": args.rate_limit, **url}
            desk = Helpdesk(server, kb, SpeedClock(speed=args.clock_speed), Path(folder) / "bench.sqlite3", **overrides)
            await desk.start()
            try:
                print(
                    f"fault benchmark: {args.users} users, {args.actions} actions, "
                    f"{args.fault_rate:.0%} of sending/editing calls answered 429/500/502, seed {args.seed}",
                    flush=True,
                )
                figures = await run_faults(
                    desk, args.users, args.actions, args.fault_rate, args.seed, args.timeout, args.operators
                )
            finally:
                await desk.stop()
    finally:
        await server.stop()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--actions", type=int, default=500)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--operators", type=int, default=0, help="default: one per 12 users, 2 to 6")
    parser.add_argument("--retry-delays", default=",".join(f"{d:g}" for d in FAST_RETRIES))
    parser.add_argument("--clock-speed", type=float, default=30.0)
    parser.add_argument("--rate-limit", type=float, default=30.0, help="messages per second (production 30)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds an action waits for what it is owed")
    parser.add_argument("--database-url", help="PostgreSQL URL: a fresh schema there (default: a fresh SQLite file)")
    parser.add_argument("--verbose", action="store_true", help="show the application's log (warnings and up)")
    args = parser.parse_args()
    logging.getLogger().setLevel(logging.WARNING)  # kept for the figures (``tapped``); shown with --verbose
    if args.verbose:
        logging.getLogger().addHandler(logging.StreamHandler())
    figures = asyncio.run(bench(args))
    for line in figures.lines():
        print(line)
    print(
        "  OK: every question answered, every ticket number shown, every relay and notice delivered once, in order"
        if figures.ok
        else "  FAILED"
    )
    return 0 if figures.ok else 1


if __name__ == "__main__":
    sys.exit(main())
