"""Races across real bridge processes sharing one database: parallel confirms on one
order, a confirm racing the reconciler, and two reconcilers at once.

What must hold (I1, I8): exactly one payout per order on the node, the buyer paid the
amount exactly once, and every answer names a status the database really held at or
after that moment (it appears in the order's history, after the confirm).
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from otc_bridge.adapters.clock_file import OffsetFileClock
from otc_bridge.adapters.store.store import Store
from otc_bridge.clientlib.bridge import BridgeClient
from otc_bridge.devnet.bridge_process import BridgeProcess
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.process import DevnodeProcess
from otc_bridge.domain.rustchain import WORKER_WALLET
from tests.settlement.conftest import (
    NO_LONGER_MATCHED,
    Trade,
    at_once,
    bridge_clock,
    collapse,
    confirm,
    db_history,
    db_order,
    fault_hits,
    history,
    node_payouts,
    open_store,
    open_trade,
    settle_on_node,
    status_named,
    wait_for,
    worker_payouts,
)
from tests.support.bridge import bridge_env
from tests.support.client import TraderClient
from tests.support.forked import ForkedBridgeProcess

API_PROCESSES = 3
GRACE = 1  # OTC_SETTLEMENT_STUCK_SECONDS: the reconciler may step in after one second
RETRY = 15  # OTC_RETRY_SECONDS' default: how soon a step that met a refusal is retried
SETTLED = ["opening", "open", "matched", "quote_locked", "settling", "payout_pending", "completed"]


@dataclass
class Cluster:
    """Three `otc-bridge serve` processes on one SQLite file, none running a reconciler
    of its own; workers are started per test."""

    env: dict[str, str]
    state: Path
    apis: list[BridgeProcess]
    clients: list[BridgeClient]
    store: Store
    clock: OffsetFileClock
    workers: list[BridgeProcess] = field(default_factory=list)

    def worker(self, name: str, **extra: str) -> BridgeProcess:
        process = ForkedBridgeProcess(
            self.state / name, env={**self.env, **extra}, command="worker"
        )
        self.workers.append(process)
        return process

    def reconcile(self, api: int) -> dict[str, Any]:
        response = httpx.post(
            f"{self.apis[api].url}/admin/reconcile",
            headers={"X-Admin-Key": self.env["RC_ADMIN_KEY"]},
            timeout=120,
        )
        assert response.status_code == 200, response.text
        summary: dict[str, Any] = response.json()["summary"]
        return summary


@pytest.fixture(scope="module")
def cluster(node: DevnodeProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    state = tmp_path_factory.mktemp("cluster")
    env = bridge_env(
        node,
        state,
        OTC_SETTLEMENT_STUCK_SECONDS=str(GRACE),
        OTC_NODE_TIMEOUT_SECONDS="10",
        OTC_SECRET_KEY=Fernet.generate_key().decode(),
    )
    apis: list[BridgeProcess] = [
        ForkedBridgeProcess(state / f"api{i}", env=env) for i in range(API_PROCESSES)
    ]
    with ThreadPoolExecutor(API_PROCESSES) as pool:  # all at once: migrations race too
        list(pool.map(lambda p: p.start(), apis))
    clock = bridge_clock(node)
    clients: list[BridgeClient] = [TraderClient(api.url, clock=clock.now) for api in apis]
    running = Cluster(env, state, apis, clients, open_store(env), clock)
    try:
        yield running
    finally:
        for client in clients:
            client.close()
        for process in [*running.workers, *apis]:
            process.stop()
        running.store.dispose()


def assert_consistent(cluster: Cluster, trade: Trade, answers: list[httpx.Response]) -> None:
    """Every answer names a status the order held at or after its confirm (I8); the
    lost-CAS 409 names none, but the order must have left `matched` by then."""
    client = cluster.clients[0]
    events = history(client, trade.order_id)
    confirms = [i for i, e in enumerate(events) if e["cause"] == "confirm"]
    assert len(confirms) == 1, events  # exactly one request won matched -> settling
    after_confirm = {e["to"] for e in events[confirms[0] :]}
    for answer in answers:
        named = status_named(answer)
        if named is None:
            assert answer.status_code == 409, answer.text
            assert answer.json() == {"error": NO_LONGER_MATCHED}
        else:
            assert named in after_confirm, (answer.text, events)


def assert_one_payout(node: DevnodeProcess, trade: Trade, status: str) -> None:
    payouts = node_payouts(node, trade.buyer.address)
    assert [(p["status"], p["amount_rtc"]) for p in payouts] == [
        (status, trade.amount_i64 / 1e6)
    ], payouts


def assert_each_paid_once(
    cluster: Cluster, devnet: DevnetControl, node: DevnodeProcess, trades: list[Trade], status: str
) -> None:
    """I1 for many orders at once: one transfer per buyer on the node, of the amount; one
    payout queued (and, once settled, one confirmed) in each order's history; and, once
    settled, each buyer holds exactly the amount."""
    payouts = worker_payouts(node)
    balances = devnet.ledger()["balances"]
    for trade in trades:
        rows = payouts.get(trade.buyer.address, [])
        assert [(p["status"], p["amount_rtc"]) for p in rows] == [
            (status, trade.amount_i64 / 1e6)
        ], rows
        steps = db_history(cluster.store, trade.order_id)
        causes = [cause for _, cause in steps]
        assert causes.count("payout_queued") == 1
        if status == "confirmed":
            assert causes.count("payout_confirmed") == 1
            assert collapse([to for to, _ in steps]) == SETTLED
            assert balances.get(trade.buyer.address, 0) == trade.amount_i64


def finish(
    cluster: Cluster, devnet: DevnetControl, node: DevnodeProcess, trades: list[Trade]
) -> None:
    """Confirm every payout on the node, let a reconciler complete the orders, and check
    each buyer was paid exactly the amount, once."""
    settle_on_node(devnet)
    wait_for(
        lambda: cluster.reconcile(0)["skipped_locked"] == 0,
        timeout=30,
        what="a reconcile pass that holds the lease",
    )
    assert_each_paid_once(cluster, devnet, node, trades, "confirmed")


# ---------------------------------------------------------------------- parallel confirms


def test_parallel_confirms_on_three_processes_settle_once(
    cluster: Cluster, devnet: DevnetControl, node: DevnodeProcess
) -> None:
    worker_before = devnet.balance_i64(WORKER_WALLET)
    trades: list[Trade] = []
    for round_ in range(5):
        trade = open_trade(cluster.clients[round_ % API_PROCESSES], devnet, f"{round_ + 1}.25")
        answers = at_once([partial(confirm, client, trade) for client in cluster.clients])
        winners = [a for a in answers if a.status_code == 200]
        assert len(winners) == 1, [a.text for a in answers]
        assert all(a.status_code == 409 for a in answers if a is not winners[0])
        won = winners[0].json()
        assert won["status"] == "payout_pending"
        assert won["ok"] is False
        assert "htlc_secret" not in won
        # Nothing else drives the order: the winner's status is the database's.
        assert db_order(cluster.store, trade.order_id).status.value == won["status"]
        assert_consistent(cluster, trade, answers)
        assert_one_payout(node, trade, "pending")
        trades.append(trade)
    finish(cluster, devnet, node, trades)
    assert devnet.balance_i64(WORKER_WALLET) == worker_before


# ---------------------------------------------------------------------- confirm vs reconciler


def test_confirm_racing_the_reconciler_pays_once_and_answers_consistently(
    cluster: Cluster, devnet: DevnetControl, node: DevnodeProcess
) -> None:
    """The confirm is held inside its escrow claim (the node applied it, the answer is
    late) while a worker process and admin passes on the other processes, past the
    one-second grace window, drive the same order."""
    trades = [open_trade(cluster.clients[0], devnet, f"{i + 2}.5") for i in range(3)]
    worker = cluster.worker("race-worker", OTC_RECONCILE_INTERVAL_SECONDS="1")
    worker.start()
    try:
        for i, trade in enumerate(trades):
            slow = devnet.add_fault("POST /agent/jobs/*/claim", "delay", delay_seconds=4)
            with ThreadPoolExecutor(1) as pool:
                in_flight = pool.submit(confirm, cluster.clients[i % API_PROCESSES], trade)
                wait_for(
                    partial(claimed_once, devnet, slow["id"]),
                    timeout=20,
                    what="the confirm to be inside the node's claim",
                )
                revealed = db_order(cluster.store, trade.order_id).reveal
                assert revealed is not None
                settling_at = revealed.at
                passes: list[dict[str, Any]] = []
                while not in_flight.done():  # reconcile passes while the confirm waits
                    if cluster.clock.now() >= settling_at + GRACE:
                        passes.append(cluster.reconcile((i + 1 + len(passes)) % API_PROCESSES))
                    wait([in_flight], timeout=0.2)  # a bounded wait on the confirm itself
                answer = in_flight.result()
            assert answer.status_code == 200, answer.text
            body = answer.json()
            db_status = db_order(cluster.store, trade.order_id).status.value
            assert body["status"] == db_status == "payout_pending"
            assert_consistent(cluster, trade, [answer])
            assert_one_payout(node, trade, "pending")
            events = history(cluster.clients[0], trade.order_id)
            claimed = [e for e in events if e["refs"].get("step") == "escrow_claimed"]
            assert len(claimed) == 1
            # The race was real: a reconciler claimed while the confirm was still waiting.
            assert claimed[0]["actor"] in {"reconciler", "admin"}, events
            assert passes, "no reconcile pass ran while the confirm was in flight"
        finish(cluster, devnet, node, trades)
    finally:
        worker.stop()


def claimed_once(devnet: DevnetControl, fault_id: int) -> bool:
    return fault_hits(devnet, fault_id) == 1


# ---------------------------------------------------------------------- two reconcilers


def stuck_in_settling(cluster: Cluster, devnet: DevnetControl, count: int) -> list[Trade]:
    """Orders whose confirm met a node refusal at the claim: `settling`, due for the
    reconciler after the retry interval, with nothing of the payout done yet."""
    trades = [open_trade(cluster.clients[i % 3], devnet, f"{i + 1}.1") for i in range(count)]
    refusal = devnet.add_fault("POST /agent/jobs/*/claim", "json_500", times=count)
    for trade in trades:
        answer = confirm(cluster.clients[1], trade)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "settling"  # what the database holds (I8)
        assert answer.json()["rtc_transfer_status"] == "not_started"
    assert fault_hits(devnet, refusal["id"]) == count
    devnet.clear_faults()
    devnet.advance_clock(RETRY + 1)
    return trades


def two_passes_at_once(cluster: Cluster, first: int, second: int) -> dict[str, Any]:
    """Two `POST /admin/reconcile` released together on two processes: one pass leads,
    the other finds the lease taken. Returns the leader's summary."""
    summaries = at_once([lambda: cluster.reconcile(first), lambda: cluster.reconcile(second)])
    assert sorted(s["skipped_locked"] for s in summaries) == [0, 1], summaries
    loser = next(s for s in summaries if s["skipped_locked"])
    assert (loser["due"], loser["by_status"], loser["promoted"]) == (0, {}, 0)
    leader = next(s for s in summaries if not s["skipped_locked"])
    assert leader["errors"] == leader["lease_lost"] == 0
    return leader


