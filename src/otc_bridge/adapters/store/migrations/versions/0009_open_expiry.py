"""Open orders by expiry: what tells a cached market answer (`services/snapshots.py`) the
second it stops being current as time alone passes (the next open order to expire), in
one index seek, instead of rebuilding it every second.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_orders_open_expiry", "orders", ["status", "expires_at"])


def downgrade() -> None:
    op.drop_index("ix_orders_open_expiry", table_name="orders")
