"""The chain watcher killed (SIGKILL, `OTC_CRASH_AT`) at each of its own boundaries and
inside the settlement it starts, in a real `otc-bridge worker`; a second worker started
after it converges with exactly one effect: one `lock_verified`, one `quote_claimed`, one
payout to B on the node. And two workers at once: one watcher per chain, one effect.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from otc_bridge.devnet.bridge_process import BridgeProcess
from tests.settlement.conftest import node_payouts
from tests.support.forked import ForkedBridgeProcess
from tests.watch.conftest import Swap, Swaps

WORKER_ENV = {
    "OTC_RECONCILE_DISABLED": "1",  # the watcher alone moves the orders here
    "OTC_WATCHER_POLL_SECONDS": "0.2",
    "OTC_WATCHER_LEASE_SECONDS": "3",
    "OTC_LOG_FORMAT": "text",
}
SETTLED = ["lock_verified", "quote_claimed"]


def worker(swaps: Swaps, state: Path) -> BridgeProcess:
    env = {**swaps.env, **WORKER_ENV}
    return ForkedBridgeProcess(state, env=env, command="worker")


def transitions(swaps: Swaps, order_id: str) -> list[str]:
    return [e["cause"] for e in swaps.history(order_id) if e["cause"] != "step"]


def payouts_to(swaps: Swaps, wallet: str) -> list[dict[str, Any]]:
    return node_payouts(swaps.node, wallet)


def claimed_and_final(swaps: Swaps) -> tuple[Swap, str]:
    """A swap whose lock and on-chain claim are both final, before any watcher ran."""
    swap = swaps.open()
    made = swaps.lock(swap)
    claim_tx = swaps.claim(swap, made.lock_id)
    swaps.devchain.control.mine(2)
    return swap, claim_tx


def wait_for(swaps: Swaps, condition: Callable[[], bool], what: str, timeout: float = 90) -> None:
    """Poll an observable condition until it holds (a bounded loop, not a guess)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def caught_up(swaps: Swaps) -> bool:
    """The checkpoint is at the final head (finality 2: the block under the head)."""
    with swaps.bridge.container.store.read() as uow:
        found = uow.chain_watch.checkpoints()
    return bool(found) and found[0].block.number >= swaps.devchain.control.head().number - 1


def converged(swaps: Swaps, swap: Swap) -> bool:
    return swaps.order(swap.order_id)["status"] == "payout_pending" and caught_up(swaps)


@pytest.mark.parametrize(
    "boundary",
    [
        "watch.events_read",  # seen, not acted on
        "commit:matched->quote_locked",  # the lock recorded, the claim not yet
        "commit:quote_locked->settling",  # mid-claim: revealed, the escrow not released
        "watch.effects_done",  # acted on, the checkpoint not moved
    ],
)
def test_a_worker_killed_at_a_boundary_converges_with_one_effect(
    swaps: Swaps, tmp_path: Path, boundary: str
) -> None:
    swap, claim_tx = claimed_and_final(swaps)
    first = worker(swaps, tmp_path / "first")
    first.start(extra_env={"OTC_CRASH_AT": boundary})
    try:
        assert first.wait(timeout=60) == -9, f"the worker was not killed at {boundary}"
    finally:
        first.kill()
    second = worker(swaps, tmp_path / "second").start()
    try:
        wait_for(swaps, lambda: converged(swaps, swap), f"the restart after {boundary}")
    finally:
        second.stop()
    assert transitions(swaps, swap.order_id) == [
        "create",
        "escrow_locked",
        "match",
        *SETTLED,
        "payout_queued",
    ]
    claimed = next(e for e in swaps.history(swap.order_id) if e["cause"] == "quote_claimed")
    assert claimed["refs"]["quote_tx"] == claim_tx
    assert claimed["actor"] == "watcher"
    assert len(payouts_to(swaps, swap.buyer.address)) == 1


def test_a_worker_killed_during_a_rewind_converges(swaps: Swaps, tmp_path: Path) -> None:
    swap, _ = claimed_and_final(swaps)
    first = worker(swaps, tmp_path / "first").start()
    try:
        wait_for(swaps, lambda: converged(swaps, swap), "the first worker")
    finally:
        first.stop()
    before = transitions(swaps, swap.order_id)
    swaps.devchain.control.reorg(3)  # past the finality depth: the checkpoint's block too
    second = worker(swaps, tmp_path / "second")
    second.start(extra_env={"OTC_CRASH_AT": "watch.rewind_found"})
    try:
        assert second.wait(timeout=60) == -9
    finally:
        second.kill()
    third = worker(swaps, tmp_path / "third").start()
    try:

        def rewound() -> bool:
            with swaps.bridge.container.store.read() as uow:
                checkpoint = uow.chain_watch.checkpoints()[0]
            return checkpoint.reorgs == 1

        wait_for(swaps, rewound, "the rewind")
    finally:
        third.stop()
    assert transitions(swaps, swap.order_id) == before  # nothing undone, nothing repeated
    assert len(payouts_to(swaps, swap.buyer.address)) == 1
    titles = [title for _, title, _ in swaps.bridge.alerts()]
    assert titles.count("quote chain re-organised past the watcher's finality depth") == 1


def test_two_workers_follow_a_chain_once(swaps: Swaps, tmp_path: Path) -> None:
    swap_a, _ = claimed_and_final(swaps)
    swap_b, _ = claimed_and_final(swaps)
    workers = [worker(swaps, tmp_path / name).start() for name in ("one", "two")]
    try:
        wait_for(
            swaps,
            lambda: converged(swaps, swap_a) and converged(swaps, swap_b),
            "both orders settled by whichever worker holds the lease",
        )
    finally:
        for process in workers:
            process.stop()
    for swap in (swap_a, swap_b):
        assert len(payouts_to(swaps, swap.buyer.address)) == 1
        assert transitions(swaps, swap.order_id) == [
            "create",
            "escrow_locked",
            "match",
            *SETTLED,
            "payout_queued",
        ]
