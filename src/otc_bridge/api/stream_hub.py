"""One per API process: tells each open stream when what it watches may have changed.

Streams hold neither a database connection nor a thread while idle: each waits on its
own `Subscription`. One task per process polls for all of them, every `poll_seconds`:
one primary-key read of the watched orders' versions (a stream whose order went past its
cursor is woken and reads its new events itself), and one market snapshot per watched
pair (subscribers are woken when it differs from the last one). A transition this
process commits wakes the right streams at once (`Store.observe`), and on PostgreSQL a
LISTEN connection does the same for every other process's commits, so the poll is the
safety net there and the only signal of other processes' commits on SQLite. The task
runs while anything is watched, and stops every stream when the server shuts down
(`stopping`) or the hub is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool

from otc_bridge.adapters.store.listen import Listener

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MarketFrame:
    """A pair's market as a stream sends it; `frame_id` names its content."""

    frame_id: str
    data: dict[str, Any]


class Subscription:
    def __init__(self, hub: StreamHub, key: str, cursor: int = 0) -> None:
        self.hub = hub
        self.key = key
        self.cursor = cursor  # order streams: the seq of the last event sent
        self._woken = asyncio.Event()

    @property
    def closed(self) -> bool:
        return self.hub.closed

    def wake(self) -> None:
        self._woken.set()

    def clear(self) -> None:
        """Before reading: a wake that comes during the read is kept for the next wait."""
        self._woken.clear()

    async def wait(self, timeout: float) -> bool:
        """True when woken (or the hub closed), False after `timeout` of quiet."""
        try:
            await asyncio.wait_for(self._woken.wait(), timeout)
        except TimeoutError:
            return False
        return True


class StreamHub:
    def __init__(
        self,
        *,
        poll_seconds: float,
        versions: Callable[[list[str]], dict[str, int]],
        snapshot: Callable[[str], MarketFrame],
        listener: Listener | None = None,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self.poll_seconds = poll_seconds
        self._versions = versions
        self._snapshot = snapshot
        self._listener = listener
        self._stopping = stopping
        self._orders: dict[str, set[Subscription]] = {}
        self._pairs: dict[str, set[Subscription]] = {}
        self._latest: dict[str, MarketFrame] = {}
        self._notified: set[str] = set()  # order ids and pairs a NOTIFY named
        self._everything = True  # a full poll is due (start, reconnect, interval)
        self._poke = asyncio.Event()
        self._busy = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closed = False

    # ------------------------------------------------------------------ subscriptions

    def watch_order(self, order_id: str, cursor: int) -> Subscription:
        return self._watch(self._orders, Subscription(self, order_id, cursor))

    def watch_pair(self, pair: str) -> Subscription:
        return self._watch(self._pairs, Subscription(self, pair))

    def unwatch(self, sub: Subscription) -> None:
        for table in (self._orders, self._pairs):
            subs = table.get(sub.key)
            if subs is not None and sub in subs:
                subs.discard(sub)
                if not subs:
                    del table[sub.key]
        if sub.key not in self._pairs:
            self._latest.pop(sub.key, None)  # a frame nobody watches goes stale: forget it

    def _watch(self, table: dict[str, set[Subscription]], sub: Subscription) -> Subscription:
        table.setdefault(sub.key, set()).add(sub)
        if self.closed:
            sub.wake()
        self._start()
        self._busy.set()
        return sub

    @property
    def watched(self) -> int:
        return sum(len(subs) for subs in (*self._orders.values(), *self._pairs.values()))

    # ------------------------------------------------------------------ market frames

    def latest(self, pair: str) -> MarketFrame | None:
        return self._latest.get(pair)

    async def refresh(self, pair: str) -> MarketFrame:
        """Read the pair's market now; wake its subscribers if it changed."""
        frame = await run_in_threadpool(self._snapshot, pair)
        if self._latest.get(pair) != frame:
            if pair in self._pairs:
                self._latest[pair] = frame
            for sub in self._pairs.get(pair, ()):
                sub.wake()
        return frame

    # ------------------------------------------------------------------ notifications

    def notified(self, payload: str) -> None:
        """A NOTIFY from the store: "<order_id> <pair>", or "" for "anything"."""
        if not payload:
            self._everything = True
        else:
            self._notified.update(payload.split(" ", 1))
        self._poke.set()

    def notified_threadsafe(self, payload: str) -> None:
        """`notified` from another thread: a write this process committed."""
        loop = self._loop
        if loop is None or self.closed:
            return  # nothing is watched yet, or the hub is closed
        with contextlib.suppress(RuntimeError):  # the loop has already stopped
            loop.call_soon_threadsafe(self.notified, payload)

    # ------------------------------------------------------------------ lifecycle

    def _start(self) -> None:
        if self._task is None and not self.closed:
            self._loop = asyncio.get_running_loop()
            self._task = self._loop.create_task(self._run(), name="otc-stream-hub")

    def close(self) -> None:
        """End every stream (from the event loop's thread)."""
        if self.closed:
            return
        self.closed = True
        self._stop.set()
        self._busy.set()
        self._poke.set()
        for subs in (*self._orders.values(), *self._pairs.values()):
            for sub in subs:
                sub.wake()

    def close_threadsafe(self) -> None:
        """`close` from another thread (an embedding server stopping)."""
        if self._loop is None:
            self.closed = True
            return
        with contextlib.suppress(RuntimeError):  # the loop has already stopped
            self._loop.call_soon_threadsafe(self.close)

    async def aclose(self) -> None:
        self.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        listening: asyncio.Task[None] | None = None
        if self._listener is not None:
            listening = asyncio.create_task(self._listener(self.notified, self._stop))
        last_poll = 0.0
        try:
            while not self.closed:
                if not self._orders and not self._pairs:
                    self._busy.clear()
                    await self._busy.wait()
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._poke.wait(), self.poll_seconds)
                self._poke.clear()
                if self._stopping():
                    self.close()
                    break
                if time.monotonic() - last_poll >= self.poll_seconds:
                    self._everything = True
                everything, named = self._everything, self._notified
                self._everything, self._notified = False, set()
                if everything:
                    last_poll = time.monotonic()
                try:
                    await self._look(everything, named)
                except Exception:  # the database is down: streams wait, keep-alives go on
                    log.exception("stream hub poll failed")
        finally:
            if listening is not None:
                listening.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listening

    async def _look(self, everything: bool, named: set[str]) -> None:
        for key in named:
            for sub in self._orders.get(key, ()):
                sub.wake()
        if everything and self._orders:
            versions = await run_in_threadpool(self._versions, list(self._orders))
            for order_id, subs in list(self._orders.items()):
                for sub in subs:
                    if versions.get(order_id, 0) > sub.cursor:
                        sub.wake()
        pairs = list(self._pairs) if everything else [p for p in named if p in self._pairs]
        for pair in pairs:
            await self.refresh(pair)
