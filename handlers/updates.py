"""A guard on getUpdates: one update the library cannot parse must not stop the bot or flood the log.

python-telegram-bot parses a whole getUpdates batch at once (``Bot.get_updates`` → ``Update.de_list``).
If one update in it has a shape the library does not expect (a Bot API change, a library bug), the whole
batch fails: ``Bot.get_updates`` logs the raw batch at CRITICAL (``Error while parsing updates! Received
data was …`` — every message in it, passport numbers and all), the Updater logs it again and asks for the
same batch at once, forever. Polling stops for everyone and the log grows by gigabytes.

``GuardedBot`` parses the batch one update at a time. An update that cannot be parsed is skipped: its
update_id is acknowledged (the next getUpdates asks from past it, so Telegram drops it) and it is logged
by update_id only, at most once per ``SKIP_LOG_INTERVAL`` seconds with a count of the ones skipped since.
(An item without a readable update_id — Telegram always sends one — is skipped too and acknowledged with
the next update after it.)

Why an ``ExtBot`` subclass (set with ``ApplicationBuilder().bot(...)``) and not the request layer: parsing
happens in the bot, so the guard sits exactly where the failure is, parses each update once, and sees the
``offset`` of every getUpdates call — the Updater's polling and its final call on shutdown alike — so it
can acknowledge a skipped update even when nothing after it could be parsed (the Updater only confirms
updates it was handed). A transport that filtered the JSON would have to parse every update twice and
hand the Updater a stand-in update for a skipped last one. Nothing here calls ``Bot.get_updates``, so the
library's CRITICAL line with the payload cannot be written for such an update.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE, DefaultValue
from telegram._utils.types import JSONDict, ODVInput, TimePeriod
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.ext import ExtBot
from telegram.request import BaseRequest

from handlers.durable import UpdateDesk, is_transient

log = logging.getLogger(__name__)

SKIP_LOG_INTERVAL = 60.0
"""Seconds between two log lines about skipped updates."""


def update_id_of(item: object) -> int | None:
    """The update_id of a raw update, if it has a usable one."""
    value = item.get("update_id") if isinstance(item, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class SkipReport:
    """Counts skipped updates and logs them by update_id only: at most one line per *interval* seconds.

    The first skip is logged at once; the ones within the following interval are counted and reported by
    the next ``flush`` after it (each getUpdates call flushes, so a count never waits longer than one poll).
    """

    def __init__(self, interval: float = SKIP_LOG_INTERVAL, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        self.total = 0
        """Updates skipped since the start."""
        self._pending = 0
        self._first: int | None = None
        self._last: int | None = None
        self._errors: set[str] = set()
        self._next_at: float | None = None

    def record(self, update_id: int | None, error: BaseException) -> None:
        """One update skipped (its contents are never kept, nor the error's message: it may quote them)."""
        self.total += 1
        self._pending += 1
        if self._pending == 1:
            self._first = update_id
        self._last = update_id
        self._errors.add(type(error).__name__)
        self.flush()

    def flush(self, force: bool = False) -> None:
        """Log what was skipped since the last line, if the interval has passed (or *force*)."""
        if not self._pending:
            return
        now = self.clock()
        if not force and self._next_at is not None and now < self._next_at:
            return
        first, last = (str(i) if i is not None else "unknown" for i in (self._first, self._last))
        ids = last if self._pending == 1 else f"{first} to {last}"
        log.warning(
            "skipped %d update(s) from Telegram that could not be parsed (update_id %s; %s; contents not logged)",
            self._pending,
            ids,
            ", ".join(sorted(self._errors)),
        )
        self._pending = 0
        self._first = self._last = None
        self._errors.clear()
        self._next_at = now + self.interval


RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)
"""Seconds between the bot's attempts at a Bot API call that failed for now (5xx, network, timeout); a
429 waits what Telegram says instead. After the last, the failure reaches the caller (``handlers.durable``
then defers the work)."""
LONGEST_RETRY_AFTER = 30.0
"""A 429 asking for a longer wait is not waited for here: the work is deferred and resumed later."""


class RetriedHere(logging.Filter):
    """The library's rate limiter, told not to retry (``max_retries=0``: GuardedBot retries every call
    itself), logs each 429 at ERROR with a traceback. It is no error — the call is tried again — so the
    line is kept at INFO, without the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == "Rate limit hit after maximum of %d retries":
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info, record.exc_text = None, None
        return True


def quiet_rate_limiter() -> None:
    """Install ``RetriedHere`` on the rate limiter's logger (once)."""
    logger = logging.getLogger("telegram.ext.AIORateLimiter")
    if not any(isinstance(f, RetriedHere) for f in logger.filters):
        logger.addFilter(RetriedHere())


