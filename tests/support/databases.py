"""Which database the bridge under test uses: SQLite (default) or PostgreSQL.

`OTC_TEST_STORE=postgres` makes every bridge the suites start use a fresh PostgreSQL
database on `OTC_TEST_POSTGRES_URL` (default the local server's `postgres` database as
the admin connection). Databases are created per test and dropped at the end of the
session (and any left by a killed run are dropped at the start of the next).
"""

from __future__ import annotations

import atexit
import os
import re
import time
import uuid
from pathlib import Path

import psycopg

from otc_bridge.adapters.store.engine import sqlite_url

ADMIN_DSN = os.environ.get("OTC_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
PREFIX = "otc_t_"
LEFTOVER_AGE_SECONDS = 3 * 3600  # far longer than any run: younger ones may be another run's
_created: list[str] = []
_by_folder: dict[Path, str] = {}


def store_kind() -> str:
    kind = os.environ.get("OTC_TEST_STORE", "sqlite")
    if kind not in {"sqlite", "postgres"}:
        raise ValueError(f"OTC_TEST_STORE must be sqlite or postgres, not {kind!r}")
    return kind


def postgres_reachable() -> str | None:
    """None when the server answers, else why not."""
    try:
        with psycopg.connect(ADMIN_DSN, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"{type(exc).__name__}: {exc}".strip()
    return None


def _sqlalchemy_url(dsn: str, database: str) -> str:
    base = re.sub(r"/[^/]*$", f"/{database}", dsn)
    return base.replace("postgresql://", "postgresql+psycopg://", 1)


def create_postgres_database() -> str:
    name = f"{PREFIX}{int(time.time())}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    if not _created:
        atexit.register(drop_created)
    _created.append(name)
    return _sqlalchemy_url(ADMIN_DSN, name)


def drop_created() -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        for name in _created:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _created.clear()


def drop_leftovers() -> None:
    """Databases of an earlier run that was killed before it could clean up. Only old
    ones: a run in another checkout on this machine may be using the young ones."""
    cutoff = time.time() - LEFTOVER_AGE_SECONDS
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (PREFIX + "%",)
        ).fetchall()
        for (name,) in rows:
            stamp = name.removeprefix(PREFIX).split("_", 1)[0]
            if not stamp.isdigit() or int(stamp) < cutoff:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fresh_database_url(state_dir: Path) -> str:
    """The database of the bridge whose state lives in `state_dir`, of the kind
    OTC_TEST_STORE asks for: fresh the first time, the same one after (as a SQLite file
    in that folder would be)."""
    if store_kind() != "postgres":
        return sqlite_url(state_dir / "bridge.sqlite3")
    folder = Path(state_dir).resolve()
    if folder not in _by_folder:
        _by_folder[folder] = create_postgres_database()
    return _by_folder[folder]
