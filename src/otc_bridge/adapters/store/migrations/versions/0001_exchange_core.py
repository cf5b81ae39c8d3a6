"""Exchange core: orders, their hash-chained history, trades, replay and rate tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from otc_bridge.adapters.store.schema import BigUnits

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_BIG_PK = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    big = sa.BigInteger
    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(40), primary_key=True),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("pair", sa.String(16), nullable=False),
        sa.Column("maker_wallet", sa.String(64), nullable=False),
        sa.Column("maker_eth_address", sa.String(128)),
        sa.Column("amount_micro_rtc", big, nullable=False),
        sa.Column("price_per_rtc_nano_quote", big, nullable=False),
        sa.Column("total_quote_nano", big, nullable=False),
        sa.Column("total_quote_base", BigUnits(), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("history_hash", sa.String(64), nullable=False),
        sa.Column("created_at", big, nullable=False),
        sa.Column("ttl_seconds", big, nullable=False),
        sa.Column("expires_at", big, nullable=False),
        sa.Column("next_action_at", big),
        sa.Column("escrow_poster", sa.String(64)),
        sa.Column("escrow_title", sa.String(120)),
        sa.Column("escrow_job_id", sa.String(64)),
        sa.Column("escrow_reward_i64", big),
        sa.Column("escrow_total_i64", big),
        sa.Column("escrow_expires_at", big),
        sa.Column("escrow_requested_at", big),
        sa.Column("htlc_hash", sa.String(64)),
        sa.Column("secret_origin", sa.String(8)),
        sa.Column("htlc_secret_enc", sa.Text),
        sa.Column("htlc_preimage", sa.String(64)),
        sa.Column("taker_wallet", sa.String(64)),
        sa.Column("taker_eth_address", sa.String(128)),
        sa.Column("matched_at", big),
        sa.Column("match_deadline", big),
        sa.Column("quote_tx", sa.String(128)),
        sa.Column("quote_timelock", big),
        sa.Column("claim_deadline", big),
        sa.Column("refundable_at", big),
        sa.Column("settling_at", big),
        sa.Column("payout_attempt", sa.Integer, nullable=False, server_default="0"),
        sa.Column("payout_key", sa.String(128)),
        sa.Column("payout_tx_hash", sa.String(64)),
        sa.Column("payout_pending_id", big),
        sa.Column("payout_amount_i64", big),
        sa.Column("payout_queued_at", big),
        sa.Column("completed_at", big),
        sa.Column("refund_target", sa.String(16)),
        sa.Column("refund_started_at", big),
        sa.Column("closed_at", big),
        sa.Column("recovery_reason", sa.Text),
    )
    op.create_index(
        "ix_orders_book", "orders", ["status", "pair", "side", "price_per_rtc_nano_quote"]
    )
    op.create_index("ix_orders_due", "orders", ["status", "next_action_at"])
    op.create_index("ix_orders_maker", "orders", ["maker_wallet"])
    op.create_index("ix_orders_taker", "orders", ["taker_wallet"])
    op.create_index("ix_orders_htlc_hash", "orders", ["htlc_hash"])

    op.create_table(
        "order_events",
        sa.Column("event_id", _BIG_PK, primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("from_status", sa.String(24)),
        sa.Column("to_status", sa.String(24), nullable=False),
        sa.Column("cause", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("refs", sa.Text, nullable=False),
        sa.Column("at", big, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("order_id", "seq", name="uq_order_events_seq"),
    )

    op.create_table(
        "trades",
        sa.Column("trade_id", sa.String(40), primary_key=True),
        sa.Column("order_id", sa.String(40), nullable=False, unique=True),
        sa.Column("pair", sa.String(16), nullable=False),
        sa.Column("side", sa.String(4), nullable=False),
        sa.Column("maker_wallet", sa.String(64), nullable=False),
        sa.Column("taker_wallet", sa.String(64), nullable=False),
        sa.Column("amount_micro_rtc", big, nullable=False),
        sa.Column("price_per_rtc_nano_quote", big, nullable=False),
        sa.Column("total_quote_nano", big, nullable=False),
        sa.Column("total_quote_base", BigUnits(), nullable=False),
        sa.Column("quote_tx", sa.String(128)),
        sa.Column("rtc_tx", sa.String(64)),
        sa.Column("completed_at", big, nullable=False),
    )
    op.create_index("ix_trades_pair_time", "trades", ["pair", "completed_at"])

    op.create_table(
        "used_signatures",
        sa.Column("signature_digest", sa.String(64), primary_key=True),
        sa.Column("wallet", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("valid_until", big, nullable=False),
    )
    op.create_index("ix_used_signatures_valid_until", "used_signatures", ["valid_until"])

    op.create_table(
        "rate_counters",
        sa.Column("bucket", sa.String(120), primary_key=True),
        sa.Column("window_start", big, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )

    _forbid_history_edits()


def _forbid_history_edits() -> None:
    """The history is append-only in the database itself, not only in our code."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION order_events_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'order_events is append-only'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER order_events_append_only BEFORE UPDATE OR DELETE ON order_events "
            "FOR EACH ROW EXECUTE FUNCTION order_events_append_only()"
        )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER order_events_no_{verb.lower()} BEFORE {verb} ON order_events "
            "BEGIN SELECT RAISE(ABORT, 'order_events is append-only'); END"
        )


def downgrade() -> None:
    for table in ("rate_counters", "used_signatures", "trades", "order_events", "orders"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS order_events_append_only() CASCADE")