def test_two_reconcile_passes_on_two_processes_one_wins_the_lease(
    cluster: Cluster, devnet: DevnetControl, node: DevnodeProcess
) -> None:
    count = 20
    trades = stuck_in_settling(cluster, devnet, count)

    # Round 1: settling -> payout_pending (claim, deliver, accept, transfer). The first
    # claim is slow, so the leading pass surely still holds the lease when the other
    # request arrives.
    devnet.add_fault("POST /agent/jobs/*/claim", "delay", delay_seconds=1)
    leader = two_passes_at_once(cluster, 0, 1)
    assert leader["advanced"] == count
    assert_each_paid_once(cluster, devnet, node, trades, "pending")

    # Round 2: the node confirms every payout; payout_pending -> completed.
    settle_on_node(devnet)
    devnet.add_fault("GET /wallet/tx/*", "delay", delay_seconds=1)
    leader = two_passes_at_once(cluster, 1, 2)
    assert leader["promoted"] == count
    assert_each_paid_once(cluster, devnet, node, trades, "confirmed")

    # Round 3: two worker processes started at once, on fresh orders, do the whole
    # settlement between them: each order exactly once.
    fresh = stuck_in_settling(cluster, devnet, 8)
    workers = [cluster.worker(f"twin{i}", OTC_RECONCILE_INTERVAL_SECONDS="1") for i in range(2)]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda w: w.start(), workers))
    try:
        wait_for(
            lambda: all(
                db_order(cluster.store, t.order_id).status.value == "payout_pending" for t in fresh
            ),
            timeout=30,
            what="the twin workers to queue every payout",
        )
        settle_on_node(devnet)
        wait_for(
            lambda: all(
                db_order(cluster.store, t.order_id).status.value == "completed" for t in fresh
            ),
            timeout=30,
            what="the twin workers to complete every order",
        )
    finally:
        for worker in workers:
            worker.stop()
    assert_each_paid_once(cluster, devnet, node, fresh, "confirmed")


