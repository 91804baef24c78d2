"""Deep-link entry sources (issue 16 §4).

PLACEHOLDER: no schema change yet; the helper that owns this revision replaces upgrade/downgrade (keep the ids).

Revision ID: 0012_entry_sources
Revises: 0011_permit_reminders
Created: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0012_entry_sources"
down_revision: str | None = "0011_permit_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
