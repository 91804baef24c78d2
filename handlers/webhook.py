"""Webhook mode (``python -m bot run --webhook``, or ``TELEGRAM_WEBHOOK_URL`` set), ``/healthz`` and ``/metrics``.

A small aiohttp server (aiohttp is the bot's transport already, ``handlers.transport``) started in the
application's life cycle, not python-telegram-bot's own webhook server: that one (tornado) has a single
route, so no ``/healthz`` or ``/metrics`` beside it, and it puts an update in the application's queue and
answers 200 at once — an update in that queue when the process dies is lost, Telegram having been told it
arrived. Here each update is **admitted into the work journal before the 200** (``UpdateDesk.admit``), as
``GuardedBot.get_updates`` does before the next getUpdates acknowledges a batch:

- wrong or missing ``X-Telegram-Bot-Api-Secret-Token``: 403, nothing read;
- an update the library cannot parse: 200 (acknowledged, skipped, logged by update_id only);
- the database failing: 503, and Telegram posts the update again later (nothing lost);
- an ``update_id`` recorded already (Telegram posting again after a lost 200): 200, not handled twice;
- otherwise recorded, then 200, then handled by the same ``UpdateDesk``/``Application`` path as polling.

``GET /healthz`` answers 200 when the database answers (its schema's version can be read), 503 otherwise;
``GET /metrics`` is the Prometheus exposition (``bot.ops.metrics``). In polling mode, ``METRICS_PORT`` serves
the last two alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from telegram import Update
from telegram.ext import Application

from bot.answering.knowledge import KnowledgeBase
from bot.config import Settings
from bot.logs import install_redaction
from bot.ops import metrics
from bot.ops.check import webhook_problem
from handlers.durable import UpdateDesk
from handlers.updates import SkipReport, update_id_of

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_TIMEOUT = 5.0
"""Seconds /healthz waits for the database before answering 503."""
MAX_BODY = 1024 * 1024
"""An update is a few kilobytes; larger bodies are refused."""


class WebhookConfigError(ValueError):
    """Webhook mode cannot start: the message says which setting to fix."""


def webhook_path(url: str) -> str:
    """The path the server receives updates on: the webhook URL's (a reverse proxy passes it as is)."""
    path = urlsplit(url).path or "/"
    if path in ("/healthz", "/metrics"):
        raise WebhookConfigError(f"TELEGRAM_WEBHOOK_URL must not end in {path}: that path is the server's own")
    return path


def webhook_settings(settings: Settings) -> tuple[str, str]:
    """The webhook URL and secret, checked; ``WebhookConfigError`` naming what is missing or wrong."""
    problem = webhook_problem(settings)
    if problem is not None:
        raise WebhookConfigError(problem)
    url = settings.telegram_webhook_url
    assert url is not None and settings.telegram_webhook_secret is not None
    webhook_path(url)
    secret = settings.telegram_webhook_secret.get_secret_value()
    return url, secret


def database_ok(engine: Engine) -> bool:
    """The database answers and has its schema (blocking: run it off the event loop)."""
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT version_num FROM alembic_version")).first()
    except Exception as exc:
        log.warning("health check: the database did not answer (%s)", type(exc).__name__)
        return False
    return True


