"""The work journal's acceptance test: ``kill -9`` at random moments of a scripted conversation, restart,
20 times over — nothing is lost, nothing is done twice, every chat's messages keep their order; the only
message ever repeated is one whose send was in flight at the kill (Telegram has no idempotency key).

The bot runs as in production, ``python -m bot run`` in a process of its own, against the stand-in Bot API
(``tests/botapi.py``), which keeps each update until the bot confirms it with a getUpdates offset, as Telegram
does: what is pushed while the bot is down is delivered after the restart.

A scripted conversation in rounds (each round new users; the same supervisor and operator throughout):
questions in English and Chinese with 👎 and "see also" buttons, a ticket filed through the whole ``/ticket``
flow and answered by a supervisor with ``/reply``, and a live chat (check-in, ``/human``, claim, messages
both ways, ``/end``, rating, check-out). Each step pushes one update and waits, event-driven, until every
message the step causes (in every chat, edits included) has arrived; only then the next step is pushed, so
each chat's sequence of messages is fixed by the script alone.

The crash run: a background task kills the bot (SIGKILL) at a random moment — seeded, uniform 0–1.5 s after
the restarted bot's first getUpdates, so the kill hits the work in flight rather than the start-up — and
restarts it, until 20 kills have been made, each while a step was in flight; the script runs rounds until
then and finishes the round. The reference run: the same rounds on a fresh database, without kills. Each
chat's messages (kind, visible text with dates and the queue's wait estimate normalised, buttons) must be
the same in both runs.

The one allowance is the window no journal can close (``bot/store/journal.py``): a message Telegram accepted
just before the kill, whose record was not yet written, is sent again after the restart. A message the
reference does not have is allowed only with the evidence of that: an identical copy in the same chat, a
kill between the two, and the journal's records naming the later copy as sent and the earlier one not.
Every other difference — a message lost, one sent twice with both copies recorded, one out of order or
changed — fails the test.
"""

from __future__ import annotations

import asyncio
import difflib
import itertools
import json
import os
import random
import re
import signal
import statistics
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import create_engine
from sqlmodel import Session, col, select

from bot.store.models import Work, WorkStep
from tests.botapi import SENT_KINDS, TOKEN, BotApiServer, SentMessage

ROOT = Path(__file__).resolve().parent.parent
SEED = 20_260_311
"""The seed of the kill moments (printed with the summary; change it to explore other moments)."""
KILLS = 20
KILL_DELAY = (0.0, 1.5)
"""Seconds after a (re)started bot's first getUpdates before it is killed (uniform)."""
CRASH_WAIT = 60.0
"""Longest wait for one expected message in the crash run (a step may span several restarts)."""
REFERENCE_WAIT = 20.0
READY_WAIT = 60.0
"""Longest start-up, from launching the process to its first getUpdates."""
STOP_WAIT = 30.0
ALL_KINDS: tuple[str, ...] = (*SENT_KINDS, "edit")

SUPERVISOR, OPERATOR = 9001, 9002
"""Both supervisors by HELPDESK_SUPERVISORS; the second takes the live chats (its client is Chinese)."""
CALENDAR_MARK = "📅"
"""The weekly reminder about a missing holiday schedule: sent to supervisors by a job at start-up (on a
working day in office hours), at a moment of its own, so it is compared apart from the ordered messages."""
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = "Bad Request: message is not modified"

EN_QUESTIONS = (
    "What documents do I need for a new application?",
    "How do I apply online?",
    "Is there an age limit for the work permit?",
    "How recent must the police clearance be?",
    "Does my diploma need to be authenticated?",
    "What conditions must the employer meet?",
    "How is the points score calculated?",
    "What are the steps if I am still abroad?",
    "Do I need a medical check before coming?",
)
"""From the knowledge base's labelled questions (``knowledge/training``, ``../shared/kb/dev.jsonl``)."""
ZH_QUESTIONS = (
    "新办需要准备哪些材料",
    "外国人来华工作许可是什么？",
    "积分制怎么计算？",
    "申请人需要满足什么条件？",
    "超过60岁还能办工作许可吗",
    "单位聘用外国人需要什么资质",
    "在哪个网站申请工作许可",
    "人在境内可以直接申请吗",
    "学历证书怎么认证",
)
DESCRIPTION = "My employer changed its address. Do I need to update my work permit?"


