"""The reconciler's leader lease and its fencing token.

Unit level, against a real SQLite store: who may take the lease, when the token moves on,
and that a write made under a superseded token is refused. Process level, with real
`otc-bridge worker` processes: a leader frozen (SIGSTOP) in the middle of a pass, past its
lease, must not act on stale leadership when it wakes up.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from otc_bridge.adapters.store.engine import make_engine, sqlite_url
from otc_bridge.adapters.store.migrate import upgrade
from otc_bridge.adapters.store.orders import prepare
from otc_bridge.adapters.store.store import Fence, Store
from otc_bridge.devnet.bridge_process import BridgeProcess
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.process import DevnodeProcess
from otc_bridge.domain import transitions
from otc_bridge.domain.move import Move, Step, step
from otc_bridge.domain.order import Order
from otc_bridge.domain.states import Status
from otc_bridge.settlement.lease import Lease, holder_is_dead, process_identity
from otc_bridge.settlement.reconciler import LEASE
from tests.settlement.conftest import (
    Trade,
    confirm,
    db_order,
    fault_hits,
    history,
    node_payouts,
    open_store,
    open_trade,
    settle_on_node,
    statuses,
    wait_for,
)
from tests.support.bridge import RunningBridge, bridge_env
from tests.support.forked import ForkedBridgeProcess

TTL = 10.0
SETTLED = ["opening", "open", "matched", "quote_locked", "settling", "payout_pending", "completed"]
WORKER_ENV = {
    "OTC_RECONCILE_INTERVAL_SECONDS": "1",
    "OTC_RECONCILE_LEASE_SECONDS": "5",  # the smallest lease the settings accept
    "OTC_RETRY_SECONDS": "1",
    "OTC_PAYOUT_POLL_SECONDS": "1",
    "OTC_NODE_TIMEOUT_SECONDS": "10",
}
SLOW_READ_SECONDS = 4.0  # the frozen leader is paused well inside this read


# ====================================================================== unit level


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    engine = make_engine(sqlite_url(tmp_path / "lease.sqlite3"))
    upgrade(engine)
    yield Store(engine)
    engine.dispose()


def acquire(store: Store, holder: str, now: float, ttl: float = TTL) -> Fence | None:
    with store.write() as uow:
        return uow.leases.acquire(LEASE, holder, ttl=ttl, now=now)


def renew(store: Store, fence: Fence, now: float, ttl: float = TTL) -> bool:
    with store.write() as uow:
        return uow.leases.renew(fence, ttl=ttl, now=now)


def release(store: Store, fence: Fence) -> bool:
    with store.write() as uow:
        return uow.leases.release(fence)


def probe(order: Order) -> Move:
    """A step that changes nothing but the history (what a fenced write is tested with)."""
    return step(order, order, Step.ESCROW_CLAIMED, {"probe": True})


def record(store: Store, order: Order, move: Move, fence: Fence, at: int) -> Order | None:
    """A fenced move as the settlement writes one (`Store.transition`)."""
    return store.transition(prepare(move, actor="reconciler", at=at), fence=fence)


def new_order(store: Store) -> Order:
    order = Order(
        order_id="otc_lease0001",
        side="buy",
        pair="RTC/USDC",
        maker_wallet="RTC" + "a" * 40,
        maker_eth_address=None,
        amount_micro_rtc=2_000_000,
        price_per_rtc_nano_quote=100_000_000,
        total_quote_nano=200_000_000,
        total_quote_base=200_000,
        status=Status.OPEN,
        version=0,
        history_hash="",
        created_at=1_000,
        ttl_seconds=3_600,
        expires_at=4_600,
        next_action_at=4_601,
    )
    with store.write() as uow:
        return uow.orders.insert(order, actor="maker", at=1_000, refs={})


def test_a_live_lease_cannot_be_taken_by_another_holder(store: Store) -> None:
    first = acquire(store, "A", now=1_000)
    assert first is not None
    assert (first.name, first.holder) == (LEASE, "A")
    assert acquire(store, "B", now=1_001) is None
    assert acquire(store, "B", now=1_000 + TTL) is None  # expiry is strict: not yet
    assert acquire(store, "B", now=1_000 + TTL + 0.5) is not None


def test_the_same_holder_reacquiring_keeps_its_token_and_extends_the_lease(
    store: Store,
) -> None:
    first = acquire(store, "A", now=1_000)
    again = acquire(store, "A", now=1_008)
    assert first is not None
    assert again == first
    # Extended to 1_018: B still cannot take it after the first term would have ended.
    assert acquire(store, "B", now=1_015) is None


def test_after_expiry_another_holder_gets_a_larger_token(store: Store) -> None:
    first = acquire(store, "A", now=1_000)
    second = acquire(store, "B", now=1_011)
    assert first is not None
    assert second is not None
    assert second.holder == "B"
    assert second.token > first.token
    third = acquire(store, "A", now=1_022)
    assert third is not None
    assert third.token > second.token  # the old holder coming back is a new term too


def test_a_write_under_the_old_fence_fails_once_a_new_token_exists(store: Store) -> None:
    order = new_order(store)
    old = acquire(store, "A", now=1_000)
    assert old is not None
    noted = record(store, order, probe(order), old, at=1_001)
    assert noted is not None  # the current token writes
    new = acquire(store, "B", now=1_011)
    assert new is not None

    expire = transitions.expire(noted, at=4_700, retry=15)
    assert record(store, noted, expire, old, at=1_012) is None
    assert record(store, noted, probe(noted), old, at=1_012) is None
    with store.read() as uow:
        unchanged = uow.orders.get(order.order_id)
        events = uow.orders.events(order.order_id)
    assert unchanged == noted  # same status, version and history: nothing was written
    assert [e.refs.get("step") for e in events] == [None, "escrow_claimed"]

    moved = record(store, noted, expire, new, at=1_012)
    assert moved is not None
    assert moved.status is Status.EXPIRED


def test_the_old_fence_stays_dead_after_the_new_holder_releases(store: Store) -> None:
    order = new_order(store)
    old = acquire(store, "A", now=1_000)
    new = acquire(store, "B", now=1_011)
    assert old is not None
    assert new is not None
    release(store, new)  # the lease is free again, but the token did not go back
    assert record(store, order, probe(order), old, at=1_012) is None
    assert not renew(store, old, now=1_012)


def test_renew_fails_after_a_takeover_and_after_expiry(store: Store) -> None:
    first = acquire(store, "A", now=1_000)
    assert first is not None
    assert renew(store, first, now=1_005)  # now held until 1_015
    assert acquire(store, "B", now=1_012) is None
    second = acquire(store, "B", now=1_016)
    assert second is not None
    assert not renew(store, first, now=1_017)
    assert renew(store, second, now=1_017)
    # A lease that ran out is not renewed either, even if nobody took it yet.
    assert not renew(store, second, now=1_017 + TTL + 1)


def test_release_with_a_stale_fence_leaves_the_new_holder_in_place(store: Store) -> None:
    first = acquire(store, "A", now=1_000)
    second = acquire(store, "B", now=1_011)
    assert first is not None
    assert second is not None
    assert not release(store, first)  # the pass that held it learns it was taken over
    assert acquire(store, "C", now=1_012) is None
    assert renew(store, second, now=1_012)
    assert release(store, second)
    third = acquire(store, "C", now=1_013)
    assert third is not None
    assert third.token == second.token + 1


def test_a_lease_no_worker_took_before_is_created_on_first_acquire(store: Store) -> None:
    first = Lease(store, "watcher:evm", ttl_seconds=TTL).acquire()
    assert first is not None
    assert first.name == "watcher:evm"
    assert first.token == 1
    assert Lease(store, "watcher:evm", ttl_seconds=TTL).acquire() is None  # held
    assert Lease(store, "reconciler", ttl_seconds=TTL).acquire() is not None  # another lease


def test_hold_renews_on_a_heartbeat_and_releases_at_the_end(store: Store) -> None:
    lease = Lease(store, "worker", ttl_seconds=1.5)  # renewed every 0.5 s while held
    with lease.hold() as tenure:
        assert tenure is not None
        assert not tenure.lost.wait(2.5)  # outlive the lease's own length, still held
        assert Lease(store, "worker", ttl_seconds=1.5).acquire() is None
        with store.read() as uow:
            assert uow.leases.holder("worker")[0] == tenure.fence.holder
    assert tenure.kept
    with store.read() as uow:
        assert uow.leases.holder("worker")[0] is None


def test_a_tenure_taken_over_meanwhile_is_not_kept(store: Store) -> None:
    lease = Lease(store, "worker", ttl_seconds=60)
    with lease.hold() as tenure:
        assert tenure is not None
        with store.write() as uow:  # another host's worker after the lease ran out
            uow.leases.take_over(
                "worker",
                dead=tenure.fence.holder,
                token=tenure.fence.token,
                holder="elsewhere",
                ttl=60,
                now=time.time(),
            )
    assert not tenure.released
    assert not tenure.kept


def test_a_dead_holder_of_this_host_is_taken_over_at_once(store: Store) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # gone: its pid names no process (or another one, started later)
    me = process_identity()
    dead = ":".join([me.split(":")[0], str(child.pid), "1", "deadbeef"])
    assert holder_is_dead(dead)
    assert not holder_is_dead(f"{me}:cafe")  # this very process is alive
    assert not holder_is_dead(f"other-host:{child.pid}:1:cafe")  # other hosts: wait it out
    with store.write() as uow:
        taken = uow.leases.acquire("worker", dead, ttl=3600, now=time.time())
    assert taken is not None
    fence = Lease(store, "worker", ttl_seconds=TTL).acquire()
    assert fence is not None
    assert fence.token == taken.token + 1


# ====================================================================== process level


def lease_row(store: Store) -> tuple[str | None, int]:
    with store.read() as uow:
        return uow.leases.holder(LEASE)


def payouts_confirmed_on_node(bridge: RunningBridge, devnet: DevnetControl) -> list[Trade]:
    """Three orders in payout_pending whose payouts the node has confirmed: each is due,
    and each pass that reaches it reads its payout (`GET /wallet/tx/<hash>`) and
    completes it."""
    trades = [open_trade(bridge.client, devnet, amount) for amount in ("2", "3", "4")]
    for trade in trades:
        answer = confirm(bridge.client, trade)
        assert answer.json()["status"] == "payout_pending", answer.text
    settle_on_node(devnet)
    return trades


def completed(bridge: RunningBridge, trades: list[Trade]) -> bool:
    return all(bridge.client.order(t.order_id)["status"] == "completed" for t in trades)


def log_says(process: BridgeProcess, text: str) -> bool:
    return process.log_path.exists() and text in process.log_path.read_text(errors="replace")


def assert_paid_once(bridge: RunningBridge, node: DevnodeProcess, trades: list[Trade]) -> None:
    for trade in trades:
        assert statuses(bridge.client, trade.order_id) == SETTLED
        causes = [e["cause"] for e in history(bridge.client, trade.order_id)]
        assert causes.count("payout_confirmed") == 1
        payouts = node_payouts(node, trade.buyer.address)
        assert [(p["status"], p["amount_rtc"]) for p in payouts] == [
            ("confirmed", trade.amount_i64 / 1e6)
        ]
    trades_api = bridge.client.http.get("/api/trades", params={"limit": 200}).json()["trades"]
    ids = [t["order_id"] for t in trades_api]
    assert sorted(ids) == sorted(t.order_id for t in trades)  # each trade recorded once


def test_a_paused_leader_past_its_lease_cannot_undo_the_new_leaders_work(
    bridge: RunningBridge, devnet: DevnetControl, node: DevnodeProcess, tmp_path: Path
) -> None:
    trades = payouts_confirmed_on_node(bridge, devnet)
    env = bridge_env(node, tmp_path, **WORKER_ENV)
    store = open_store(env)
    _, token_before = lease_row(store)
    slow = devnet.add_fault("GET /wallet/tx/*", "delay", delay_seconds=SLOW_READ_SECONDS)
    first = ForkedBridgeProcess(tmp_path / "first", env=env, command="worker")
    second = ForkedBridgeProcess(tmp_path / "second", env=env, command="worker")
    try:
        first.start()
        wait_for(
            lambda: fault_hits(devnet, slow["id"]) == 1,
            timeout=30,
            what="the first worker's pass to be inside its first payout read",
        )
        first.pause()  # frozen mid-pass, holding the lease
        holder, first_token = lease_row(store)
        assert holder is not None
        assert first_token > token_before

        second.start()  # takes the lease once it expires, and settles every order
        wait_for(lambda: completed(bridge, trades), timeout=40, what="the second worker")
        _, second_token = lease_row(store)
        assert second_token > first_token
        second.stop()
        settled = {t.order_id: history(bridge.client, t.order_id) for t in trades}

        first.resume()  # wakes up believing it still leads
        wait_for(
            lambda: log_says(first, "'lease_lost': 1"),
            timeout=30,
            what="the first worker's pass to report the lost lease",
        )
        assert log_says(first, "reconciler lease lost; stopping this pass")
        for trade in trades:  # nothing moved backwards, nothing was written twice
            assert history(bridge.client, trade.order_id) == settled[trade.order_id]
        assert_paid_once(bridge, node, trades)
    finally:
        first.stop()
        second.stop()
        store.dispose()


def test_a_stale_leaders_write_is_refused_by_the_fence_alone(
    bridge: RunningBridge, devnet: DevnetControl, node: DevnodeProcess, tmp_path: Path
) -> None:
    """The new leader has not touched the order yet, so only the fence (not the order's
    version) can stop the woken leader from completing it."""
    trades = payouts_confirmed_on_node(bridge, devnet)
    env = bridge_env(node, tmp_path, **WORKER_ENV)
    store = open_store(env)
    slow = devnet.add_fault("GET /wallet/tx/*", "delay", delay_seconds=SLOW_READ_SECONDS)
    first = ForkedBridgeProcess(tmp_path / "first", env=env, command="worker")
    new_leader: Fence | None = None
    try:
        first.start()
        wait_for(
            lambda: fault_hits(devnet, slow["id"]) == 1,
            timeout=30,
            what="the worker's pass to be inside its first payout read",
        )
        first.pause()
        _, first_token = lease_row(store)
        frozen = {t.order_id: db_order(store, t.order_id) for t in trades}

        def take_over() -> Fence | None:
            with store.write() as uow:
                return uow.leases.acquire(LEASE, "new-leader", ttl=300, now=time.time())

        new_leader = wait_for(take_over, timeout=30, what="the frozen leader's lease to expire")
        assert new_leader.token > first_token

        first.resume()  # its payout read answers "confirmed": it tries to complete
        wait_for(
            lambda: log_says(first, "'lease_lost': 1"),
            timeout=30,
            what="the woken pass to report the lost lease",
        )
        for trade in trades:
            # Refused: same version, status and schedule (not even rescheduled).
            assert db_order(store, trade.order_id) == frozen[trade.order_id]
        for trade in trades:
            payouts = node_payouts(node, trade.buyer.address)
            assert [p["status"] for p in payouts] == ["confirmed"]

        release(store, new_leader)
        new_leader = None
        wait_for(
            lambda: completed(bridge, trades),
            timeout=30,
            what="the worker's next pass, under a new token, to complete the orders",
        )
        _, last_token = lease_row(store)
        assert last_token > first_token + 1
        assert_paid_once(bridge, node, trades)
    finally:
        if new_leader is not None:
            release(store, new_leader)
        first.stop()
        store.dispose()
