"""Provisional deadlines (a year's holiday schedule not yet known) and the record of scheduled work done.

Revision ID: 0002
Revises: 0001
Created: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import bot.store.models

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_provisional", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "jobrun",
        sa.Column("job", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("done_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("job", "period"),
    )


def downgrade() -> None:
    op.drop_table("jobrun")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("due_provisional")
