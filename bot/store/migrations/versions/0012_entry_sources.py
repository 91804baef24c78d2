"""Deep-link entry sources (issue 16 §4): where a user came from, ``/start SOURCE`` (the first and the latest).

Revision ID: 0012_entry_sources
Revises: 0011_permit_reminders
Created: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_entry_sources"
down_revision: str | None = "0011_permit_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(sa.Column("first_source", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("last_source", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.drop_column("last_source")
        batch.drop_column("first_source")