def language(user: int) -> str:
    """The user's client language: the operator's and every round's B and D are Chinese."""
    return "zh-hans" if user == OPERATOR or (user != SUPERVISOR and user % 10 in (2, 4)) else "en"


# ----- the script ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Expect:
    """One message a step causes: its chat, kind, a part of its text, the prefix of one of its buttons' data."""

    chat: int
    kind: str = "message"
    text: str = ""
    button: str | None = None

    def matches(self, message: SentMessage) -> bool:
        return (
            message.kind == self.kind
            and self.text in message.text
            and (self.button is None or any(d.startswith(self.button) for d in message.data))
        )


@dataclass(frozen=True)
class Step:
    """Push one update (``act``), then receive every message it causes (``expect``, in order per chat)."""

    name: str
    act: Callable[[Conversation], Awaitable[object]]
    expect: tuple[Expect, ...]


def say(user: int, text: str | Callable[[Conversation], str]) -> Callable[[Conversation], Awaitable[object]]:
    async def act(conversation: Conversation) -> object:
        return await conversation.say(user, text if isinstance(text, str) else text(conversation))

    return act


def press(user: int, prefix: str, suffix: str = "") -> Callable[[Conversation], Awaitable[object]]:
    async def act(conversation: Conversation) -> object:
        return await conversation.press(user, prefix, suffix)

    return act


def failing_press(user: int, prefix: str) -> Callable[[Conversation], Awaitable[object]]:
    """Press, and Telegram refuses the bot's answer to the press: it must not matter."""

    async def act(conversation: Conversation) -> object:
        conversation.botapi.fail_next("answerCallbackQuery", 400, description=QUERY_TOO_OLD)
        conversation.failed_answers += 1
        return await conversation.press(user, prefix)

    return act


def setup_steps() -> list[Step]:
    """The supervisor and the operator start the bot (it can only write to people who have): as staff, each
    gets the staff welcome in their client's language."""
    return [
        Step("supervisor /start", say(SUPERVISOR, "/start"), (Expect(SUPERVISOR, text="You are helpdesk staff"),)),
        Step("operator /start", say(OPERATOR, "/start"), (Expect(OPERATOR, text="咨询台工作人员"),)),
    ]


