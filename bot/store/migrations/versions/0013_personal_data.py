"""Personal data rights and retention (issue 17 §1-3): when a user's data was erased at their request, and when
a ticket or a live chat was anonymised (erased on request or expired, ``bot.privacy``).

Revision ID: 0013_personal_data
Revises: 0012_entry_sources
Created: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.store.models

revision: str = "0013_personal_data"
down_revision: str | None = "0012_entry_sources"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("user", "ticket", "livesession")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("erased_at", bot.store.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("erased_at")
