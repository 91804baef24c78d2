"""Numbers from users (``bot.numbers``) and every parser that reads one: never an exception, only ASCII digits.

``str.isdigit`` is true for "¹²³" (which ``int`` refuses) and for "٣" (which ``int`` reads as 3), and an id of
20 digits overflows SQLite. Properties over the helper and the handler-side parsers (button data, command
arguments, ticket references, the console), then the fuzzer's examples through the real Application and the
stand-in Bot API: each gets the answer the handler gives any bad value, never an error.
"""

from __future__ import annotations

import argparse
import io
import re
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.__main__ import _parser, _telegram_id
from bot.answering.answers import Answerer
from bot.answering.knowledge import KnowledgeBase
from bot.answering.text import Lang
from bot.config import Settings
from bot.desk.tickets.common import KINDS, TicketPolicy
from bot.errors import NotFound
from bot.i18n import translator
from bot.numbers import MAX_ID, MAX_USER_ID, parse_id, parse_user_id
from bot.services import Services, build_services
from bot.store.db import make_engine
from console.desk import DeskConsole
from console.terminal import run_console
from handlers import callback_data as cd
from tests.botapi import SentMessage
from tests.telegram_fixtures import Helpdesk, HelpdeskFactory

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 3, 10, 0, tzinfo=SH)
ASCII_NUMBER = re.compile(r"[0-9]+", re.ASCII)
FORGED = [
    *("¹", "²³", "٣", "３", "߁", "𝟙", "Ⅻ", "½"),  # digits that int() refuses, or reads as another number
    *("-1", "+1", " 1", "1 ", "1_000", "0x10", "1e3", "", "99999999999999999999"),
]
"""Superscripts, Arabic-Indic, full-width, N'Ko and mathematical digits, numerals, signs, spaces, too long."""

# Text rich in what str.isdigit / int / the database get wrong: every kind of Unicode digit, signs, separators.
DIGITS = st.characters(categories=["Nd", "No", "Nl"])
NUMERIC_TEXT = st.text(st.one_of(DIGITS, st.sampled_from("0123456789 -+_:."), st.characters()), max_size=40)
HUGE = 10**4000


def number_of(text: str) -> int | None:
    """The test's oracle: the value of an ASCII-digit string (HUGE for thousands of digits), else None."""
    if not ASCII_NUMBER.fullmatch(text):
        return None
    significant = text.lstrip("0") or "0"
    return int(significant) if len(significant) < 1000 else HUGE


ANY_TEXT = st.one_of(st.text(), NUMERIC_TEXT, st.integers(min_value=0, max_value=2**80).map(str))


# ----- the helper ----------------------------------------------------------------------------------------
@given(ANY_TEXT)
@example("¹²³")
@example("٣")
@example("0" * 5000 + "1")  # leading zeros are fine; int() is never given more digits than the maximum has
@example("9" * 5000)  # int() refuses strings over 4300 digits: the length is checked first
def test_parse_id_accepts_exactly_ascii_numbers_in_range(text: str) -> None:
    number = number_of(text)
    assert parse_id(text) == (number if number is not None and number <= MAX_ID else None)


@given(ANY_TEXT, st.integers(min_value=0, max_value=2**70), st.integers(min_value=0, max_value=2**70))
def test_parse_id_bounds(text: str, low: int, high: int) -> None:
    number = number_of(text)
    assert parse_id(text, minimum=low, maximum=high) == (
        number if number is not None and low <= number <= high else None
    )


@given(ANY_TEXT)
@example("0")
@example(str(2**52))
@example(str(2**52 - 1))
def test_parse_user_id_is_a_positive_telegram_id(text: str) -> None:
    number = number_of(text)
    assert parse_user_id(text) == (number if number is not None and 1 <= number <= MAX_USER_ID else None)


@pytest.mark.parametrize("text", FORGED)
def test_forged_numbers_are_not_numbers(text: str) -> None:
    assert parse_id(text) is None and parse_user_id(text) is None


