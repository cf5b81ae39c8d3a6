"""Fixtures for the chain watcher's end-to-end suites: a devnode (one per module), a real
anvil with the HTLC deployed (one per test, its clock brought up to the bridge's), and a
bridge configured for that chain exactly as `make run` configures it (`OTC_EVM_*`), with
its embedded worker off so a test polls the watcher itself (`Swaps.watch`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from otc_bridge.adapters.evm.writer import HtlcWriter, LockMade
from otc_bridge.clientlib.wallet import Secret, Wallet
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.devchain.handoff import bridge_chain_environment
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.devnet.process import DevnodeProcess
from otc_bridge.settlement.watch.follower import PollReport, PollResult
from tests.support.bridge import RunningBridge, bridge_env, running_bridge
from tests.support.fixtures import devnet

__all__ = ["devnet", "node"]

NODE_ENV = {"RC_ADMIN_RATE_LIMIT_MAX": "100000"}
PAIR = "RTC/ETH"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnodeProcess]:
    with DevnodeProcess(tmp_path_factory.mktemp("devnode"), env=NODE_ENV) as proc:
        yield proc


@pytest.fixture
def devchain(tmp_path: Path, devnet: DevnetControl) -> Iterator[Devchain]:
    with Devchain(tmp_path / "chain") as chain:
        chain.control.catch_up(devnet.now())  # a lock's block time is judged on this clock
        yield chain


def chain_env(devchain: Devchain, finality: int) -> dict[str, str]:
    env = bridge_chain_environment(devchain.info, devchain.rpc_url)
    env["OTC_EVM_FINALITY_CONFIRMATIONS"] = str(finality)
    return env


@dataclass
class Swap:
    """A matched RTC/ETH sell order: S escrowed RTC on the node, B is to lock ETH."""

    order_id: str
    seller: Wallet
    buyer: Wallet
    secret: Secret
    s_address: str  # S's chain account (the lock's receiver)
    b_address: str  # B's (the lock's sender, refunded after T_q)
    amount_i64: int
    quote_wei: int


@dataclass
class Swaps:
    bridge: RunningBridge
    devnet: DevnetControl
    devchain: Devchain
    node: DevnodeProcess
    env: dict[str, str]  # the bridge's settings (a worker process of it uses the same)

    def open(self, amount: str = "10") -> Swap:
        seller, buyer, secret = Wallet(), Wallet(), Secret()
        self.devnet.faucet(seller.address, "100")
        s_address, b_address = self.devchain.info.accounts[2], self.devchain.info.accounts[1]
        client = self.bridge.client
        created = client.create_order(
            seller,
            side="sell",
            pair=PAIR,
            amount_rtc=amount,
            price_per_rtc="0.001",
            htlc_hash=secret.hash,
            eth_address=s_address,
        )
        assert created.status_code == 201, created.text
        order_id = created.json()["order_id"]
        matched = client.match(buyer, order_id, eth_address=b_address)
        assert matched.status_code == 200, matched.text
        body = matched.json()
        return Swap(
            order_id,
            seller,
            buyer,
            secret,
            s_address,
            b_address,
            int(created.json()["amount_micro_rtc"]),
            int(body["total_quote_base_units"]),
        )

    def writer(self, address: str) -> HtlcWriter:
        return HtlcWriter.connect(self.devchain.rpc_url, self.devchain.info.htlc_contract, address)

    def lock(self, swap: Swap, *, timelock_in: int = 3 * 3600) -> LockMade:
        """B locks the quote leg (T_q `timelock_in` after the chain's head)."""
        return self.writer(swap.b_address).lock(
            receiver=swap.s_address,
            hashlock=bytes.fromhex(swap.secret.hash),
            timelock=self.devchain.control.head().timestamp + timelock_in,
            amount=swap.quote_wei,
        )

    def claim(self, swap: Swap, lock_id: str) -> str:
        """S claims on chain (and never calls the bridge)."""
        return self.writer(swap.s_address).claim(lock_id, swap.secret.preimage).tx_hash

    def wei(self, address: str) -> int:
        return int(self.devchain.control.call("eth_getBalance", address, "latest"), 16)

    def watch(self) -> list[PollReport]:
        """Poll every chain watcher until it has nothing new (a bounded loop)."""
        reports: list[PollReport] = []
        for watcher in self.bridge.container.watchers.chains:
            for _ in range(20):
                report = watcher.poll_once()
                assert report is not None, "the watcher's lease is held elsewhere"
                reports.append(report)
                if report.result is PollResult.IDLE:
                    break
            else:
                raise AssertionError(f"the watcher never went idle: {reports}")
        return reports

    def order(self, order_id: str) -> dict[str, Any]:
        return self.bridge.client.order(order_id)

    def history(self, order_id: str) -> list[dict[str, Any]]:
        return self.bridge.client.events(order_id)


@pytest.fixture
def make_swaps(
    node: DevnodeProcess, devnet: DevnetControl, devchain: Devchain, tmp_path: Path
) -> Iterator[Callable[..., Swaps]]:
    opened: list[Any] = []

    def make(finality: int = 2, **overrides: str) -> Swaps:
        state = tmp_path / f"bridge{len(opened)}"
        env = bridge_env(node, state, **chain_env(devchain, finality), **overrides)
        context = running_bridge(env)
        running = context.__enter__()
        opened.append(context)
        return Swaps(running, devnet, devchain, node, env)

    yield make
    for context in reversed(opened):
        context.__exit__(None, None, None)


@pytest.fixture
def swaps(make_swaps: Callable[..., Swaps]) -> Swaps:
    return make_swaps()