def round_steps(number: int) -> list[Step]:
    """Round *number*: four new users — A and B ask (English, Chinese), C files a ticket the supervisor
    answers, D has a live chat with the operator."""
    base = 10_000 + 10 * number
    a, b, c, d = base + 1, base + 2, base + 3, base + 4
    en, zh = EN_QUESTIONS[number % len(EN_QUESTIONS)], ZH_QUESTIONS[number % len(ZH_QUESTIONS)]
    en2 = EN_QUESTIONS[(number + 4) % len(EN_QUESTIONS)]
    r = f"round {number}:"

    return [
        Step(f"{r} A asks in English", say(a, en), (Expect(a, button="fb:"),)),
        Step(f"{r} B asks in Chinese", say(b, zh), (Expect(b, button="fb:"),)),
        Step(
            f"{r} A finds the answer unhelpful (👎)",
            press(a, "fb:", ":0"),
            (Expect(a, text="Sorry that didn't help", button="human:"),),
        ),
        Step(f"{r} B opens a 'see also'", press(b, "rel:"), (Expect(b, button="fb:"),)),
        Step(f"{r} A asks again", say(a, en2), (Expect(a, button="fb:"),)),
        Step(f"{r} C: /ticket", say(c, "/ticket"), (Expect(c, text="What kind of ticket is it?", button="tk:"),)),
        Step(
            f"{r} C picks 'enquiry' (the answer to the press fails)",
            failing_press(c, "tk:enquiry"),
            (Expect(c, "edit", "What kind of ticket is it?"), Expect(c, text="Please describe the matter")),
        ),
        Step(
            f"{r} C describes the matter",
            say(c, DESCRIPTION),
            (Expect(c, text="Optional: a phone number", button="ts:contact"),),
        ),
        Step(
            f"{r} C skips the contact",
            press(c, "ts:contact"),
            (Expect(c, "edit", "Optional: a phone number"), Expect(c, text="Optional: your application")),
        ),
        Step(
            f"{r} C skips the reference",
            press(c, "ts:reference"),
            (Expect(c, "edit", "Optional: your application"), Expect(c, text="Please check your ticket:")),
        ),
        Step(
            f"{r} C submits",
            press(c, "tok"),
            (
                Expect(c, "edit", "Please check your ticket:"),
                Expect(c, text="Your ticket number is", button="ml"),
                # nobody checked in: both supervisors are told (the second reads Chinese)
                Expect(SUPERVISOR, text="New ticket T", button="sv:"),
                Expect(OPERATOR, text="新工单 T", button="sv:"),
            ),
        ),
        Step(
            f"{r} the supervisor: /reply",
            say(SUPERVISOR, lambda conv: f"/reply {conv.ticket_of(c)} No update is needed for an address change."),
            (
                Expect(c, text="Reply to your ticket T", button="mtm:"),
                Expect(SUPERVISOR, text="Reply sent to the user"),
            ),
        ),
        Step(f"{r} the operator: /checkin", say(OPERATOR, "/checkin"), (Expect(OPERATOR, text="签入成功"),)),
        Step(
            f"{r} D: /human",
            say(d, "/human"),
            (Expect(d, text="排在第 1 位", button="hq"), Expect(OPERATOR, text="有用户在等待人工服务", button="cl:")),
        ),
        Step(
            f"{r} the operator claims D",
            press(OPERATOR, "cl:"),
            (
                Expect(d, text=f"Supervisor {OPERATOR}"),
                Expect(OPERATOR, "edit", "已由"),
                Expect(OPERATOR, text="您已接入"),
            ),
        ),
        Step(
            f"{r} D writes to the operator",
            say(d, f"我的工作许可证丢了，怎么办？（第 {number} 轮）"),
            (Expect(OPERATOR, text=f"我的工作许可证丢了，怎么办？（第 {number} 轮）"),),
        ),
        Step(
            f"{r} the operator answers D",
            say(OPERATOR, f"请在网上申请补办。（第 {number} 轮）"),
            (Expect(d, text=f"请在网上申请补办。（第 {number} 轮）"),),
        ),
        Step(
            f"{r} the operator: /end",
            say(OPERATOR, "/end"),
            (Expect(d, button="rt:s:"), Expect(OPERATOR, text="已结束")),
        ),
        Step(f"{r} D rates the chat", press(d, "rt:s:", ":2"), (Expect(d, "edit"), Expect(d))),
        Step(f"{r} the operator: /checkout", say(OPERATOR, "/checkout"), (Expect(OPERATOR, text="已签出"),)),
    ]


