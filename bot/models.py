"""Database tables (SQLModel). Times are stored as UTC and read back timezone-aware."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, String, TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware time")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _time(**kwargs: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), **kwargs))


def _user_fk(nullable: bool = False, index: bool = True) -> Any:
    return Field(sa_column=Column(BigInteger, ForeignKey("user.id"), nullable=nullable, index=index))


class User(SQLModel, table=True):
    """A Telegram user of the helpdesk (applicant or employer contact; staff are users too)."""

    id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    display_name: str = Field(default="", max_length=128)
    lang: str | None = Field(default=None, max_length=2)
    role: str | None = Field(default=None, max_length=16)
    subscribed: bool = False
    blocked: bool = False
    created_at: datetime = _time(nullable=False)
    updated_at: datetime = _time(nullable=False)


class QuestionLog(SQLModel, table=True):
    """Every free-text question, what the engine decided, and what the user did with it."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = _user_fk()
    text: str = Field(sa_column=Column(String(1000), nullable=False))
    lang: str = Field(max_length=2)
    decision: str = Field(max_length=8)
    entry_id: str | None = Field(default=None, max_length=64)
    candidates: str = Field(default="", max_length=256)
    score: float = 0.0
    chosen_entry: str | None = Field(default=None, max_length=64)
    feedback: int | None = None
    created_at: datetime = _time(nullable=False, index=True)
