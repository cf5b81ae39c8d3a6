"""A child process that must not outlive the process that started it (Linux)."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable


def die_with_parent(parent: int) -> None:
    """Ask the kernel to SIGTERM this process when `parent` (the process that started
    it) dies, however it dies, a SIGKILL included. No effect off Linux."""
    if sys.platform != "linux":
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the line above ran
        os.kill(os.getpid(), signal.SIGTERM)


def dies_with_this_process() -> Callable[[], None]:
    """A `subprocess.Popen(preexec_fn=...)` that ties the child to this process. The
    kernel's signal follows the thread that forked: start such children from a thread
    that lives as long as they should (the main thread)."""
    parent = os.getpid()
    return lambda: die_with_parent(parent)
