"""The use cases' input checks, with the reference's error strings (in the order the
use cases call them, which is the reference's order)."""

from __future__ import annotations

import re

from otc_bridge.domain import hashing
from otc_bridge.domain.pairs import QUOTE_PRICE_SCALE, Pair, total_quote_base
from otc_bridge.domain.rustchain import MAX_REWARD_MICRO
from otc_bridge.services.commands import HashInput, Malformed
from otc_bridge.services.errors import InvalidRequest

MIN_ORDER_MICRO = 100_000  # 0.1 RTC
MAX_ORDER_MICRO = MAX_REWARD_MICRO  # the node caps an escrow job's reward at 10,000 RTC
MAX_PRICE_NANO = 1000 * QUOTE_PRICE_SCALE
MAX_ADDRESS_LENGTH = 128
EVM_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
ERGO_ADDRESS = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{30,128}$")  # base58
NODE_WALLET = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")  # what the node accepts as a target


def order_terms(pair: Pair, amount_micro: int, price_nano: int) -> int:
    """Check an order's amount and price; the total B must lock, in quote base units."""
    if amount_micro < MIN_ORDER_MICRO:
        raise InvalidRequest("Minimum order: 0.1 RTC")
    if amount_micro > MAX_ORDER_MICRO:
        raise InvalidRequest("Maximum order: 10000 RTC")
    if price_nano <= 0:
        raise InvalidRequest("price_per_rtc must be positive")
    if price_nano > MAX_PRICE_NANO:
        raise InvalidRequest("price_per_rtc too high (max $1000)")
    total_base = total_quote_base(pair, amount_micro, price_nano)
    if total_base <= 0:
        raise InvalidRequest(f"Order total rounds to zero {pair.quote_currency} base units")
    return total_base


def quote_address(raw: str, chain: str, *, role: str = "") -> str:
    """The party's quote-chain address (the reference's `eth_address` field, any chain).
    Every order and every match needs one (`role` says whose it is and what it is for):
    missing → `missing_quote_address`, malformed → `invalid_quote_address`."""
    if not raw:
        raise InvalidRequest(
            "missing_quote_address",
            message=f"eth_address is required: {role or 'your quote-chain address'}",
        )
    if len(raw) > MAX_ADDRESS_LENGTH:
        raise InvalidRequest("invalid_quote_address", message="eth_address is too long")
    if chain == "evm" and not EVM_ADDRESS.fullmatch(raw):
        raise InvalidRequest(
            "invalid_quote_address", message="eth_address must be a 0x-prefixed 40-hex address"
        )
    if chain == "ergo" and not ERGO_ADDRESS.fullmatch(raw):
        raise InvalidRequest(
            "invalid_quote_address", message="eth_address must be a base58 Ergo address"
        )
    return raw


def client_hashlock(raw: HashInput) -> str | None:
    """S's own hashlock, lower-case, or None when the client sent none."""
    if raw is None:
        return None
    if isinstance(raw, Malformed) or not hashing.is_hash(raw.strip()):
        raise InvalidRequest("htlc_hash must be 64 hex characters (sha256 of the preimage)")
    return raw.strip().lower()
