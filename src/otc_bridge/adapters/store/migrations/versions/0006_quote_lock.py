"""The verified quote lock on each order, and one lock backing one order only.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from otc_bridge.adapters.store.schema import BigUnits

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("quote_lock_id", sa.String(66)))
        batch.add_column(sa.Column("quote_lock_tx", sa.String(66)))
        batch.add_column(sa.Column("quote_lock_block", sa.BigInteger))
        batch.add_column(sa.Column("quote_lock_block_hash", sa.String(66)))
        batch.add_column(sa.Column("quote_lock_amount", BigUnits()))
        batch.add_column(sa.Column("quote_lock_sender", sa.String(64)))
        batch.add_column(sa.Column("quote_lock_receiver", sa.String(64)))
        batch.add_column(sa.Column("quote_lock_verified_at", sa.BigInteger))
    # NULLs do not collide (SQLite and PostgreSQL alike): only verified locks are unique.
    op.create_index("uq_orders_quote_lock_id", "orders", ["quote_lock_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_orders_quote_lock_id", table_name="orders")
    with op.batch_alter_table("orders") as batch:
        for name in (
            "quote_lock_verified_at",
            "quote_lock_receiver",
            "quote_lock_sender",
            "quote_lock_amount",
            "quote_lock_block_hash",
            "quote_lock_block",
            "quote_lock_tx",
            "quote_lock_id",
        ):
            batch.drop_column(name)
