"""Personal data rights and retention (issue 17 §1-3).

PLACEHOLDER: no schema change yet; the helper that owns this revision replaces upgrade/downgrade (keep the ids).

Revision ID: 0013_personal_data
Revises: 0012_entry_sources
Created: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0013_personal_data"
down_revision: str | None = "0012_entry_sources"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
