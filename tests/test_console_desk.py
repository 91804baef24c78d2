"""Tickets in the terminal console: an applicant files one, staff work it, on one database."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.answering.answers import Answerer
from bot.answering.knowledge import KnowledgeBase
from bot.config import Settings
from bot.services import build_services
from bot.store.db import make_engine
from console.desk import DeskConsole
from console.terminal import run_console

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 3, 10, 0, tzinfo=SH)
APPLICANT, OPERATOR = 1, 2


def play(desk: DeskConsole, answerer: Answerer, script: str) -> str:
    out: list[str] = []
    run_console(answerer, "en", io.StringIO(script), out.append, desk=desk)
    return "\n".join(out)


def test_both_sides_of_a_ticket_in_the_console(kb: KnowledgeBase, answerer: Answerer) -> None:
    services = build_services(Settings(database_url="sqlite://"), kb, make_engine("sqlite://"))
    services.staff.add(OPERATOR, "operator", "Console operator", NOW)
    applicant = DeskConsole(services, APPLICANT, "en", lambda: NOW)
    staff = DeskConsole(services, OPERATOR, "en", lambda: NOW, as_staff=True)

    filed = play(applicant, answerer, "/ticket\n9\n2\nMy application has been pending for three weeks.\n\n\ny\n")
    assert "Type a number to choose." in filed
    assert "Please use the buttons above, or /cancel to stop." in filed  # 9 is not a type: asked again
    assert "Your ticket number is T2603-0001" in filed and "Mar 17, 2026" in filed  # help request: 10 working days

    worked = play(
        staff,
        answerer,
        "/tickets\n/take T2603-0001\n/note T2603-0001 called the reviewer\n"
        "/reply T2603-0001 It is with the reviewer.\n/close T2603-0001 answered\n",
    )
    assert "T2603-0001 · Help request (求助) · new" in worked
    assert "(the reply is sent to user 1)" in worked
    assert "(user 1 is told the ticket is closed and asked for a rating)" in worked

    seen = play(applicant, answerer, "/show T2603-0001\n/tickets\n")
    assert "It is with the reviewer." in seen
    assert "called the reviewer" not in seen  # internal notes are for staff only
    assert "only for helpdesk staff" not in seen and "new ·" not in seen  # /tickets is no applicant command


def test_applicant_cannot_open_someone_elses_ticket(kb: KnowledgeBase, answerer: Answerer) -> None:
    services = build_services(Settings(database_url="sqlite://"), kb, make_engine("sqlite://"))
    owner = DeskConsole(services, APPLICANT, "en", lambda: NOW)
    other = DeskConsole(services, 3, "en", lambda: NOW)
    play(owner, answerer, "/ticket\n1\nHow do I cancel a permit for a departed employee?\n\n\ny\n")
    out = play(other, answerer, "/show T2603-0001\n")
    assert "Sorry, I can't find that. It may have expired or belong to someone else." in out
    assert "How do I cancel" not in out


def test_cancel_leaves_the_filing(kb: KnowledgeBase, answerer: Answerer) -> None:
    services = build_services(Settings(database_url="sqlite://"), kb, make_engine("sqlite://"))
    desk = DeskConsole(services, APPLICANT, "en", lambda: NOW)
    out = play(desk, answerer, "/ticket\n/cancel\n/mytickets\n")
    assert "Cancelled. Nothing was filed." in out and "You have no tickets." in out
