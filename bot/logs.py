"""Logging that keeps personal data out of the logs (PIPL): a filter that redacts every record, and the
process's logging set-up (standard error, or a rotating file with ``LOG_FILE``).

``RedactingFilter`` sits on the root logger's handlers, so it sees every record that is written, from the
helpdesk and from libraries alike. It formats the record (message and arguments, and the exception's
traceback) and then replaces what may identify a person: bot tokens, e-mail addresses, phone numbers,
passport-like numbers (a letter or two and 6–9 digits, ``E12345678``), any run of 7 or more digits (Chinese ID
and passport numbers, 9-digit numbers, Telegram ids), and free text (a string argument or quoted string over
``LONG_TEXT`` characters, or a run of Chinese text), which is replaced by its length.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.privacy.redact import PERSONAL_PATTERNS

if TYPE_CHECKING:
    from bot.config import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LONG_TEXT = 64
"""A string argument or quoted string longer than this is taken for free text and replaced by its length."""

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\d{6,12}:[A-Za-z0-9_-]{30,}"), "[token]"),
    *PERSONAL_PATTERNS,  # e-mail addresses, phone numbers, passport-, ID- and other long numbers
)
_QUOTED = re.compile("|".join(rf"{q}(?:[^{q}\\\n]|\\.){{{LONG_TEXT + 1},}}{q}" for q in ("'", '"')))
"""A quoted string (as exceptions and reprs show them) longer than ``LONG_TEXT``."""
_CHINESE = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]{2,}")
_REDACTED = "_helpdesk_redacted"


def _length(text: str) -> str:
    return f"[text, {len(text)} chars]"


def redact(text: str) -> str:
    """*text* with personal data replaced: tokens, e-mail addresses, phone and passport-like numbers, long
    quoted strings and runs of Chinese text (the rest stays readable)."""
    text = _QUOTED.sub(lambda m: m.group(0)[0] + _length(m.group(0)[1:-1]) + m.group(0)[0], text)
    text = _CHINESE.sub(lambda m: _length(m.group(0)), text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _shorten(arg: Any) -> Any:
    """A logging argument, a long string replaced by its length (numbers and other objects as they are)."""
    return _length(arg) if isinstance(arg, str) and len(arg) > LONG_TEXT else arg


class RedactingFilter(logging.Filter):
    """Rewrites each record into its redacted text: ``msg`` formatted with its arguments (``args`` cleared),
    ``exc_text`` the formatted exception (``exc_info`` cleared so no formatter prints it raw again)."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, _REDACTED, False):
            return True  # already done by another handler's filter
        args: Any = record.args
        if isinstance(args, Mapping):
            args = {key: _shorten(value) for key, value in args.items()}
        elif isinstance(args, tuple):
            args = tuple(_shorten(arg) for arg in args)
        try:
            message = str(record.msg) % args if args else str(record.msg)
        except (TypeError, ValueError, KeyError):
            message = f"{record.msg} {args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        setattr(record, _REDACTED, True)
        return True


REDACTING_FILTER = RedactingFilter()


def install_redaction() -> None:
    """Put the redacting filter on every handler of the root logger, and on the last-resort handler that
    writes when there is none (idempotent)."""
    handlers = [*logging.getLogger().handlers, logging.lastResort]
    for handler in handlers:
        if handler is not None and REDACTING_FILTER not in handler.filters:
            handler.addFilter(REDACTING_FILTER)


def configure_logging(settings: Settings) -> None:
    """The process's logging: ``LOG_LEVEL``, to standard error, or with ``LOG_FILE`` to that file, rotated at
    ``LOG_MAX_BYTES`` keeping ``LOG_BACKUP_COUNT`` old files; every record redacted. Handlers already on the
    root logger are kept (as ``logging.basicConfig`` does); calling it again adds nothing."""
    root = logging.getLogger()
    if settings.log_file is None:
        logging.basicConfig(level=settings.log_level, format=LOG_FORMAT)
    else:
        path = settings.log_file.resolve()
        if not any(isinstance(h, RotatingFileHandler) and Path(h.baseFilename) == path for h in root.handlers):
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = RotatingFileHandler(
                path, maxBytes=settings.log_max_bytes, backupCount=settings.log_backup_count, encoding="utf-8"
            )
            handler.setFormatter(logging.Formatter(LOG_FORMAT))
            root.addHandler(handler)
        root.setLevel(settings.log_level)
    install_redaction()
