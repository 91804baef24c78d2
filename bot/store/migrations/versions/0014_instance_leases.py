"""Several instances: job leases (issue 17 §5).

PLACEHOLDER: no schema change yet; the helper that owns this revision replaces upgrade/downgrade (keep the ids).

Revision ID: 0014_instance_leases
Revises: 0013_personal_data
Created: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0014_instance_leases"
down_revision: str | None = "0013_personal_data"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
