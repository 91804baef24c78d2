"""Permit-expiry reminders (issue 16 §2): the permits users watch (``bot.store.models.PermitWatch``) and the
reminders decided (``PermitReminder``: one row per watch, kind, lead and the day it is about, so each is sent
once; ``taken_at`` empty while the command line's decision waits for the bot).

Revision ID: 0011_permit_reminders
Revises: 0010_policy_notices
Created: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.store.models

revision: str = "0011_permit_reminders"
down_revision: str | None = "0010_policy_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "permitwatch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("employment_ends_on", sa.Date(), nullable=True),
        sa.Column("created_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_permitwatch_user_id", "permitwatch", ["user_id"])
    op.create_index("ix_permitwatch_expires_on", "permitwatch", ["expires_on"])
    op.create_table(
        "permitreminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("watch_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("lead", sa.Integer(), nullable=False),
        sa.Column("target", sa.Date(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("notice", sa.LargeBinary(), nullable=False),
        sa.Column("decided_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("taken_at", bot.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["watch_id"], ["permitwatch.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("watch_id", "kind", "lead", "target", name="one_permit_reminder"),
    )
    op.create_index("ix_permitreminder_watch_id", "permitreminder", ["watch_id"])
    op.create_index("ix_permitreminder_taken_at", "permitreminder", ["taken_at"])


def downgrade() -> None:
    op.drop_index("ix_permitreminder_taken_at", table_name="permitreminder")
    op.drop_index("ix_permitreminder_watch_id", table_name="permitreminder")
    op.drop_table("permitreminder")
    op.drop_index("ix_permitwatch_expires_on", table_name="permitwatch")
    op.drop_index("ix_permitwatch_user_id", table_name="permitwatch")
    op.drop_table("permitwatch")
