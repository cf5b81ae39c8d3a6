"""The bridge's clock as a client sees it: the offset between the machine's clock and
the `X-Server-Time` (Unix seconds) the bridge sends on every answer."""

from __future__ import annotations

import threading
import time

import httpx

HEADER = "X-Server-Time"


class ServerClock:
    def __init__(self) -> None:
        self._offset = 0
        self._lock = threading.Lock()

    def now(self) -> int:
        """The server's time now, as last learned (the machine's own until then)."""
        with self._lock:
            return int(time.time()) + self._offset

    def learn(self, server_time: int) -> None:
        with self._lock:
            self._offset = server_time - int(time.time())

    def observe(self, response: httpx.Response) -> None:
        """An httpx response hook: learn from any answer that carries the header."""
        raw = response.headers.get(HEADER, "")
        if raw.isascii() and raw.isdigit():
            self.learn(int(raw))
