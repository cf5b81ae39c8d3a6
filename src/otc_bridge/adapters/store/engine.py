"""Database engines: SQLite (WAL) as the embedded default, PostgreSQL to scale out.

SQLite needs two things to behave under concurrent writers: WAL with a busy timeout, and
write transactions that take the write lock up front (`BEGIN IMMEDIATE`). A deferred
transaction that reads and then writes cannot wait for the lock (SQLite answers "database
is locked" at once to avoid a deadlock), so every unit of work that may write begins
immediately; read-only ones begin deferred and never block writers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.pool import QueuePool

from otc_bridge.adapters.store.direct import driver_execute

SQLITE_BUSY_TIMEOUT_MS = 30_000


def sqlite_url(path: str | Path) -> str:
    return f"sqlite:///{Path(path).expanduser().resolve()}"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> Engine:
    if is_sqlite(url):
        return _sqlite_engine(url, echo=echo, pool_size=pool_size)
    return create_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        pool_pre_ping=True,
        isolation_level="READ COMMITTED",
    )


def _sqlite_engine(url: str, *, echo: bool, pool_size: int) -> Engine:
    if url not in {"sqlite://", "sqlite:///:memory:"}:
        db_path = Path(url.removeprefix("sqlite:///"))
        db_path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        echo=echo,
        # Pooled: a checkout is one thread's own connection for one unit of work, and a
        # returned connection keeps its pragmas (opening one costs more than the work).
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("write", True)
        # on the driver itself: this runs for every unit of work (see direct.py)
        driver_execute(conn, "BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
