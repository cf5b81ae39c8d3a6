"""The devnet's shared clock: system time plus the offset the devnode persists.

`POST /devnet/clock` on the devnode moves one clock for everything: job TTLs, pending
confirmations, and (through this reader) the bridge's deadlines. The file is re-read
only when it changes.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path


class OffsetFileClock:
    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._offset = 0

    def offset(self) -> int:
        try:
            info = os.stat(self._path)
        except FileNotFoundError:
            return 0
        # The devnode replaces the file on every change: a new inode even when two writes
        # land within one mtime tick.
        stamp = (info.st_ino, info.st_mtime_ns)
        with self._lock:
            if stamp != self._stamp:
                try:
                    data = json.loads(self._path.read_text())
                    self._offset = int(data.get("offset_seconds", 0))
                except (ValueError, OSError, AttributeError):
                    return self._offset  # mid-replace; keep the last good value
                self._stamp = stamp
            return self._offset

    def now(self) -> int:
        return int(time.time()) + self.offset()
