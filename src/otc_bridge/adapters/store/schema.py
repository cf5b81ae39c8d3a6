"""The bridge's tables. Money columns hold integer base units; times are Unix seconds.

Quote totals in token base units can exceed 64 bits (wei), so they are stored as decimal
strings (`BigUnits`); every other amount fits a BIGINT.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class BigUnits(TypeDecorator[int]):
    """An arbitrary-size non-negative integer stored as its decimal string."""

    impl = String(80)
    cache_ok = True

    def process_bind_param(self, value: int | None, dialect: Dialect) -> str | None:
        return None if value is None else str(int(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


class Base(DeclarativeBase):
    pass


class OrderRow(Base):
    __tablename__ = "orders"

    order_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    side: Mapped[str] = mapped_column(String(4))
    pair: Mapped[str] = mapped_column(String(16))
    maker_wallet: Mapped[str] = mapped_column(String(64))
    maker_eth_address: Mapped[str | None] = mapped_column(String(128))
    amount_micro_rtc: Mapped[int] = mapped_column(BigInteger)
    price_per_rtc_nano_quote: Mapped[int] = mapped_column(BigInteger)
    total_quote_nano: Mapped[int] = mapped_column(BigInteger)
    total_quote_base: Mapped[int] = mapped_column(BigUnits)
    status: Mapped[str] = mapped_column(String(24))
    version: Mapped[int] = mapped_column(Integer)
    history_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    ttl_seconds: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    next_action_at: Mapped[int | None] = mapped_column(BigInteger)
    # escrow on the node (a RIP-302 job posted by the RTC seller)
    escrow_poster: Mapped[str | None] = mapped_column(String(64))
    escrow_title: Mapped[str | None] = mapped_column(String(120))
    escrow_job_id: Mapped[str | None] = mapped_column(String(64))
    escrow_reward_i64: Mapped[int | None] = mapped_column(BigInteger)
    escrow_total_i64: Mapped[int | None] = mapped_column(BigInteger)
    escrow_expires_at: Mapped[int | None] = mapped_column(BigInteger)
    escrow_requested_at: Mapped[int | None] = mapped_column(BigInteger)
    escrow_state: Mapped[str | None] = mapped_column(String(16))  # the job, as last seen
    # hashlock and secret
    htlc_hash: Mapped[str | None] = mapped_column(String(64))
    secret_origin: Mapped[str | None] = mapped_column(String(8))
    htlc_secret_enc: Mapped[str | None] = mapped_column(Text)
    htlc_preimage: Mapped[str | None] = mapped_column(String(64))
    # match and quote leg
    taker_wallet: Mapped[str | None] = mapped_column(String(64))
    taker_eth_address: Mapped[str | None] = mapped_column(String(128))
    matched_at: Mapped[int | None] = mapped_column(BigInteger)
    match_deadline: Mapped[int | None] = mapped_column(BigInteger)
    quote_tx: Mapped[str | None] = mapped_column(String(128))
    quote_timelock: Mapped[int | None] = mapped_column(BigInteger)
    claim_deadline: Mapped[int | None] = mapped_column(BigInteger)
    refundable_at: Mapped[int | None] = mapped_column(BigInteger)
    # B's verified quote lock (migration 0006): one lock backs one order only
    quote_lock_id: Mapped[str | None] = mapped_column(String(66))
    quote_lock_tx: Mapped[str | None] = mapped_column(String(66))
    quote_lock_block: Mapped[int | None] = mapped_column(BigInteger)
    quote_lock_block_hash: Mapped[str | None] = mapped_column(String(66))
    quote_lock_amount: Mapped[int | None] = mapped_column(BigUnits)
    quote_lock_sender: Mapped[str | None] = mapped_column(String(64))
    quote_lock_receiver: Mapped[str | None] = mapped_column(String(64))
    quote_lock_verified_at: Mapped[int | None] = mapped_column(BigInteger)
    # settlement
    settling_at: Mapped[int | None] = mapped_column(BigInteger)
    payout_attempt: Mapped[int] = mapped_column(Integer, default=0)
    payout_key: Mapped[str | None] = mapped_column(String(128))
    payout_tx_hash: Mapped[str | None] = mapped_column(String(64))
    payout_pending_id: Mapped[int | None] = mapped_column(BigInteger)
    payout_amount_i64: Mapped[int | None] = mapped_column(BigInteger)
    payout_queued_at: Mapped[int | None] = mapped_column(BigInteger)
    payout_confirms_at: Mapped[int | None] = mapped_column(BigInteger)  # the node's estimate
    completed_at: Mapped[int | None] = mapped_column(BigInteger)
    # refunds and endings
    refund_target: Mapped[str | None] = mapped_column(String(16))
    refund_started_at: Mapped[int | None] = mapped_column(BigInteger)
    closed_at: Mapped[int | None] = mapped_column(BigInteger)
    recovery_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # Open orders of one side in the list's full sort order (price, age, id), then
        # the visibility filter: a page is read in index order without a sort, and a deep
        # page seeks to its first key (migration 0008).
        Index(
            "ix_orders_book",
            "status",
            "side",
            "pair",
            "price_per_rtc_nano_quote",
            "created_at",
            "order_id",
            "expires_at",
        ),
        Index(
            "ix_orders_side_book",
            "status",
            "side",
            "price_per_rtc_nano_quote",
            "created_at",
            "order_id",
            "expires_at",
        ),
        # The next open order to expire: when a cached book or page stops being current
        # (migration 0009).
        Index("ix_orders_open_expiry", "status", "expires_at"),
        Index("ix_orders_escrow_poster", "escrow_poster", "status"),
        Index("ix_orders_due", "status", "next_action_at"),
        Index("ix_orders_maker", "maker_wallet"),
        Index("ix_orders_taker", "taker_wallet"),
        Index("ix_orders_htlc_hash", "htlc_hash"),
        Index("uq_orders_quote_lock_id", "quote_lock_id", unique=True),
    )


class OrderEventRow(Base):
    """Append-only history; each row carries the hash of the one before it."""

    __tablename__ = "order_events"

    event_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    order_id: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(Integer)
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    cause: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(80))
    refs: Mapped[str] = mapped_column(Text)  # canonical JSON of external references
    at: Mapped[int] = mapped_column(BigInteger)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("order_id", "seq", name="uq_order_events_seq"),)


class TradeRow(Base):
    __tablename__ = "trades"

    trade_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(40), unique=True)
    pair: Mapped[str] = mapped_column(String(16))
    side: Mapped[str] = mapped_column(String(4))
    maker_wallet: Mapped[str] = mapped_column(String(64))
    taker_wallet: Mapped[str] = mapped_column(String(64))
    amount_micro_rtc: Mapped[int] = mapped_column(BigInteger)
    price_per_rtc_nano_quote: Mapped[int] = mapped_column(BigInteger)
    total_quote_nano: Mapped[int] = mapped_column(BigInteger)
    total_quote_base: Mapped[int] = mapped_column(BigUnits)
    quote_tx: Mapped[str | None] = mapped_column(String(128))
    rtc_tx: Mapped[str | None] = mapped_column(String(64))
    completed_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_trades_pair_time", "pair", "completed_at"),)


class ReadVersionRow(Base):
    """One counter per pair, bumped in the transaction of every write the market reads
    (book, open orders, trades) can see: a cached answer is current while it is equal."""

    __tablename__ = "read_versions"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class UsedSignatureRow(Base):
    """Each wallet signature is accepted once; rows are pruned past their window."""

    __tablename__ = "used_signatures"

    signature_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    wallet: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    valid_until: Mapped[int] = mapped_column(BigInteger, index=True)


class RateCounterRow(Base):
    """Fixed-window write counters shared by every API process."""

    __tablename__ = "rate_counters"

    bucket: Mapped[str] = mapped_column(String(120), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class LeaseRow(Base):
    """Leadership with a fencing token: each new holder gets a larger token, and writes
    made under a lease check that its token is still the current one."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(120))
    token: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[float] = mapped_column(Float)


