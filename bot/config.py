"""Typed settings from the environment (a ``.env`` file is read too).

The bot token is a secret: it is never printed, logged or shown in a repr.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.store import limits

ROOT = Path(__file__).resolve().parent.parent
"""The repository (or installed project) root: knowledge/ and locales/ live here."""


class Settings(BaseSettings):
    """Every setting the helpdesk reads; names are the environment variables."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str | None = None
    database_url: str = f"sqlite:///{ROOT / 'helpdesk.sqlite3'}"
    database_workers: int = Field(default=4, ge=1, le=10)
    """PostgreSQL: threads that run core calls (``handlers.context.BotData.use_workers``). With the server on the
    same host or LAN, 4 measured 5–17 % faster than 8 (fewer threads competing for the interpreter lock); a
    server far away (several ms a round trip) needs more to overlap its waits. At most the pool's 10 connections."""
    helpdesk_profile: str = "default"
    helpdesk_kb_dir: Path = ROOT / "knowledge"
    helpdesk_supervisors: str = ""
    helpdesk_hours: str = "profile"
    helpdesk_deadlines: str = ""
    helpdesk_reopen_days: int = 7
    helpdesk_out_of_hours_days: int = Field(default=1, ge=1)
    """Working days to answer a message left while the desk is closed (the next working day by default)."""
    helpdesk_followup_days: int = Field(default=5, ge=1)
    """Working days to call back a user after a bad rating (好差评 回访, ``bot.desk.followups``)."""
    helpdesk_max_description: int = Field(default=2000, ge=1, le=limits.DESCRIPTION)
    """At most the description column's length (``bot.store.limits.DESCRIPTION``)."""
    helpdesk_queue_wait_minutes: float = 10
    helpdesk_idle_remind_minutes: float = 5
    helpdesk_idle_close_minutes: float = 5
    helpdesk_auto_assign: bool = False
    helpdesk_staff_chat: int | None = None
    helpdesk_sweep_seconds: float = 30
    helpdesk_digest_hour: int = Field(default=9, ge=0, le=23)
    """The hour (Beijing time) of the supervisors' morning digest on working days; deadline alerts go out from it."""
    helpdesk_digest_to: str = "supervisors"
    """Who gets the digest: ``supervisors``, ``none``, or comma-separated Telegram ids."""
    helpdesk_monthly_report_to: str = "digest"
    """Who gets the monthly report (``bot.desk.reports.monthly``): ``digest`` (whoever gets the digest),
    ``supervisors``, ``none`` (no monthly report), or comma-separated Telegram ids."""
    helpdesk_alert_seconds: float = Field(default=60, ge=0)
    """Seconds between the bot's looks for deadline alerts and the digest due (0: off)."""
    helpdesk_calendar_reminders: bool = True
    """Remind supervisors weekly (from 1 November) to enter a missing holiday schedule; off where the calendar
    files are kept centrally (``bot.desk.calendar_upkeep``)."""
    helpdesk_reminder_days: str = "60,30"
    """Days before a watched permit expires that its user is reminded (/reminders; ``bot.desk.outreach.reminders``);
    the bot looks for reminders due every ``HELPDESK_ALERT_SECONDS`` too."""
    helpdesk_reminder_hour: int = Field(default=9, ge=0, le=23)
    """The hour (Beijing time) from which permit reminders go out, any day."""
    helpdesk_cache_dir: Path = ROOT / ".cache"
    """Where the trained classifier is cached (named by a hash of its inputs; safe to delete)."""
    helpdesk_resume_seconds: float = 10
    """Seconds between looks for works whose send failed for now and whose next attempt is due."""
    helpdesk_keep_questions_days: int = Field(default=180, ge=1)
    """Days a question's text is kept in the question log (then erased; its answer's statistics stay)."""
    helpdesk_keep_tickets_days: int = Field(default=1095, ge=1)
    """Days after closing a ticket is kept whole (then its texts and files are erased and it is unlinked)."""
    helpdesk_keep_transcripts_days: int = Field(default=1095, ge=1)
    """Days after a live chat ended its transcript is kept (then erased, and the chat unlinked from its user)."""
    helpdesk_keep_contacts_days: int = Field(default=30, ge=0)
    """Days after closing a ticket its contact (phone or e-mail) is kept (then removed)."""
    telegram_rate_limit: float = 30
    """Messages per second the bot sends overall (Telegram's limit is about 30)."""
    telegram_retry_delays: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0)
    """Seconds between the attempts at a Bot API call failing for now (429 waits what Telegram says)."""
    log_level: str = "INFO"
    log_file: Path | None = None
    """Log to this file, rotated by size (``bot.logs``), instead of standard error."""
    log_max_bytes: int = Field(default=10_000_000, ge=0)
    """Rotate the log file at this size (0: never)."""
    log_backup_count: int = Field(default=5, ge=0)
    """Rotated log files kept (``helpdesk.log.1`` … ``.5``)."""
    telegram_webhook_url: str | None = None
    """The public HTTPS URL Telegram posts updates to; set (or ``run --webhook``): webhook mode (docs/deploy.md)."""
    telegram_webhook_secret: SecretStr | None = None
    """Required in webhook mode: Telegram sends it in X-Telegram-Bot-Api-Secret-Token (1-256 of A-Z a-z 0-9 _ -)."""
    telegram_webhook_listen: str = "127.0.0.1"
    """Address the webhook server listens on (behind a reverse proxy: loopback)."""
    telegram_webhook_port: int = Field(default=8080, ge=1, le=65535)
    """Port of the webhook server (also /healthz and /metrics)."""
    telegram_webhook_max_connections: int = Field(default=40, ge=1, le=100)
    """setWebhook's max_connections: updates Telegram posts at the same time."""
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    """In polling mode: serve /metrics and /healthz on this port (unset: none)."""

    @field_validator(
        "telegram_bot_token",
        "log_file",
        "telegram_webhook_url",
        "telegram_webhook_secret",
        "metrics_port",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def kb_dir_label(self) -> str:
        """The knowledge directory as staff should read it: relative to the project when inside it."""
        directory = self.helpdesk_kb_dir.resolve()
        return str(directory.relative_to(ROOT)) if directory.is_relative_to(ROOT) else str(directory)

    @property
    def supervisor_ids(self) -> list[int]:
        """Telegram ids listed in HELPDESK_SUPERVISORS (comma-separated)."""
        return [int(part) for part in self.helpdesk_supervisors.replace(" ", "").split(",") if part]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