class WebServer:
    """The HTTP server: Telegram's webhook (when *secret* is given), ``/healthz`` and ``/metrics``."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        engine: Engine,
        path: str | None = None,
        secret: str | None = None,
    ) -> None:
        self.application = application
        self.engine = engine
        self.path = path
        self.secret = secret
        self.skipped = SkipReport()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def desk(self) -> UpdateDesk:
        desk: UpdateDesk = self.application.bot_data.desk
        return desk

    def web_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        if self.path is not None:
            app.router.add_post(self.path, self.receive)
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics)
        return app

    async def start(self, host: str, port: int) -> None:
        self._runner = web.AppRunner(self.web_app(), access_log=None, shutdown_timeout=5.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or ()
        self.port = sockets[0].getsockname()[1] if sockets else port
        queue = self.application.update_queue
        metrics.set_update_queue(lambda: float(queue.qsize()))
        what = f"the webhook at {self.path}, " if self.path else ""
        log.info("serving %s/healthz and /metrics on %s:%d", what, host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ----- routes ------------------------------------------------------------------------------------
    async def receive(self, request: web.Request) -> web.Response:
        """One update from Telegram: recorded in the journal before the 200 (see the module's docstring)."""
        assert self.secret is not None
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            metrics.UPDATES_RECEIVED.labels("rejected").inc()
            return web.Response(status=403, text="forbidden")
        try:
            raw = await request.json()
        except ValueError:
            return web.Response(status=400, text="not JSON")
        if not isinstance(raw, dict):
            return web.Response(status=400, text="not an update")
        bot = self.application.bot
        try:
            update = Update.de_json(raw, bot)
            bot.insert_callback_data(update)  # as ExtBot.get_updates
        except Exception as exc:  # whatever the library fails on: acknowledged and skipped, by update_id only
            self.skipped.record(update_id_of(raw), exc)
            metrics.UPDATES_RECEIVED.labels("skipped").inc()
            return web.Response(text="skipped")
        try:
            admitted = self.desk.admit([(update, raw)])
        except Exception as exc:  # not recorded: Telegram must post it again
            log.warning("could not record update %d (%s): to be posted again", update.update_id, type(exc).__name__)
            return web.Response(status=503, text="try again")
        if not admitted:
            metrics.UPDATES_RECEIVED.labels("duplicate").inc()
            return web.Response(text="duplicate")
        metrics.UPDATES_RECEIVED.labels("admitted").inc()
        await self.application.update_queue.put(update)
        return web.Response(text="ok")

    async def healthz(self, request: web.Request) -> web.Response:
        loop = asyncio.get_running_loop()
        try:
            ok = await asyncio.wait_for(loop.run_in_executor(None, database_ok, self.engine), HEALTH_TIMEOUT)
        except TimeoutError:
            ok = False
        if ok:
            return web.Response(text="ok")
        return web.Response(status=503, text="database unreachable")

    async def metrics(self, request: web.Request) -> web.Response:
        loop = asyncio.get_running_loop()
        body = await loop.run_in_executor(None, metrics.exposition, self.engine)
        response = web.Response(body=body)
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response


def add_metrics_server(app: Application[Any, Any, Any, Any, Any, Any], engine: Engine, host: str, port: int) -> None:
    """Polling mode: serve /healthz and /metrics on *port* while the application runs."""
    server = WebServer(app, engine)
    started, stopped = app.post_init, app.post_stop

    async def post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        if started is not None:
            await started(application)
        await server.start(host, port)

    async def post_stop(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        await server.stop()
        if stopped is not None:
            await stopped(application)

    app.post_init = post_init
    app.post_stop = post_stop


async def serve_webhook(
    app: Application[Any, Any, Any, Any, Any, Any],
    settings: Settings,
    engine: Engine,
    stop: asyncio.Event,
) -> None:
    """Run *app* (built with ``webhook=True``) behind the webhook server until *stop* is set."""
    url, secret = webhook_settings(settings)
    server = WebServer(app, engine, webhook_path(url), secret)
    await app.initialize()
    try:
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()  # the update fetcher, the job queue
        await server.start(settings.telegram_webhook_listen, settings.telegram_webhook_port)
        await app.bot.set_webhook(
            url,
            secret_token=secret,
            allowed_updates=Update.ALL_TYPES,
            max_connections=settings.telegram_webhook_max_connections,
        )
        log.info("webhook set; receiving updates on port %d", server.port)
        await stop.wait()
        log.info("stopping: no new updates; the ones received are finished or resumed at the next start")
    finally:
        await server.stop()  # Telegram posts the next updates to another instance, or again after the restart
        if app.running:
            await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


def run_webhook(settings: Settings, kb: KnowledgeBase, clock: Callable[[], datetime] | None = None) -> int:
    """``python -m bot run --webhook``: the bot behind Telegram's webhook until SIGINT/SIGTERM."""
    from bot.services import build_services
    from handlers.app import build_application, new_event_loop, settle

    try:
        webhook_settings(settings)
    except WebhookConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    install_redaction()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    services = build_services(settings, kb)
    now = (clock or (lambda: datetime.now(UTC)))()
    try:
        services.staff.bootstrap_supervisors(settings.supervisor_ids, now)
    except IntegrityError:  # another instance starting at the same moment made them: see what it did
        services.staff.bootstrap_supervisors(settings.supervisor_ids, now)
    app = build_application(services, clock, webhook=True)
    settle()
    loop = new_event_loop()
    asyncio.set_event_loop(loop)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows
            loop.add_signal_handler(sig, stop.set)
    log.info("starting the Telegram bot (webhook)")
    try:
        loop.run_until_complete(serve_webhook(app, settings, services.engine, stop))
    finally:
        loop.close()
    return 0
