"""Read versions and the market snapshots built on them (I8 with answers cached in
memory): a write the market reads can see bumps its pair in its own transaction (never
on a rollback, never for a move those reads cannot see), and a snapshot is rebuilt after
any such write and every second, never served stale."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from otc_bridge.adapters.store.engine import make_engine
from otc_bridge.adapters.store.migrate import upgrade
from otc_bridge.adapters.store.queries import DEEP_PAGE
from otc_bridge.adapters.store.read_versions import market_scopes
from otc_bridge.adapters.store.store import Store
from otc_bridge.domain import transitions
from otc_bridge.domain.clock import ManualClock
from otc_bridge.domain.states import Status
from otc_bridge.services.commands import ListOrders
from otc_bridge.services.market import Market
from otc_bridge.services.snapshots import Built, Snapshots
from tests.store.test_store import match, new_order
from tests.support.databases import fresh_database_url
from tests.support.waiting import wait_for

PAIR = "RTC/USDC"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    engine = make_engine(fresh_database_url(tmp_path))
    upgrade(engine)
    yield Store(engine)
    engine.dispose()


def test_only_writes_the_market_reads_see_bump_their_pair_and_only_on_commit(
    store: Store,
) -> None:
    assert store.read_version(PAIR) == 0
    with store.write() as uow:
        created = uow.orders.insert(new_order(), actor="maker", at=1_000, refs={})
    assert store.read_version(PAIR) == 1  # a new open order

    def write_then_fail() -> None:
        with store.write() as uow:
            assert uow.orders.transition(match(created, 1_001), actor="t", at=1_001)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert store.read_version(PAIR) == 1  # nothing committed, nothing bumped
    with store.write() as uow:
        matched = uow.orders.transition(match(created, 1_001), actor="t", at=1_001)
    assert matched is not None
    assert store.read_version(PAIR) == 2  # it left the book
    locked = transitions.escrow_locked(matched, "job_1", 9_999, at=1_002, lock_window=3600)
    with store.write() as uow:
        assert uow.orders.transition(locked, actor="t", at=1_002) is not None
    assert store.read_version(PAIR) == 2  # matching -> matched: no market read shows it
    assert store.read_version("RTC/ETH") == 0
    with store.write() as uow:
        uow.orders.insert(replace(new_order("otc_0002"), pair="RTC/ETH"), actor="m", at=1, refs={})
    assert store.read_version("RTC/ETH") == 1
    assert store.read_version(None) == 3  # every pair together: the sum


def test_market_scopes_name_the_pair_when_the_book_or_trades_can_change() -> None:
    order = new_order()
    assert market_scopes(None, order) == {PAIR}
    assert market_scopes(order, replace(order, status=Status.MATCHING)) == {PAIR}
    settling = replace(order, status=Status.SETTLING)
    assert market_scopes(settling, replace(order, status=Status.PAYOUT_PENDING)) == set()
    pending = replace(order, status=Status.PAYOUT_PENDING)
    assert market_scopes(pending, replace(order, status=Status.COMPLETED)) == {PAIR}  # a trade


def test_a_snapshot_is_served_while_current_and_rebuilt_after_a_write_or_an_expiry(
    store: Store,
) -> None:
    clock = ManualClock(1_000)
    market = Market(store=store, clock=clock, pair_info={})
    builds: list[int] = []

    def listed() -> set[str]:
        def build(now: int) -> Built:
            builds.append(now)
            page = market.list_orders(ListOrders(PAIR, "", 50, 0), now=now)
            return ",".join(o.order_id for o in page.orders).encode(), page.changes_at

        body = market.snapshots.answer(PAIR, ("orders", None, 50, 0), build)
        return set(filter(None, body.decode().split(",")))

    assert listed() == set()
    assert listed() == set()
    assert len(builds) == 1  # the second answer came from memory
    with store.write() as uow:
        created = uow.orders.insert(new_order(), actor="maker", at=1_000, refs={})
    assert listed() == {created.order_id}  # the write is seen at once
    assert len(builds) == 2
    clock.advance(created.expires_at - 1_000)  # its last second: still shown
    assert listed() == {created.order_id}
    assert len(builds) == 2  # time passing alone changes nothing until an expiry
    clock.advance(1)
    assert listed() == set()  # expired: gone with no write
    assert len(builds) == 3
    clock.advance(-1)  # a clock set back: never an answer built for a later second
    assert listed() == {created.order_id}
    with store.write() as uow:
        assert uow.orders.transition(match(created, 1_001), actor="t", at=1_001)
    assert listed() == set()


def test_readers_of_a_stale_snapshot_wait_for_one_build_of_it(store: Store) -> None:
    """After a write, the readers that arrive while the book is being built take that
    build; a reader that saw a newer version than the build's builds its own."""
    snapshots = Snapshots(versions=store.read_version, clock=ManualClock(1_000))
    building, release = threading.Event(), threading.Event()
    built: list[int] = []

    def build(now: int) -> Built:
        built.append(store.read_version(PAIR))
        building.set()
        release.wait(timeout=30)
        return f"v{built[-1]}".encode(), None

    answers: list[bytes] = []

    def read() -> None:
        answers.append(snapshots.answer(PAIR, "book", build))

    first = threading.Thread(target=read)
    first.start()
    assert building.wait(timeout=30)
    waiting = [threading.Thread(target=read) for _ in range(5)]
    for thread in waiting:
        thread.start()
    assert wait_for(lambda: snapshots.waiting == 5)
    release.set()
    for thread in [first, *waiting]:
        thread.join(timeout=30)
    assert answers == [b"v0"] * 6
    assert built == [0]
    assert snapshots.builds == 1
    with store.write() as uow:
        uow.orders.insert(new_order(), actor="maker", at=1_000, refs={})
    assert snapshots.answer(PAIR, "book", build) == b"v1"  # a newer version: rebuilt
    assert built == [0, 1]


def test_a_deep_page_seeks_to_the_same_rows_an_offset_steps_to(store: Store) -> None:
    """Pages past DEEP_PAGE are read from their first key; with ties on price and age
    (order id breaks them) every page equals the slice of the whole sorted list."""
    with store.write() as uow:
        for i in range(3 * DEEP_PAGE + 100):
            order = replace(
                new_order(f"otc_{i:04d}"),
                side="buy" if i % 3 else "sell",
                price_per_rtc_nano_quote=100 + i % 7,  # many orders per price
                created_at=1_000 + i % 5,  # and per age at a price
            )
            uow.orders.insert(order, actor="m", at=1_000, refs={})
    with store.read() as uow:
        everything, total = uow.market.open_orders(
            now=1_000, pair=None, side=None, limit=10_000, offset=0
        )
        assert total == len(everything) == 3 * DEEP_PAGE + 100
        for offset in (0, DEEP_PAGE - 3, DEEP_PAGE, DEEP_PAGE + 1, total - 40, total - 1):
            page, _ = uow.market.open_orders(
                now=1_000, pair=None, side=None, limit=50, offset=offset
            )
            assert page == everything[offset : offset + 50], offset
        sells, _ = uow.market.open_orders(now=1_000, pair=PAIR, side="sell", limit=1_000, offset=0)
        deep, _ = uow.market.open_orders(
            now=1_000, pair=PAIR, side="sell", limit=30, offset=DEEP_PAGE + 5
        )
        assert deep == sells[DEEP_PAGE + 5 : DEEP_PAGE + 35]
