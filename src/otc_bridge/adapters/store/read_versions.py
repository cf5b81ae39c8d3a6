"""Read versions: what lets an API process keep a market answer in memory and still
never serve it after a write it does not show (invariant I8).

Every unit of work that writes something the market reads can see (an order entering,
leaving or changing while `open`; a trade) bumps its pair's counter just before it
commits, in the same transaction: the answer and the counter change together or not at
all. A reader reads the counter first (one primary-key read), then builds its answer
from data at least as new, so an answer cached under version V is never older than V. The
bump is the transaction's last statement, so on PostgreSQL the counter's row lock is held
only for the commit.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable
from typing import Any

from sqlalchemy import String, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from otc_bridge.adapters.store.direct import Direct
from otc_bridge.adapters.store.tables import READ_VERSIONS
from otc_bridge.domain.order import Order
from otc_bridge.domain.states import Status


def market_scopes(before: Order | None, after: Order) -> set[str]:
    """The pairs whose market reads a write of `before` → `after` may change: the book
    and the open-order list show `open` orders only, and the book's last price and volume
    come from trades (written when an order completes)."""
    seen = before is None or before.status is Status.OPEN or after.status is Status.OPEN
    if seen or after.status is Status.COMPLETED:
        return {after.pair}
    return set()


def _upsert(dialect: Any) -> Any:
    return (
        dialect.insert(READ_VERSIONS)
        .values(scope=bindparam("scope", type_=String), version=1)
        .on_conflict_do_update(
            index_elements=[READ_VERSIONS.c.scope],
            set_={"version": READ_VERSIONS.c.version + 1},
        )
    )


_BUMP = {"postgresql": Direct(_upsert(postgresql)), "sqlite": Direct(_upsert(sqlite))}  # built once


def bump(conn: Connection, scopes: Iterable[str]) -> None:
    stmt = _BUMP["postgresql" if conn.dialect.name == "postgresql" else "sqlite"]
    for scope in sorted(scopes):  # one order of row locks for every writer: no deadlock
        stmt.run(conn, {"scope": scope})


_ONE_SQLITE = "SELECT version FROM read_versions WHERE scope = ?"
_ONE_PG = "SELECT version FROM read_versions WHERE scope = %s"
_ALL = "SELECT sum(version) FROM read_versions"


class VersionReader:
    """`current`, on one DBAPI connection of its own kept open in autocommit: a cached
    read's only database work, so it costs one statement, not a pool checkout, a
    PostgreSQL pre-ping and a rollback on return. Autocommit on both databases: each
    statement sees the latest committed state. Opened at first use (in the process that
    reads: uvicorn's workers start after the app is built), reopened once after an error;
    a lock makes it safe from any thread (the event loop and the threads that build)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._one = _ONE_SQLITE if engine.dialect.name == "sqlite" else _ONE_PG
        self._lock = threading.Lock()
        self._conn: Any = None

    def __call__(self, scope: str | None) -> int:
        sql, params = (_ALL, ()) if scope is None else (self._one, (scope,))
        with self._lock:
            try:
                return self._read(sql, params)
            except Exception:  # a dropped connection: one fresh try, then the error
                self._close()
                return self._read(sql, params)

    def _read(self, sql: str, params: tuple[str, ...]) -> int:
        if self._conn is None:
            pooled = self._engine.raw_connection()
            pooled.detach()  # ours for good, never handed to a unit of work
            self._conn = pooled.dbapi_connection
            if self._engine.dialect.name != "sqlite":  # SQLite: already autocommit (engine.py)
                self._conn.autocommit = True
        cursor = self._conn.cursor()
        try:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        finally:
            cursor.close()
        return int(row[0] or 0) if row else 0

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # already broken: nothing left to release
                conn.close()

    def close(self) -> None:
        with self._lock:
            self._close()


def current(conn: Connection, scope: str | None) -> int:
    """The version of one pair, or (None) of every pair together: their sum, which grows
    whenever any of them does."""
    if scope is not None:
        value = conn.execute(
            select(READ_VERSIONS.c.version).where(READ_VERSIONS.c.scope == scope)
        ).scalar()
    else:
        value = conn.execute(select(func.sum(READ_VERSIONS.c.version))).scalar()
    return int(value or 0)
