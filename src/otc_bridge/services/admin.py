"""The operator's key for `/admin/*`: compared in constant time, and a client address
that keeps sending wrong keys is throttled, so the key cannot be guessed at speed.

Wrong keys are counted per client address in fixed windows in the database (every API
process shares the count). Past `max_failures` in a window, the address is refused with
429 until the window ends, before its key is even compared: a guess made while throttled
learns nothing, whether it is right or wrong.
"""

from __future__ import annotations

import hmac

from otc_bridge.services.errors import Unauthenticated
from otc_bridge.services.ratelimit import RateLimiter


class AdminGate:
    def __init__(self, *, key: str | None, limiter: RateLimiter, max_failures: int) -> None:
        self._key = key or ""
        self._limiter = limiter
        self._max_failures = max_failures

    def check(self, supplied: str, *, client: str) -> None:
        """Pass a request carrying the admin key; refuse any other (401, or 429 once the
        address has sent too many wrong keys)."""
        bucket = f"admin-failure:{client}"
        what = "wrong admin keys from this address"
        if self._limiter.count(bucket) >= self._max_failures:
            self._limiter.refuse(self._max_failures, what=what)
        if self._key and hmac.compare_digest(supplied.encode(), self._key.encode()):
            return
        self._limiter.check(bucket, self._max_failures, what=what)
        raise Unauthenticated("unauthorized")
