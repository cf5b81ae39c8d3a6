"""SQLAlchemy connections kept checked out between units of work.

A settlement runs about eighteen units of work. Opening each on a fresh `Connection`
(`engine.connect()`: a pool checkout, a new Connection object, its events, then the
checkin and the pool's reset on return) cost more CPU than the statements inside it,
profiled. `KeptConnections` keeps up to the pool's size of idle Connections and hands
one to each unit of work, marked for its kind (on SQLite a writer begins IMMEDIATE, a
reader deferred: engine.py). A unit of work still begins and commits (or rolls back) its
own transaction on it, so nothing a transaction sees changes. Beyond the pool's size, a
unit of work checks one out of the pool's overflow as before.

What the pool did at checkout still happens where it matters: a Connection idle longer
than `max_idle` seconds goes back to the pool and a fresh checkout replaces it (on
PostgreSQL that checkout pings the server, so a connection that died while idle, after a
server restart, is never handed out). A Connection SQLAlchemy invalidated (a dropped
connection seen in a statement) or left inside a transaction is never kept.

On PostgreSQL some work asks for a connection in autocommit (`autocommit=True`): reads
(at READ COMMITTED every statement has its own snapshot whether or not a transaction
surrounds it, so BEGIN and COMMIT were two round trips that changed nothing) and writes
that are one statement (its own transaction: atomic and, unless it says otherwise,
durable). Those are kept apart from the connections units of work begin transactions on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

MAX_IDLE_SECONDS = 2.0  # kept across a burst of requests, not across a quiet minute


class KeptConnections:
    def __init__(
        self,
        engine: Engine,
        *,
        keep: int,
        max_idle: float = MAX_IDLE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._keep = keep  # idle Connections kept, at most, of both kinds together
        self._max_idle = max_idle
        self._lock = threading.Lock()
        # by autocommit or not; in each, the most recently returned last
        self._idle: dict[bool, list[tuple[Connection, float]]] = {False: [], True: []}
        self._closed = False

    @contextmanager
    def connection(self, *, write: bool, autocommit: bool = False) -> Iterator[Connection]:
        """A Connection outside any transaction, for one unit of work (`write` selects
        how SQLite begins it: engine.py), or one in autocommit (PostgreSQL only)."""
        conn = self._take(autocommit).execution_options(write=write)
        try:
            yield conn
        except BaseException:
            self._give_back(conn, autocommit)
            raise
        self._give_back(conn, autocommit)

    def _take(self, autocommit: bool) -> Connection:
        now = self._clock()
        stale: list[Connection] = []
        found = None
        with self._lock:
            idle = self._idle[autocommit]
            while idle:
                conn, since = idle.pop()
                if now - since <= self._max_idle:
                    found = conn
                    break
                stale.append(conn)
            if found is None:  # the rest are older still
                stale.extend(conn for conn, _ in idle)
                idle.clear()
        for conn in stale:
            conn.close()
        if found is not None:
            return found
        fresh = self._engine.connect()
        if autocommit:  # given back to the pool, SQLAlchemy restores the engine's level
            fresh.execution_options(isolation_level="AUTOCOMMIT")
        return fresh

    def _give_back(self, conn: Connection, autocommit: bool) -> None:
        if not (conn.invalidated or conn.closed or conn.in_transaction()):
            with self._lock:
                kept = len(self._idle[False]) + len(self._idle[True])  # of either kind
                if not self._closed and kept < self._keep:
                    self._idle[autocommit].append((conn, self._clock()))
                    return
        conn.close()

    def close(self) -> None:
        """Give every idle Connection back to the pool; later units of work check out
        fresh ones as before (`Store.dispose` then disposes the engine)."""
        with self._lock:
            self._closed = True
            idle = [conn for kept in self._idle.values() for conn, _ in kept]
            for kept in self._idle.values():
                kept.clear()
        for conn in idle:
            conn.close()
