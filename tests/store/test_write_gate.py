"""The SQLite write gate tells how long each writer queued (the lock waits an operator
reads as otc_store_write_wait_seconds), once per unit of work that writes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from otc_bridge.adapters.store.engine import make_engine, sqlite_url
from otc_bridge.adapters.store.migrate import upgrade
from otc_bridge.adapters.store.store import Store
from tests.support.waiting import wait_for


def gated_store(folder: Path, waits: list[float]) -> Store:
    engine = make_engine(sqlite_url(folder / "bridge.db"))
    upgrade(engine)
    return Store(engine, on_write_wait=waits.append)


def test_each_write_reports_its_wait_and_a_read_reports_none(tmp_path: Path) -> None:
    waits: list[float] = []
    store = gated_store(tmp_path, waits)
    try:
        with store.write():
            pass
        with store.write():
            pass
        with store.read():
            pass
        assert len(waits) == 2
        assert all(0 <= wait < 5 for wait in waits)
    finally:
        store.dispose()


def test_a_writer_queued_behind_another_reports_the_time_it_waited(tmp_path: Path) -> None:
    waits: list[float] = []
    store = gated_store(tmp_path, waits)
    go, asked = threading.Event(), []

    def second_writer() -> None:
        go.wait(10)
        asked.append(time.perf_counter())
        with store.write():
            pass

    thread = threading.Thread(target=second_writer)
    thread.start()
    try:
        with store.write():
            go.set()
            assert wait_for(lambda: bool(asked), timeout=10)
            # The gate held for 0.2 s after the second writer asked for it: the time under
            # test, not a synchronisation.
            while time.perf_counter() < asked[0] + 0.2:
                time.sleep(0.01)
        released = time.perf_counter()
        thread.join(10)
        assert len(waits) == 2
        # At least most of the time it was kept out (a descheduled thread may enter the
        # gate a little after it asked).
        assert waits[1] >= (released - asked[0]) * 0.5
    finally:
        thread.join(10)
        store.dispose()
