"""Wiring the core together: one object holding every use-case service over one database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.engine import Engine

from bot.answering.gaps import GapReview
from bot.answering.helpdesk import Helpdesk
from bot.answering.knowledge import KnowledgeBase
from bot.arrival import Arrivals
from bot.config import Settings
from bot.desk.calendar_files import load_calendar_files
from bot.desk.calendar_upkeep import CalendarUpkeep
from bot.desk.canned import Canned, load_canned
from bot.desk.flows import Flows
from bot.desk.followups import FollowUps
from bot.desk.hours import desk_hours
from bot.desk.live.queue import LiveQueue
from bot.desk.live.relay import LiveRelay
from bot.desk.live.sessions import LiveSessions, session_rateable
from bot.desk.live.shared import LivePolicy
from bot.desk.live.timers import LiveTimers
from bot.desk.outreach.checklist import Checklists
from bot.desk.outreach.notices import PolicyNotices
from bot.desk.outreach.reminders import PermitReminders, parse_leads
from bot.desk.ratings import Ratings
from bot.desk.reports.monthly import MonthlyReports
from bot.desk.reports.service import Reports
from bot.desk.staff import StaffRegistry
from bot.desk.tickets.alerts import AlertPolicy, DeadlineAlerts
from bot.desk.tickets.common import TicketPolicy
from bot.desk.tickets.deadlines import TicketDeadlines
from bot.desk.tickets.filing import TicketFiling
from bot.desk.tickets.owners import OwnTickets
from bot.desk.tickets.work import TicketWork
from bot.desk.workdays import WorkCalendar
from bot.store.db import make_engine


@dataclass
class Services:
    """The helpdesk's core services (Telegram-free)."""

    settings: Settings
    kb: KnowledgeBase
    engine: Engine
    helpdesk: Helpdesk
    staff: StaffRegistry
    flows: Flows
    filing: TicketFiling
    own_tickets: OwnTickets
    ticket_work: TicketWork
    deadlines: TicketDeadlines
    alerts: DeadlineAlerts
    ratings: Ratings
    followups: FollowUps
    reports: Reports
    gaps: GapReview
    live_queue: LiveQueue
    live_sessions: LiveSessions
    live_relay: LiveRelay
    live_timers: LiveTimers
    canned: dict[str, Canned]
    calendar: WorkCalendar
    upkeep: CalendarUpkeep
    arrivals: Arrivals
    notices: PolicyNotices
    reminders: PermitReminders
    checklists: Checklists


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
        out_of_hours_days=settings.helpdesk_out_of_hours_days,
        max_description=settings.helpdesk_max_description,
        staff_chat_id=settings.helpdesk_staff_chat,
    )
    helpdesk = Helpdesk(kb, engine)
    deadlines = TicketDeadlines(engine, policy, calendar)
    filing = TicketFiling(engine, flows, deadlines, policy)
    ticket_work = TicketWork(engine, staff, deadlines, policy)
    followups = FollowUps(engine, staff, calendar, settings.helpdesk_followup_days)
    ratings = Ratings(engine, staff, flows, owner_checks={"session": session_rateable}, followups=followups)
    live_policy = LivePolicy(
        queue_wait=timedelta(minutes=settings.helpdesk_queue_wait_minutes),
        idle_remind=timedelta(minutes=settings.helpdesk_idle_remind_minutes),
        idle_close=timedelta(minutes=settings.helpdesk_idle_close_minutes),
        auto_assign=settings.helpdesk_auto_assign,
        staff_chat_id=settings.helpdesk_staff_chat,
    )
    hours = desk_hours(settings.helpdesk_hours, kb.profile.hours, calendar)
    live_queue = LiveQueue(engine, staff, helpdesk, hours, live_policy)
    return Services(
        settings=settings,
        kb=kb,
        engine=engine,
        helpdesk=helpdesk,
        staff=staff,
        flows=flows,
        filing=filing,
        own_tickets=OwnTickets(engine, staff, policy),
        ticket_work=ticket_work,
        deadlines=deadlines,
        alerts=DeadlineAlerts(
            engine,
            calendar,
            AlertPolicy(settings.helpdesk_digest_hour, AlertPolicy.parse_recipients(settings.helpdesk_digest_to)),
        ),
        ratings=ratings,
        followups=followups,
        reports=Reports(engine, staff, calendar, kb, MonthlyReports.from_settings(engine, calendar, settings)),
        gaps=GapReview(engine, staff, kb, helpdesk.answerer.matcher),
        live_queue=live_queue,
        live_sessions=LiveSessions(engine, staff, helpdesk, filing, ticket_work),
        live_relay=LiveRelay(engine, staff),
        live_timers=LiveTimers(engine, live_queue, live_policy),
        canned=load_canned(settings.helpdesk_kb_dir / "canned.toml"),
        calendar=calendar,
        upkeep=CalendarUpkeep(engine, calendar, staff, deadlines, settings.kb_dir_label),
        arrivals=Arrivals(engine, helpdesk, flows, timedelta(days=policy.reopen_days)),
        notices=PolicyNotices(engine, staff, kb.entries),
        checklists=Checklists(kb, flows, filing),
        reminders=PermitReminders(
            engine, calendar, parse_leads(settings.helpdesk_reminder_days), settings.helpdesk_reminder_hour
        ),
    )
