"""Model test of the chain watcher: a Hypothesis state machine drives random sequences of
on-chain actions (B locks, S claims, B refunds after T_q), blocks mined, clock moves (the
devnode's and the chain's together), re-orgs of depth 1–3 below the finality depth (4),
watcher polls, watcher restarts and worker passes, against a real anvil, a real devnode
and the bridge, and checks after every step:

* exactly once: no order's history holds `lock_verified`, `quote_claimed` or
  `lock_expired` twice;
* finality: the lock an order was verified with is in the chain's final view (a lock
  re-organised away before finality was never counted);
* I6: an order refunded because its lock expired has a lock that is refunded, or locked
  at a final block past `T_q`, never claimed;
* I5: an order whose verified lock is claimed at a final block is never refunded to S.

The teardown drives everything to an end (time past every timelock, the watcher, worker
passes, the node's payout confirmations) and checks to the µRTC: a verified lock that was
claimed paid B the order's amount and S nothing back; one that was not gave S's escrow
back, and B nothing.

`OTC_WATCHER_MODEL_EXAMPLES` and `OTC_WATCHER_MODEL_STEPS` scale the run.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from otc_bridge.adapters.evm.config import EvmChain
from otc_bridge.adapters.evm.reader import EvmReader
from otc_bridge.adapters.evm.results import Ok, OnChainLock
from otc_bridge.adapters.evm.writer import HtlcWriteError, HtlcWriter
from otc_bridge.clientlib.wallet import Secret, Wallet
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.devnet.process import DevnodeProcess
from otc_bridge.domain.htlc_terms import LockState
from otc_bridge.settlement.watch.follower import PollResult
from tests.support.bridge import RunningBridge, bridge_env, restart_watchers, running_bridge
from tests.support.fixtures import chained_node

EXAMPLES = int(os.environ.get("OTC_WATCHER_MODEL_EXAMPLES", "4"))
STEPS = int(os.environ.get("OTC_WATCHER_MODEL_STEPS", "30"))
FINALITY = 4
FUNDED = 100 * 10**6
DAY = 86400
COVERAGE: Counter[str] = Counter()


@pytest.fixture(scope="module")
def chained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Devchain, DevnodeProcess]]:
    with Devchain(tmp_path_factory.mktemp("chain")) as chain:
        env = {"RC_ADMIN_RATE_LIMIT_MAX": "100000"}
        with chained_node(tmp_path_factory.mktemp("node"), chain, env) as node:
            yield chain, node


@dataclass
class SwapModel:
    order_id: str
    seller: Wallet
    buyer: Wallet
    secret: Secret
    quote_wei: int
    amount_i64: int
    lock_id: str | None = None
    timelock: int | None = None


class WatcherModel(RuleBasedStateMachine):
    def __init__(self, chain: Devchain, node: DevnodeProcess, state: Path) -> None:
        super().__init__()
        self.chain = chain
        self.devnet = DevnetControl(node.url)
        env = bridge_env(node, state, OTC_EVM_FINALITY_CONFIRMATIONS=str(FINALITY))
        self._bridge = running_bridge(env)
        self.bridge: RunningBridge = self._bridge.__enter__()
        self.reader = EvmReader(
            EvmChain(
                rpc_url=chain.rpc_url,
                chain_id=chain.info.chain_id,
                htlc_contract=chain.info.htlc_contract,
                finality_confirmations=FINALITY,
            )
        )
        self.s_address, self.b_address = chain.info.accounts[2], chain.info.accounts[1]
        self.swaps: list[SwapModel] = []
        self.watch()  # the first checkpoint, before any lock

    def teardown(self) -> None:
        try:
            self._drive_to_the_end()
        finally:
            self._bridge.__exit__(None, None, None)
            self.devnet.close()

    # ------------------------------------------------------------------ helpers

    def writer(self, address: str) -> HtlcWriter:
        return HtlcWriter.connect(self.chain.rpc_url, self.chain.info.htlc_contract, address)

    def head_lock(self, swap: SwapModel) -> OnChainLock | None:
        if swap.lock_id is None:
            return None
        got = self.reader.lock_at(swap.lock_id, self.chain.control.head().number)
        assert isinstance(got, Ok), got
        return got.value

    def final_lock(self, lock_id: str) -> OnChainLock:
        final = self.chain.control.head().number - FINALITY + 1
        got = self.reader.lock_at(lock_id, final)
        assert isinstance(got, Ok), got
        return got.value

    def order(self, swap: SwapModel) -> dict[str, Any]:
        return self.bridge.client.order(swap.order_id)

    def causes(self, swap: SwapModel) -> list[str]:
        return [e["cause"] for e in self.bridge.client.events(swap.order_id)]

    def watch(self) -> None:
        for watcher in self.bridge.container.watchers.chains:
            for _ in range(20):
                report = watcher.poll_once()
                assert report is not None
                if report.result is PollResult.IDLE:
                    break

    # ------------------------------------------------------------------ rules

    @precondition(lambda self: len(self.swaps) < 4)
    @rule()
    def open_swap(self) -> None:
        seller, buyer, secret = Wallet(), Wallet(), Secret()
        self.devnet.faucet(seller.address, "100")
        client = self.bridge.client
        created = client.create_order(
            seller,
            side="sell",
            pair="RTC/ETH",
            amount_rtc="10",
            price_per_rtc="0.001",
            htlc_hash=secret.hash,
            eth_address=self.s_address,
        )
        assert created.status_code == 201, created.text
        order_id = created.json()["order_id"]
        matched = client.match(buyer, order_id, eth_address=self.b_address)
        assert matched.status_code == 200, matched.text
        body = matched.json()
        self.swaps.append(
            SwapModel(
                order_id,
                seller,
                buyer,
                secret,
                int(body["total_quote_base_units"]),
                int(created.json()["amount_micro_rtc"]),
            )
        )

    @precondition(lambda self: bool(self.swaps))
    @rule(data=st.data(), span=st.sampled_from([2 * 3600 + 600, 3 * 3600, 6 * 3600]))
    def b_locks(self, data: st.DataObject, span: int) -> None:
        swap = data.draw(st.sampled_from(self.swaps))
        if self.order(swap)["status"] != "matched":
            return  # B locks only for an order still waiting for its lock
        lock = self.head_lock(swap)
        if lock is not None and lock.state != LockState.NONE:
            return
        timelock = self.chain.control.head().timestamp + span
        made = self.writer(self.b_address).lock(
            receiver=self.s_address,
            hashlock=bytes.fromhex(swap.secret.hash),
            timelock=timelock,
            amount=swap.quote_wei,
        )
        swap.lock_id, swap.timelock = made.lock_id, timelock
        COVERAGE["B locked"] += 1

    @precondition(lambda self: any(s.lock_id for s in self.swaps))
    @rule(data=st.data())
    def s_claims_on_chain(self, data: st.DataObject) -> None:
        swap = data.draw(st.sampled_from([s for s in self.swaps if s.lock_id]))
        lock = self.head_lock(swap)
        assert swap.lock_id is not None
        assert swap.timelock is not None
        if lock is None or lock.state != LockState.LOCKED:
            return
        if self.chain.control.head().timestamp >= swap.timelock - 60:
            return  # too late to claim
        self.writer(self.s_address).claim(swap.lock_id, swap.secret.preimage)
        COVERAGE["S claimed on chain"] += 1

    @precondition(lambda self: any(s.lock_id for s in self.swaps))
    @rule(data=st.data())
    def b_refunds_on_chain(self, data: st.DataObject) -> None:
        swap = data.draw(st.sampled_from([s for s in self.swaps if s.lock_id]))
        lock = self.head_lock(swap)
        assert swap.lock_id is not None
        assert swap.timelock is not None
        if lock is None or lock.state != LockState.LOCKED:
            return
        if self.chain.control.head().timestamp < swap.timelock:
            return
        try:
            self.writer(self.b_address).refund(swap.lock_id)
        except HtlcWriteError:  # the next block's time decides; retried by later steps
            return
        COVERAGE["B refunded on chain"] += 1

    @rule(blocks=st.integers(min_value=1, max_value=FINALITY))
    def mine(self, blocks: int) -> None:
        self.chain.control.mine(blocks)

    @rule(seconds=st.sampled_from([120, 600, 1800, 4 * 3600]))
    def time_moves(self, seconds: int) -> None:
        self.devnet.advance_clock(seconds)  # the devnode moves the chain's clock too

    @rule(depth=st.integers(min_value=1, max_value=FINALITY - 1))
    def reorg(self, depth: int) -> None:
        if self.chain.control.head().number - depth <= self.chain.info.deployed_at_block + 1:
            return
        self.chain.control.reorg(depth)
        COVERAGE[f"re-org of depth {depth}"] += 1

    @rule()
    def watcher_polls(self) -> None:
        self.watch()

    @rule()
    def watcher_restarts(self) -> None:
        restart_watchers(self.bridge.container)  # as a new worker process builds them

    @rule()
    def worker_pass(self) -> None:
        self.bridge.run_worker()

    # ------------------------------------------------------------------ invariants

    @invariant()
    def each_effect_once(self) -> None:
        for swap in self.swaps:
            counted = Counter(self.causes(swap))
            for cause in ("lock_verified", "quote_claimed", "lock_expired"):
                assert counted[cause] <= 1, f"{swap.order_id}: {cause} twice"

    @invariant()
    def verified_locks_are_final_and_backing(self) -> None:
        for swap in self.swaps:
            order = self.order(swap)
            verified = order.get("quote_lock")
            if verified is None:
                continue
            COVERAGE[f"reached {order['status']}"] += 1
            lock = self.final_lock(verified["lock_id"])
            assert lock.state != LockState.NONE, f"{swap.order_id}: its lock is not final"
            refunded_s = "lock_expired" in self.causes(swap)
            if refunded_s:  # I6
                assert lock.state != LockState.CLAIMED, f"I6: {swap.order_id}"
            if lock.state == LockState.CLAIMED:  # I5
                assert not refunded_s, f"I5: {swap.order_id} refunded S after a claim"
                assert order["status"] not in {"expired", "cancelled"}, f"I5: {swap.order_id}"

    # ------------------------------------------------------------------ the end

    def _drive_to_the_end(self) -> None:
        for _ in range(4):
            self.devnet.advance_clock(DAY)  # past every timelock and the node's 24 h delay
            self.chain.control.mine(FINALITY)
            self.watch()
            self.bridge.run_worker()
            self.devnet.tick()
            self.bridge.run_worker()
        balances = self.devnet.assert_conserved()["balances"]
        for swap in self.swaps:
            order = self.order(swap)
            verified = order.get("quote_lock")
            if verified is None:
                COVERAGE[f"ended {order['status']} without a verified lock"] += 1
                continue
            lock = self.final_lock(verified["lock_id"])
            COVERAGE[f"verified lock ended {lock.state.name}, order {order['status']}"] += 1
            if lock.state == LockState.CLAIMED:  # B paid exactly, S's escrow spent
                assert order["status"] == "completed", swap.order_id
                assert balances.get(swap.buyer.address, 0) == swap.amount_i64
                assert balances.get(swap.seller.address, 0) < FUNDED
            else:  # S refunded exactly, B paid nothing
                assert order["status"] == "expired", swap.order_id
                assert balances.get(swap.seller.address, 0) == FUNDED
                assert balances.get(swap.buyer.address, 0) == 0


@pytest.mark.slow
def test_watcher_model(
    chained: tuple[Devchain, DevnodeProcess], tmp_path_factory: pytest.TempPathFactory
) -> None:
    chain, node = chained

    def machine() -> WatcherModel:
        return WatcherModel(chain, node, tmp_path_factory.mktemp("bridge"))

    COVERAGE.clear()
    # Hypothesis takes any factory of machines; its annotation says a class.
    run_state_machine_as_test(
        machine,  # type: ignore[arg-type]
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    print("\nwatcher model coverage:")
    for name, count in sorted(COVERAGE.items()):
        print(f"  {count:5d}  {name}")
