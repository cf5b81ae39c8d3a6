"""This process's own count of the node's admin rate-limiter window, per bucket.

The node (spec §0 "Admin rate limiter") allows `limit` admin requests per client IP and
bucket (`/wallet/transfer`, exactly; every `/pending/*` path, shared) in any sliding
`window_seconds`; every request it lets through counts, the ones it refuses do not.
This module keeps the times of the admin requests this process sent that the node did
not refuse, so that a request which would be the (limit+1)-th of the window is not sent:
the node would refuse it, and the answer (a 429 with the wait) is known beforehand.

What it cannot know: requests from other processes or other hosts behind the same IP.
Those make the node refuse earlier than this count says, and the node's 429 remains the
fallback (the transport pauses on its Retry-After as before).

The limit and window are learned only from a 429 body (`limit`, `window_seconds`), never
assumed. Assuming the node's defaults (12 per 60 s) would save the first 429 of a node
left at them, but a node whose operator raised the limit never answers 429 to correct the
guess, so the bridge would hold itself to 12 per minute with no signal that it is wrong.
Learning costs one 429, the one the bridge met before this count existed. What is learned
is forgotten after `FORGET_AFTER_WINDOWS` windows with no 429 from the node: a bridge that
paces itself perfectly never hears from the limiter again, so without forgetting a limit
the operator raised later (on a restarted node) would throttle it for ever. Relearning
then costs about one 429 every `FORGET_AFTER_WINDOWS` windows of saturated load. One
limit serves both buckets: the node has one setting for all of them, so a 429 in one
bucket spares the other its own.

Times are on the bridge's clock (the one orders are rescheduled by; on a devnet it jumps
with the devnode's, as does the node's window), which may count whole seconds: a request
is recorded when its reply arrives, at or after the node counted it, and leaves this
count one second after the node's window would let it go (`MARGIN_SECONDS`), so that a
clock read as whole seconds (a request counted by the node at 100.7, recorded at 100)
never lets the bridge send into a window the node still holds full.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from dataclasses import dataclass

TRANSFER_BUCKET = "/wallet/transfer"
PENDING_BUCKET = "/pending/*"
FORGET_AFTER_WINDOWS = 10
MARGIN_SECONDS = 1.0
# Requests remembered per bucket before a limit is known (and past it): a node limit
# above this is never foreseen here, and its 429s are met as before.
MAX_REMEMBERED = 1024


def bucket_of(path: str) -> str:
    """The node's bucket for an admin path: the transfer path alone, or all of /pending/."""
    if path.startswith("/pending/"):
        return PENDING_BUCKET
    return path


@dataclass(slots=True, eq=False)  # each slot is one request: compared by identity
class Slot:
    """One admin request this process sent (or is sending), counted at `at`."""

    bucket: str
    at: float


@dataclass(frozen=True, slots=True)
class Limit:
    limit: int
    window_seconds: float
    learned_at: float  # the bridge's clock when the node's last 429 said so


def limit_from(body: object) -> tuple[int, float] | None:
    """`limit` and `window_seconds` from a 429 body, when both are usable numbers."""
    if not isinstance(body, dict):
        return None
    limit, window = body.get("limit"), body.get("window_seconds")
    if isinstance(limit, bool) or isinstance(window, bool):
        return None
    if not isinstance(limit, int) or not isinstance(window, int | float):
        return None
    if limit < 1 or not math.isfinite(window) or window <= 0:
        return None
    return limit, float(window)


class AdminWindow:
    """Thread-safe: the check and the reservation of a slot are one step, so concurrent
    requests of one process cannot together exceed the limit they each checked."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sent: dict[str, deque[Slot]] = {}
        self._limit: Limit | None = None

    @property
    def limit(self) -> Limit | None:
        return self._limit

    def learn(self, limit: int, window_seconds: float, now: float) -> None:
        """The node refused with this limit and window (a 429 body)."""
        with self._lock:
            self._limit = Limit(limit, window_seconds, now)

    def reserve(self, bucket: str, now: float) -> Slot | float:
        """A slot counted from `now`, or the seconds until one frees when the known limit
        is already reached in this bucket's window."""
        return self._reserve(bucket, now, force=False)

    def take(self, bucket: str, now: float) -> Slot:
        """A slot counted from `now` whatever the count (a wait has been slept, or the
        node is being asked again after its own 429 was waited out)."""
        taken = self._reserve(bucket, now, force=True)
        assert isinstance(taken, Slot)
        return taken

    def _reserve(self, bucket: str, now: float, *, force: bool) -> Slot | float:
        with self._lock:
            sent = self._sent.setdefault(bucket, deque(maxlen=MAX_REMEMBERED))
            known = self._known(now)
            if known is not None:
                # Forget what has left the window; `at` only grows after a reply, so the
                # oldest is found by scanning (at most `limit` entries are in the window).
                held = known.window_seconds + MARGIN_SECONDS
                for slot in [s for s in sent if s.at + held <= now]:
                    sent.remove(slot)
                if not force and len(sent) >= known.limit:
                    return max(min(s.at for s in sent) + held - now, 0.0)
            slot = Slot(bucket, now)
            sent.append(slot)
            return slot

    def counted(self, slot: Slot, now: float) -> None:
        """The node answered (or may have: a lost exchange counts too, since the node may
        have let it through): the request counts from when its reply came."""
        with self._lock:
            slot.at = max(slot.at, now)

    def refused(self, slot: Slot) -> None:
        """The node refused it with its 429: that request does not count."""
        with self._lock:
            sent = self._sent.get(slot.bucket)
            if sent is not None and slot in sent:
                sent.remove(slot)

    def _known(self, now: float) -> Limit | None:
        known = self._limit
        if known is None:
            return None
        if now - known.learned_at > FORGET_AFTER_WINDOWS * known.window_seconds:
            self._limit = None
            return None
        return known
