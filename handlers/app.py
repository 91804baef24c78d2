"""Building and running the Telegram application (python-telegram-bot 22, long polling)."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import OperationalError
from telegram import Update
from telegram.error import Forbidden, NetworkError, TimedOut
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.answering.knowledge import KnowledgeBase
from bot.config import Settings
from bot.i18n import translator
from bot.logs import install_redaction
from bot.services import Services, build_services
from bot.store.journal import Journal
from handlers import (
    calendar_jobs,
    checklist,
    deadline_jobs,
    followups,
    gaps,
    inbox,
    live,
    policy_notices,
    privacy,
    questions,
    reminders,
    report_jobs,
    staff,
    start,
    stats,
    tickets,
    topics,
)
from handlers import callback_data as cd
from handlers.callback_data import Button
from handlers.common import expired, meet, reply_text, send_messages, tr
from handlers.context import BotData, HelpdeskContext, core
from handlers.durable import DeliveryDeferred, UpdateDesk, defer_current
from handlers.instances import SharedUpdateDesk
from handlers.menus import set_public_menus
from handlers.render import html_chunks
from handlers.transport import AiohttpRequest
from handlers.updates import GuardedBot, quiet_rate_limiter
from handlers.webhook import add_metrics_server, run_webhook

log = logging.getLogger(__name__)


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Handles updates concurrently across chats but strictly in order within one chat, each as a journaled
    work (``handlers.durable.UpdateDesk.handle``: a chat's unfinished works first)."""

    def __init__(self, desk: UpdateDesk, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        self.desk = desk

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await self.desk.handle(update, coroutine)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Mark the works finished so far (the next start would otherwise look at them again)."""
        self.desk.flush()


async def on_error(update: object, context: HelpdeskContext) -> None:
    """Log the error (without message contents) and tell the user something went wrong."""
    error = context.error
    if isinstance(error, DeliveryDeferred):  # Telegram failing for now: the work is resumed later
        log.info("%s", error)
        return
    if isinstance(error, OperationalError) and defer_current(error):  # the database unreachable, locked, …
        log.warning("database error (%s): the update is handled again later", type(error.orig).__name__)
        return
    if isinstance(error, (NetworkError, TimedOut)) and not isinstance(error, Forbidden):
        log.warning("network problem: %s", type(error).__name__)
        return
    log.error("error while handling an update", exc_info=error)
    if isinstance(update, Update) and update.effective_chat is not None:
        user = update.effective_user
        lang = "zh" if user and (user.language_code or "").startswith("zh") else "en"
        try:
            text = translator(lang).gettext("Sorry, something went wrong on our side. Please try again in a moment.")
            await send_messages(context.bot, update.effective_chat.id, html_chunks(text))
        except Exception:
            log.debug("could not tell the user about the error")


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """All handlers, in the order they must be tried.

    Commands come first so that /cancel or /help always work, whatever step the user is in;
    buttons next (each prefix has exactly one handler; anything else is stale or forged);
    free text and media last, routed by the flow the user is in (``handlers.inbox``).
    """
    private = filters.ChatType.PRIVATE
    commands = {
        "start": start.start,
        "help": start.help_command,
        "language": start.language_command,
        "privacy": start.privacy_command,
        "mydata": privacy.mydata_command,
        "deletemydata": privacy.deletemydata_command,
        "subscribe": start.subscribe,
        "unsubscribe": start.unsubscribe,
        "topics": topics.topics,
        "cancel": inbox.cancel,
        "ticket": tickets.ticket_command,
        "mytickets": tickets.my_tickets,
        "reminders": reminders.reminders_command,
        "checklist": checklist.checklist_command,
        # staff
        "tickets": staff.tickets_command,
        "t": staff.ticket_command,
        "reply": staff.quick_command,
        "note": staff.quick_command,
        "close": staff.quick_command,
        "staff": staff.staff_command,
        "deliveries": staff.deliveries_command,
        "followups": followups.followups_command,
        "stats": stats.stats_command,
        "notice": policy_notices.notice_command,
        "notices": policy_notices.notices_command,
        "gaps": gaps.gaps_command,
        # live desk
        "human": live.human_command,
        "checkin": live.checkin_command,
        "checkout": live.checkout_command,
        "queue": live.queue_command,
        "end": live.end_command,
        "transfer": live.transfer_command,
        "toticket": live.toticket_command,
        "kb": live.kb_command,
        "canned": live.canned_command,
        "sessions": live.sessions_command,
    }
    for name, callback in commands.items():
        app.add_handler(CommandHandler(name, callback, filters=private))

    B = Button
    buttons = {
        cd.pattern(B.LANGUAGE): start.language_chosen,
        cd.pattern(B.ROLE): start.role_chosen,
        cd.pattern(B.PICK): questions.pick,
        cd.pattern(B.NONE_OF_THESE): questions.none_of_these,
        cd.pattern(B.FEEDBACK): questions.feedback,
        cd.pattern(B.SEE_ALSO): questions.see_also,
        cd.pattern(B.THEME): topics.theme,
        cd.pattern(B.THEMES): topics.theme_list,
        cd.pattern(B.TOPIC): topics.topic_entry,
        cd.pattern(B.BACK_TO_TOPICS): topics.back_to_topics,
        cd.pattern(B.NEW_TICKET): tickets.new_ticket_button,
        cd.pattern(
            B.FILING_KIND, B.FILING_SKIP, B.FILING_SUBMIT, B.FILING_RESTART, B.FILING_CANCEL
        ): tickets.filing_button,
        cd.pattern(B.MY_TICKETS): tickets.my_tickets,
        cd.pattern(B.MY_TICKET): tickets.open_my_ticket,
        cd.pattern(B.MY_TICKET_MESSAGE, B.MY_TICKET_CLOSE, B.MY_TICKET_REOPEN): tickets.own_ticket_action,
        cd.pattern(B.ADD_TO_TICKET, B.ADD_DECLINE): tickets.offer_button,
        cd.pattern(B.RATE): tickets.rate_button,
        cd.pattern(B.RATE_SKIP_COMMENT): tickets.skip_comment,
        cd.pattern(B.STAFF_LIST): staff.list_button,
        cd.pattern(B.STAFF_VIEW): staff.view_button,
        cd.pattern(B.STAFF_ACTION): staff.action_button,
        cd.pattern(B.STAFF_KIND): staff.kind_button,
        cd.pattern(B.STAFF_REASSIGN): staff.reassign_button,
        cd.pattern(B.STAFF_FILE): staff.file_button,
        cd.pattern(B.HUMAN): live.human_button,
        cd.pattern(B.LEAVE_QUEUE): live.leave_queue_button,
        cd.pattern(B.KEEP_WAITING): live.keep_waiting_button,
        cd.pattern(B.LEAVE_MESSAGE): live.leave_message_button,
        cd.pattern(B.CLAIM): live.claim_button,
        cd.pattern(B.TRANSFER): live.transfer_button,
        cd.pattern(B.CANNED): live.canned_button,
        cd.pattern(B.FOCUS): live.focus_button,
        cd.pattern(B.KB_ENTRY): live.kb_button,
        cd.pattern(B.FOLLOW_UP): live.follow_up_button,
        cd.pattern(B.FOLLOWUP_VIEW): followups.view_button,
        cd.pattern(B.FOLLOWUP_TAKE): followups.take_button,
        cd.pattern(B.FOLLOWUP_RECORD): followups.record_button,
        cd.pattern(B.FOLLOWUP_OUTCOME): followups.outcome_button,
        cd.pattern(B.STATS_CHARTS): stats.charts_button,
        cd.pattern(B.NOTICE_AUDIENCE): policy_notices.audience_button,
        cd.pattern(B.NOTICE_NO_ENTRY): policy_notices.no_entry_button,
        cd.pattern(B.NOTICE_VIEW): policy_notices.view_button,
        cd.pattern(B.NOTICE_CONFIRM): policy_notices.confirm_button,
        cd.pattern(B.NOTICE_EDIT): policy_notices.edit_button,
        cd.pattern(B.NOTICE_CANCEL): policy_notices.cancel_button,
        cd.pattern(B.PERMITS, B.PERMITS_PAGE): reminders.list_button,
        cd.pattern(B.PERMIT_ADD): reminders.add_button,
        cd.pattern(B.PERMIT_VIEW): reminders.view_button,
        cd.pattern(B.PERMIT_EDIT): reminders.edit_button,
        cd.pattern(B.PERMIT_DELETE): reminders.delete_button,
        cd.pattern(B.PERMIT_DELETE_YES): reminders.delete_yes_button,
        cd.pattern(B.PERMIT_SKIP): reminders.skip_button,
        cd.pattern(
            B.CHECKLIST_ANSWER, B.CHECKLIST_BACK, B.CHECKLIST_CANCEL, B.CHECKLIST_RESTART, B.CHECKLIST_ASK_STAFF
        ): checklist.button,
        cd.pattern(B.DELETE_MY_DATA, B.DELETE_MY_DATA_CANCEL): privacy.delete_button,
        cd.pattern(B.GAP_ACCEPT, B.GAP_OUT_OF_SCOPE, B.GAP_REJECT): gaps.decide_button,
        cd.pattern(B.GAP_PICK): gaps.pick_button,
    }
    for pattern, callback in buttons.items():
        app.add_handler(CallbackQueryHandler(callback, pattern=pattern))
    app.add_handler(CallbackQueryHandler(expired_button))

    app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, inbox.on_text))
    app.add_handler(MessageHandler(private & filters.COMMAND, unknown_command))
    app.add_handler(MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, inbox.on_media))
    app.add_error_handler(on_error)  # type: ignore[arg-type]


async def expired_button(update: Update, context: HelpdeskContext) -> None:
    """A button we do not know (old or forged)."""
    user = await meet(update, context)
    await expired(update, user.lang)


async def unknown_command(update: Update, context: HelpdeskContext) -> None:
    """A command we do not have: point to /help."""
    user = await meet(update, context)
    text = tr(user.lang).gettext("I don't know that command. /help lists what I can do.")
    await reply_text(update, context, text)


async def set_commands(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The command menu in English (default) and Chinese (language_code zh)."""
    await set_public_menus(app.bot)


async def stop_workers(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """After the bot has stopped: let the application's core threads go (see ``BotData.use_workers``)."""
    app.bot_data.use_workers(0)


def build_application(
    services: Services,
    clock: Callable[[], datetime] | None = None,
    webhook: bool = False,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The configured Application: rate limiter with retries, per-chat ordering, typed context.

    With *webhook*, no Updater (``handlers.webhook`` feeds the update queue), and on PostgreSQL the desk is
    shared with the other instances on the database (``handlers.instances``).
    """
    settings = services.settings
    assert settings.telegram_bot_token is not None
    clock = clock or (lambda: datetime.now(UTC))
    shared = webhook and services.engine.dialect.name == "postgresql"
    desk = (SharedUpdateDesk if shared else UpdateDesk)(Journal(services.engine), clock)
    quiet_rate_limiter()  # a 429 is retried by GuardedBot: not an error
    urls: dict[str, Any] = {}
    if settings.telegram_api_url:
        base = settings.telegram_api_url.rstrip("/")
        urls = {"base_url": base, "base_file_url": base.removesuffix("/bot") + "/file/bot"}
    bot = GuardedBot(  # parses getUpdates one update at a time: a malformed one is skipped (handlers/updates.py)
        settings.telegram_bot_token.get_secret_value(),
        request=AiohttpRequest(connection_pool_size=16),
        get_updates_request=AiohttpRequest(connection_pool_size=1),
        desk=desk,  # records each update before it is acknowledged (handlers/durable.py)
        retry_delays=settings.telegram_retry_delays,
        rate_limiter=AIORateLimiter(  # it only paces; GuardedBot tries again what failed (429 included)
            overall_max_rate=settings.telegram_rate_limit, overall_time_period=1, max_retries=0
        ),
        **urls,
    )
    builder = (
        ApplicationBuilder()
        .bot(bot)
        .context_types(ContextTypes(context=HelpdeskContext, bot_data=BotData))
        .concurrent_updates(PerChatUpdateProcessor(desk, 16))
        .post_init(set_commands)
        .post_shutdown(stop_workers)
    )
    if webhook:
        builder = builder.updater(None)
    app = builder.build()
    app.bot_data.use_workers(0 if services.engine.dialect.name == "sqlite" else settings.database_workers)
    app.bot_data.services = services
    app.bot_data.clock = clock
    app.bot_data.desk = desk
    desk.attach(app.bot, app.process_update)
    desk.load_unfinished()  # what the last run left unfinished runs first (each chat's before its new updates)
    register(app)
    jobs = app.job_queue
    assert jobs is not None
    interval = settings.helpdesk_sweep_seconds
    durable_job(app, jobs.run_repeating, live.sweep_job, "live-desk-timers", interval=interval, first=interval)
    durable_job(app, jobs.run_once, calendar_jobs.recount_deadlines_job, "recount-deadlines", when=0)
    if settings.helpdesk_calendar_reminders:
        durable_job(
            app,
            jobs.run_repeating,
            calendar_jobs.calendar_upkeep_job,
            "calendar-upkeep",
            interval=calendar_jobs.UPKEEP_INTERVAL,
            first=1,
        )
    if settings.helpdesk_alert_seconds > 0:  # deadline alerts and the morning digest (0: off)
        every = settings.helpdesk_alert_seconds
        durable_job(
            app, jobs.run_repeating, deadline_jobs.deadline_alerts_job, deadline_jobs.JOB, interval=every, first=1
        )
        durable_job(app, jobs.run_repeating, reminders.reminders_job, reminders.JOB, interval=every, first=1)
        durable_job(app, jobs.run_repeating, report_jobs.monthly_report_job, report_jobs.JOB, interval=every, first=1)
    durable_job(app, jobs.run_repeating, privacy.retention_job, privacy.JOB, interval=privacy.INTERVAL, first=60)
    policy_notices.install(app)  # the sending runs (resumed by name after a crash) and their pump
    jobs.run_once(resume_all, when=0, name="resume-unfinished")
    resume = settings.helpdesk_resume_seconds
    jobs.run_repeating(resume_due, interval=resume, first=resume, name="resume-deferred")
    jobs.run_repeating(prune_journal, interval=PRUNE_INTERVAL, first=PRUNE_INTERVAL, name="prune-journal")
    return app


PRUNE_INTERVAL = 6 * 3600.0
"""Seconds between two prunings of the work journal (finished works older than ``bot.store.journal.KEEP``)."""


def durable_job(
    app: Application[Any, Any, Any, Any, Any, Any],
    schedule: Callable[..., Any],
    func: Callable[[HelpdeskContext], Awaitable[None]],
    name: str,
    **when: Any,
) -> None:
    """Schedule *func* with the JobQueue's *schedule* method; each run is a journaled work, resumed after a
    crash or a failed send like an update (``UpdateDesk.run_job``)."""
    desk: UpdateDesk = app.bot_data.desk
    desk.jobs[name] = lambda: func(HelpdeskContext(app))
    if isinstance(desk, SharedUpdateDesk):  # its lease lasts as long as its interval (several instances)
        desk.intervals[name] = float(when.get("interval") or 0)

    async def run(context: HelpdeskContext) -> None:
        await context.bot_data.desk.run_job(name)

    schedule(run, name=name, **when)


async def resume_all(context: HelpdeskContext) -> None:
    """At start-up: finish the works the last run left unfinished."""
    await context.bot_data.desk.resume_due(due_only=False)


async def resume_due(context: HelpdeskContext) -> None:
    """Try again the works whose send failed for now, when their time has come."""
    await context.bot_data.desk.resume_due()


async def prune_journal(context: HelpdeskContext) -> None:
    """Forget finished works after a week (``bot.store.journal.KEEP``)."""
    desk = context.bot_data.desk
    pruned = await core(context, desk.journal.prune, context.now())
    if pruned:
        log.info("pruned %d finished work(s) from the journal", pruned)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """The event loop the bot runs on: uvloop where it is installed (not on Windows), else asyncio's own.

    The bot's process is bound by one interpreter; uvloop does the loop's share of each update
    (sockets, callbacks, timers) in C. Measured in ``scripts/bench_telegram.py``.
    """
    try:
        import uvloop
    except ImportError:  # Windows: uvloop does not exist there
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def settle() -> None:
    """After start-up: keep the knowledge base's index and the other long-lived objects out of the
    garbage collector's full passes (they live as long as the process; scanning them is wasted work)."""
    gc.collect()
    gc.freeze()


def run_telegram(settings: Settings, kb: KnowledgeBase, webhook: bool = False) -> int:
    """Run the bot with long polling until interrupted; behind a webhook with *webhook* or
    ``TELEGRAM_WEBHOOK_URL`` set (``handlers.webhook``)."""
    if webhook or settings.telegram_webhook_url:
        return run_webhook(settings, kb)
    install_redaction()  # no message texts, contacts or numbers in the logs (bot.logs); python -m bot did it too
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines contain the token
    services = build_services(settings, kb)
    services.staff.bootstrap_supervisors(settings.supervisor_ids, datetime.now(UTC))
    app = build_application(services)
    if settings.metrics_port:  # /metrics and /healthz beside polling
        add_metrics_server(app, services.engine, settings.telegram_webhook_listen, settings.metrics_port)
    settle()
    asyncio.set_event_loop(new_event_loop())  # run_polling runs on the current event loop
    log.info("starting the Telegram bot (long polling)")
    app.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0
