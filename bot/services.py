"""Wiring the core together: one object holding every use-case service over one database."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.db import make_engine
from bot.flows import Flows
from bot.helpdesk import Helpdesk
from bot.knowledge import KnowledgeBase
from bot.ratings import Ratings
from bot.staff import StaffRegistry
from bot.tickets import TicketDesk, TicketPolicy


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


def build_services(settings: Settings, kb: KnowledgeBase, engine: Engine | None = None) -> Services:
    """Create every service on the database named by the settings (or the given engine)."""
    engine = engine or make_engine(settings.database_url)
    staff = StaffRegistry(engine)
    flows = Flows(engine)
    policy = TicketPolicy(
        deadlines=TicketPolicy.parse_deadlines(settings.helpdesk_deadlines),
        reopen_days=settings.helpdesk_reopen_days,
        max_description=settings.helpdesk_max_description,
    )
    return Services(
        settings=settings,
        kb=kb,
        engine=engine,
        helpdesk=Helpdesk(kb, engine),
        staff=staff,
        flows=flows,
        tickets=TicketDesk(engine, staff, flows, policy),
        ratings=Ratings(engine, staff, flows),
    )
