"""How a webhook delivery proves it came from this bridge and was not altered.

Stripe's scheme: `X-OTC-Signature: t=<unix seconds>,v1=<hex>` where the hex is
HMAC-SHA256, keyed with the webhook's secret (its UTF-8 bytes, `whsec_` prefix included),
over `<t>` + `"."` + the raw request body. The timestamp is inside the MAC, so a receiver
that refuses old timestamps also refuses a replay of a captured delivery. Receivers verify
with ten lines of Python (docs/api.md); `verify` here is the same check.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "X-OTC-Signature"
EVENT_ID_HEADER = "X-OTC-Event-Id"  # what receivers de-duplicate on
WEBHOOK_ID_HEADER = "X-OTC-Webhook-Id"
ATTEMPT_HEADER = "X-OTC-Delivery-Attempt"
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix that marks the value, not a secret)
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def verify(
    secret: str, header: str, body: bytes, *, now: int, tolerance: int = TOLERANCE_SECONDS
) -> bool:
    """True when `header` signs exactly `body` with `secret`, within `tolerance` of now.
    Several `v1` values (a receiver rotating secrets) are accepted if any one matches."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or abs(now - timestamp) > tolerance:
        return False
    expected = _mac(secret, timestamp, body)
    return any(hmac.compare_digest(expected, c) for c in candidates)