class Conversation:
    """Drives the script against the stand-in: pushes each step's update and receives what it causes.

    In the crash run a message that repeats one received before in the same chat, or an edit the step does not
    expect, is passed over (the comparison with the reference judges them at the end); anything else the step
    does not expect fails at once.
    """

    def __init__(self, botapi: BotApiServer, wait: float, crash: bool) -> None:
        self.botapi = botapi
        self.wait = wait
        self.crash = crash
        self.step = "(none yet)"
        self.busy = asyncio.Event()
        """Set while a step is in flight: pushed, and not everything it causes has arrived."""
        self.received: dict[int, list[SentMessage]] = {}
        self.failed_answers = 0
        self.steps_done = 0

    async def say(self, user: int, text: str) -> int:
        return await self.botapi.push_message(user, text, language_code=language(user))

    async def press(self, user: int, prefix: str, suffix: str = "") -> str:
        """Press the first button whose data starts with *prefix* (and ends with *suffix*) on the latest
        message of the chat that has one."""
        for message in reversed(self.botapi.messages(user, SENT_KINDS)):
            for _label, data in (b for row in self.botapi.buttons(message) for b in row):
                if data is not None and data.startswith(prefix) and data.endswith(suffix):
                    return await self.botapi.press(user, message, data)
        raise AssertionError(f"{self.step}: no button {prefix}…{suffix} in chat {user}")

    async def run(self, steps: Iterable[Step]) -> None:
        for step in steps:
            self.step = step.name
            self.busy.set()
            try:
                await step.act(self)
                for expect in step.expect:
                    await self._receive(step, expect)
            finally:
                self.busy.clear()
            self.steps_done += 1

    async def _receive(self, step: Step, expect: Expect) -> None:
        received = self.received.setdefault(expect.chat, [])
        while True:
            message = await self.botapi.wait_for(expect.chat, None, self.wait, ALL_KINDS)
            if message.text.startswith(CALENDAR_MARK):
                continue
            repeat = self.crash and received and same(received[-1], message)
            if expect.matches(message) and not repeat:
                received.append(message)
                return
            if self.crash and any(same(m, message) for m in received):
                continue
            if self.crash and message.kind == "edit":  # judged by its outcome at the end (``chat_log``)
                continue
            raise AssertionError(
                f"{step.name}: expected {expect}, chat {expect.chat} got {message.kind} {message.text!r} "
                f"{message.data}; before it: {[(m.kind, m.text[:60]) for m in received[-3:]]}"
            )

    def ticket_of(self, user: int) -> str:
        """The number of the ticket *user* filed last (from the bot's confirmation)."""
        for message in reversed(self.received.get(user, [])):
            found = re.search(r"Your ticket number is (T\d{4}-\d{4})", message.text)
            if found:
                return found.group(1)
        raise AssertionError(f"{self.step}: user {user} has not filed a ticket")


def same(a: SentMessage, b: SentMessage) -> bool:
    return (a.kind, a.text, a.buttons) == (b.kind, b.text, b.buttons)


