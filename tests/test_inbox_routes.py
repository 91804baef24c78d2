"""The inbox's routing table (``handlers.inbox.ROUTES``): every flow and step has its text and media handler,
and a message a step does not take gets the polite answer. Also: each application has its own core threads."""

from __future__ import annotations

import threading

import pytest

from bot.desk.flows import FilingStep, FlowName, FlowState, NoticeStep, StaffStep, TicketMessageStep
from bot.desk.outreach.checklist import Step as ChecklistStep
from bot.desk.outreach.reminders import WatchStep
from handlers import inbox
from handlers.app import build_application
from handlers.context import HelpdeskContext, core
from tests.telegram_fixtures import Helpdesk

ALICE, OPERATOR = 1001, 2001
TEXT_ONLY = "Sorry, I can only take text here. Please type it, or /cancel to stop."
pytestmark = pytest.mark.usefixtures("no_errors")


def test_every_flow_and_step_has_a_route() -> None:
    steps: dict[FlowName, tuple[str, ...]] = {
        FlowName.TICKET: tuple(FilingStep),
        FlowName.TICKET_MESSAGE: tuple(TicketMessageStep),
        FlowName.STAFF_INPUT: tuple(StaffStep),
        FlowName.RATING_COMMENT: ("comment",),
        FlowName.FOLLOWUP_RECORD: ("notes",),
        FlowName.CHECKLIST: tuple(ChecklistStep),
        FlowName.PERMIT_WATCH: tuple(WatchStep),
        FlowName.NOTICE_DRAFT: tuple(NoticeStep),
    }
    assert set(steps) == set(FlowName)
    for name, names in steps.items():
        for step in names:
            assert inbox.route(FlowState(name, step)) is not None, (name, step)
    assert inbox.route(None) is None
    assert inbox.route(FlowState("retired_flow", "any")) is None  # a flow this version does not know: no flow
    # text at a filing step that asks for text, else "use the buttons"
    assert inbox.route(FlowState(FlowName.TICKET, FilingStep.CONTACT)) == inbox.ROUTES[(FlowName.TICKET, "contact")]
    for step in (FilingStep.KIND, FilingStep.CONFIRM, "retired_step"):
        assert inbox.route(FlowState(FlowName.TICKET, step)) == inbox.ROUTES[(FlowName.TICKET, None)]


async def test_media_where_the_step_does_not_take_it(helpdesk_app: Helpdesk) -> None:
    desk = helpdesk_app
    desk.services.staff.add(OPERATOR, "operator", "Li Na", desk.clock(), None)
    ticket = desk.services.filing.create(
        ALICE, "enquiry", "My permit card was lost on the way home.", "en", desk.clock()
    )
    flows = desk.services.flows

    flows.set(OPERATOR, FlowState(FlowName.STAFF_INPUT, StaffStep.NOTE, {"ticket": ticket.id}), desk.clock())
    note_photo = await desk.ask(OPERATOR, "the form", photo=True, language_code="en")
    assert note_photo.text == TEXT_ONLY  # not "send a photo": a note is text
    assert flows.get(OPERATOR) is not None  # still waiting for the note
    assert (await desk.ask(OPERATOR, "Called the office.", language_code="en")).text == (
        f"Note added to {ticket.number}."
    )

    flows.set(ALICE, FlowState(FlowName.RATING_COMMENT, "comment", {"rating": 1}), desk.clock())
    assert (await desk.ask(ALICE, document=True, language_code="en")).text == TEXT_ONLY

    flows.set(ALICE, FlowState(FlowName.TICKET, FilingStep.CONFIRM, {"kind": "help"}), desk.clock())
    typed = await desk.ask(ALICE, "yes please", language_code="en")
    assert typed.text.startswith("You are filing a ticket. Please use the buttons")
    assert (await desk.reply(ALICE)).data == ["tok", "tre", "tx"]  # the summary again
    assert await desk.drain(ALICE) == [] and await desk.drain(OPERATOR) == []


async def test_each_application_has_its_own_core_threads(helpdesk_app: Helpdesk) -> None:
    def thread() -> str:
        return threading.current_thread().name

    threaded = build_application(helpdesk_app.services)
    threaded.bot_data.use_workers(1)
    on_the_loop = build_application(helpdesk_app.services)  # building another leaves the first one's threads alone
    assert threaded.bot_data.workers is not None and on_the_loop.bot_data.workers is None
    assert (await core(HelpdeskContext(threaded), thread)).startswith("core")
    assert await core(HelpdeskContext(on_the_loop), thread) == threading.current_thread().name
    assert await core(HelpdeskContext(helpdesk_app.app), thread) == threading.current_thread().name  # SQLite
    threaded.bot_data.use_workers(0)
