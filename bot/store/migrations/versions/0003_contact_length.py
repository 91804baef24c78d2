"""Ticket contact widened to 254 characters, the longest e-mail address the filing flow accepts
(``bot.store.limits.CONTACT``); it was 128, which PostgreSQL enforced and SQLite did not.

Revision ID: 0003
Revises: 0002
Created: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.alter_column(
            "contact",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=128),
            type_=sqlmodel.sql.sqltypes.AutoString(length=254),
            existing_nullable=True,
        )


def downgrade() -> None:
    # Contacts longer than 128 characters are cut (PostgreSQL would refuse to narrow the column otherwise).
    op.execute("UPDATE ticket SET contact = substr(contact, 1, 128) WHERE length(contact) > 128")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.alter_column(
            "contact",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=254),
            type_=sqlmodel.sql.sqltypes.AutoString(length=128),
            existing_nullable=True,
        )
