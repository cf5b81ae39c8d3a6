"""Admin-key checks and the node's admin rate limiter.

The limiter is a `before_request` hook on the node, so it runs before routing and before
auth: every request to a limited path counts (401s, 404s and successes alike) unless it is
itself rejected. Buckets are in memory, per client IP and per bucket, like the node's.

Choices where the node spec is silent: a bucket is chosen by path alone, whatever the
method; the window slides over the devnet clock's integer seconds (a hit leaves the window
`window_seconds` after it was counted) and `Retry-After` is the wait until the oldest hit
leaves, at least 1 s; the 503 hint text is this module's own.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING

from otc_bridge.devnet.devnode.settings import IPNetwork, Settings
from otc_bridge.devnet.devnode.wire import Reply, Request, json_reply

if TYPE_CHECKING:
    from otc_bridge.devnet.devnode.node import Node

TRANSFER_BUCKET = "/wallet/transfer"
PENDING_BUCKET = "/pending/*"


def admin_key_unset() -> Reply:
    return json_reply(
        {
            "error": "RC_ADMIN_KEY not configured on server",
            "code": "ADMIN_KEY_UNSET",
            "hint": "Set RC_ADMIN_KEY (at least 32 characters) on the node",
        },
        503,
    )


def presented_key(req: Request, header_names: Iterable[str]) -> str:
    """The first non-empty key header, as the node's `a or b` lookup does."""
    for name in header_names:
        value = req.header(name)
        if value:
            return value
    return ""


def is_admin(node: Node, req: Request, header_names: Iterable[str] = ("x-admin-key",)) -> bool:
    # compare_digest raises TypeError on non-ASCII text, as on the node (an HTML 500).
    return hmac.compare_digest(presented_key(req, header_names), node.settings.admin_key)


def admin_gate(
    node: Node,
    req: Request,
    unauthorized: dict[str, object],
    header_names: Iterable[str] = ("x-admin-key",),
) -> Reply | None:
    """None when the caller holds the admin key, else the endpoint's 503 or 401 answer."""
    if not node.settings.admin_key:
        return admin_key_unset()
    if is_admin(node, req, header_names):
        return None
    return json_reply(unauthorized, 401)


def bucket_for(path: str) -> str | None:
    if path == TRANSFER_BUCKET:
        return TRANSFER_BUCKET
    if path.startswith("/pending/"):
        return PENDING_BUCKET
    return None


def client_ip(peer: str, real_ip: str | None, trusted: tuple[IPNetwork, ...]) -> str:
    """`X-Real-IP` counts only when the direct peer is a trusted proxy (loopback by default)."""
    forwarded = (real_ip or "").split(",", 1)[0].strip()
    if not forwarded:
        return peer
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return peer
    return forwarded if any(address in network for network in trusted) else peer


def rate_limited(settings: Settings, retry_after: int) -> Reply:
    return json_reply(
        {
            "ok": False,
            "error": "rate_limited",
            "code": "ADMIN_RATE_LIMIT",
            "limit": settings.admin_rate_limit_max,
            "window_seconds": settings.admin_rate_limit_window_seconds,
        },
        429,
        (("Retry-After", str(retry_after)),),
    )


class RateLimiter:
    """Sliding window over the devnet clock: at most `limit` hits in any `window` seconds."""

    def __init__(self, limit: int, window_seconds: int) -> None:
        self.limit = limit
        self.window = window_seconds
        self._hits: dict[tuple[str, str], deque[int]] = {}

    def hit(self, ip: str, bucket: str, now: int) -> int | None:
        """Count an allowed request and return None, or return Retry-After (≥ 1 s)."""
        hits = self._hits.setdefault((ip, bucket), deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(1, hits[0] + self.window - now)
        hits.append(now)
        return None

    def reset(self) -> None:
        self._hits.clear()
