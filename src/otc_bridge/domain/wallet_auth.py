"""Ed25519 wallet authentication, wire-compatible with the reference bridge.

The signed message is the compact, key-sorted JSON of `{action, order_id, timestamp,
wallet, ...bound fields}` (ASCII-escaped, as Python's `json.dumps` does by default). The
`wallet` value is the exact string the client sent; identity comparisons use the
canonical form (`RTC` + lower-case hex), because the node treats each spelling as a
different wallet. Accepting each signature only once is the store's job: this module
returns the digest to record.

The refusal codes are the reference's, in its check order, with two of its quirks kept
because its clients match on them: a timestamp outside the window either way is
`wallet_auth_timestamp_expired` (the message says which way, and by how much), and a
hex signature of the wrong length is `wallet_auth_invalid_signature` (only text that is
not hex is `wallet_auth_invalid_encoding`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from otc_bridge.domain.rustchain import address_from_pubkey

WALLET_RE = re.compile(r"^RTC[0-9a-fA-F]{40}$")
DEFAULT_WINDOW_SECONDS = 300
DEFAULT_FUTURE_SKEW_SECONDS = 30

MESSAGES = {
    "wallet_must_be_native_rtc_address": "wallet must be a native RTC address (RTC + 40 hex)",
    "wallet_auth_required": "wallet_auth {public_key, signature, timestamp} is required",
    "wallet_auth_public_key_signature_timestamp_required": (
        "wallet_auth needs public_key, signature and timestamp"
    ),
    "wallet_auth_invalid_timestamp": "wallet_auth.timestamp must be integer Unix seconds",
    "wallet_auth_timestamp_expired": "wallet_auth.timestamp is outside the validity window",
    "wallet_auth_public_key_does_not_match_wallet": "public_key does not derive this wallet",
    "wallet_auth_invalid_encoding": "public_key and signature must be hex (32 and 64 bytes)",
    "wallet_auth_invalid_signature": "signature does not verify for this request",
    "wallet_auth_replayed": (
        "this signature was already used: Ed25519 signatures are deterministic, so the "
        "same terms signed with the same timestamp give the same signature; sign again "
        "with another timestamp (or change a field) to send the request again"
    ),
}
TIMESTAMP_EXPIRED = "wallet_auth_timestamp_expired"


class WalletAuthError(Exception):
    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message or MESSAGES.get(code, code)


@dataclass(frozen=True, slots=True)
class VerifiedAuth:
    wallet: str  # canonical form
    signature_digest: str  # what the replay table records
    valid_until: int  # past this, the timestamp check alone rejects a replay


def is_native_wallet(wallet: str) -> bool:
    return WALLET_RE.fullmatch(wallet) is not None


def canonical_wallet(wallet: str) -> str:
    """`RTC` + lower-case hex: the spelling the node derives from a public key."""
    return "RTC" + wallet[3:].lower() if is_native_wallet(wallet) else wallet


def signed_message(
    *, action: str, order_id: str, timestamp: int, wallet: str, bound: Mapping[str, object]
) -> bytes:
    payload = {**bound, "action": action, "order_id": order_id, "timestamp": timestamp}
    payload["wallet"] = wallet
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def _timestamp(raw: object) -> int:
    if isinstance(raw, bool):
        raise WalletAuthError("wallet_auth_invalid_timestamp")
    if isinstance(raw, int):
        return raw
    text = raw.strip() if isinstance(raw, str) else ""
    if text.isascii() and text.isdigit():  # "²" is a digit to str.isdigit, not to int()
        return int(text)
    raise WalletAuthError("wallet_auth_invalid_timestamp")


def _hex(raw: str, length: int, *, wrong_length: str) -> bytes:
    try:
        value = bytes.fromhex(raw)
    except ValueError:
        raise WalletAuthError("wallet_auth_invalid_encoding") from None
    if len(value) != length:
        raise WalletAuthError(wrong_length)
    return value


def _check_time(timestamp: int, now: int, window_seconds: int, future_skew_seconds: int) -> None:
    """One code for both directions (the reference's clients expect it); the message
    says which way the signer's clock is off, so a client can correct it."""
    if timestamp < now - window_seconds:
        behind = now - timestamp
        raise WalletAuthError(
            TIMESTAMP_EXPIRED,
            f"wallet_auth.timestamp is {behind} s behind the server's clock (at most "
            f"{window_seconds} s is accepted): sign again with the server's time "
            "(server_time, or the X-Server-Time header of any answer)",
        )
    if timestamp > now + future_skew_seconds:
        ahead = timestamp - now
        raise WalletAuthError(
            TIMESTAMP_EXPIRED,
            f"wallet_auth.timestamp is in the future: {ahead} s ahead of the server's "
            f"clock (at most {future_skew_seconds} s is accepted): sign again with the "
            "server's time (server_time, or the X-Server-Time header of any answer)",
        )


def verify_wallet_auth(
    *,
    wallet: str,
    auth: object,
    action: str,
    order_id: str,
    bound: Mapping[str, object],
    now: int,
    window_seconds: int = DEFAULT_WINDOW_SECONDS,
    future_skew_seconds: int = DEFAULT_FUTURE_SKEW_SECONDS,
) -> VerifiedAuth:
    """Check a request's `wallet_auth` in the reference's order; raise WalletAuthError."""
    if not is_native_wallet(wallet):
        raise WalletAuthError("wallet_must_be_native_rtc_address")
    if not isinstance(auth, Mapping):
        raise WalletAuthError("wallet_auth_required")
    public_key, signature, raw_ts = (
        auth.get("public_key"),
        auth.get("signature"),
        auth.get("timestamp"),
    )
    if not (
        isinstance(public_key, str) and public_key and isinstance(signature, str) and signature
    ):
        raise WalletAuthError("wallet_auth_public_key_signature_timestamp_required")
    if raw_ts is None or raw_ts == "":
        raise WalletAuthError("wallet_auth_public_key_signature_timestamp_required")
    timestamp = _timestamp(raw_ts)
    _check_time(timestamp, now, window_seconds, future_skew_seconds)
    key_bytes = _hex(public_key.strip(), 32, wrong_length="wallet_auth_invalid_encoding")
    if address_from_pubkey(key_bytes) != canonical_wallet(wallet):
        raise WalletAuthError("wallet_auth_public_key_does_not_match_wallet")
    # The reference hands any hex signature to Ed25519, which refuses one of the wrong
    # length as a bad signature: so do we.
    sig_bytes = _hex(signature.strip(), 64, wrong_length="wallet_auth_invalid_signature")
    message = signed_message(
        action=action, order_id=order_id, timestamp=timestamp, wallet=wallet, bound=bound
    )
    try:
        Ed25519PublicKey.from_public_bytes(key_bytes).verify(sig_bytes, message)
    except InvalidSignature:
        raise WalletAuthError("wallet_auth_invalid_signature") from None
    return VerifiedAuth(
        wallet=canonical_wallet(wallet),
        signature_digest=hashlib.sha256(sig_bytes).hexdigest(),
        valid_until=timestamp + window_seconds,
    )