# ----- the bot process -------------------------------------------------------------------------------------
@dataclass
class BotProcess:
    """``python -m bot run`` against *botapi* on *database*; its standard error appended to *log*."""

    botapi: BotApiServer
    database: Path
    log: Path
    process: asyncio.subprocess.Process | None = None
    starts: int = 0
    startup_seconds: list[float] = field(default_factory=list)
    _calls_seen: int = 0
    _log_file: IO[str] | None = None

    def environment(self) -> dict[str, str]:
        own = ("HELPDESK_", "TELEGRAM_", "DATABASE_", "LOG_")
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith(own)}
        env.update(
            PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL=self.botapi.base_url,
            DATABASE_URL=f"sqlite:///{self.database}",
            HELPDESK_CACHE_DIR=str(ROOT / ".cache"),  # the trained classifier: not trained again at each start
            HELPDESK_SUPERVISORS=f"{SUPERVISOR},{OPERATOR}",
            HELPDESK_HOURS="always",  # the live desk is open whatever the time of the run
            HELPDESK_ALERT_SECONDS="0",  # no morning digest or deadline alert at whatever time the run is
            HELPDESK_CALENDAR_REMINDERS="false",  # nor the weekly holiday-schedule reminder (Nov–Dec office hours)
            TELEGRAM_RATE_LIMIT="1000",  # no pacing: the script waits for each step anyway
            LOG_LEVEL="INFO",
        )
        return env

    async def start(self) -> None:
        """Launch the process and wait until it polls (its first getUpdates)."""
        assert self.process is None or self.process.returncode is not None
        if self._log_file is None:
            self._log_file = self.log.open("a", encoding="utf-8")
        self.starts += 1
        self._log_file.write(f"===== start {self.starts} =====\n")
        self._log_file.flush()
        self._calls_seen = len(self.botapi.calls)
        began = time.monotonic()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=self.database.parent,  # not the repository: a developer's .env there must not count
            env=self.environment(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=self._log_file,
        )
        while not self._polled():
            if self.process.returncode is not None:
                raise AssertionError(f"the bot exited at start-up ({self.process.returncode}):\n{self.tail()}")
            if time.monotonic() - began > READY_WAIT:
                raise AssertionError(f"the bot did not poll within {READY_WAIT}s:\n{self.tail()}")
            await asyncio.sleep(0.01)
        self.startup_seconds.append(time.monotonic() - began)

    def _polled(self) -> bool:
        calls = self.botapi.calls
        while self._calls_seen < len(calls):
            if calls[self._calls_seen].method == "getUpdates":
                return True
            self._calls_seen += 1
        return False

    async def kill(self) -> int:
        """SIGKILL, and the process's return code once it is gone."""
        assert self.process is not None and self.process.returncode is None, "the bot is not running"
        self.process.kill()
        return await self.process.wait()

    async def stop(self) -> int:
        """SIGINT (as Ctrl-C): the bot finishes what it is doing and exits; its return code."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.process.wait(), STOP_WAIT)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
                raise AssertionError(f"the bot did not stop within {STOP_WAIT}s:\n{self.tail()}") from None
        assert self.process.returncode is not None
        return self.process.returncode

    async def close(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def tail(self, lines: int = 40, levels: tuple[str, ...] = ()) -> str:
        """The log's last *lines* (only those of *levels*, if given), without the job scheduler's."""
        if self._log_file is not None:
            self._log_file.flush()
        text = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        text = [line for line in text if " apscheduler." not in line]  # a line for every job run
        if levels:
            text = [line for line in text if any(f" {level} " in line for level in levels) or "=====" in line]
        return "\n".join(text[-lines:])


@dataclass(frozen=True)
class Kill:
    number: int
    step: str
    delay: float
    returncode: int
    sent_before: dict[int, int]
    """Per chat, how many messages the stand-in had logged when the kill was made."""
    sent_at_restart: dict[int, int]
    """Per chat, how many when the restarted bot first polled: the killed one can send nothing after that
    (a request it wrote just before the kill may still be handled by the stand-in after it)."""


async def killer(bot: BotProcess, conversation: Conversation, kills: list[Kill]) -> None:
    """Kill the bot at random moments while a step is in flight, restart it; ``KILLS`` times."""
    rng = random.Random(SEED)
    while len(kills) < KILLS:
        delay = rng.uniform(*KILL_DELAY)
        await asyncio.sleep(delay)
        await conversation.busy.wait()
        step, sent_before = conversation.step, sent(bot.botapi)
        returncode = await bot.kill()
        await bot.start()
        kills.append(Kill(len(kills) + 1, step, delay, returncode, sent_before, sent(bot.botapi)))


def sent(botapi: BotApiServer) -> dict[int, int]:
    """Per chat, how many messages the stand-in has logged."""
    return {chat: len(botapi.messages(chat)) for chat in botapi.chats()}


# ----- runs --------------------------------------------------------------------------------------------------
@dataclass
class Run:
    """What one run left: the stand-in's logs, the journal, the conversation and the bot's process."""

    botapi: BotApiServer
    bot: BotProcess
    conversation: Conversation
    rounds: int
    kills: list[Kill]
    stop_code: int
    recorded: Counter[tuple[int, int]]
    """How many of the journal's send records name each message (chat, message_id): its send, and each
    edit of it."""
    unfinished: list[str]
    steps: int


def recorded_sends(database: Path) -> tuple[Counter[tuple[int, int]], list[str]]:
    """How many of the journal's send records name each message (chat, message_id) — a send's record names
    the message sent, an edit's the message changed — and the works the journal has not finished."""
    engine = create_engine(f"sqlite:///{database}")
    try:
        with Session(engine) as session:
            sends = session.exec(select(WorkStep).where(WorkStep.kind == "send")).all()
            open_works = [w.key for w in session.exec(select(Work).where(col(Work.done_at).is_(None)))]
    finally:
        engine.dispose()
    recorded: Counter[tuple[int, int]] = Counter()
    for step in sends:
        data: dict[str, Any] = json.loads(step.result or b"{}")
        items = data.get("one") or data.get("many") or []
        for item in items if isinstance(items, list) else [items]:
            if isinstance(item, dict):  # the whole message (as the journal first kept it)
                recorded[item["chat"]["id"], item["message_id"]] += 1
            else:  # [chat_id, message_id]
                recorded[item[0], item[1]] += 1
    return recorded, open_works


