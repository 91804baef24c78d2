"""Wiring the core together: one object holding every use-case service over one database."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import bindparam
from sqlalchemy.engine import Engine
from sqlmodel import col

from bot.answering.helpdesk import USER_COLUMNS, Answered, Helpdesk, UserView
from bot.answering.knowledge import KnowledgeBase
from bot.config import Settings
from bot.desk.calendar_files import load_calendar_files
from bot.desk.calendar_upkeep import CalendarUpkeep
from bot.desk.canned import Canned, load_canned
from bot.desk.flows import FLOW_COLUMNS, Flows, FlowState, flow_state
from bot.desk.hours import desk_hours
from bot.desk.live import LIVE_ROLE, LIVE_ROLES, LiveDesk, LivePolicy, session_rateable
from bot.desk.ratings import Ratings
from bot.desk.staff import StaffRegistry
from bot.desk.tickets import TicketDesk, TicketPolicy
from bot.desk.workdays import WorkCalendar
from bot.errors import InvalidInput
from bot.store.db import make_engine
from bot.store.models import Flow, User

_ROUTING = (
    sa.select(*USER_COLUMNS, *FLOW_COLUMNS, LIVE_ROLE.label("live"))
    .select_from(User)
    .outerjoin(Flow, col(Flow.user_id) == col(User.id))
    .where(col(User.id) == bindparam("user_id"))
)
"""Everything routing needs in one statement: the user, their flow and their part in a live chat."""


@dataclass(frozen=True)
class Arrival:
    """Who wrote, the flow they are in, and their part in a live chat ("operator", "user" or None).

    ``answered`` is set when the message was a question, answered and logged already (see ``arrive``).
    """

    user: UserView
    flow: FlowState | None
    live_role: str | None
    answered: Answered | None = None


@dataclass
class Services:
    """The helpdesk's core services (Telegram-free)."""

    settings: Settings
    kb: KnowledgeBase
    engine: Engine
    helpdesk: Helpdesk
    staff: StaffRegistry
    flows: Flows
    tickets: TicketDesk
    ratings: Ratings
    live: LiveDesk
    canned: dict[str, Canned]
    calendar: WorkCalendar
    upkeep: CalendarUpkeep

    def arrive(
        self, user_id: int, display_name: str, client_lang: str | None, now: datetime, text: str | None = None
    ) -> Arrival:
        """Everything needed to route an incoming message, in one transaction (it runs for every message).

        With the *text* of a text message from someone in no flow and no live chat, that text is a
        question: it is answered and logged in the same transaction, so the commonest message costs one
        round trip. Text the helpdesk cannot take (too long, nothing to read) is left to the front end's
        question path, which says why.
        """
        with self.engine.begin() as connection:
            row = connection.execute(_ROUTING, {"user_id": user_id}).first()
            user = self.helpdesk.greet(connection, user_id, row, display_name, client_lang, now)
            if row is None:  # first contact: no user row to join on (staff may exist without one)
                flow, role = self.flows.get(user_id, connection), self.live.chat_role(user_id, connection)
            else:
                flow = flow_state(row.name, row.step, row.data) if row.name is not None else None
                role = LIVE_ROLES.get(row.live or 0)
            answered = None
            if text is not None and flow is None and role is None:
                lang = user.lang if user.lang_chosen else None
                with contextlib.suppress(InvalidInput):  # the question path tells the user why
                    answered = self.helpdesk.ask(user_id, text, lang, now, connection)
            return Arrival(user, flow, role, answered)


def build_services(
    settings: Settings, kb: KnowledgeBase, engine: Engine | None = None, calendar: WorkCalendar | None = None
) -> Services:
    """Create every service on the database named by the settings (or the given engine).

    The working-day *calendar* defaults to the office files in the knowledge base's ``calendar/``
    over the ``holidays`` package (``bot.desk.workdays``).
    """
    engine = engine or make_engine(settings.database_url)
    calendar = calendar or WorkCalendar(load_calendar_files(settings.helpdesk_kb_dir / "calendar"))
    staff = StaffRegistry(engine)
    flows = Flows(engine)
    policy = TicketPolicy(
        deadlines=TicketPolicy.parse_deadlines(settings.helpdesk_deadlines),
        reopen_days=settings.helpdesk_reopen_days,
        max_description=settings.helpdesk_max_description,
    )
    helpdesk = Helpdesk(kb, engine)
    tickets = TicketDesk(engine, staff, flows, policy, calendar)
    ratings = Ratings(engine, staff, flows)
    ratings.owner_checks["session"] = session_rateable
    live_policy = LivePolicy(
        queue_wait=timedelta(minutes=settings.helpdesk_queue_wait_minutes),
        idle_remind=timedelta(minutes=settings.helpdesk_idle_remind_minutes),
        idle_close=timedelta(minutes=settings.helpdesk_idle_close_minutes),
        auto_assign=settings.helpdesk_auto_assign,
        staff_chat_id=settings.helpdesk_staff_chat,
    )
    hours = desk_hours(settings.helpdesk_hours, kb.profile.hours, calendar)
    return Services(
        settings=settings,
        kb=kb,
        engine=engine,
        helpdesk=helpdesk,
        staff=staff,
        flows=flows,
        tickets=tickets,
        ratings=ratings,
        live=LiveDesk(engine, staff, helpdesk, tickets, hours, live_policy),
        canned=load_canned(settings.helpdesk_kb_dir / "canned.toml"),
        calendar=calendar,
        upkeep=CalendarUpkeep(engine, calendar, staff, tickets, settings.kb_dir_label),
    )
