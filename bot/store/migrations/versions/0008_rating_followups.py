"""好差评 回访: one follow-up per bad rating (``bot.store.models.FollowUp``), with its own deadline, who called,
when, the outcome and what the user said and what was fixed.

Revision ID: 0008_rating_followups
Revises: 0007_deadline_alerts
Created: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.store.models

revision: str = "0008_rating_followups"
down_revision: str | None = "0007_deadline_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "followup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rating_id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=8), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("opened_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("assignee_id", sa.BigInteger(), nullable=True),
        sa.Column("called_by", sa.BigInteger(), nullable=True),
        sa.Column("called_at", bot.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["rating_id"], ["rating.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["assignee_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["called_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rating_id"),
    )
    op.create_index("ix_followup_user_id", "followup", ["user_id"])
    op.create_index("ix_followup_called_at", "followup", ["called_at"])


def downgrade() -> None:
    op.drop_index("ix_followup_called_at", table_name="followup")
    op.drop_index("ix_followup_user_id", table_name="followup")
    op.drop_table("followup")