def test_plain_numbers() -> None:
    assert [parse_id(t) for t in ("0", "7", "007", str(MAX_ID))] == [0, 7, 7, MAX_ID]
    assert parse_id(str(MAX_ID + 1)) is None
    assert [parse_user_id(t) for t in ("1", "2001", str(MAX_USER_ID), "0")] == [1, 2001, MAX_USER_ID, None]


# ----- handler-side parsers -------------------------------------------------------------------------------
BUTTON_DATA = st.one_of(
    st.text(max_size=80),
    st.lists(NUMERIC_TEXT, min_size=1, max_size=5).map(":".join),
    st.tuples(st.sampled_from(list(cd.Button)), st.lists(NUMERIC_TEXT, max_size=4)).map(
        lambda t: ":".join([t[0].value, *t[1]])
    ),
)


@given(st.one_of(st.none(), BUTTON_DATA))
@example("mt:¹")
@example("rt:t:٣:5")
@example("sr:1:99999999999999999999")
@example("mt:\ud800")  # a lone surrogate (JSON can carry one): not UTF-8, so not a button
def test_button_data_never_raises(data: str | None) -> None:
    parsed = cd.parse(data)
    if parsed is None:
        return
    for index in range(-1, len(parsed.args) + 1):
        value = parsed.int_arg(index) if index >= 0 else None
        if value is not None:
            assert ASCII_NUMBER.fullmatch(parsed.args[index]) and 0 <= value <= MAX_ID


@pytest.mark.parametrize("data", ["mt:¹", "sv:²", "cl:³", "tf:1:²", "rt:t:٣:5", "mt:99999999999999999999"])
def test_forged_button_numbers_are_none(data: str) -> None:
    parsed = cd.parse(data)
    assert parsed is not None
    assert None in (parsed.int_arg(0), parsed.int_arg(1))


@given(ANY_TEXT)
def test_cli_telegram_ids(text: str) -> None:
    expected = parse_user_id(text)
    try:
        assert _telegram_id(text) == expected
    except argparse.ArgumentTypeError:
        assert expected is None