class GuardedBot(ExtBot[Any]):
    """``ExtBot`` whose ``get_updates`` skips (and acknowledges) the updates it cannot parse and records the
    others before they are acknowledged (``handlers.durable.UpdateDesk.admit``), and whose Bot API calls
    are tried again when they fail for now."""

    __slots__ = ("_ack_offset", "_desk", "_retry_delays", "_skipped", "_updates_request")

    def __init__(
        self,
        token: str,
        *,
        get_updates_request: BaseRequest,
        desk: UpdateDesk | None = None,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        **kwargs: Any,
    ) -> None:
        super().__init__(token, get_updates_request=get_updates_request, **kwargs)
        self._updates_request = get_updates_request
        self._desk = desk
        self._retry_delays = tuple(retry_delays)
        self._ack_offset = 0
        """One past the highest update_id skipped: the next getUpdates asks from here at least."""
        self._skipped = SkipReport()  # (Bot freezes its public attributes after __init__)

    @property
    def skipped(self) -> SkipReport:
        """The updates skipped so far, and their log lines."""
        return self._skipped

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: TimePeriod | None = None,
        allowed_updates: Sequence[str] | None = None,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
        api_kwargs: JSONDict | None = None,
    ) -> tuple[Update, ...]:
        """``Bot.get_updates``, but each update parsed on its own; the unparsable ones skipped and acknowledged."""
        if self._ack_offset:
            if offset is not None and (offset < 0 or offset >= self._ack_offset):
                self._ack_offset = 0  # the caller has caught up (a negative offset counts from the end)
            else:
                offset = self._ack_offset
        data: JSONDict = {"timeout": timeout, "offset": offset, "limit": limit, "allowed_updates": allowed_updates}
        # as Bot.get_updates: the long poll's own timeout on top of the read timeout
        base = self._updates_request.read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        poll = timeout.total_seconds() if isinstance(timeout, timedelta) else (timeout or 0)
        result = await self._post(
            "getUpdates",
            data,
            read_timeout=(base or 0) + poll,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
            api_kwargs=api_kwargs,
        )
        updates: list[tuple[Update, JSONDict]] = []
        for item in result if isinstance(result, list) else ():
            try:
                update = Update.de_json(item, self)
                self.insert_callback_data(update)  # as ExtBot.get_updates
            except Exception as exc:  # whatever the library fails on: skip this update, keep the rest
                update_id = update_id_of(item)
                if update_id is not None:
                    self._ack_offset = max(self._ack_offset, update_id + 1)
                self._skipped.record(update_id, exc)
                continue
            updates.append((update, item))
        self._skipped.flush()
        if self._desk is None:
            return tuple(update for update, _item in updates)
        # recorded before the next getUpdates acknowledges them; one recorded already (delivered again) is dropped
        admitted = self._desk.admit(updates)
        if len(admitted) < len(updates):  # acknowledge the dropped ones too, or Telegram sends them forever
            self._ack_offset = max(self._ack_offset, max(u.update_id for u, _item in updates) + 1)
        return tuple(admitted)

    async def _do_post(
        self,
        endpoint: str,
        data: JSONDict,
        *,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> bool | JSONDict | list[JSONDict]:
        """Every Bot API call but getUpdates (the Updater has its own) is tried again when it fails for now."""
        timeouts = {
            "read_timeout": read_timeout,
            "write_timeout": write_timeout,
            "connect_timeout": connect_timeout,
            "pool_timeout": pool_timeout,
        }
        if endpoint == "getUpdates":
            return await super()._do_post(endpoint, data, **timeouts)
        for delay in (*self._retry_delays, None):
            try:
                return await super()._do_post(endpoint, data, **timeouts)
            except RetryAfter as exc:
                wait = exc.retry_after.total_seconds() if isinstance(exc.retry_after, timedelta) else exc.retry_after
                if delay is None or wait > LONGEST_RETRY_AFTER:
                    raise
                await asyncio.sleep(wait)
            except (TimedOut, NetworkError) as exc:
                if delay is None or not is_transient(exc):
                    raise
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
        raise AssertionError("unreachable")

    async def shutdown(self) -> None:
        """Report the skips not yet logged, then shut down as usual."""
        self._skipped.flush(force=True)
        await super().shutdown()
