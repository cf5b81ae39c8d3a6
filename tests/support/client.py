"""The bridge client the suites trade with: `BridgeClient`, whose orders and matches carry
the party's quote-chain address unless the test says otherwise.

Every order and match needs one (the seller's is paid by the buyer's lock, the buyer's
locks and is refunded to). A test that is not about addresses gets a fixed address per
wallet (derived from it, so a party keeps one address across its orders); a test that is
passes `eth_address=` itself (`""` to send none).
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx

from otc_bridge.clientlib.bridge import BridgeClient
from otc_bridge.clientlib.wallet import Wallet

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def quote_address_of(wallet: str, pair: str = "RTC/USDC") -> str:
    """A wallet's quote address on the pair's chain (EVM, or base58 for Ergo)."""
    digest = hashlib.sha256(wallet.encode()).digest()
    if pair.upper().strip() == "RTC/ERG":
        return "9" + "".join(_BASE58[b % 58] for b in digest + digest[:18])
    return "0x" + digest[:20].hex()


class TraderClient(BridgeClient):
    def create_order(
        self, wallet: Wallet, *, eth_address: str | None = None, **terms: Any
    ) -> httpx.Response:
        if eth_address is None:
            eth_address = quote_address_of(wallet.address, str(terms.get("pair", "RTC/USDC")))
        return super().create_order(wallet, eth_address=eth_address, **terms)

    def match(
        self, wallet: Wallet, order_id: str, *, eth_address: str | None = None, **rest: Any
    ) -> httpx.Response:
        if eth_address is None:
            found = self.http.get(f"/api/orders/{order_id}")
            pair = found.json().get("order", {}).get("pair", "") if found.is_success else ""
            eth_address = quote_address_of(wallet.address, pair or "RTC/USDC")
        return super().match(wallet, order_id, eth_address=eth_address, **rest)
