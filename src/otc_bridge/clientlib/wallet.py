"""A trader's Ed25519 wallet: derives the RTC address and signs bridge actions.

The signed message is exactly what the bridge verifies (`domain.wallet_auth`); the
preimage for a sell is generated here, on the client, so the bridge only ever sees its
hash until the seller reveals it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from otc_bridge.domain.hashing import hashlock, new_preimage
from otc_bridge.domain.rustchain import address_from_pubkey
from otc_bridge.domain.wallet_auth import signed_message


@dataclass
class Wallet:
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    @classmethod
    def from_seed(cls, seed: bytes) -> Wallet:
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def public_key(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def address(self) -> str:
        return address_from_pubkey(self.public_key)

    def wallet_auth(
        self,
        action: str,
        order_id: str,
        bound: dict[str, object],
        *,
        wallet: str | None = None,
        timestamp: int | None = None,
    ) -> dict[str, Any]:
        """`wallet_auth` for a request; `wallet` is the exact string the body sends."""
        ts = int(time.time()) if timestamp is None else timestamp
        message = signed_message(
            action=action,
            order_id=order_id,
            timestamp=ts,
            wallet=wallet if wallet is not None else self.address,
            bound=bound,
        )
        return {
            "public_key": self.public_key.hex(),
            "signature": self.key.sign(message).hex(),
            "timestamp": ts,
        }


@dataclass(frozen=True)
class Secret:
    """A hashlock preimage held by the RTC seller."""

    preimage: bytes = field(default_factory=new_preimage)

    @property
    def hex(self) -> str:
        return self.preimage.hex()

    @property
    def hash(self) -> str:
        return hashlock(self.preimage)
