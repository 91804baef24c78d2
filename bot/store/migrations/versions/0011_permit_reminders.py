"""Permit-expiry reminders (issue 16 §2).

PLACEHOLDER: no schema change yet; the helper that owns this revision replaces upgrade/downgrade (keep the ids).

Revision ID: 0011_permit_reminders
Revises: 0010_policy_notices
Created: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0011_permit_reminders"
down_revision: str | None = "0010_policy_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
