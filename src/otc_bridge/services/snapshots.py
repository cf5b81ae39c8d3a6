"""Market answers kept in memory, already serialized, for as long as they are current.

The book and the open-order pages change only when an order does, or as time passes and
an open order expires (or a trade leaves the last 24 hours), so most reads can be
answered with bytes made earlier. An entry is stamped with its pair's read version (see
`adapters/store/read_versions.py`: bumped in the same transaction as every write these
reads can see), the second it was built for, and the first second at which time alone
may change it (`changes_at`, computed with the answer: the next expiry). A read checks
the version with one primary-key read and uses the entry only while the version is the
same and the clock is inside [built, changes_at). The version is read before the answer
is built, so an entry is never older than its stamp: a client that saw a write commit
(through any process) gets an answer that shows it (invariant I8).

When an entry is stale, the first reader builds it and readers of the same key and
version that arrive meanwhile wait for that build instead of repeating it (after a write,
eight clients would otherwise build the same book eight times at once). A reader that
saw a newer version than the build's never takes it.

Per process, bounded (least recently used entries go first), thread-safe.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from otc_bridge.domain.clock import Clock

MAX_ENTRIES = 256

# What a build returns: the answer and the first second time alone may change it
# (None: only a write can).
Built = tuple[bytes, int | None]


@dataclass(frozen=True, slots=True)
class _Entry:
    version: int
    built_at: int
    changes_at: int | None
    body: bytes

    def current(self, version: int, now: int) -> bool:
        return (
            self.version == version
            and self.built_at <= now
            and (self.changes_at is None or now < self.changes_at)
        )


@dataclass(slots=True)
class _Flight:
    version: int
    done: threading.Event = field(default_factory=threading.Event)
    body: bytes | None = None  # None: the build failed; waiters build for themselves


class Snapshots:
    def __init__(
        self,
        *,
        versions: Callable[[str | None], int],
        clock: Clock,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self.versions = versions  # a pair's read version (None: every pair's)
        self.clock = clock
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._flights: dict[Hashable, _Flight] = {}
        self.hits = 0
        self.builds = 0
        self.waiting = 0  # readers waiting for another reader's build right now

    def cached(self, pair: str | None, query: Hashable) -> bytes | None:
        """The answer to `query` about `pair` when a current one is in memory, else None:
        never builds, never waits (the event loop's fast path, `api/cached_reads.py`)."""
        return self._hit((pair, query), self.versions(pair), self.clock.now())

    def answer(self, pair: str | None, query: Hashable, build: Callable[[int], Built]) -> bytes:
        """The answer to `query` about `pair` (None: every pair), from memory when it is
        current, else from `build(now)` (which must compute it for that second), built
        once however many readers ask for it at the same time."""
        key = (pair, query)
        version = self.versions(pair)
        while True:
            now = self.clock.now()
            with self._lock:
                body = self._hit_locked(key, version, now)
                if body is not None:
                    return body
                flight = self._flights.get(key)
                if flight is None or flight.version != version:
                    flight = self._flights[key] = _Flight(version)
                    break  # this reader builds
                self.waiting += 1
            flight.done.wait()
            with self._lock:
                self.waiting -= 1
            if flight.body is not None:
                return flight.body
            # the build failed: build for ourselves (the failure repeats here, if it must)
        try:
            body, changes_at = build(now)
            flight.body = body
        finally:
            with self._lock:
                if self._flights.get(key) is flight:
                    del self._flights[key]
            flight.done.set()
        with self._lock:
            self.builds += 1
            self._entries[key] = _Entry(version, now, changes_at, body)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return body

    def _hit(self, key: Hashable, version: int, now: int) -> bytes | None:
        with self._lock:
            return self._hit_locked(key, version, now)

    def _hit_locked(self, key: Hashable, version: int, now: int) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None or not entry.current(version, now):
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return entry.body
