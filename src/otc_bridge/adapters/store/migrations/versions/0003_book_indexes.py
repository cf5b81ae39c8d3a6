"""Book indexes: open orders per side in price order, covering the visibility filter.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BOOK = ["status", "side", "pair", "price_per_rtc_nano_quote", "created_at", "expires_at"]
SIDE = ["status", "side", "price_per_rtc_nano_quote", "created_at", "expires_at"]


def upgrade() -> None:
    op.drop_index("ix_orders_book", table_name="orders")
    op.create_index("ix_orders_book", "orders", BOOK)
    op.create_index("ix_orders_side_book", "orders", SIDE)
    op.create_index("ix_orders_escrow_poster", "orders", ["escrow_poster", "status"])


def downgrade() -> None:
    op.drop_index("ix_orders_escrow_poster", table_name="orders")
    op.drop_index("ix_orders_side_book", table_name="orders")
    op.drop_index("ix_orders_book", table_name="orders")
    op.create_index(
        "ix_orders_book", "orders", ["status", "pair", "side", "price_per_rtc_nano_quote"]
    )
