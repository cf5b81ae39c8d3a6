"""Units of work on kept connections (adapters/store/connections.py): each still gets a
transaction of its own, of its kind, and a connection that may have died while idle is
never handed out."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from otc_bridge.adapters.store.connections import KeptConnections
from otc_bridge.adapters.store.engine import make_engine
from otc_bridge.adapters.store.migrate import upgrade
from otc_bridge.adapters.store.store import Store
from tests.support.databases import fresh_database_url, store_kind


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(fresh_database_url(tmp_path), pool_size=4)
    upgrade(engine)
    yield engine
    engine.dispose()


def driver(conn: Connection) -> object:
    return conn.connection.driver_connection


def test_a_unit_of_work_reuses_a_connection_kept_from_the_last(engine: Engine) -> None:
    kept = KeptConnections(engine, keep=2, clock=Clock())
    with kept.connection(write=True) as first, first.begin():
        first_driver = driver(first)
    with kept.connection(write=False) as second, second.begin():
        assert driver(second) is first_driver
    with kept.connection(write=True) as one, kept.connection(write=True) as two:
        assert driver(one) is not driver(two)  # never one connection for two at once
    kept.close()


def test_no_more_kept_than_asked(engine: Engine) -> None:
    kept = KeptConnections(engine, keep=1, clock=Clock())
    with kept.connection(write=True) as one, kept.connection(write=True) as two:
        pass
    assert one.closed != two.closed  # one kept, the other back to the pool
    kept.close()
    assert one.closed
    assert two.closed


def test_autocommit_connections_are_kept_apart_and_count_towards_the_same_limit(
    engine: Engine,
) -> None:
    """A unit of work never gets a connection left in autocommit (its BEGIN would be a
    no-op, its statements each their own transaction), nor an autocommit user one that
    would hold a transaction open; both kinds together stay within `keep`."""
    kept = KeptConnections(engine, keep=2, clock=Clock())
    with kept.connection(write=True, autocommit=True) as auto:
        auto_driver = driver(auto)
    with kept.connection(write=True) as plain, plain.begin():
        assert driver(plain) is not auto_driver
        assert plain.get_execution_options().get("isolation_level") != "AUTOCOMMIT"
        plain_driver = driver(plain)
    with kept.connection(write=False, autocommit=True) as again:
        assert driver(again) is auto_driver
        assert again.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
    with (
        kept.connection(write=True, autocommit=True) as one,
        kept.connection(write=True, autocommit=True) as two,
        kept.connection(write=True) as three,
    ):
        assert driver(three) is plain_driver
    assert [one.closed, two.closed, three.closed].count(True) == 1  # two kept of three
    kept.close()


def test_a_connection_idle_too_long_goes_back_to_the_pool(engine: Engine) -> None:
    clock = Clock()
    kept = KeptConnections(engine, keep=2, max_idle=2.0, clock=clock)
    with kept.connection(write=True) as first:
        stale = first
    clock.now += 2.5
    with kept.connection(write=True) as fresh:
        assert fresh is not stale
    assert stale.closed
    kept.close()


def test_a_failed_unit_of_work_leaves_nothing_behind(tmp_path: Path) -> None:
    engine = make_engine(fresh_database_url(tmp_path))
    upgrade(engine)
    store = Store(engine)

    def fail_after_writing() -> None:
        with store.write() as uow:
            uow.guards.use_signature("a" * 64, wallet="RTCw", action="x", valid_until=9)
            raise RuntimeError("fails after writing")

    with pytest.raises(RuntimeError):
        fail_after_writing()
    with store.write() as uow:  # on the same kept connection, in a new transaction
        assert uow.guards.use_signature("a" * 64, wallet="RTCw", action="x", valid_until=9)
    with store.read() as uow:
        rows = uow.conn.execute(text("SELECT count(*) FROM used_signatures")).scalar_one()
    assert rows == 1
    store.dispose()
    engine.dispose()


@pytest.mark.skipif(store_kind() != "sqlite", reason="SQLite's write lock")
def test_kept_writers_lock_at_begin_and_kept_readers_never(tmp_path: Path) -> None:
    url = fresh_database_url(tmp_path)
    engine = make_engine(url)
    upgrade(engine)
    store = Store(engine)
    other = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
    for _ in range(2):  # the second time on kept connections
        with store.read():
            other.execute("BEGIN IMMEDIATE")  # a reader does not hold the write lock
            other.execute("ROLLBACK")
        with store.write(), pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")  # a writer holds it from its first statement
    other.close()
    store.dispose()
    engine.dispose()


@pytest.mark.skipif(store_kind() != "postgres", reason="a PostgreSQL server's restart")
def test_connections_the_server_dropped_while_idle_are_not_handed_out(engine: Engine) -> None:
    clock = Clock()
    kept = KeptConnections(engine, keep=2, clock=clock)
    with kept.connection(write=True) as conn, conn.begin():
        conn.execute(text("SELECT 1"))
    with engine.connect() as admin, admin.begin():  # what a server restart does to them
        admin.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    clock.now += 5  # idle longer than kept connections are trusted
    with kept.connection(write=True) as conn, conn.begin():
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
    kept.close()
