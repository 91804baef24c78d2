"""Logs without personal data (PIPL, ``bot.logs``): what is redacted, in messages, arguments and exception
text, and the set-up ``python -m bot`` makes (standard error, or a rotating ``LOG_FILE``)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from logging.handlers import RotatingFileHandler
from pathlib import Path

import pytest

from bot.config import Settings
from bot.logs import REDACTING_FILTER, configure_logging, install_redaction, redact

PHONE, EMAIL, PASSPORT = "+86 138 1234 5678", "li.na+work@example.com.cn", "E12345678"
DESCRIPTION = "My employer in Shenzhen cancelled my permit without telling me and I need a new one now please."


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        (f"contact {PHONE}", "138"),
        ("contact 13812345678.", "13812345678"),
        ("contact 138-1234-5678", "1234"),
        ("landline 020-12345678", "12345678"),
        (f"mail {EMAIL}", "li.na"),
        (f"passport {PASSPORT}", "12345678"),
        ("passport G1234567", "1234567"),
        ("passport number 123456789", "123456789"),
        ("id 11010119900307123X", "1101011990"),
        ("我的护照号码是E12345678请帮我查询", "护照"),
        (f"description {DESCRIPTION!r}", "Shenzhen"),
        ("token 123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw_x", "AAHdqTcv"),
    ],
)
def test_personal_data_is_redacted(text: str, hidden: str) -> None:
    assert hidden not in redact(text)


def test_ordinary_log_lines_stay_readable() -> None:
    line = "ticket T2603-0001 (id 42) due 2026-03-03T02:00:00+00:00 closed by operator; took 1.25 s, 'short'"
    assert redact(line) == line


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger writing through a handler with the redacting filter, and what it wrote."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(REDACTING_FILTER)
    logger = logging.getLogger("tests.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def test_arguments_and_free_text_are_redacted(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    logger.info("ticket %s filed by %d: %s, contact %s", "T2603-0001", 1001, DESCRIPTION, PHONE)
    logger.info("filing %(step)s: %(text)s", {"step": "contact", "text": EMAIL})
    written = stream.getvalue()
    assert "T2603-0001" in written and "1001" in written and "contact" in written
    assert f"[text, {len(DESCRIPTION)} chars]" in written
    for secret in ("Shenzhen", "138", "li.na", "example.com"):
        assert secret not in written


def test_exception_text_is_redacted(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    try:
        raise ValueError(f"bad contact {EMAIL} for passport {PASSPORT}: {DESCRIPTION!r}")
    except ValueError:
        logger.exception("error while handling an update")
    written = stream.getvalue()
    assert "error while handling an update" in written
    assert "Traceback" in written and "ValueError: bad contact [email] for passport [passport]" in written
    for secret in ("li.na", PASSPORT, "Shenzhen"):
        assert secret not in written


def test_a_record_through_two_handlers_is_redacted_once(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    other = io.StringIO()
    second = logging.StreamHandler(other)
    second.addFilter(REDACTING_FILTER)
    logger.addHandler(second)
    try:
        logger.warning("call %s", PHONE)
    finally:
        logger.removeHandler(second)
    assert stream.getvalue() == other.getvalue() == "call [phone]\n"


@pytest.fixture
def root_handlers() -> Iterator[None]:
    """Restore the root logger's handlers and level after a test that configures logging (pytest's own
    capturing handlers are on it during the test)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for handler in root.handlers:
        if isinstance(handler, RotatingFileHandler):
            handler.close()
    root.handlers, root.level = handlers, level


def file_handlers() -> list[RotatingFileHandler]:
    return [h for h in logging.getLogger().handlers if isinstance(h, RotatingFileHandler)]


def test_log_file_rotates_and_is_redacted(tmp_path: Path, root_handlers: None) -> None:
    log_file = tmp_path / "logs" / "helpdesk.log"
    settings = Settings(log_file=log_file, log_max_bytes=2000, log_backup_count=2, log_level="INFO")
    configure_logging(settings)
    configure_logging(settings)  # again: still one file handler
    (handler,) = file_handlers()
    assert (handler.maxBytes, handler.backupCount) == (2000, 2)
    assert REDACTING_FILTER in handler.filters
    for _ in range(100):
        logging.getLogger("bot").info("a user wrote from %s", EMAIL)
    handler.flush()
    files = sorted(p.name for p in log_file.parent.iterdir())
    assert files == ["helpdesk.log", "helpdesk.log.1", "helpdesk.log.2"]
    text = "".join(p.read_text(encoding="utf-8") for p in log_file.parent.iterdir())
    assert "a user wrote from [email]" in text and "li.na" not in text


def test_without_log_file_standard_error_is_redacted(
    root_handlers: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_logging(Settings(log_file=None, log_level="INFO"))
    assert file_handlers() == []
    monkeypatch.setenv("LOG_FILE", "")
    assert Settings().log_file is None  # LOG_FILE= (empty) in .env means standard error
    install_redaction()  # idempotent
    for handler in [*logging.getLogger().handlers, logging.lastResort]:
        assert handler is not None and handler.filters.count(REDACTING_FILTER) == 1
    logging.getLogger("bot").warning("a user wrote from %s", EMAIL)
    assert "li.na" not in capsys.readouterr().err


def test_python_m_bot_configures_redacted_logging_first(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.__main__ as cli

    class Configured(Exception):
        pass

    def configured(settings: Settings) -> None:
        raise Configured

    monkeypatch.setattr(cli, "configure_logging", configured)
    with pytest.raises(Configured):
        cli.main(["calendar"])
