"""The chain watcher end to end: a real anvil, a real devnode, the bridge's real
`Settlement`. What traders do on the chain alone moves their orders, once, and only at
finality; the node's ledger and the chain's balances are checked to the unit.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from otc_bridge.devnet.control import DevnetControl
from otc_bridge.domain.rustchain import WORKER_WALLET
from otc_bridge.domain.states import Status
from otc_bridge.settlement.quote_chains import LockRef
from otc_bridge.settlement.watch.build import build_watchers
from tests.watch.conftest import Swap, Swaps

DAY = 86400
FUNDED = 100 * 10**6  # what `Swaps.open` gives S, in µRTC


def causes(swaps: Swaps, order_id: str) -> list[tuple[str, str, str]]:
    return [(e["to"], e["cause"], e["actor"]) for e in swaps.history(order_id)]


def status(swaps: Swaps, order_id: str) -> str:
    return str(swaps.order(order_id)["status"])


def settle_on_node(devnet: DevnetControl) -> None:
    """Let the node's confirmation delay pass and run its confirm scheduler once."""
    devnet.advance_clock(DAY + 1)
    devnet.tick()


def locked_by_watcher(swaps: Swaps, swap: Swap) -> str:
    made = swaps.lock(swap)
    swaps.watch()
    assert status(swaps, swap.order_id) == "matched"  # 1 confirmation of 2: not final
    swaps.devchain.control.mine(1)
    swaps.watch()
    order = swaps.order(swap.order_id)
    assert order["status"] == "quote_locked"
    assert order["quote_lock"]["lock_id"] == made.lock_id
    return made.lock_id


def test_a_final_lock_moves_the_order_to_quote_locked_with_no_call_from_b(swaps: Swaps) -> None:
    swap = swaps.open()
    before = swaps.order(swap.order_id)["deadlines"]
    locked_by_watcher(swaps, swap)
    assert causes(swaps, swap.order_id)[-1] == ("quote_locked", "lock_verified", "watcher")
    deadlines = swaps.order(swap.order_id)["deadlines"]
    assert deadlines["match_deadline"] == before["match_deadline"]
    assert deadlines["quote_timelock"] is not None


def test_a_claim_on_chain_pays_b_with_no_call_from_s(swaps: Swaps) -> None:
    swap = swaps.open()
    lock_id = locked_by_watcher(swaps, swap)
    s_wei = swaps.wei(swap.s_address)
    claim_tx = swaps.claim(swap, lock_id)
    swaps.watch()
    assert status(swaps, swap.order_id) == "quote_locked"  # the claim is not final yet
    swaps.devchain.control.mine(1)
    swaps.watch()
    assert status(swaps, swap.order_id) == "payout_pending"
    settled = [c for c in causes(swaps, swap.order_id) if c[1] == "quote_claimed"]
    assert settled == [("settling", "quote_claimed", "watcher")]
    claimed = next(e for e in swaps.history(swap.order_id) if e["cause"] == "quote_claimed")
    assert claimed["refs"]["quote_tx"] == claim_tx
    settle_on_node(swaps.devnet)
    swaps.bridge.run_worker()
    assert status(swaps, swap.order_id) == "completed"
    # B got exactly the escrowed RTC, once; S got exactly the quote (less the claim's gas)
    assert swaps.devnet.balance_i64(swap.buyer.address) == swap.amount_i64
    assert swaps.devnet.balance_i64(WORKER_WALLET) == 0
    receipt = swaps.devchain.control.call("eth_getTransactionReceipt", claim_tx)
    gas = int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)
    assert swaps.wei(swap.s_address) == s_wei + swap.quote_wei - gas
    swaps.watch()  # more polls change nothing
    assert len([c for c in causes(swaps, swap.order_id) if c[1] == "quote_claimed"]) == 1


