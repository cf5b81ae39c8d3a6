"""Named step boundaries where a test can kill the process (SIGKILL, no clean-up).

The driver marks the boundary before and after every external call and after every
commit. `OTC_CRASH_AT=<name>[#<n>]` kills the process at the n-th time (default first)
it passes that boundary; `OTC_CRASH_TRACE=<file>` appends every boundary passed to a
file, which is how the crash-matrix test enumerates them. Both are read on first use
(importing has no side effects); without them a boundary costs one attribute check.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter

_lock = threading.Lock()
_loaded = False
_target: str | None = None
_nth = 1
_trace: str | None = None
_seen: Counter[str] = Counter()


def _load() -> None:
    global _loaded, _target, _nth, _trace
    raw = os.environ.get("OTC_CRASH_AT") or None
    if raw and "#" in raw:
        raw, _, count = raw.partition("#")
        _nth = int(count) if count.isdigit() else 1
    _target = raw
    _trace = os.environ.get("OTC_CRASH_TRACE") or None
    _loaded = True


def crashpoint(name: str) -> None:
    if not _loaded:
        _load()
    if _target is None and _trace is None:
        return
    with _lock:
        _seen[name] += 1
        if _trace is not None:
            with open(_trace, "a") as out:
                out.write(name + "\n")
        if name == _target and _seen[name] == _nth:
            os.kill(os.getpid(), signal.SIGKILL)
