"""Waiting for a state another process or thread reaches (never a fixed sleep)."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(condition: Callable[[], bool], timeout: float = 60.0, every: float = 0.02) -> bool:
    """Whether `condition` holds within `timeout` seconds (checked every `every`)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True
