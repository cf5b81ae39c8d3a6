"""Fixtures and helpers for the settlement suites: races between real bridge processes,
the reconciler's fenced lease, the operator commands and the alert outbox.

The devnode here is the shared fixture's, except that its admin rate limit is lifted:
these suites queue dozens of payouts from 127.0.0.1 within a minute, and waiting out the
node's 12-per-minute bucket would only make them slow (the limiter has its own tests).
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from otc_bridge.adapters.clock_file import OffsetFileClock
from otc_bridge.adapters.store.engine import make_engine
from otc_bridge.adapters.store.store import Store
from otc_bridge.clientlib.bridge import BridgeClient
from otc_bridge.clientlib.wallet import Secret, Wallet
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.devnet.process import DevnodeProcess
from otc_bridge.domain.order import Order
from otc_bridge.domain.rustchain import WORKER_WALLET
from tests.support.chain import chain_for, locked
from tests.support.fixtures import bridge, chained_node, devchain, devnet
from tests.support.forked import run_otc_bridge

__all__ = ["bridge", "devchain", "devnet", "node"]

T = TypeVar("T")

DAY = 86400
SELLER_ADDR = "0x" + "aa" * 20
BUYER_ADDR = "0x" + "bb" * 20  # impersonated on the dev chain to lock the quote leg
QUOTE_TX = "0x" + "cd" * 32
NODE_ENV = {"RC_ADMIN_RATE_LIMIT_MAX": "100000"}
CLI = Path(sys.executable).with_name("otc-bridge")
CURRENT = re.compile(r"^Order must be matched to confirm \(current: ([a-z_]+)\)$")
NO_LONGER_MATCHED = "Order is no longer matched (already settling or settled)"

_scaffold_ips = itertools.count(1)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, devchain: Devchain) -> Iterator[DevnodeProcess]:
    with chained_node(tmp_path_factory.mktemp("devnode"), devchain, NODE_ENV) as proc:
        yield proc


# ---------------------------------------------------------------------- trades


@dataclass(frozen=True)
class Trade:
    """A matched sell order: S (seller) escrowed `amount_i64`, B (buyer) will be paid."""

    order_id: str
    seller: Wallet
    buyer: Wallet
    secret: Secret
    amount_i64: int

    def confirm_body(self) -> dict[str, str]:
        return {"wallet": self.seller.address, "secret": self.secret.hex, "quote_tx": QUOTE_TX}


def bridge_clock(node: DevnodeProcess) -> OffsetFileClock:
    """The clock every bridge process of the devnet reads (the devnode's offset file)."""
    return OffsetFileClock(node.state_dir / "clock.json")


def funded(devnet: DevnetControl, amount: str = "100") -> Wallet:
    wallet = Wallet()
    devnet.faucet(wallet.address, amount)
    return wallet


def open_trade(
    client: BridgeClient, devnet: DevnetControl, amount: str = "10", *, lock: bool = True
) -> Trade:
    """Create a sell order (its escrow locked on the node), match it and (unless `lock`
    is False) lock its quote leg on the devnode's chain: `quote_locked`, ready to confirm."""
    seller, buyer, secret = funded(devnet), Wallet(), Secret()
    created = client.create_order(
        seller,
        side="sell",
        amount_rtc=amount,
        price_per_rtc="0.1",
        htlc_hash=secret.hash,
        eth_address=SELLER_ADDR,
    )
    assert created.status_code == 201, created.text
    order_id = created.json()["order_id"]
    matched = client.match(buyer, order_id, eth_address=BUYER_ADDR)
    assert matched.status_code == 200, matched.text
    if lock:
        locked(client, chain_for(devnet.base_url), order_id)
    amount_i64 = created.json()["amount_micro_rtc"]
    return Trade(order_id, seller, buyer, secret, amount_i64)


def confirm(client: BridgeClient, trade: Trade) -> httpx.Response:
    body = trade.confirm_body()
    return client.confirm(
        trade.order_id, wallet=body["wallet"], secret=body["secret"], quote_tx=body["quote_tx"]
    )


def history(client: BridgeClient, order_id: str) -> list[dict[str, Any]]:
    return client.events(order_id)


def collapse(steps: list[str]) -> list[str]:
    """The statuses an order has held, in order: consecutive repeats collapsed."""
    seen: list[str] = []
    for status in steps:
        if not seen or seen[-1] != status:
            seen.append(status)
    return seen


def statuses(client: BridgeClient, order_id: str) -> list[str]:
    """The statuses the order has held, in order, from its public history."""
    return collapse([event["to"] for event in client.events(order_id)])


def status_named(response: httpx.Response) -> str | None:
    """The order status a confirm answer states (None for the lost-CAS 409, which names
    none: the order had left `matched`)."""
    body = response.json()
    if response.status_code == 200:
        return str(body["status"])
    found = CURRENT.match(body.get("error", ""))
    return found.group(1) if found else None


# ---------------------------------------------------------------------- the node


def admin_headers(node: DevnodeProcess) -> dict[str, str]:
    """Admin headers from a fresh scaffolding IP (loopback is a trusted proxy on the
    devnode), so the test never spends the budget of the code under test."""
    n = next(_scaffold_ips)
    return {"X-Admin-Key": node.admin_key, "X-Real-IP": f"10.99.{n // 250}.{n % 250 + 1}"}


def node_payouts(node: DevnodeProcess, wallet: str) -> list[dict[str, Any]]:
    """Every transfer the node holds from the bridge's worker wallet to `wallet`."""
    response = httpx.get(
        f"{node.url}/pending/list",
        params={"status": "all", "limit": 500, "miner_id": wallet},
        headers=admin_headers(node),
    )
    response.raise_for_status()
    rows: list[dict[str, Any]] = response.json()["pending"]
    return [r for r in rows if r["from_miner"] == WORKER_WALLET and r["to_miner"] == wallet]


def worker_payouts(node: DevnodeProcess) -> dict[str, list[dict[str, Any]]]:
    """Every transfer the node holds from the worker wallet, by recipient (one request:
    the newest 500 rows, far more than a test module makes)."""
    response = httpx.get(
        f"{node.url}/pending/list",
        params={"status": "all", "limit": 500},
        headers=admin_headers(node),
    )
    response.raise_for_status()
    by_recipient: dict[str, list[dict[str, Any]]] = {}
    for row in response.json()["pending"]:
        if row["from_miner"] == WORKER_WALLET:
            by_recipient.setdefault(row["to_miner"], []).append(row)
    return by_recipient


def db_history(store: Store, order_id: str) -> list[tuple[str, str]]:
    """(to status, cause) of each history row, read from the database directly."""
    with store.read() as uow:
        return [(e.to_status, e.cause) for e in uow.orders.events(order_id)]


def settle_on_node(devnet: DevnetControl) -> None:
    """Let the node's confirmation delay pass and run its confirm scheduler once."""
    devnet.advance_clock(DAY + 1)
    devnet.tick()


def fault_hits(devnet: DevnetControl, fault_id: int) -> int:
    for fault in devnet.faults():
        if fault["id"] == fault_id:
            return int(fault["hits"])
    return 0


# ---------------------------------------------------------------------- the database


def open_store(env: Mapping[str, str]) -> Store:
    """A second handle on a bridge's database (read its rows, hold its lease)."""
    return Store(make_engine(env["OTC_DATABASE_URL"]))


def db_order(store: Store, order_id: str) -> Order:
    with store.read() as uow:
        order = uow.orders.get(order_id)
    assert order is not None
    return order


# ---------------------------------------------------------------------- timing


def wait_for(
    condition: Callable[[], T | None], *, timeout: float, what: str, every: float = 0.05
) -> T:
    """Poll an observable condition until it holds (a bounded loop, not a guess)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


def at_once(calls: list[Callable[[], T]]) -> list[T]:
    """Run the calls in parallel threads released together by a barrier."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T:
        start.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
        return [f.result(timeout=120) for f in futures]


# ---------------------------------------------------------------------- the CLI


def otc_cli(env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`otc-bridge <args>` as an operator runs it, against the bridge's environment
    (the console script, forked from a pre-imported zygote)."""
    return run_otc_bridge(
        list(args), cwd=Path.cwd(), env={**os.environ, **env}, timeout=120, script=CLI
    )


def otc_cli_all(
    env: Mapping[str, str], *commands: tuple[str, ...]
) -> list[subprocess.CompletedProcess[str]]:
    """Several independent `otc-bridge` commands at once (each is a process start-up)."""
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        return list(pool.map(lambda argv: otc_cli(env, *argv), commands))