async def run_script(tmp_path: Path, name: str, rounds: int | None) -> Run:
    """One run on a fresh stand-in and database: with *rounds* None, the crash run (rounds until ``KILLS``
    kills are made); else that many rounds without kills."""
    botapi = BotApiServer()
    await botapi.start()
    database = tmp_path / f"{name}.sqlite3"
    bot = BotProcess(botapi, database, tmp_path / f"{name}-bot.log")
    crash = rounds is None
    conversation = Conversation(botapi, CRASH_WAIT if crash else REFERENCE_WAIT, crash)
    kills: list[Kill] = []
    tasks: list[asyncio.Task[Any]] = []

    async def drive() -> int:
        """The setup, then rounds: as many as asked, or until the killer is done (that round finished)."""
        await conversation.run(setup_steps())
        done = 0
        while (crash and not tasks[1].done()) or (rounds is not None and done < rounds):
            await conversation.run(round_steps(done))
            done += 1
        return done

    try:
        await bot.start()
        tasks.append(asyncio.create_task(drive()))
        if crash:
            tasks.append(asyncio.create_task(killer(bot, conversation, kills)))
        finished, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in finished:
            task.result()  # the first failure, if any (the killer's stops the script at once)
        done = await tasks[0]
        await botapi.wait_delivered(CRASH_WAIT)
        stop_code = await bot.stop()
    except BaseException as exc:
        for task in tasks:
            task.cancel()
        await bot.close()
        await botapi.stop()
        exc.add_note(f"{name} run, at step {conversation.step!r}; the bot's log ({bot.log}):\n{bot.tail(60)}")
        raise
    await bot.close()
    await botapi.stop()
    recorded, unfinished = recorded_sends(database)
    return Run(botapi, bot, conversation, done, kills, stop_code, recorded, unfinished, conversation.steps_done)


# ----- comparing -------------------------------------------------------------------------------------------
DATE_EN = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2}, \d{4}\b")
DATE_ZH = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日")
CLOCK = re.compile(r"\b\d{1,2}:\d{2}\b")
WAIT_EN = re.compile(r"about \d+ min")
WAIT_ZH = re.compile(r"约 \d+ 分钟")


def normalised(text: str) -> str:
    """*text* without what may differ between two correct runs: dates and clock times (a run may cross
    midnight or the end of office hours), and the queue's wait estimate (the average length of past live
    chats, which the restarts lengthen). Ticket numbers, chat and request numbers stay."""
    text = DATE_ZH.sub("<date>", DATE_EN.sub("<date>", text))
    text = CLOCK.sub("<time>", text)
    return WAIT_ZH.sub("约 <n> 分钟", WAIT_EN.sub("about <n> min", text))


Entry = tuple[str, str, tuple[tuple[tuple[str, str | None], ...], ...]]


def entry(message: SentMessage) -> Entry:
    return message.kind, normalised(message.text), tuple(tuple(row) for row in message.buttons)


def compared_positions(botapi: BotApiServer, chat: int) -> list[int]:
    """Positions in the chat's log of the messages compared: every message sent, not the edits (each
    message is compared as it finally reads, edits and all) nor the calendar reminders."""
    log = botapi.messages(chat)
    return [i for i, m in enumerate(log) if m.kind != "edit" and not m.text.startswith(CALENDAR_MARK)]


def chat_log(botapi: BotApiServer, chat: int) -> list[Entry]:
    """The chat's messages in order, each as it finally reads (after its edits), without the calendar
    reminders. Edits are judged by their outcome, not their sequence: after a restart, an edit of a work
    resumed in one chat and one of a new work in another may reach the same message in either order."""
    log = botapi.messages(chat)
    return [entry(botapi.current(log[i])) for i in compared_positions(botapi, chat)]


def reminders(botapi: BotApiServer, chat: int) -> list[int]:
    """Positions of the calendar reminders in the chat's log."""
    return [i for i, m in enumerate(botapi.messages(chat)) if m.text.startswith(CALENDAR_MARK)]


