"""Deadline alerts and digests decided (``bot.store.models.AlertSent``): one row per (kind, subject), so each
is decided once across restarts and instances; ``taken_at`` empty while the command line's decision waits for
the bot to send it.

Revision ID: 0007_deadline_alerts
Revises: 0006_live_queue_cards
Created: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.store.models

revision: str = "0007_deadline_alerts"
down_revision: str | None = "0006_live_queue_cards"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alertsent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=32), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("notices", sa.LargeBinary(), nullable=False),
        sa.Column("decided_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("taken_at", bot.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "subject", name="one_alert_per_subject"),
    )
    op.create_index("ix_alertsent_taken_at", "alertsent", ["taken_at"])


def downgrade() -> None:
    op.drop_index("ix_alertsent_taken_at", table_name="alertsent")
    op.drop_table("alertsent")
