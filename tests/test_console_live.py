"""The terminal console and people (issue 14.17): /human says where people answer instead of looping through
the knowledge base, the live desk's staff commands say they work in Telegram (/queue shows the queue),
/lang switches the tickets' language too, the filing flow does not promise attachments, and start-up prints
no Alembic chatter."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.answering.answers import Answerer
from bot.answering.knowledge import KnowledgeBase
from bot.config import ROOT, Settings
from bot.i18n import translator
from bot.services import Services, build_services
from bot.store.db import make_engine
from console.desk import HUMAN_IN_TELEGRAM, LIVE_IN_TELEGRAM, DeskConsole
from console.terminal import run_console

NOW = datetime(2026, 3, 3, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
APPLICANT, OPERATOR, WAITING = 1, 2, 3


def services(kb: KnowledgeBase) -> Services:
    built = build_services(Settings(database_url="sqlite://", helpdesk_hours="always"), kb, make_engine("sqlite://"))
    built.staff.add(OPERATOR, "operator", "Console operator", NOW)
    return built


def play(desk: DeskConsole | None, answerer: Answerer, *lines: str, lang: str = "en") -> list[str]:
    out: list[str] = []
    run_console(answerer, lang, io.StringIO("\n".join(lines) + "\n"), out.append, desk=desk)  # type: ignore[arg-type]
    return out[2:] if desk is not None else out[1:]  # without the banner and the desk's help


def test_human_says_a_person_answers_in_telegram(kb: KnowledgeBase, answerer: Answerer) -> None:
    desk = DeskConsole(services(kb), APPLICANT, "en", lambda: NOW)
    human = translator("en").gettext(HUMAN_IN_TELEGRAM)
    for reply in (play(desk, answerer, "/human")[0], play(None, answerer, "/human")[0]):
        assert human in reply
        assert kb.answer("online-assistance", "en") not in reply  # not the answer that says "send /human"
    assert "/ticket" in play(desk, answerer, "/human")[0]  # with tickets: a message can be left here
    zh = play(DeskConsole(desk.services, APPLICANT, "zh", lambda: NOW), answerer, "/human", lang="zh")[0]
    assert zh.startswith(translator("zh").gettext(HUMAN_IN_TELEGRAM)) and "人工" in zh


def test_live_commands_for_staff_say_telegram_and_queue_shows_who_waits(kb: KnowledgeBase, answerer: Answerer) -> None:
    built = services(kb)
    built.helpdesk.meet(WAITING, "Waiting user", "zh", NOW)
    built.live_queue.request(WAITING, "zh", None, NOW)
    staff = DeskConsole(built, OPERATOR, "en", lambda: NOW, as_staff=True)
    checkin, checkout, end, queue = play(staff, answerer, "/checkin", "/checkout", "/end", "/queue")
    told = translator("en").gettext(LIVE_IN_TELEGRAM)
    assert checkin == checkout == end == told  # not answered as questions
    assert queue.startswith("Waiting: 1. Checked in: —.")
    assert "No. 1: Chinese" in queue and told in queue
    assert built.staff.get(OPERATOR) is not None and not built.staff.get(OPERATOR).checked_in  # type: ignore[union-attr]
    zh = play(DeskConsole(built, OPERATOR, "zh", lambda: NOW, as_staff=True), answerer, "/queue", lang="zh")[0]
    assert zh.startswith("排队：1 人。") and "第 1 位：中文" in zh
    # An applicant has no /queue: an unknown command, not a question for the knowledge base.
    applicant = play(DeskConsole(built, APPLICANT, "en", lambda: NOW), answerer, "/queue", "/checkin")
    assert applicant == ["I don't know that command here. /help lists what this console can do."] * 2


def test_lang_switches_tickets_too(kb: KnowledgeBase, answerer: Answerer) -> None:
    desk = DeskConsole(services(kb), APPLICANT, "en", lambda: NOW)
    out = play(desk, answerer, "/mytickets", "/lang zh", "/mytickets", "/ticket")
    assert out[0] == "You have no tickets. /ticket files one."
    assert out[2] == translator("zh").gettext("You have no tickets. /ticket files one.") != out[0]
    assert out[3].startswith(translator("zh").gettext("What kind of ticket is it?"))


def test_filing_in_the_console_does_not_promise_attachments(kb: KnowledgeBase, answerer: Answerer) -> None:
    desk = DeskConsole(services(kb), APPLICANT, "en", lambda: NOW)
    prompt = play(desk, answerer, "/ticket", "1")[1]
    assert "describe the matter" in prompt
    assert "You can add documents or photos after filing." not in prompt
    assert "The console takes text only" in prompt


def test_console_start_up_prints_no_alembic_lines(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'console.sqlite3'}",
        "TELEGRAM_BOT_TOKEN": "",
        "LOG_LEVEL": "INFO",
    }
    for _run in range(2):  # a new database (created and stamped), then an existing one
        done = subprocess.run(
            [sys.executable, "-m", "bot", "console"],
            input="/quit\n",
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=120,
            check=True,
        )
        assert "alembic" not in done.stderr.lower(), done.stderr
        assert done.stdout.startswith("Work permit helpdesk.")
