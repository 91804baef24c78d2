"""Queue cards: the "user waiting" offers with a Claim button the bot sent (``bot.store.models.QueueCard``), so
they can be edited when their request stops waiting (taken by whom, or the user left the queue).

Revision ID: 0006_live_queue_cards
Revises: 0005_ticket_links
Created: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.store.models

revision: str = "0006_live_queue_cards"
down_revision: str | None = "0005_ticket_links"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "queuecard",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("message_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("settled", sa.Boolean(), nullable=False),
        sa.Column("created_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["helprequest.id"]),
        sa.PrimaryKeyConstraint("chat_id", "message_id"),
    )
    op.create_index("ix_queuecard_request_id", "queuecard", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_queuecard_request_id", table_name="queuecard")
    op.drop_table("queuecard")
