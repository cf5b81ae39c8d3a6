"""The quote leg's deadlines as traders meet them: no reveal before a verified lock nor
once the claim margin is reached, no cancel while B's lock can be claimed, and a match
that no verified lock followed in time undone (a sell order ended with S refunded, a
buy order back on the book).
"""

from __future__ import annotations

import pytest

from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.domain.rustchain import job_escrow_i64
from tests.quote.world import AMOUNT_I64, FUNDS_I64, Snapshot, Trade, run_until
from tests.support.bridge import RunningBridge


@pytest.mark.parametrize("side", ["sell", "buy"])
def test_confirm_is_refused_before_a_verified_lock(
    bridge: RunningBridge, devnet: DevnetControl, chain: Devchain, side: str
) -> None:
    trade = Trade.open(bridge, devnet, chain, side=side, pair="RTC/ETH")
    trade.lock()  # on the chain, but neither final nor reported: it does not count
    before = Snapshot.take(trade)
    answer = trade.confirm()
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"] == "quote_not_locked"
    assert Snapshot.take(trade) == before
    assert "htlc_secret" not in trade.order()


def test_confirm_is_refused_from_the_claim_deadline(
    bridge: RunningBridge, devnet: DevnetControl, chain: Devchain
) -> None:
    trade = Trade.open(bridge, devnet, chain, side="sell", pair="RTC/USDC")
    trade.lock_verified()
    claim_deadline = trade.order()["deadlines"]["claim_deadline"]
    trade.advance_to(claim_deadline)
    before = Snapshot.take(trade)
    answer = trade.confirm()
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"] == "claim_deadline_passed"
    assert Snapshot.take(trade) == before


@pytest.mark.parametrize("side", ["sell", "buy"])
def test_cancel_is_refused_while_the_lock_can_be_claimed(
    bridge: RunningBridge, devnet: DevnetControl, chain: Devchain, side: str
) -> None:
    trade = Trade.open(bridge, devnet, chain, side=side, pair="RTC/ETH")
    trade.lock_verified()
    refundable_at = trade.order()["deadlines"]["refundable_at"]
    before = Snapshot.take(trade)
    answer = trade.cancel()
    assert answer.status_code == 409, answer.text
    body = answer.json()
    assert body["error"] == "quote_locked"
    assert str(refundable_at) in body["message"], body
    assert Snapshot.take(trade) == before


def test_a_sell_order_whose_match_timed_out_ends_with_the_seller_refunded(
    bridge: RunningBridge, devnet: DevnetControl, chain: Devchain
) -> None:
    """Its hashlock backs one match only: the order is not relisted, S's escrow goes
    back to S, the history names the taker that stalled, and S re-posts with a new hash."""
    trade = Trade.open(bridge, devnet, chain, side="sell", pair="RTC/ETH")
    assert trade.node().seller == FUNDS_I64 - job_escrow_i64(AMOUNT_I64)
    ended = run_until(trade, {"expired"})
    assert ended["status"] == "expired"
    timeout = [e for e in trade.events() if e["cause"] == "match_timeout"]
    assert [e["to"] for e in timeout] == ["refund_pending"], timeout
    assert timeout[0]["refs"]["stalled_taker"] == trade.buyer.address
    node = trade.node()
    assert (node.seller, node.buyer) == (FUNDS_I64, 0)
    book = trade.client.http.get("/api/orders", params={"side": "sell"}).json()["orders"]
    assert trade.order_id not in [o["order_id"] for o in book]
    # A late lock from the stalled taker no longer counts for anything.
    late = trade.lock()
    chain.control.mine(chain.info.finality_confirmations)
    before = Snapshot.take(trade)
    refused = trade.report(late)
    assert refused.status_code == 409
    assert refused.json()["error"] == "order_not_matched"
    assert Snapshot.take(trade) == before


def test_a_buy_order_whose_match_timed_out_is_relisted_without_the_hashlock(
    bridge: RunningBridge, devnet: DevnetControl, chain: Devchain
) -> None:
    trade = Trade.open(bridge, devnet, chain, side="buy", pair="RTC/USDC")
    relisted = run_until(trade, {"open"})
    assert relisted["taker_wallet"] is None
    assert relisted["htlc_hash"] is None
    node = trade.node()
    assert (node.seller, node.buyer) == (FUNDS_I64, 0)  # the taker S got its escrow back
