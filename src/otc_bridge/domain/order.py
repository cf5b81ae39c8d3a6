"""The order aggregate as the domain sees it: a frozen snapshot of one durable row.

Who is who: a sell order's maker is the RTC seller (S) and its taker the RTC buyer (B);
a buy order is the other way round. S always posts the RTC escrow and reveals the
preimage; B always receives the RTC payout.

The terms of an order never change and are plain fields. What an order acquires as it
moves (an escrow, a hashlock, a taker, a revealed preimage, a payout, a refund) is one
group per concern, absent until it exists: a group's own fields are set together, so a
step that holds the group needs no `is not None` check on each of them. The store maps
the groups to the flat columns of the `orders` table (`adapters/store/rows.py`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from otc_bridge.domain.errors import InconsistentOrder
from otc_bridge.domain.states import Status

G = TypeVar("G")

# Every id an order can have ("otc_" + 16 hex digits, with room to spare); anything else,
# a NUL byte above all (PostgreSQL refuses it in a query), names no order.
_ORDER_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def is_order_id(value: str) -> bool:
    return _ORDER_ID.fullmatch(value) is not None


def trade_id(order_id: str) -> str:
    """A completed order's one trade is named after it."""
    return "trade_" + order_id.removeprefix("otc_")


class SecretOrigin(StrEnum):
    CLIENT = "client"  # S sent only sha256(p): the bridge learns p when S reveals it
    SERVER = "server"  # the bridge made p for a reference-era client (sealed at once)


@dataclass(frozen=True, slots=True)
class EscrowJob:
    """The RIP-302 job holding S's RTC, as the node last reported it."""

    job_id: str
    state: str  # the job's status on the node (a `JobStatus` value)
    expires_at: int | None = None
    reward_i64: int | None = None  # what the job pays its worker (the order amount)
    total_i64: int | None = None  # what S paid: reward plus the node's 5 % fee
    released_i64: int | None = None  # what the node paid the worker wallet on accept


@dataclass(frozen=True, slots=True)
class Escrow:
    """S's escrow: the intent (durable before the node call), then the job it made."""

    poster: str
    title: str  # how a lock of unknown outcome is found again on the node
    requested_at: int
    job: EscrowJob | None = None  # None while the lock's outcome is not known


@dataclass(frozen=True, slots=True)
class Hashlock:
    hash: str  # sha256(p), lower-case hex
    origin: SecretOrigin
    sealed: str | None = None  # p encrypted at rest: from creation (server) or reveal on
    preimage: str | None = None  # p in clear, public once the order is completed


@dataclass(frozen=True, slots=True)
class Match:
    taker_wallet: str
    taker_address: str | None  # the taker's quote-chain address
    matched_at: int | None = None  # None while a buy order's taker escrow is in flight
    deadline: int | None = None  # the quote leg must be locked by then


@dataclass(frozen=True, slots=True)
class QuoteLock:
    """B's lock on the quote chain, as verified (every check passed, its block final).
    The lock id backs this order only (a unique index in the store)."""

    lock_id: str  # 0x + 64 hex, lower case
    tx_hash: str
    block_number: int
    block_hash: str
    amount: int  # in the quote token's base units
    timelock: int  # T_q, Unix seconds on the chain's clock
    sender: str  # B's quote address (the lock's refund goes there)
    receiver: str  # S's quote address
    verified_at: int


@dataclass(frozen=True, slots=True)
class Reveal:
    """S revealed the preimage (confirm): forward only from here."""

    at: int
    quote_tx: str


@dataclass(frozen=True, slots=True)
class Payout:
    """B's RTC payout from the worker wallet: durable before the transfer is sent."""

    attempt: int  # 0, then one more per re-drive after a void (a new key each)
    key: str
    tx_hash: str  # the node's deterministic hash of the key
    pending_id: int | None = None
    queued_at: int | None = None  # None: this attempt's transfer is not yet sent
    confirms_at: int | None = None  # the node's estimate


@dataclass(frozen=True, slots=True)
class Refund:
    """S's escrow is being given back; where the order goes once the node confirms."""

    target: Status  # cancelled, expired, or open (a buy order relisted)
    started_at: int


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    side: str
    pair: str
    maker_wallet: str
    maker_eth_address: str | None  # the maker's quote-chain address (the wire's name)
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
    escrow: Escrow | None = None
    hashlock: Hashlock | None = None
    match: Match | None = None
    reveal: Reveal | None = None
    payout: Payout | None = None
    refund: Refund | None = None
    quote_lock: QuoteLock | None = None
    # Quote-leg deadlines (served in `deadlines`), set with the verified quote lock:
    # T_q, T_q - claim margin (no reveal from then), T_q + finality wait (S refundable).
    quote_timelock: int | None = None
    claim_deadline: int | None = None
    refundable_at: int | None = None
    completed_at: int | None = None
    closed_at: int | None = None
    recovery_reason: str | None = None

    @property
    def is_sell(self) -> bool:
        return self.side == "sell"

    @property
    def taker_wallet(self) -> str | None:
        return self.match.taker_wallet if self.match else None

    @property
    def taker_eth_address(self) -> str | None:
        return self.match.taker_address if self.match else None

    @property
    def rtc_seller(self) -> str | None:
        """S: posts the escrow, holds the preimage, is paid on the quote chain."""
        return self.maker_wallet if self.is_sell else self.taker_wallet

    @property
    def rtc_buyer(self) -> str | None:
        """B: locks the quote leg and receives the RTC payout."""
        return self.taker_wallet if self.is_sell else self.maker_wallet

    @property
    def escrow_job(self) -> EscrowJob | None:
        return self.escrow.job if self.escrow else None

    @property
    def holds_escrow(self) -> bool:
        return self.escrow_job is not None

    @property
    def htlc_hash(self) -> str | None:
        return self.hashlock.hash if self.hashlock else None


def required(group: G | None, name: str, order: Order) -> G:
    """`group`, which `order`'s status implies exists (an escrow while `opening`, ...)."""
    if group is None:
        raise InconsistentOrder(f"{order.order_id} is {order.status.value} without its {name}")
    return group


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

    def wire(self) -> dict[str, Any]:
        """The event as every client sees it: an item of `GET /api/orders/{id}/events`,
        the data of a stream's event, the `event` of a webhook delivery."""
        return {
            "seq": self.seq,
            "from": self.from_status,
            "to": self.to_status,
            "cause": self.cause,
            "actor": self.actor,
            "refs": self.refs,
            "at": self.at,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }

    @staticmethod
    def encode_refs(refs: dict[str, Any]) -> str:
        return json.dumps(refs, sort_keys=True, separators=(",", ":"), default=str)
