"""The named buttons (``handlers.callback_data.Button``): one handler each, distinct values, 64 bytes, no literals."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler

from bot.answering.checklist_data import TASKS
from bot.answering.knowledge import KnowledgeBase
from bot.answering.topics import EMPLOYER_GROUP, GROUPS
from bot.desk.canned import load_canned
from bot.desk.followups import OUTCOME_LABELS
from bot.desk.outreach.notices import AUDIENCE_LABELS
from bot.desk.ratings import LEVEL_LABELS
from bot.desk.tickets.common import KINDS
from bot.desk.tickets.work import LIST_FILTERS
from handlers import callback_data as cd
from handlers.app import register
from handlers.callback_data import Button

ROOT = Path(__file__).resolve().parent.parent
HANDLERS = ROOT / "handlers"
ROW_ID = 2**31 - 1  # a database id (question, ticket, session, help request) at its largest
USER_ID = 2**52 - 1  # Telegram user ids have at most 52 significant bits
# ``make("cl", …)``: a button made from a string literal instead of a ``Button``.
LITERAL_MAKE = re.compile(r"""\bmake\(\s*[rbuRBU]?["']""")


def _longest(values: Any) -> str:
    return max((str(v) for v in values), key=lambda v: len(v.encode()))


def _samples(kb: KnowledgeBase) -> dict[Button, tuple[object, ...]]:
    """Each button with the longest arguments it is really made with."""
    entry = _longest(kb.entries)
    kind = _longest(KINDS)
    canned = load_canned(ROOT / "knowledge" / "canned.toml")
    return {
        Button.LANGUAGE: ("en",),
        Button.ROLE: ("applicant",),
        Button.PICK: (ROW_ID, entry),
        Button.NONE_OF_THESE: (ROW_ID,),
        Button.FEEDBACK: (ROW_ID, 1),
        Button.SEE_ALSO: (ROW_ID, entry),
        Button.HUMAN: (ROW_ID,),
        Button.NEW_TICKET: (ROW_ID,),
        Button.THEME: (_longest(g.id for g in (EMPLOYER_GROUP, *GROUPS)),),
        Button.THEMES: (),
        Button.TOPIC: (entry,),
        Button.BACK_TO_TOPICS: (),
        Button.FILING_KIND: (kind,),
        Button.FILING_SKIP: ("reference",),
        Button.FILING_SUBMIT: (),
        Button.FILING_RESTART: (),
        Button.FILING_CANCEL: (),
        Button.MY_TICKETS: (),
        Button.MY_TICKET: (ROW_ID,),
        Button.MY_TICKET_MESSAGE: (ROW_ID,),
        Button.MY_TICKET_CLOSE: (ROW_ID,),
        Button.MY_TICKET_REOPEN: (ROW_ID,),
        Button.ADD_TO_TICKET: (ROW_ID, "f"),
        Button.ADD_DECLINE: ("f",),
        Button.RATE: ("t", ROW_ID, max(LEVEL_LABELS)),
        Button.RATE_SKIP_COMMENT: (),
        Button.STAFF_LIST: (_longest(LIST_FILTERS),),
        Button.STAFF_VIEW: (ROW_ID,),
        Button.STAFF_ACTION: ("reassign", ROW_ID),
        Button.STAFF_KIND: (ROW_ID, kind),
        Button.STAFF_REASSIGN: (ROW_ID, USER_ID),
        Button.STAFF_FILE: (ROW_ID, ROW_ID),
        Button.LEAVE_QUEUE: (),
        Button.KEEP_WAITING: (),
        Button.LEAVE_MESSAGE: ("q",),
        Button.CLAIM: (ROW_ID,),
        Button.TRANSFER: (ROW_ID, USER_ID),
        Button.CANNED: (_longest(canned) if canned else "x" * 16,),
        Button.FOCUS: (ROW_ID,),
        Button.KB_ENTRY: (ROW_ID, entry),
        Button.FOLLOW_UP: (ROW_ID,),
        Button.FOLLOWUP_VIEW: (ROW_ID,),
        Button.FOLLOWUP_TAKE: (ROW_ID,),
        Button.FOLLOWUP_RECORD: (ROW_ID,),
        Button.FOLLOWUP_OUTCOME: (ROW_ID, _longest(OUTCOME_LABELS)),
        Button.CHECKLIST_ANSWER: ("apostille", _longest(TASKS)),
        Button.CHECKLIST_BACK: ("apostille",),
        Button.CHECKLIST_CANCEL: (),
        Button.CHECKLIST_RESTART: (),
        Button.CHECKLIST_ASK_STAFF: (),
        Button.NOTICE_AUDIENCE: (ROW_ID, _longest(AUDIENCE_LABELS)),
        Button.NOTICE_NO_ENTRY: (ROW_ID,),
        Button.NOTICE_VIEW: (ROW_ID,),
        Button.NOTICE_CONFIRM: (ROW_ID,),
        Button.NOTICE_EDIT: (ROW_ID,),
        Button.NOTICE_CANCEL: (ROW_ID,),
        Button.GAP_ACCEPT: (ROW_ID, "m", entry),
        Button.GAP_PICK: (ROW_ID, "m"),
        Button.GAP_OUT_OF_SCOPE: (ROW_ID, "m"),
        Button.GAP_REJECT: (ROW_ID, "m"),
        Button.PERMITS: (),
        Button.PERMITS_PAGE: (ROW_ID,),
        Button.PERMIT_ADD: (),
        Button.PERMIT_VIEW: (ROW_ID,),
        Button.PERMIT_EDIT: (ROW_ID, "x"),
        Button.PERMIT_DELETE: (ROW_ID,),
        Button.PERMIT_DELETE_YES: (ROW_ID,),
        Button.PERMIT_SKIP: (),
        Button.DELETE_MY_DATA: (99_999_999_999,),
        Button.DELETE_MY_DATA_CANCEL: (),
        Button.STATS_CHARTS: ("2026-05-01~2026-05-31",),
    }


@pytest.fixture(scope="module")
def samples(kb: KnowledgeBase) -> dict[Button, str]:
    return {button: cd.make(button, *args) for button, args in _samples(kb).items()}


@pytest.fixture(scope="module")
def button_handlers() -> list[CallbackQueryHandler[Any, Any]]:
    """The button handlers ``register`` adds, in order (the catch-all "expired" one last)."""
    app: Application[Any, Any, Any, Any, Any, Any] = ApplicationBuilder().token("1:test").build()
    register(app)
    return [h for group in app.handlers.values() for h in group if isinstance(h, CallbackQueryHandler)]


def test_every_member_has_a_sample_whose_arguments_match_the_enum(kb: KnowledgeBase) -> None:
    samples = _samples(kb)
    assert set(samples) == set(Button), "give a new button its realistic arguments here"
    for button, args in samples.items():
        assert bool(args) == button.takes_args, button


def test_no_two_members_share_a_value() -> None:
    values = [member.value for member in Button.__members__.values()]  # aliases included
    assert len(values) == len(set(values))
    assert all(v.isascii() and v.isalnum() and v.islower() for v in values)


def test_every_value_fits_64_bytes_and_round_trips(samples: dict[Button, str]) -> None:
    for button, data in samples.items():
        assert len(data.encode()) <= cd.MAX_BYTES, data
        parsed = cd.parse(data)
        assert parsed is not None and parsed.action == button, data


def test_every_button_is_registered_by_exactly_one_handler(
    samples: dict[Button, str], button_handlers: list[CallbackQueryHandler[Any, Any]]
) -> None:
    *specific, catch_all = button_handlers
    assert catch_all.pattern is None
    patterns = [h.pattern for h in specific]
    assert all(isinstance(p, re.Pattern) for p in patterns)
    used: set[int] = set()
    for button, data in samples.items():
        matching = [i for i, p in enumerate(patterns) if isinstance(p, re.Pattern) and p.match(data)]
        assert len(matching) == 1, f"{button!r} ({data!r}) is handled by {len(matching)} handlers"
        used.update(matching)
    assert used == set(range(len(patterns))), "a registered pattern matches no Button"


def test_pattern_matches_its_buttons_only() -> None:
    assert cd.pattern(Button.CLAIM) == "^cl:"
    assert cd.pattern(Button.FILING_SUBMIT) == "^tok$"
    filing = (Button.FILING_KIND, Button.FILING_SKIP, Button.FILING_SUBMIT, Button.FILING_RESTART, Button.FILING_CANCEL)
    assert cd.pattern(*filing) == "^(tk:|ts:|tok$|tre$|tx$)"
    own = re.compile(cd.pattern(Button.MY_TICKET_MESSAGE, Button.MY_TICKET_CLOSE, Button.MY_TICKET_REOPEN))
    assert own.match("mtm:3") and own.match("mtr:3") and not own.match("mt:3") and not own.match("mtm")
    assert not re.match(cd.pattern(Button.RATE), "rtx") and not re.match(cd.pattern(Button.FILING_SUBMIT), "tok:1")
    with pytest.raises(ValueError):
        cd.pattern()


@pytest.mark.parametrize("path", sorted(HANDLERS.glob("*.py")), ids=lambda p: p.name)
def test_no_string_literal_is_made_into_a_button(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    lines = [source[: m.start()].count("\n") + 1 for m in LITERAL_MAKE.finditer(source)]
    assert not lines, f"{path.name} lines {lines}: use cd.make(Button.…, …)"
