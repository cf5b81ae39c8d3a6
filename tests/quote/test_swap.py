"""Full swaps with the quote leg on a real chain: a sell order and a buy order, in ETH and
in USDC. B locks on the HTLC, the lock's block becomes final, B reports it, the order is
`quote_locked`; S reveals (confirm, or a claim on the chain the bridge reads), the RTC
payout confirms, the order is `completed`, and S holds the quote. Balances are exact on
both sides: µRTC on the node (the node's 5 % fee included) and wei / USDC base units on
the chain (gas from the receipts of every transaction each party signed).
"""

from __future__ import annotations

from typing import Any

import pytest

from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.domain.rustchain import job_escrow_i64, job_fee_i64
from tests.quote.world import (
    AMOUNT_I64,
    ETH_FUNDS,
    FUNDS_I64,
    LOCK_SPAN,
    POLICY,
    USDC_FUNDS,
    NodeBalances,
    Trade,
    chain_now,
    run_until,
)
from tests.support.bridge import RunningBridge

SIDES_AND_PAIRS = [
    pytest.param(side, pair, id=f"{side}-{pair.split('/')[1]}")
    for side in ("sell", "buy")
    for pair in ("RTC/ETH", "RTC/USDC")
]


def assert_quote_locked(trade: Trade, timelock: int, lock_id: str) -> dict[str, Any]:
    order = trade.order()
    assert order["status"] == "quote_locked", order
    deadlines = order["deadlines"]
    assert deadlines["quote_timelock"] == timelock
    assert deadlines["claim_deadline"] == timelock - POLICY.claim_margin
    assert deadlines["refundable_at"] == POLICY.refundable_at(timelock)
    # The escrow outlives every claim of the quote leg by the settlement margin.
    assert deadlines["escrow_expires_at"] >= timelock + POLICY.settlement_margin
    assert deadlines["match_deadline"] is not None
    last = trade.events()[-1]
    assert (last["from"], last["to"], last["cause"]) == ("matched", "quote_locked", "lock_verified")
    assert lock_id.lower() in str(order["quote_lock"]).lower()
    return order


def assert_swapped(trade: Trade, before: NodeBalances) -> None:
    """The end state of a completed swap, on the node and on the chain, exactly."""
    order = trade.order()
    assert order["status"] == "completed", order
    assert order["htlc_secret"] == trade.secret.hex

    after = trade.node()
    assert after.seller == FUNDS_I64 - job_escrow_i64(AMOUNT_I64)  # amount + the 5 % fee
    assert after.buyer == AMOUNT_I64
    assert after.fee - before.fee == job_fee_i64(AMOUNT_I64)
    assert after.worker == before.worker  # the worker wallet only passes the amount on
    trade.devnet.assert_conserved()

    s, b, total = trade.s_chain, trade.b_chain, trade.total
    if trade.pair == "RTC/ETH":
        assert b.eth() == ETH_FUNDS - total - b.gas_spent()
        assert s.eth() == ETH_FUNDS + total - s.gas_spent()
        assert (b.usdc(), s.usdc()) == (USDC_FUNDS, USDC_FUNDS)
    else:
        assert b.usdc() == USDC_FUNDS - total
        assert s.usdc() == USDC_FUNDS + total
        assert b.eth() == ETH_FUNDS - b.gas_spent()
        assert s.eth() == ETH_FUNDS - s.gas_spent()
    trades = trade.client.http.get("/api/trades").json()["trades"]
    assert [t["order_id"] for t in trades] == [trade.order_id]


@pytest.mark.parametrize(("side", "pair"), SIDES_AND_PAIRS)
def test_full_swap_lock_verify_confirm_payout_claim(
    bridge: RunningBridge, devnet: DevnetControl, chain: Devchain, side: str, pair: str
) -> None:
    trade = Trade.open(bridge, devnet, chain, side=side, pair=pair)
    before = trade.node()
    assert before.seller == FUNDS_I64 - job_escrow_i64(AMOUNT_I64)  # S's escrow is held

    timelock = chain_now(chain) + LOCK_SPAN
    made = trade.lock_verified(timelock=timelock)
    assert_quote_locked(trade, timelock, made.lock_id)

    confirmed = trade.confirm()
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "payout_pending"
    # S takes the quote with the preimage it revealed, while the lock is claimable.
    trade.s_chain.claim(made.lock_id, trade.secret.hex)

    trade.settle_payout()
    assert_swapped(trade, before)


@pytest.mark.parametrize(
    ("side", "pair"), [("sell", "RTC/USDC"), ("buy", "RTC/ETH")], ids=["sell-USDC", "buy-ETH"]
)
def test_a_claim_on_the_chain_reveals_for_the_seller(
    bridge: RunningBridge, devnet: DevnetControl, chain: Devchain, side: str, pair: str
) -> None:
    """I5: S claims the quote leg on the chain and never calls the bridge; the bridge
    reads the preimage from the final `Claimed` event and pays B all the same."""
    trade = Trade.open(bridge, devnet, chain, side=side, pair=pair)
    before = trade.node()
    made = trade.lock_verified()
    trade.s_chain.claim(made.lock_id, trade.secret.hex)
    chain.control.mine(chain.info.finality_confirmations)

    run_until(trade, {"completed"})
    causes = [e["cause"] for e in trade.events()]
    assert "quote_claimed" in causes, causes
    assert "confirm" not in causes, causes
    assert_swapped(trade, before)


@pytest.mark.parametrize("buyer_refunds", [True, False], ids=["B-refunded", "lock-left"])
def test_an_expired_lock_refunds_the_seller_and_the_buyer(
    bridge: RunningBridge, devnet: DevnetControl, chain: Devchain, buyer_refunds: bool
) -> None:
    """I6: S never revealed. Once the chain's final view shows the lock refunded (or still
    locked at or after T_q), S's escrow goes back to S; B takes its lock back on the chain."""
    trade = Trade.open(bridge, devnet, chain, side="sell", pair="RTC/ETH")
    made = trade.lock_verified()
    order = trade.order()
    refundable_at = order["deadlines"]["refundable_at"]

    # At the claim deadline the lock is still claimable: the reconciler's look at the
    # chain refunds nothing (S may still claim for the claim margin).
    assert order["deadlines"]["next_action_at"] == order["deadlines"]["claim_deadline"]
    trade.advance_to(order["deadlines"]["claim_deadline"] + 1)
    chain.control.mine(chain.info.finality_confirmations)
    trade.bridge.run_worker()
    assert trade.order()["status"] == "quote_locked"

    trade.advance_to(refundable_at + 1)
    if buyer_refunds:
        trade.b_chain.refund(made.lock_id)
    chain.control.mine(chain.info.finality_confirmations)
    ended = run_until(trade, {"expired"})
    assert ended["status"] == "expired"
    assert "lock_expired" in [e["cause"] for e in trade.events()]
    node = trade.node()
    assert (node.seller, node.buyer) == (FUNDS_I64, 0)  # S whole, B paid nothing
    devnet.assert_conserved()
    if not buyer_refunds:
        trade.b_chain.refund(made.lock_id)  # B's to take back, whenever B likes
    assert trade.b_chain.eth() == ETH_FUNDS - trade.b_chain.gas_spent()
    assert trade.s_chain.eth() == ETH_FUNDS