def sends_recorded(run: Run, chat: int, message_id: int) -> int:
    """How many of the journal's records are of sending this message (its records less its edits)."""
    edits = sum(1 for m in run.botapi.messages(chat, ("edit",)) if m.message_id == message_id)
    return run.recorded[chat, message_id] - edits


@dataclass(frozen=True)
class Twice:
    """A message sent twice in the journal's window: Telegram accepted the first copy, the bot was killed
    before the record was written, and the restarted bot did the step again."""

    chat: int
    first: int
    second: int
    """Positions of the two copies in the chat's log."""
    kill: int
    text: str
    on_the_wire: bool
    """The stand-in logged the first copy after the kill: the request was written and not yet answered."""


def window_evidence(run: Run, chat: int, extra: int) -> Twice | None:
    """The message at position *extra* of the chat's log (one the reference does not have) explained as the
    journal's window, or None: an identical copy elsewhere in the chat, the earlier of the two never recorded
    as sent and the later recorded once, and a kill between them (the earlier logged before the restarted
    bot polled, the later after the kill)."""
    log = run.botapi.messages(chat)
    message = log[extra]
    if message.kind == "edit":
        return None
    for other in range(len(log)):
        if other == extra or not same(log[other], message):
            continue
        first, second = sorted((other, extra))
        if (
            sends_recorded(run, chat, log[first].message_id) > 0
            or sends_recorded(run, chat, log[second].message_id) != 1
        ):
            continue
        for kill in run.kills:
            if first < kill.sent_at_restart.get(chat, 0) and second >= kill.sent_before.get(chat, 0):
                on_the_wire = first >= kill.sent_before.get(chat, 0)
                return Twice(chat, first, second, kill.number, message.text, on_the_wire)
    return None


