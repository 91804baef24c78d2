"""Policy notices to subscribers (issue 16 §1).

PLACEHOLDER: no schema change yet; the helper that owns this revision replaces upgrade/downgrade (keep the ids).

Revision ID: 0010_policy_notices
Revises: 0009_gap_reviews
Created: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0010_policy_notices"
down_revision: str | None = "0009_gap_reviews"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
