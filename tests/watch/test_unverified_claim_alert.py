"""A claim on the chain of a lock no order counts: S revealed the order's secret on a
lock that failed the order's checks. No order moves, and operators are told once per
lock, through the alert outbox, however often the watcher reads the claim again."""

from __future__ import annotations

import json
from typing import Any

from otc_bridge.clientlib.wallet import Secret
from otc_bridge.settlement.watch.effects import UNCOUNTED_CLAIM
from tests.settlement.conftest import otc_cli
from tests.support.bridge import restart_watchers
from tests.watch.conftest import Swaps


def uncounted_claim_alerts(swaps: Swaps) -> list[dict[str, Any]]:
    """The alerts as an operator lists them (`otc-bridge alerts list --json`)."""
    done = otc_cli(swaps.env, "alerts", "list", "--json")
    assert done.returncode == 0, done.stderr
    return [a for a in json.loads(done.stdout) if a["title"] == UNCOUNTED_CLAIM]


def restart_and_read_again(swaps: Swaps, before_block: int) -> None:
    """A new worker process (nothing in memory) whose watcher reads the chain again from
    before `before_block`, as after a re-org past finality: every event is handed over
    once more."""
    container = swaps.bridge.container
    restart_watchers(container)
    (watcher,) = container.watchers.chains
    key = watcher.chain_key
    with watcher.lease.hold() as tenure:
        assert tenure is not None
        with container.store.write() as uow:
            checkpoint = uow.chain_watch.checkpoint(key)
            assert checkpoint is not None
            earlier = [m for m in uow.chain_watch.marks(key) if m.number < before_block]
            assert earlier, "no mark before the claim's block to read again from"
            head = swaps.devchain.control.head().number
            assert uow.chain_watch.rewind(
                key,
                expected=checkpoint.block,
                to=earlier[0],
                head=head,
                now=container.clock.now(),
                fence=tenure.fence,
            )
    swaps.watch()
    with container.store.read() as uow:
        moved = uow.chain_watch.checkpoint(key)
    assert moved is not None
    assert moved.block.number >= before_block  # read past the claim again


def test_a_claim_of_a_refused_lock_alerts_operators_once_and_moves_no_order(
    swaps: Swaps,
) -> None:
    swap = swaps.open()
    before = swaps.order(swap.order_id)
    history = swaps.history(swap.order_id)
    # B locks less than the order's total: the watcher refuses the lock for the order.
    head = swaps.devchain.control.head().timestamp
    short = swaps.writer(swap.b_address).lock(
        receiver=swap.s_address,
        hashlock=bytes.fromhex(swap.secret.hash),
        timelock=head + 3 * 3600,
        amount=swap.quote_wei - 1,
    )
    swaps.devchain.control.mine(2)
    swaps.watch()
    assert swaps.order(swap.order_id)["status"] == "matched"
    assert uncounted_claim_alerts(swaps) == []

    # S claims it anyway: the preimage is on the chain now, the order never verified.
    claim_tx = swaps.claim(swap, short.lock_id)
    receipt = swaps.devchain.control.call("eth_getTransactionReceipt", claim_tx)
    claim_block = int(receipt["blockNumber"], 16)
    # Someone else's lock on the same contract, claimed too: not the bridge's concern.
    stranger = Secret()
    theirs = swaps.writer(swap.b_address).lock(
        receiver=swap.s_address,
        hashlock=bytes.fromhex(stranger.hash),
        timelock=head + 3 * 3600,
        amount=1000,
    )
    swaps.writer(swap.s_address).claim(theirs.lock_id, stranger.preimage)
    swaps.devchain.control.mine(2)
    swaps.watch()

    (alert,) = uncounted_claim_alerts(swaps)
    assert alert["level"] == "critical"
    assert alert["fields"] == {
        "chain_id": str(swaps.devchain.info.chain_id),
        "lock_id": short.lock_id,
        "claim_tx": claim_tx,
        "block_number": claim_block,
        "orders": {swap.order_id: "matched"},
    }
    after = swaps.order(swap.order_id)
    assert after["status"] == "matched"  # no status change from the claim
    assert after["quote_lock"] is None
    assert after["deadlines"] == before["deadlines"]
    assert swaps.history(swap.order_id) == history

    restart_and_read_again(swaps, claim_block)
    assert [a["alert_id"] for a in uncounted_claim_alerts(swaps)] == [alert["alert_id"]]
    assert swaps.order(swap.order_id)["status"] == "matched"
    assert swaps.history(swap.order_id) == history
