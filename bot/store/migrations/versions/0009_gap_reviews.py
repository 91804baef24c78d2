"""Knowledge-gap review (issue 15 §4): one row per group of questions staff reviewed
(``bot.store.models.GapReview``): accepted as alternate questions of an entry, as out of scope, or rejected.

Revision ID: 0009_gap_reviews
Revises: 0008_rating_followups
Created: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.store.models

revision: str = "0009_gap_reviews"
down_revision: str | None = "0008_rating_followups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gapreview",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=1000), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("entry_id", sa.String(length=64), nullable=True),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("examples", sa.Text(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.BigInteger(), nullable=False),
        sa.Column("reviewed_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("question_id"),
    )
    op.create_index("ix_gapreview_reviewed_at", "gapreview", ["reviewed_at"])


def downgrade() -> None:
    op.drop_index("ix_gapreview_reviewed_at", table_name="gapreview")
    op.drop_table("gapreview")