def test_an_expired_lock_refunds_s_only_once_final(swaps: Swaps) -> None:
    swap = swaps.open()
    made = swaps.lock(swap, timelock_in=2 * 3600 + 60)
    swaps.devchain.control.mine(1)
    swaps.watch()
    assert status(swaps, swap.order_id) == "quote_locked"
    timelock = int(swaps.order(swap.order_id)["deadlines"]["quote_timelock"])
    assert swaps.devnet.balance_i64(swap.seller.address) < FUNDED  # the escrow holds it
    head = swaps.devchain.control.head()
    swaps.devchain.control.set_next_timestamp(timelock)
    swaps.devchain.control.mine(1)  # the head's time is T_q: no claim any more, not final
    assert swaps.devchain.control.head().number == head.number + 1
    swaps.watch()
    assert status(swaps, swap.order_id) == "quote_locked"
    # B takes the quote back: its block makes the T_q block final (2 confirmations)
    b_refund = swaps.writer(swap.b_address).refund(made.lock_id)
    swaps.watch()
    assert status(swaps, swap.order_id) in {"refund_pending", "expired"}
    swaps.devchain.control.mine(1)  # the Refunded event final too: nothing more happens
    swaps.watch()
    expired = [c for c in causes(swaps, swap.order_id) if c[1] == "lock_expired"]
    assert expired == [("refund_pending", "lock_expired", "watcher")]
    swaps.bridge.run_worker()
    assert status(swaps, swap.order_id) == "expired"
    assert swaps.devnet.balance_i64(swap.seller.address) == FUNDED  # escrow and fee back
    assert swaps.devnet.balance_i64(swap.buyer.address) == 0
    assert b_refund.block_number > made.tx.block_number


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_a_lock_reorged_away_before_finality_moves_nothing(
    make_swaps: Callable[..., Swaps], depth: int
) -> None:
    swaps = make_swaps(finality=4)
    swap = swaps.open()
    before = swaps.order(swap.order_id)
    swaps.lock(swap)
    swaps.devchain.control.mine(depth - 1)
    swaps.watch()
    assert status(swaps, swap.order_id) == "matched"
    swaps.devchain.control.reorg(depth)  # the lock's block and those after it
    swaps.devchain.control.mine(6)
    swaps.watch()
    after = swaps.order(swap.order_id)
    assert after["status"] == "matched"
    assert after["deadlines"] == before["deadlines"]
    assert after["quote_lock"] is None
    assert [e["cause"] for e in swaps.history(swap.order_id)][-1] == "match"


def test_a_restarted_watcher_neither_repeats_nor_misses(swaps: Swaps) -> None:
    first, second = swaps.open(), swaps.open()
    lock_id = locked_by_watcher(swaps, first)
    made = swaps.lock(second)
    swaps.claim(first, lock_id)
    swaps.devchain.control.mine(2)
    container = swaps.bridge.container
    restarted = build_watchers(  # a new process: nothing in memory, the checkpoint in the db
        container.settings.evm,
        container.settings.watcher,
        store=container.store,
        clock=container.clock,
        settlement=container.settlement,
    )
    container.watchers = restarted
    swaps.watch()
    assert status(swaps, first.order_id) == "payout_pending"
    assert swaps.order(second.order_id)["quote_lock"]["lock_id"] == made.lock_id
    for order_id in (first.order_id, second.order_id):
        moves = [c for c in causes(swaps, order_id) if c[2] == "watcher" and c[1] != "step"]
        assert len(moves) == len(set(moves))  # no transition twice


def test_a_report_that_loses_the_race_to_the_watcher_answers_the_verified_order(
    swaps: Swaps,
) -> None:
    """B's `POST /lock` read the order while the watcher verified the same lock: the
    report's write loses, and it answers the order as the watcher left it, not a 409."""
    swap = swaps.open()
    made = swaps.lock(swap)
    swaps.devchain.control.mine(1)
    settlement = swaps.bridge.container.settlement
    stale = settlement.read(swap.order_id)  # what the request read: still matched
    assert stale is not None
    swaps.watch()  # the watcher verifies the lock first
    answered = settlement.report_lock(stale, LockRef(tx_hash=made.tx.tx_hash), actor="lock")
    assert answered is not None
    assert answered.status is Status.QUOTE_LOCKED
    assert answered.quote_lock is not None
    assert answered.quote_lock.lock_id == made.lock_id
    assert [c for c in causes(swaps, swap.order_id) if c[1] == "lock_verified"] == [
        ("quote_locked", "lock_verified", "watcher")
    ]
