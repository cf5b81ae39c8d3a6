"""The chain watcher: checkpoints, recent marks (re-org fork points), unfinal sightings.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chain_watch",
        sa.Column("chain_key", sa.String(80), primary_key=True),
        sa.Column("block_number", sa.BigInteger, nullable=False),
        sa.Column("block_hash", sa.String(66), nullable=False),
        sa.Column("block_time", sa.BigInteger, nullable=False),
        sa.Column("head_number", sa.BigInteger, nullable=False),
        sa.Column("head_seen_at", sa.BigInteger, nullable=False),
        sa.Column("reorgs", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "chain_watch_marks",
        sa.Column("chain_key", sa.String(80), primary_key=True),
        sa.Column("block_number", sa.BigInteger, primary_key=True),
        sa.Column("block_hash", sa.String(66), nullable=False),
        sa.Column("block_time", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "chain_sightings",
        sa.Column("chain_key", sa.String(80), primary_key=True),
        sa.Column("block_number", sa.BigInteger, primary_key=True),
        sa.Column("log_index", sa.Integer, primary_key=True),
        sa.Column("block_hash", sa.String(66), nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("lock_id", sa.String(66), nullable=False),
        sa.Column("hashlock", sa.String(66)),
    )
    op.create_index("ix_chain_sightings_hashlock", "chain_sightings", ["hashlock"])


def downgrade() -> None:
    op.drop_table("chain_sightings")
    op.drop_table("chain_watch_marks")
    op.drop_table("chain_watch")
