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

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

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


def bump(conn: Connection, scopes: Iterable[str]) -> None:
    for scope in sorted(scopes):  # one order of row locks for every writer: no deadlock
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(READ_VERSIONS).values(scope=scope, version=1)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[READ_VERSIONS.c.scope],
                set_={"version": READ_VERSIONS.c.version + 1},
            )
        )


_ONE_SQLITE = "SELECT version FROM read_versions WHERE scope = ?"
_ONE_PG = "SELECT version FROM read_versions WHERE scope = %s"


def current_raw(engine: Engine, scope: str | None) -> int:
    """`current`, on a pooled DBAPI connection without SQLAlchemy's statement machinery:
    a cached read's only database work, so it should cost what the lookup costs. On SQLite
    the connection is in autocommit (the engine issues BEGIN itself) and on PostgreSQL the
    pool rolls back on return: either way one statement sees one committed state."""
    sql = "SELECT sum(version) FROM read_versions"
    params: tuple[str, ...] = ()
    if scope is not None:
        sql = _ONE_SQLITE if engine.dialect.name == "sqlite" else _ONE_PG
        params = (scope,)
    conn = engine.raw_connection()
    try:
        cursor = conn.cursor()
        try:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        finally:
            cursor.close()
    finally:
        conn.close()  # back to the pool
    return int(row[0] or 0) if row else 0


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
