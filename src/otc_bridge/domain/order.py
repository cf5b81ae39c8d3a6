"""The order aggregate as the domain sees it: a frozen snapshot of one durable row.

Who is who: a sell order's maker is the RTC seller (S) and its taker the RTC buyer (B);
a buy order is the other way round. S always posts the RTC escrow and reveals the
preimage; B always receives the RTC payout.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from typing import Any

from otc_bridge.domain.states import Status

# Every id an order can have ("otc_" + 16 hex digits, with room to spare); anything else,
# a NUL byte above all (PostgreSQL refuses it in a query), names no order.
_ORDER_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def is_order_id(value: str) -> bool:
    return _ORDER_ID.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    side: str
    pair: str
    maker_wallet: str
    maker_eth_address: str | None
    amount_micro_rtc: int
    price_per_rtc_nano_quote: int
    total_quote_nano: int
    total_quote_base: int
    status: Status
    version: int
    history_hash: str
    created_at: int
    ttl_seconds: int
    expires_at: int
    next_action_at: int | None = None
    escrow_poster: str | None = None
    escrow_title: str | None = None
    escrow_job_id: str | None = None
    escrow_reward_i64: int | None = None
    escrow_total_i64: int | None = None
    escrow_expires_at: int | None = None
    escrow_requested_at: int | None = None
    escrow_state: str | None = None
    htlc_hash: str | None = None
    secret_origin: str | None = None
    htlc_secret_enc: str | None = None
    htlc_preimage: str | None = None
    taker_wallet: str | None = None
    taker_eth_address: str | None = None
    matched_at: int | None = None
    match_deadline: int | None = None
    quote_tx: str | None = None
    quote_timelock: int | None = None
    claim_deadline: int | None = None
    refundable_at: int | None = None
    settling_at: int | None = None
    payout_attempt: int = 0
    payout_key: str | None = None
    payout_tx_hash: str | None = None
    payout_pending_id: int | None = None
    payout_amount_i64: int | None = None
    payout_queued_at: int | None = None
    payout_confirms_at: int | None = None
    completed_at: int | None = None
    refund_target: str | None = None
    refund_started_at: int | None = None
    closed_at: int | None = None
    recovery_reason: str | None = None

    @classmethod
    def from_mapping(cls, row: Any) -> Order:
        values = {name: row[name] for name in FIELD_NAMES}
        values["status"] = Status(values["status"])
        return cls(**values)

    @property
    def is_sell(self) -> bool:
        return self.side == "sell"

    @property
    def rtc_seller(self) -> str | None:
        """S: posts the escrow, holds the preimage, is paid on the quote chain."""
        return self.maker_wallet if self.is_sell else self.taker_wallet

    @property
    def rtc_buyer(self) -> str | None:
        """B: locks the quote leg and receives the RTC payout."""
        return self.taker_wallet if self.is_sell else self.maker_wallet

    @property
    def holds_escrow(self) -> bool:
        return self.escrow_job_id is not None


FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Order))


@dataclass(frozen=True, slots=True)
class OrderEvent:
    order_id: str
    seq: int
    from_status: str | None
    to_status: str
    cause: str
    actor: str
    refs: dict[str, Any] = field(default_factory=dict)
    at: int = 0
    prev_hash: str = ""
    hash: str = ""

    def hashed_body(self) -> dict[str, object]:
        """The fields the chain hash covers (everything but the hashes themselves)."""
        return {
            "order_id": self.order_id,
            "seq": self.seq,
            "from": self.from_status,
            "to": self.to_status,
            "cause": self.cause,
            "actor": self.actor,
            "refs": self.refs,
            "at": self.at,
        }

    @staticmethod
    def encode_refs(refs: dict[str, Any]) -> str:
        return json.dumps(refs, sort_keys=True, separators=(",", ":"), default=str)
