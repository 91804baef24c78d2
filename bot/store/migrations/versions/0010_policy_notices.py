"""Policy notices to subscribers (issue 16 §1): ``policynotice`` (the notice in both languages, its audience,
status and counts) and ``noticedelivery`` (one row per recipient, made at confirmation, unique per notice and
user, so a restart mid-send neither skips nor repeats anyone).

Revision ID: 0010_policy_notices
Revises: 0009_gap_reviews
Created: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.store.models

revision: str = "0010_policy_notices"
down_revision: str | None = "0009_gap_reviews"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "policynotice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title_en", sa.String(length=120), nullable=False),
        sa.Column("body_en", sa.String(length=2000), nullable=False),
        sa.Column("title_zh", sa.String(length=120), nullable=False),
        sa.Column("body_zh", sa.String(length=2000), nullable=False),
        sa.Column("entry_id", sa.String(length=64), nullable=True),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by", sa.BigInteger(), nullable=True),
        sa.Column("confirmed_at", bot.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", bot.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("blocked", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_policynotice_status", "policynotice", ["status"])
    op.create_table(
        "noticedelivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("claimed_at", bot.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", bot.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["notice_id"], ["policynotice.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notice_id", "user_id", name="one_delivery_per_user"),
    )
    op.create_index("ix_noticedelivery_user_id", "noticedelivery", ["user_id"])
    op.create_index("ix_noticedelivery_status", "noticedelivery", ["status"])


def downgrade() -> None:
    op.drop_index("ix_noticedelivery_status", table_name="noticedelivery")
    op.drop_index("ix_noticedelivery_user_id", table_name="noticedelivery")
    op.drop_table("noticedelivery")
    op.drop_index("ix_policynotice_status", table_name="policynotice")
    op.drop_table("policynotice")
