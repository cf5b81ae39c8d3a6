"""A bridge cluster: three API processes and three workers on one database, against one
devnode. Under `OTC_TEST_STORE=postgres` (the PostgreSQL suite) the database is a fresh
PostgreSQL database; otherwise one SQLite file shared by all six processes."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from otc_bridge.adapters.clock_file import OffsetFileClock
from otc_bridge.clientlib.bridge import BridgeClient
from otc_bridge.clientlib.wallet import Secret, Wallet
from otc_bridge.devnet.bridge_process import BridgeProcess
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.devnet.process import DevnodeProcess
from otc_bridge.domain.rustchain import idempotent_tx_hash
from tests.support.bridge import bridge_env
from tests.support.chain import chain_for, locked
from tests.support.client import TraderClient
from tests.support.fixtures import chained_node

APIS = 3
WORKERS = 3
AMOUNT_RTC = "2.01"
AMOUNT_I64 = 2_010_000


@dataclass
class Cluster:
    node: DevnodeProcess
    devnet: DevnetControl
    apis: list[BridgeProcess]
    workers: list[BridgeProcess]
    env: dict[str, str]
    clients: list[BridgeClient] = field(default_factory=list)

    def client(self, index: int) -> BridgeClient:
        return self.clients[index % len(self.clients)]

    def admin(self, index: int = 0) -> httpx.Response:
        return self.client(index).http.post(
            "/admin/reconcile", headers={"X-Admin-Key": self.node.admin_key}
        )

    def order(self, order_id: str, index: int = 0) -> dict[str, Any]:
        return self.client(index).order(order_id)

    def settle_until(
        self, done: Callable[[], bool], *, what: str, seconds: float = 90, advance: int = 30
    ) -> None:
        """Let time pass the way the devnet measures it (move the clock, run the node's
        confirmation pass) while passes run, ours or the workers', until `done()` holds.
        Bounded in real time; a pass that found another running is retried shortly."""
        deadline = time.monotonic() + seconds
        turn = 0
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(f"not reached within {seconds}s: {what}")
            self.devnet.advance_clock(advance)
            self.devnet.tick()
            summary = self.admin(turn % APIS).json()["summary"]
            turn += 1
            if summary["skipped_locked"]:
                time.sleep(0.2)  # a worker's pass is running: poll the condition again

    def payouts_to(self, wallet: str) -> list[dict[str, Any]]:
        rows = httpx.get(
            f"{self.node.url}/pending/list",
            params={"status": "all", "limit": 500, "miner_id": wallet},
            headers={"X-Admin-Key": self.node.admin_key},
        ).json()["pending"]
        return [r for r in rows if r["to_miner"] == wallet]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    state = tmp_path_factory.mktemp("cluster")
    with ExitStack() as stack:
        chain = stack.enter_context(Devchain(state / "chain"))
        node = stack.enter_context(
            chained_node(
                state / "node",
                chain,
                {"RC_ADMIN_RATE_LIMIT_MAX": "1000000", "RC_CONFIRMATION_DELAY_SECONDS": "60"},
            )
        )
        env = bridge_env(
            node,
            state / "shared",
            OTC_RECONCILE_INTERVAL_SECONDS="1",
            OTC_PAYOUT_POLL_SECONDS="1",
            OTC_SETTLEMENT_STUCK_SECONDS="5",
            OTC_RETRY_SECONDS="2",
            OTC_RECONCILE_LEASE_SECONDS="5",
            OTC_SECRET_KEY="zXcsAgMk71f7iyEZBzpjrSiLhOWJBKUxF1VYpQCBIh4=",  # tests only
            OTC_LOG_LEVEL="WARNING",
        )
        apis = [stack.enter_context(BridgeProcess(state / f"api{i}", env=env)) for i in range(APIS)]
        workers = [
            stack.enter_context(BridgeProcess(state / f"worker{i}", env=env, command="worker"))
            for i in range(WORKERS)
        ]
        devnet = stack.enter_context(DevnetControl(node.url))
        clock = OffsetFileClock(node.state_dir / "clock.json")
        running = Cluster(node, devnet, apis, workers, env)
        running.clients = [
            stack.enter_context(TraderClient(api.url, clock=clock.now)) for api in apis
        ]
        yield running
        devnet.clear_faults()
        devnet.assert_conserved()


@dataclass
class Swap:
    order_id: str
    seller: Wallet
    buyer: Wallet
    secret: Secret

    @property
    def payout_hash(self) -> str:
        return idempotent_tx_hash(f"otc_payout:{self.order_id}")


def open_matched_swap(cluster: Cluster, index: int) -> Swap:
    seller, buyer, secret = Wallet(), Wallet(), Secret()
    cluster.devnet.faucet(seller.address, "10")
    client = cluster.client(index)
    created = client.create_order(
        seller, side="sell", amount_rtc=AMOUNT_RTC, price_per_rtc="0.1", htlc_hash=secret.hash
    )
    assert created.status_code == 201, created.text
    order_id = created.json()["order_id"]
    matched = cluster.client(index + 1).match(buyer, order_id)
    assert matched.status_code == 200, matched.text
    locked(cluster.client(index + 1), chain_for(cluster.node.url), order_id)
    return Swap(order_id, seller, buyer, secret)


def in_parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run calls at the same instant, one thread each; results in order (exceptions too)."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:  # reported to the caller, which decides
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
