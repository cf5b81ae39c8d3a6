"""One SQLite writer at a time, handed over without sleeping.

SQLite lets one transaction write at a time; a second `BEGIN IMMEDIATE` waits in SQLite's
busy handler, which does not queue: it sleeps and retries with a growing back-off (1, 2,
5, 10, … 100 ms). Under eight concurrent confirms that back-off, not the work, made the
tail: `BEGIN IMMEDIATE` waited 444 ms at p99 and 3.2 s at worst for transactions that
hold the lock for about a millisecond (bench/settlement_throughput.py, see README).

The gate puts writers in a queue that wakes the next one as soon as the lock is free: a
process-local mutex (the threads of one process), then an exclusive `flock` on a file
beside the database (the processes sharing it: API workers, `otc-bridge worker`,
operator commands). The kernel releases a `flock` when its holder dies, so a crashed
process never leaves the gate shut. The gate only orders writers; SQLite's own lock
(and its busy timeout, for a writer that does not use the gate) still decides
correctness. Readers (WAL) never take it. PostgreSQL needs none: its writers wait on
row locks, which wake at once.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine

WaitObserver = Callable[[float], None]


class SqliteWriteGate:
    def __init__(self, db_path: Path, *, on_wait: WaitObserver | None = None) -> None:
        self.path = db_path.with_name(db_path.name + "-writegate")
        self._mutex = threading.Lock()
        self._fd: int | None = None
        self._pid = 0
        # Told how long each writer queued (other threads, then other processes): the
        # lock waits an operator sizes workers by (metrics: otc_store_write_wait_seconds).
        self._on_wait = on_wait

    def _descriptor(self) -> int:
        # One descriptor per process (opened lazily, again after a fork): the mutex
        # already lets a single thread of this process at a time reach the flock.
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd

    @contextmanager
    def __call__(self) -> Iterator[None]:
        queued = time.perf_counter()
        with self._mutex:
            fd = self._descriptor()
            fcntl.flock(fd, fcntl.LOCK_EX)  # blocks without holding the GIL
            if self._on_wait is not None:
                self._on_wait(time.perf_counter() - queued)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)
        self._fd = None


def write_gate_for(
    engine: Engine, *, on_wait: WaitObserver | None = None
) -> SqliteWriteGate | None:
    """The gate for a SQLite file database; None for PostgreSQL and in-memory SQLite."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return SqliteWriteGate(Path(database), on_wait=on_wait)
