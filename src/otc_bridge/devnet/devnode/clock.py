"""The devnet's one controllable clock: integer Unix seconds plus a persisted offset.

The offset lives in `$DEVNET_DIR/clock.json` as `{"offset_seconds": N}` and is replaced
atomically on every change, so another process (the bridge) can read the same file with
`read_offset` and share the devnode's notion of "now".
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)


def read_offset(path: Path) -> int:
    """The persisted offset; a missing or unreadable file means 0 (with a warning if bad)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return 0
    except (OSError, ValueError):
        log.warning("%s is unreadable; clock offset 0", path)
        return 0
    offset = data.get("offset_seconds") if isinstance(data, dict) else None
    if isinstance(offset, bool) or not isinstance(offset, int):
        log.warning("%s has no integer offset_seconds; clock offset 0", path)
        return 0
    return offset


def write_offset(path: Path, offset: int) -> None:
    """Temp file in the same folder, then rename: readers never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".clock.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"offset_seconds": offset}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Clock:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._offset = read_offset(path)

    @property
    def offset_seconds(self) -> int:
        return self._offset

    def now(self) -> int:
        return int(time.time()) + self._offset

    def advance(self, seconds: int) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._set(self._offset + seconds)

    def reset(self) -> None:
        self._set(0)

    def _set(self, offset: int) -> None:
        write_offset(self._path, offset)
        self._offset = offset