def test_two_reconcile_passes_in_one_process_do_not_both_lead(
    cluster: Cluster, devnet: DevnetControl, node: DevnodeProcess
) -> None:
    """`POST /admin/reconcile` twice at once on the same API process (or the embedded
    worker's timer plus an admin pass): one leader at a time holds within a process too."""
    trades = stuck_in_settling(cluster, devnet, 5)
    devnet.add_fault("POST /agent/jobs/*/claim", "delay", delay_seconds=1)
    summaries = at_once([lambda: cluster.reconcile(2), lambda: cluster.reconcile(2)])
    for trade in trades:
        assert_one_payout(node, trade, "pending")  # safe either way: the steps are CAS
    finish(cluster, devnet, node, trades)
    # Both passes took the lease (same holder id) and drove the same orders.
    assert sorted(s["skipped_locked"] for s in summaries) == [0, 1], summaries


# ---------------------------------------------------------------------- what answers state


def test_the_confirm_answer_states_the_schedule_the_database_holds(
    cluster: Cluster, devnet: DevnetControl, node: DevnodeProcess
) -> None:
    """Beyond the status (I8), the answer's deadlines are the order's: a client reading
    `deadlines.next_action_at` learns when the bridge will look at the order next."""
    trade = open_trade(cluster.clients[0], devnet, "1.5")
    answer = confirm(cluster.clients[0], trade)
    assert answer.json()["status"] == "payout_pending"
    stored = db_order(cluster.store, trade.order_id)
    shown = cluster.clients[1].order(trade.order_id)
    try:
        assert shown["deadlines"]["next_action_at"] == stored.next_action_at
        assert answer.json()["deadlines"]["next_action_at"] == stored.next_action_at
    finally:
        finish(cluster, devnet, node, [trade])