@pytest.mark.parametrize("text", ["³³³", "٣", "99999999999999999999", "0"])
def test_cli_refuses_forged_telegram_ids(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        _parser().parse_args(["staff", "remove", text])
    assert exited.value.code == 2 and "not a Telegram user id" in capsys.readouterr().err


def test_deadline_settings_take_ascii_numbers_only() -> None:
    assert TicketPolicy.parse_deadlines("enquiry=2, help = 10")["help"] == 10
    for bad in ("enquiry=٣", "enquiry=²", "enquiry=-1"):
        with pytest.raises(ValueError, match="bad deadline"):
            TicketPolicy.parse_deadlines(bad)


# ----- the core: a ticket by number or id -------------------------------------------------------------------
@pytest.fixture(scope="module")
def services(kb: KnowledgeBase) -> Iterator[Services]:
    services = build_services(Settings(database_url="sqlite://"), kb, make_engine("sqlite://"))
    services.staff.add(2, "operator", "Console operator", NOW)
    yield services
    services.engine.dispose()


@settings(max_examples=60, deadline=None)
@given(st.one_of(ANY_TEXT, st.integers(min_value=-(2**70), max_value=2**70)))
@example("٣")
@example("¹")
@example("99999999999999999999")
@example("\ud800")
@example(2**64)
@example(-1)
def test_load_ticket_finds_nothing_and_never_raises_otherwise(services: Services, ref: str | int) -> None:
    """No ticket exists: any reference, however odd, is NotFound (not a ValueError or an OverflowError)."""
    with pytest.raises(NotFound):
        services.ticket_work.get(2, ref)


def test_a_typed_ticket_is_an_id_only_for_ascii_numbers(kb: KnowledgeBase) -> None:
    """What staff type after /t: the ticket with that id for ASCII digits, by its number otherwise; "١" is
    not ticket 1 and a 20-digit id is simply not found."""
    services = build_services(Settings(database_url="sqlite://"), kb, make_engine("sqlite://"))
    services.staff.add(2, "operator", "Console operator", NOW)
    ticket = services.filing.create(1, "help", "My application has been pending for weeks.", "en", NOW)

    @settings(max_examples=60, deadline=None)
    @given(ANY_TEXT)
    @example("1")
    @example("١")
    @example("99999999999999999999")
    @example("\ud800")
    def check(text: str) -> None:
        typed = text[:20]
        if parse_id(typed) == ticket.id or typed.upper() == ticket.number:
            assert services.ticket_work.get(2, typed).id == ticket.id
        else:
            with pytest.raises(NotFound):
                services.ticket_work.get(2, typed)

    check()
    assert services.ticket_work.get(2, ticket.number.lower()).id == ticket.id
    services.engine.dispose()


# ----- the console ---------------------------------------------------------------------------------------
def play(desk: DeskConsole, answerer: Answerer, script: str) -> str:
    out: list[str] = []
    run_console(answerer, "en", io.StringIO(script), out.append, desk=desk)
    return "\n".join(out)


def test_console_refuses_forged_numbers(kb: KnowledgeBase, answerer: Answerer) -> None:
    services = build_services(Settings(database_url="sqlite://"), kb, make_engine("sqlite://"))
    services.staff.add(2, "operator", "Console operator", NOW)
    applicant = DeskConsole(services, 1, "en", lambda: NOW)
    staff = DeskConsole(services, 2, "en", lambda: NOW, as_staff=True)
    # "¹" is not a type, and "٣" is not 3: both are asked again; "2" is the second type.
    filed = play(applicant, answerer, "/ticket\n¹\n٣\n2\nMy application has been pending for three weeks.\n\n\ny\n")
    assert filed.count("Please use the buttons above, or /cancel to stop.") == 2
    assert "Your ticket number is T2603-0001" in filed and KINDS[1] == "help"
    out = play(staff, answerer, "/t ١\n/t 99999999999999999999\n/reply ¹ hello\n/close ٣ done\n/t 1\n")
    assert out.count("Sorry, I can't find that. It may have expired or belong to someone else.") == 4
    assert "T2603-0001" in out  # the plain id still opens it
    services.engine.dispose()


# ----- through the real Application -------------------------------------------------------------------------
ALICE, BOB, OPERATOR, SUPERVISOR = 1001, 1003, 2001, 2002
CLIENT = {ALICE: "en", BOB: "en", OPERATOR: "en", SUPERVISOR: "en"}
EXPIRED = "This button has expired. Send the command again, or type your question."
NOT_FOUND = "Sorry, I can't find that. It may have expired or belong to someone else."


def _(lang: Lang, message: str) -> str:
    return translator(lang).gettext(message)


async def say(desk: Helpdesk, user: int, text: str) -> SentMessage:
    return await desk.ask(user, text, language_code=CLIENT[user])


@pytest.fixture
async def desk(helpdesk_factory: HelpdeskFactory) -> Helpdesk:
    """A supervisor and an operator who have /start-ed, and Alice with ticket id 1 (``T2603-0001``)."""
    desk = await helpdesk_factory(helpdesk_supervisors=str(SUPERVISOR))
    desk.services.staff.add(OPERATOR, "operator", "Li Na", desk.clock(), SUPERVISOR)
    for user in (OPERATOR, SUPERVISOR, ALICE):
        await desk.send(user, "/start", language_code="en")
    await desk.settle()
    desk.services.filing.create(ALICE, "enquiry", "My employer changed its address. What now?", "en", desk.clock())
    for user in (OPERATOR, SUPERVISOR, ALICE):
        desk.botapi.mark(user)
    return desk


@pytest.mark.usefixtures("no_errors")
@pytest.mark.parametrize(
    "data",
    ["mt:¹", "mt:١", "mtm:²", "mtc:٣", "mtr:¹", "rt:t:¹:5", "rt:t:1:⁵", "mt:99999999999999999999", "fb:¹:1"],
)
async def test_forged_user_buttons_have_expired(desk: Helpdesk, data: str) -> None:
    mine = await say(desk, ALICE, "/mytickets")
    answer = await desk.press(ALICE, mine, data, forged=True)
    assert answer.text == EXPIRED and answer.show_alert
    assert await desk.drain(ALICE) == [] and desk.services.flows.get(ALICE) is None


@pytest.mark.usefixtures("no_errors")
@pytest.mark.parametrize(
    "data", ["sv:¹", "sa:take:١", "sa:close:99999999999999999999", "sk:²:complaint", "sr:1:³", "cl:¹", "fo:٣", "tf:¹:2"]
)
async def test_forged_staff_buttons_have_expired(desk: Helpdesk, data: str) -> None:
    listing = await say(desk, OPERATOR, "/tickets")
    answer = await desk.press(OPERATOR, listing, data, forged=True)
    assert answer.text == EXPIRED and answer.show_alert
    assert await desk.drain(OPERATOR) == []
    [ticket] = desk.services.ticket_work.find(OPERATOR, desk.clock(), "open")
    assert (ticket.status, ticket.assignee_id) == ("new", None)


@pytest.mark.usefixtures("no_errors")
async def test_forged_ticket_numbers_are_not_found(desk: Helpdesk) -> None:
    assert (await say(desk, OPERATOR, "/t 99999999999999999999")).text == "No ticket 99999999999999999999."
    assert (await say(desk, OPERATOR, "/t ٣")).text == "No ticket ٣."
    assert (await say(desk, OPERATOR, "/t ١")).text == "No ticket ١."  # not ticket 1
    assert (await say(desk, OPERATOR, "/t ¹")).text == "No ticket ¹."
    for command in ("/reply ¹ hello", "/note ١ a note", "/close 99999999999999999999 done", "/reply ٣ hi"):
        assert (await say(desk, OPERATOR, command)).text == NOT_FOUND
    assert "T2603-0001" in (await say(desk, OPERATOR, "/t 1")).text  # a plain id still opens it
    [ticket] = desk.services.ticket_work.find(OPERATOR, desk.clock(), "open")
    assert ticket.status == "new"
    assert await desk.drain(ALICE) == []


@pytest.mark.usefixtures("no_errors")
@pytest.mark.parametrize("target", ["³³³", "٣", "99999999999999999999", "0", "-5"])
async def test_forged_staff_ids_get_the_usage(desk: Helpdesk, target: str) -> None:
    usage = "Usage: /staff list · /staff add TELEGRAM_ID operator|supervisor NAME · /staff remove TELEGRAM_ID"
    assert (await say(desk, SUPERVISOR, f"/staff remove {target}")).text == usage
    assert (await say(desk, SUPERVISOR, f"/staff add {target} operator Mallory")).text == usage
    assert desk.services.staff.get(OPERATOR) is not None
    assert "Mallory" not in [s.name for s in desk.services.staff.list()]


@pytest.mark.usefixtures("no_errors")
@pytest.mark.parametrize("target", ["²", "٣", "99999999999999999999"])
async def test_forged_transfer_target_offers_the_colleagues(desk: Helpdesk, target: str) -> None:
    assert "You are checked in." in (await say(desk, OPERATOR, "/checkin")).text
    await say(desk, ALICE, "/human")
    offer = await desk.reply(OPERATOR, lambda m: any(d.startswith("cl:") for d in m.data))
    await desk.press(OPERATOR, offer, next(d for d in offer.data if d.startswith("cl:")))
    await desk.reply(ALICE, lambda m: "Li Na" in m.text)
    await desk.settle()
    desk.botapi.mark(OPERATOR)
    desk.botapi.mark(ALICE)
    reply = await say(desk, OPERATOR, f"/transfer {target}")
    assert reply.text == "No other colleague is checked in."
    assert await desk.drain(ALICE) == []  # still in the chat with Li Na, told nothing
    assert desk.services.live_sessions.current_session(OPERATOR).operator_id == OPERATOR
