"""Whether a URL names a bridge database, asked without creating anything: on SQLite and
on PostgreSQL (a database that does not exist, one without our schema, a migrated one)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from otc_bridge.adapters.store.engine import make_engine, sqlite_url
from otc_bridge.adapters.store.migrate import upgrade
from otc_bridge.adapters.store.presence import database_problem, shown
from tests.support.databases import create_postgres_database, postgres_reachable


def test_sqlite(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "bridge.sqlite3"
    assert database_problem(sqlite_url(missing)) == f"there is no database file at {missing}"
    assert not missing.parent.exists()
    assert database_problem("sqlite://") == "an in-memory database holds no orders"
    engine = make_engine(sqlite_url(tmp_path / "bridge.sqlite3"))
    try:
        engine.connect().close()  # an empty database file
        assert "holds no otc-bridge schema" in (database_problem(str(engine.url)) or "")
        upgrade(engine)
        assert database_problem(str(engine.url)) is None
    finally:
        engine.dispose()


def test_postgresql() -> None:
    why = postgres_reachable()
    if why is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL must answer in CI: {why}")
        pytest.skip(f"PostgreSQL is not reachable: {why}")
    url = create_postgres_database()
    absent = url.rsplit("/", 1)[0] + "/otc_t_no_such_database"
    problem = database_problem(absent) or ""
    assert problem.startswith(f"the database {shown(absent)} cannot be opened")
    assert "does not exist" in problem
    assert "holds no otc-bridge schema" in (database_problem(url) or "")
    engine = make_engine(url, pool_size=1)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    assert database_problem(url) is None
    secret = url.replace("postgres@", "postgres:hunter2@", 1)
    assert "hunter2" not in shown(secret)
