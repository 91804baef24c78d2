"""Knowledge-gap review (issue 15 §4).

PLACEHOLDER: no schema change yet; the helper that owns this revision replaces upgrade/downgrade (keep the ids).

Revision ID: 0009_gap_reviews
Revises: 0008_rating_followups
Created: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0009_gap_reviews"
down_revision: str | None = "0008_rating_followups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