class AlertRow(Base):
    """The alert outbox: written in the transaction that raised it, delivered later."""

    __tablename__ = "alert_outbox"

    alert_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    level: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    fields: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[int] = mapped_column(BigInteger)
    delivered_at: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_alert_outbox_due", "delivered_at", "next_attempt_at"),)


class WebhookRow(Base):
    """A trader's callback URL, told every event of the orders its wallet is a party to.
    The signing secret is sealed with the secret box (it must be used in clear to sign,
    so it is encrypted rather than hashed)."""

    __tablename__ = "webhooks"

    webhook_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    wallet: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text)
    secret_sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_webhooks_wallet", "wallet"),)


class WebhookDeliveryRow(Base):
    """The webhook outbox: a row per (webhook, order event), written in the transaction
    that wrote the event, delivered later by whichever worker claims it."""

    __tablename__ = "webhook_deliveries"

    delivery_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    webhook_id: Mapped[str] = mapped_column(
        String(24), ForeignKey("webhooks.webhook_id", ondelete="CASCADE")
    )
    order_id: Mapped[str] = mapped_column(String(40))
    seq: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12))  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[int] = mapped_column(BigInteger)
    next_attempt_at: Mapped[int] = mapped_column(BigInteger)
    finished_at: Mapped[int | None] = mapped_column(BigInteger)  # delivered or given up
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("webhook_id", "order_id", "seq", name="uq_webhook_deliveries_event"),
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
    )


class ChainWatchRow(Base):
    """A chain watcher's checkpoint: the last block whose HTLC events were all acted on
    (it was final then), by number and hash, plus what operators are shown (the head last
    seen, re-orgs met). One row per watched chain and contract."""

    __tablename__ = "chain_watch"

    chain_key: Mapped[str] = mapped_column(String(80), primary_key=True)  # chain id:contract
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str] = mapped_column(String(66))
    block_time: Mapped[int] = mapped_column(BigInteger)
    head_number: Mapped[int] = mapped_column(BigInteger)
    head_seen_at: Mapped[int] = mapped_column(BigInteger)  # Unix seconds, the bridge's clock
    reorgs: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class ChainWatchMarkRow(Base):
    """Recent checkpoints (number and hash), newest kept: where a re-org's fork point is
    sought when the checkpoint's own block is no longer on the chain."""

    __tablename__ = "chain_watch_marks"

    chain_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    block_hash: Mapped[str] = mapped_column(String(66))
    block_time: Mapped[int] = mapped_column(BigInteger)


class ChainSightingRow(Base):
    """HTLC events seen in blocks not yet final: shown to operators, never acted on.
    Rewritten on every poll, so a re-org drops what it removed."""

    __tablename__ = "chain_sightings"

    chain_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    log_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    block_hash: Mapped[str] = mapped_column(String(66))
    tx_hash: Mapped[str] = mapped_column(String(66))
    kind: Mapped[str] = mapped_column(String(12))  # locked | claimed | refunded
    lock_id: Mapped[str] = mapped_column(String(66))
    hashlock: Mapped[str | None] = mapped_column(String(66))  # Locked only

    __table_args__ = (Index("ix_chain_sightings_hashlock", "hashlock"),)
