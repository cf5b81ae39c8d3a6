"""Write rate limits in fixed windows, counted in the database so that every API
process on every host shares them. A refusal says when the window ends, in
`retry_after_seconds` (also the `Retry-After` header) and in words."""

from __future__ import annotations

from otc_bridge.adapters.store.guards import RequestGuards
from otc_bridge.adapters.store.store import Store
from otc_bridge.domain.clock import Clock
from otc_bridge.services.errors import TooManyRequests


class RateLimiter:
    def __init__(self, store: Store, clock: Clock, *, window_seconds: int) -> None:
        self.store = store
        self.clock = clock
        self.window = window_seconds
        self._last_prune = 0

    def check(self, bucket: str, limit: int, *, what: str = "requests") -> None:
        """Count one request for `bucket`; refuse it past `limit` per window. The count
        alone need not survive a database crash: PostgreSQL does not wait for the disk."""
        now = self.clock.now()
        with self.store.guards() as guards:
            count = guards.hit_rate_counter(bucket, self.window_start(now), durable=False)
            self.prune(guards, now)
        self.enforce(count, limit, what=what)

    def count(self, bucket: str) -> int:
        """The window's count so far, without counting anything."""
        with self.store.read() as uow:
            return uow.guards.rate_count(bucket, self.window_start(self.clock.now()))

    def window_start(self, now: int) -> int:
        return now - now % self.window

    def prune(self, guards: RequestGuards, now: int) -> None:
        """Forget the counts of windows before the last, once per window."""
        if now - self._last_prune > self.window:
            guards.prune_rate_counters(self.window_start(now) - self.window)
            self._last_prune = now

    def enforce(self, count: int, limit: int, *, what: str = "requests") -> None:
        if count > limit:
            self.refuse(limit, what=what)

    def refuse(self, limit: int, *, what: str) -> None:
        now = self.clock.now()
        wait = self.window - now % self.window
        raise TooManyRequests(
            "Rate limit exceeded",
            retry_after_seconds=wait,
            message=f"more than {limit} {what} in {self.window} s: try again in {wait} s",
        )
