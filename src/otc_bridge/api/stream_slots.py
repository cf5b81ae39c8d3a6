"""Caps on the event streams one API process holds: in total and per client address.

A stream past either cap is refused before it starts, with 429 and Retry-After; a slot
is given back the moment its stream ends, however it ends. Counted in the process (all
of it runs on the event loop's thread, so no lock is needed); with several API processes
each has its own caps.
"""

from __future__ import annotations

from otc_bridge.observability import metrics
from otc_bridge.push_config import StreamSettings
from otc_bridge.services.errors import TooManyRequests


class Slot:
    def __init__(self, slots: StreamSlots, address: str, kind: str) -> None:
        self._slots = slots
        self._address = address
        self._kind = kind
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            self._slots._give_back(self._address, self._kind)


class StreamSlots:
    def __init__(self, settings: StreamSettings) -> None:
        self.settings = settings
        self.open = 0
        self.by_address: dict[str, int] = {}

    def take(self, address: str, kind: str) -> Slot:
        settings = self.settings
        if self.open >= settings.max_open:
            self._refuse("too_many_streams", settings.max_open, "this server holds")
        if self.by_address.get(address, 0) >= settings.max_per_ip:
            self._refuse("too_many_streams_from_address", settings.max_per_ip, "one address holds")
        self.open += 1
        self.by_address[address] = self.by_address.get(address, 0) + 1
        metrics.STREAMS_OPEN.labels(kind).inc()
        return Slot(self, address, kind)

    def _give_back(self, address: str, kind: str) -> None:
        self.open -= 1
        left = self.by_address.get(address, 1) - 1
        if left > 0:
            self.by_address[address] = left
        else:
            self.by_address.pop(address, None)
        metrics.STREAMS_OPEN.labels(kind).dec()

    def _refuse(self, error: str, limit: int, who: str) -> None:
        raise TooManyRequests(
            error,
            limit=limit,
            retry_after_seconds=self.settings.retry_after_seconds,
            message=f"{who} at most {limit} open streams; close one or retry later",
        )
