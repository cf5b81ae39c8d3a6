"""The use cases' inputs, as the HTTP layer parses them from the reference's JSON.

The parser (`otc_bridge.api.commands`) applies the reference's body rules and the checks
that come first in the reference's order (the body, required fields, numbers that must
parse); everything the reference checks later (bounds, addresses, hashes, signatures,
the order's state) is the use case's, in that order, so every client sees the same first
error as before.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Malformed:
    """A JSON value that is not text where text was expected (refused by the use case at
    the point where the reference checks that field)."""


MALFORMED = Malformed()
HashInput = str | Malformed | None  # an optional `htlc_hash`: absent/empty is None


@dataclass(frozen=True, slots=True)
class CreateOrder:
    side: str  # "buy" | "sell"
    pair: str  # a supported pair
    wallet: str  # as sent (stripped)
    amount_micro_rtc: int
    price_nano: int
    ttl_requested: int
    eth_address: str  # as sent (stripped), "" when absent
    htlc_hash: HashInput
    wallet_auth: object  # verified by the use case


@dataclass(frozen=True, slots=True)
class MatchOrder:
    order_id: str
    wallet: str
    eth_address: str
    htlc_hash: HashInput
    wallet_auth: object


@dataclass(frozen=True, slots=True)
class CancelOrder:
    order_id: str
    wallet: str
    wallet_auth: object


@dataclass(frozen=True, slots=True)
class ConfirmOrder:
    order_id: str
    wallet: str  # the RTC seller, unsigned (the preimage is the proof)
    quote_tx: str
    secret: str  # the preimage, hex ("" when absent)


@dataclass(frozen=True, slots=True)
class ReportLock:
    """`POST /api/orders/{id}/lock`: exactly one of the two, each 0x + 64 hex."""

    order_id: str
    lock_id: str | None
    quote_tx: str | None


@dataclass(frozen=True, slots=True)
class ListOrders:
    pair: str  # upper-cased; "" (or an unknown pair) lists every pair
    side: str  # lower-cased; "" (or anything else) lists both sides
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class ListTrades:
    pair: str  # upper-cased; "" for every pair
    limit: int
    offset: int


# ---------------------------------------------------------------------- webhooks


@dataclass(frozen=True, slots=True)
class RegisterWebhook:
    wallet: str  # as sent (stripped)
    url: str  # as sent (stripped): what the signature binds
    wallet_auth: object


@dataclass(frozen=True, slots=True)
class RemoveWebhook:
    webhook_id: str
    wallet: str
    wallet_auth: object


@dataclass(frozen=True, slots=True)
class ListWebhooks:
    wallet: str
    wallet_auth: object
