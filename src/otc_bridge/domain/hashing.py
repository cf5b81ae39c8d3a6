"""Hashes the protocol relies on: the HTLC hashlock and the order history chain."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping

HASH_RE = re.compile(r"^[0-9a-fA-F]{64}$")
GENESIS = "0" * 64


def new_preimage() -> bytes:
    return secrets.token_bytes(32)


def hashlock(preimage: bytes) -> str:
    """`h = sha256(p)` as lower-case hex; the HTLC contract checks the same hash."""
    return hashlib.sha256(preimage).hexdigest()


def preimage_matches(preimage_hex: str, expected_hash: str) -> bool:
    """Constant-time check of a revealed preimage against the order's hashlock."""
    try:
        preimage = bytes.fromhex(preimage_hex)
    except ValueError:
        return False
    return hmac.compare_digest(hashlock(preimage), expected_hash.lower())


def is_hash(value: str) -> bool:
    return HASH_RE.fullmatch(value) is not None


def event_hash(previous: str, event: Mapping[str, object]) -> str:
    """Link one history row to the one before it, so any edit breaks the chain."""
    body = json.dumps(event, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{previous}:{body}".encode()).hexdigest()
