"""Read versions (one counter per pair, bumped by every write the market reads can see)
and book indexes that end with the full sort key, so a page of open orders is read in
index order without a sort and a deep page can seek to its first key.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

OLD_BOOK = ["status", "side", "pair", "price_per_rtc_nano_quote", "created_at", "expires_at"]
OLD_SIDE = ["status", "side", "price_per_rtc_nano_quote", "created_at", "expires_at"]
KEY = ["price_per_rtc_nano_quote", "created_at", "order_id", "expires_at"]


def upgrade() -> None:
    op.create_table(
        "read_versions",
        sa.Column("scope", sa.String(40), primary_key=True),
        sa.Column("version", sa.BigInteger, nullable=False),
    )
    op.drop_index("ix_orders_book", table_name="orders")
    op.drop_index("ix_orders_side_book", table_name="orders")
    op.create_index("ix_orders_book", "orders", ["status", "side", "pair", *KEY])
    op.create_index("ix_orders_side_book", "orders", ["status", "side", *KEY])


def downgrade() -> None:
    op.drop_index("ix_orders_side_book", table_name="orders")
    op.drop_index("ix_orders_book", table_name="orders")
    op.create_index("ix_orders_book", "orders", OLD_BOOK)
    op.create_index("ix_orders_side_book", "orders", OLD_SIDE)
    op.drop_table("read_versions")
