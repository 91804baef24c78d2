"""Building and running the Telegram application (python-telegram-bot 22, long polling)."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

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
from bot.services import Services, build_services
from handlers import calendar_jobs, inbox, live, questions, staff, start, tickets, topics
from handlers.common import expired, meet, reply_text, tr
from handlers.context import BotData, HelpdeskContext, use_workers
from handlers.menus import set_public_menus
from handlers.transport import AiohttpRequest

log = logging.getLogger(__name__)


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Handles updates concurrently across chats but strictly in order within one chat."""

    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat_id = 0
        if isinstance(update, Update) and update.effective_chat is not None:
            chat_id = update.effective_chat.id
        lock = self._locks[chat_id]
        async with lock:
            await coroutine
        if not lock.locked() and not lock._waiters:  # type: ignore[attr-defined]
            self._locks.pop(chat_id, None)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


async def on_error(update: object, context: HelpdeskContext) -> None:
    """Log the error (without message contents) and tell the user something went wrong."""
    error = context.error
    if isinstance(error, (NetworkError, TimedOut)) and not isinstance(error, Forbidden):
        log.warning("network problem: %s", type(error).__name__)
        return
    log.error("error while handling an update", exc_info=error)
    if isinstance(update, Update) and update.effective_chat is not None:
        user = update.effective_user
        lang = "zh" if user and (user.language_code or "").startswith("zh") else "en"
        try:
            await context.bot.send_message(
                update.effective_chat.id,
                translator(lang).gettext("Sorry, something went wrong on our side. Please try again in a moment."),
            )
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
        "subscribe": start.subscribe,
        "unsubscribe": start.unsubscribe,
        "topics": topics.topics,
        "cancel": inbox.cancel,
        "ticket": tickets.ticket_command,
        "mytickets": tickets.my_tickets,
        # staff
        "tickets": staff.tickets_command,
        "t": staff.ticket_command,
        "reply": staff.quick_command,
        "note": staff.quick_command,
        "close": staff.quick_command,
        "staff": staff.staff_command,
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

    buttons = {
        r"^lang:": start.language_chosen,
        r"^role:": start.role_chosen,
        r"^pick:": questions.pick,
        r"^none:": questions.none_of_these,
        r"^fb:": questions.feedback,
        r"^rel:": questions.see_also,
        r"^tg:": topics.theme,
        r"^tl$": topics.theme_list,
        r"^te:": topics.topic_entry,
        r"^tb$": topics.back_to_topics,
        r"^tnew:": tickets.new_ticket_button,
        r"^(tk:|ts:|tok$|tre$|tx$)": tickets.filing_button,
        r"^ml$": tickets.my_tickets,
        r"^mt:": tickets.open_my_ticket,
        r"^(mtm|mtc|mtr):": tickets.own_ticket_action,
        r"^rt:": tickets.rate_button,
        r"^rtx$": tickets.skip_comment,
        r"^sl:": staff.list_button,
        r"^sv:": staff.view_button,
        r"^sa:": staff.action_button,
        r"^sk:": staff.kind_button,
        r"^sr:": staff.reassign_button,
        r"^human:": live.human_button,
        r"^hq$": live.leave_queue_button,
        r"^hk$": live.keep_waiting_button,
        r"^hm:": live.leave_message_button,
        r"^cl:": live.claim_button,
        r"^tf:": live.transfer_button,
        r"^cn:": live.canned_button,
        r"^fo:": live.focus_button,
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


def build_application(
    services: Services,
    clock: Callable[[], datetime] | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The configured Application: rate limiter with retries, per-chat ordering, typed context."""
    settings = services.settings
    assert settings.telegram_bot_token is not None
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .context_types(ContextTypes(context=HelpdeskContext, bot_data=BotData))
        .rate_limiter(
            AIORateLimiter(overall_max_rate=settings.telegram_rate_limit, overall_time_period=1, max_retries=3)
        )
        .concurrent_updates(PerChatUpdateProcessor(16))
        .request(AiohttpRequest(connection_pool_size=16))
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .post_init(set_commands)
    )
    if settings.telegram_api_url:
        base = settings.telegram_api_url.rstrip("/")
        builder = builder.base_url(base).base_file_url(base.removesuffix("/bot") + "/file/bot")
    app = builder.build()
    use_workers(0 if services.engine.dialect.name == "sqlite" else 8)
    app.bot_data.services = services
    if clock is not None:
        app.bot_data.clock = clock
    register(app)
    if app.job_queue is not None:
        interval = settings.helpdesk_sweep_seconds
        app.job_queue.run_repeating(live.sweep_job, interval=interval, first=interval, name="live-desk-timers")
        app.job_queue.run_once(calendar_jobs.recount_deadlines_job, when=0, name="recount-deadlines")
        app.job_queue.run_repeating(
            calendar_jobs.calendar_upkeep_job, interval=calendar_jobs.UPKEEP_INTERVAL, first=1, name="calendar-upkeep"
        )
    return app


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


def run_telegram(settings: Settings, kb: KnowledgeBase) -> int:
    """Run the bot with long polling until interrupted."""
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines contain the token
    services = build_services(settings, kb)
    services.staff.bootstrap_supervisors(settings.supervisor_ids, datetime.now(UTC))
    app = build_application(services)
    settle()
    asyncio.set_event_loop(new_event_loop())  # run_polling runs on the current event loop
    log.info("starting the Telegram bot (long polling)")
    app.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0