def compare(run: Run, reference: Run) -> tuple[list[Twice], list[str], int]:
    """Each chat's messages after the kills against the reference: the messages sent twice in the journal's
    window, a description of every other difference (a message lost, sent twice, out of order, changed), and
    how many messages were compared."""
    twice: list[Twice] = []
    problems: list[str] = []
    compared = 0
    for chat in sorted(set(run.botapi.chats()) | set(reference.botapi.chats())):
        got, want = chat_log(run.botapi, chat), chat_log(reference.botapi, chat)
        positions = compared_positions(run.botapi, chat)
        compared += len(want)
        matcher = difflib.SequenceMatcher(None, got, want, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            for i in range(i1, i2):  # in the run, not in the reference
                found = window_evidence(run, chat, positions[i])
                if found is None:
                    problems.append(f"chat {chat}: not in the reference, at {positions[i]}: {got[i][1]}")
                else:
                    twice.append(found)
            problems += [f"chat {chat}: lost (reference position {j}): {want[j][1]}" for j in range(j1, j2)]
        # the calendar reminders, as many (their moment is the job's own; only a copy in the window is extra)
        extra = {found for i in reminders(run.botapi, chat) if (found := window_evidence(run, chat, i)) is not None}
        got_reminders, want_reminders = reminders(run.botapi, chat), reminders(reference.botapi, chat)
        if len(got_reminders) - len(extra) != len(want_reminders):
            problems.append(
                f"chat {chat}: {len(got_reminders)} calendar reminders, {len(want_reminders)} in the reference"
            )
        twice += extra
        compared += len(want_reminders)
    return twice, problems, compared


def api_errors(run: Run) -> Counter[tuple[str, int, str]]:
    return Counter((e.method, e.error_code, e.description) for e in run.botapi.errors)


# ----- the test ------------------------------------------------------------------------------------------
async def test_kill_9_twenty_times_loses_nothing_and_repeats_only_a_send_in_flight(tmp_path: Path) -> None:
    began = time.monotonic()
    crash = await run_script(tmp_path, "crash", None)
    reference = await run_script(tmp_path, "reference", crash.rounds)

    # the bot was killed 20 times, each time with a step in flight, and died of the kill each time
    assert len(crash.kills) == KILLS
    assert [k.returncode for k in crash.kills] == [-signal.SIGKILL] * KILLS
    assert crash.bot.starts == KILLS + 1 and reference.bot.starts == 1
    assert crash.stop_code == 0 and reference.stop_code == 0, (crash.stop_code, reference.stop_code)
    assert crash.steps == reference.steps

    # the reference is what the script expects, and the journal recorded every message it sent
    ref_botapi = reference.botapi
    for chat in ref_botapi.chats():
        log = [entry(m) for m in ref_botapi.messages(chat) if not m.text.startswith(CALENDAR_MARK)]
        expected = [entry(m) for m in reference.conversation.received.get(chat, [])]
        assert log == expected, f"chat {chat}: messages the script does not expect"
        assert all(a != b for a, b in itertools.pairwise(log)), f"chat {chat}: the same message twice in a row"
    outside = [
        (c, m.message_id, m.text[:40])
        for c in ref_botapi.chats()
        for m in ref_botapi.messages(c, SENT_KINDS)
        if sends_recorded(reference, c, m.message_id) != 1
    ]
    assert outside == [], f"messages the journal did not record (once) as sent: {outside[:10]}"
    assert reference.unfinished == [] and crash.unfinished == [], (reference.unfinished, crash.unfinished)

    # every chat's messages: the same, in the same order — nothing lost, nothing twice but in the window no
    # journal can close (Telegram accepted the message, the bot was killed before it recorded it)
    twice, problems, compared = compare(crash, reference)
    assert problems == [], (
        "\n".join(problems)
        + f"\nkills: {[(k.number, k.step) for k in crash.kills]}\nthe bot's log ({crash.bot.log}), warnings:\n"
        + crash.bot.tail(80, ("WARNING", "ERROR"))
    )
    assert crash.botapi.chats() == ref_botapi.chats()

    # answerCallbackQuery refused (on purpose, and again after each restart: the query is answered already)
    # and edits refused as not modified (done just before a kill) change nothing; nobody was told of an error
    tolerated = {
        ("answerCallbackQuery", QUERY_TOO_OLD),
        ("editMessageReplyMarkup", NOT_MODIFIED),
        ("editMessageText", NOT_MODIFIED),
    }
    for run in (crash, reference):
        odd = [e for e in api_errors(run) if not any(e[0] == m and e[2].startswith(d) for m, d in tolerated)]
        assert odd == [], odd
        apologies = [m.text for c in run.botapi.chats() for m in run.botapi.messages(c) if "went wrong" in m.text]
        assert apologies == [], apologies
    ref_failed = sum(n for (method, _code, _d), n in api_errors(reference).items() if method == "answerCallbackQuery")
    assert ref_failed == reference.conversation.failed_answers
    crash_failed = sum(n for (method, _c, _d), n in api_errors(crash).items() if method == "answerCallbackQuery")
    assert crash_failed >= crash.conversation.failed_answers  # and each press answered again after a restart
    not_modified = sum(n for (method, _c, _d), n in api_errors(crash).items() if method.startswith("edit"))

    seconds = time.monotonic() - began
    starts = crash.bot.startup_seconds + reference.bot.startup_seconds
    print(
        f"\nkill -9 test (seed {SEED}): {len(crash.kills)} kills, {crash.bot.starts - 1} restarts, "
        f"{crash.rounds} rounds, {crash.steps} steps; {compared} messages in {len(ref_botapi.chats())} chats "
        f"compared with the reference; {len(twice)} sent twice in the journal's window (accepted just before "
        f"a kill; for {sum(t.on_the_wire for t in twice)} of them the request was still on the wire at the kill); "
        f"answerCallbackQuery refused {crash_failed}× (reference {ref_failed}×), edits refused as not modified "
        f"{not_modified}×; start-up to polling median "
        f"{statistics.median(starts):.2f} s (max {max(starts):.2f} s); {seconds:.0f} s in all\n"
        f"kills at steps: {[k.step.split(':')[-1].strip() for k in crash.kills]}\n"
        f"sent twice (kill, chat, text): {sorted((t.kill, t.chat, t.text[:50]) for t in twice)}"
    )
