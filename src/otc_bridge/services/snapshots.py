"""Market answers kept in memory, already serialized, for as long as they are current.

The book and the open-order pages change only when an order does (or as time hides an
expired order, or a trade leaves the last 24 hours), so most reads can be answered with
bytes made earlier. An entry is stamped with its pair's read version (see
`adapters/store/read_versions.py`: bumped in the same transaction as every write these
reads can see) and the second it was computed for; a read checks the version with one
primary-key read and uses the entry only when both still match. The version is read
before the answer is built, so an entry is never older than its stamp: a client that saw
a write commit (through any process) gets an answer that shows it (invariant I8).

Per process, bounded (least recently used entries go first), thread-safe.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from otc_bridge.adapters.store.store import Store
from otc_bridge.domain.clock import Clock

MAX_ENTRIES = 256


class Snapshots:
    def __init__(self, *, store: Store, clock: Clock, max_entries: int = MAX_ENTRIES) -> None:
        self.store = store
        self.clock = clock
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[tuple[int, int], bytes]] = OrderedDict()
        self.hits = 0
        self.builds = 0

    def answer(self, pair: str | None, query: Hashable, build: Callable[[int], bytes]) -> bytes:
        """The answer to `query` about `pair` (None: every pair), from memory when it is
        current, else `build(now)` (which must compute it for that second)."""
        now = self.clock.now()
        version = self.store.read_version(pair)
        stamp, key = (version, now), (pair, query)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == stamp:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[1]
        body = build(now)
        with self._lock:
            self.builds += 1
            self._entries[key] = (stamp, body)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return body
