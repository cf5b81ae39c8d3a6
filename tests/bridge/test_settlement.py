"""Settlement over HTTP against the devnode and its dev chain: the buyer's quote lock
verified before any reveal, confirm-before-finalize, the payout's life on the node, the
secret gated until completion, and matches that time out."""

from __future__ import annotations

from typing import Any

import pytest

from otc_bridge.clientlib.wallet import Secret, Wallet
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.domain.rustchain import FEE_WALLET, WORKER_WALLET, idempotent_tx_hash
from tests.support.bridge import RunningBridge
from tests.support.chain import locked

DAY = 86400
SELLER_ADDR = "0x" + "aa" * 20
BUYER_ADDR = "0x" + "bb" * 20


def funded(devnet: DevnetControl, amount: str = "100") -> Wallet:
    wallet = Wallet()
    devnet.faucet(wallet.address, amount)
    return wallet


def matched_sell(
    bridge: RunningBridge, devnet: DevnetControl, amount: str = "10"
) -> tuple[str, Wallet, Wallet, Secret]:
    seller, buyer, secret = funded(devnet), Wallet(), Secret()
    created = bridge.client.create_order(
        seller,
        side="sell",
        amount_rtc=amount,
        price_per_rtc="0.1",
        htlc_hash=secret.hash,
        eth_address=SELLER_ADDR,
    )
    assert created.status_code == 201, created.text
    order_id = created.json()["order_id"]
    assert bridge.client.match(buyer, order_id, eth_address=BUYER_ADDR).status_code == 200
    return order_id, seller, buyer, secret


def locked_sell(
    bridge: RunningBridge, devnet: DevnetControl, devchain: Devchain, amount: str = "10"
) -> tuple[str, Wallet, Wallet, Secret]:
    """A matched sell order whose buyer locked the quote leg (verified: `quote_locked`)."""
    order_id, seller, buyer, secret = matched_sell(bridge, devnet, amount)
    locked(bridge.client, devchain, order_id)
    return order_id, seller, buyer, secret


def confirm(bridge: RunningBridge, order_id: str, seller: Wallet, secret: Secret) -> Any:
    return bridge.client.confirm(
        order_id, wallet=seller.address, secret=secret.hex, quote_tx="0x" + "cd" * 32
    )


def confirm_payout_on_node(bridge: RunningBridge, devnet: DevnetControl) -> dict[str, object]:
    """The node's confirmation delay passes and its scheduler runs; then a reconcile pass."""
    devnet.advance_clock(DAY + 1)
    devnet.tick()
    return bridge.run_worker()


def test_sell_order_settles_payout_pending_then_completed(
    bridge: RunningBridge, devnet: DevnetControl, devchain: Devchain
) -> None:
    order_id, seller, buyer, secret = locked_sell(bridge, devnet, devchain, "10")
    fee_before = devnet.balance_i64(FEE_WALLET)
    response = confirm(bridge, order_id, seller, secret)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is False
    assert body["status"] == "payout_pending"
    assert body["rtc_transfer_status"] == "pending"
    assert body["rtc_transfer_tx_hash"] == idempotent_tx_hash(f"otc_payout:{order_id}")
    assert "htlc_secret" not in body
    order = bridge.client.order(order_id)
    assert order["status"] == "payout_pending"
    assert "htlc_secret" not in order  # I3: not before completion
    assert secret.hex not in bridge.client.http.get(f"/api/orders/{order_id}/events").text
    assert devnet.balance_i64(buyer.address) == 0  # queued, not yet confirmed

    summary = confirm_payout_on_node(bridge, devnet)
    assert summary["promoted"] == 1
    order = bridge.client.order(order_id)
    assert order["status"] == "completed"
    assert order["htlc_secret"] == secret.hex
    assert devnet.balance_i64(buyer.address) == 10_000_000
    assert devnet.balance_i64(seller.address) == 100_000_000 - 10_500_000
    assert devnet.balance_i64(WORKER_WALLET) == 0
    assert devnet.balance_i64(FEE_WALLET) - fee_before == 500_000
    trades = bridge.client.http.get("/api/trades").json()["trades"]
    assert [t["order_id"] for t in trades] == [order_id]
    assert trades[0]["rtc_tx"] == idempotent_tx_hash(f"otc_payout:{order_id}")
    steps = [(e["to"], e["cause"], e["refs"].get("step")) for e in bridge.client.events(order_id)]
    assert steps[3:] == [
        ("quote_locked", "lock_verified", None),
        ("settling", "confirm", None),
        ("settling", "step", "escrow_claimed"),
        ("settling", "step", "escrow_delivered"),
        ("settling", "step", "escrow_accepted"),
        ("settling", "step", "payout_requested"),
        ("payout_pending", "payout_queued", None),
        ("completed", "payout_confirmed", None),
    ]
    # A second confirm states what the database holds and moves nothing.
    again = confirm(bridge, order_id, seller, secret)
    assert again.status_code == 409
    assert again.json() == {"error": "Order must be matched to confirm (current: completed)"}


def test_buy_order_settles_with_the_taker_as_seller(
    bridge: RunningBridge, devnet: DevnetControl, devchain: Devchain
) -> None:
    buyer, seller, secret = Wallet(), funded(devnet), Secret()
    order_id = bridge.client.create_order(
        buyer, side="buy", amount_rtc="2.01", price_per_rtc="3", eth_address=BUYER_ADDR
    ).json()["order_id"]
    matched = bridge.client.match(seller, order_id, htlc_hash=secret.hash, eth_address=SELLER_ADDR)
    assert matched.status_code == 200, matched.text
    locked(bridge.client, devchain, order_id)
    assert confirm(bridge, order_id, seller, secret).json()["status"] == "payout_pending"
    assert confirm_payout_on_node(bridge, devnet)["promoted"] == 1
    assert devnet.balance_i64(buyer.address) == 2_010_000  # not 2009999: exact escrow
    assert bridge.client.order(order_id)["status"] == "completed"


def test_server_generated_secret_settles_and_is_revealed_only_on_completion(
    bridge: RunningBridge, devnet: DevnetControl, devchain: Devchain
) -> None:
    seller, buyer = funded(devnet), Wallet()
    created = bridge.client.create_order(seller, side="sell", amount_rtc="1", price_per_rtc="1")
    order_id, preimage = created.json()["order_id"], created.json()["htlc_secret"]
    bridge.client.match(buyer, order_id)
    locked(bridge.client, devchain, order_id)
    response = bridge.client.confirm(
        order_id, wallet=seller.address, secret=preimage, quote_tx="0xabc"
    )
    assert response.json()["status"] == "payout_pending"
    assert "htlc_secret" not in bridge.client.order(order_id)
    confirm_payout_on_node(bridge, devnet)
    assert bridge.client.order(order_id)["htlc_secret"] == preimage


def test_zero_delay_node_completes_on_the_next_payout_poll(
    bridge: RunningBridge, devnet: DevnetControl, devchain: Devchain
) -> None:
    devnet.configure_scheduler(confirmation_delay_seconds=0)
    try:
        order_id, seller, _buyer, secret = locked_sell(bridge, devnet, devchain, "3")
        response = confirm(bridge, order_id, seller, secret)
        assert response.json()["status"] == "payout_pending"  # first answer never confirmed
        devnet.tick()
        assert bridge.run_worker()["due"] == 0  # polled again only after OTC_PAYOUT_POLL_SECONDS
        devnet.advance_clock(31)
        assert bridge.run_worker()["promoted"] == 1
        assert bridge.client.order(order_id)["status"] == "completed"
    finally:
        devnet.configure_scheduler(confirmation_delay_seconds=DAY)


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"wallet": ""}, 400, "wallet required"),
        ({"quote_tx": ""}, 400, "quote_tx required"),
        ({"quote_tx": "x" * 200}, 400, "quote_tx is too long"),
        ({"wallet": "RTC" + "0" * 40}, 403, "Only the RTC seller can confirm settlement"),
        ({"secret": ""}, 400, "HTLC secret (preimage) required to confirm settlement"),
        ({"secret": "zz"}, 400, "Invalid HTLC secret format"),
        ({"secret": "00" * 32}, 400, "Invalid HTLC secret"),
    ],
)
def test_confirm_refusals_leave_the_order_quote_locked(
    bridge: RunningBridge,
    devnet: DevnetControl,
    devchain: Devchain,
    change: dict[str, str],
    status: int,
    error: str,
) -> None:
    order_id, seller, _, secret = locked_sell(bridge, devnet, devchain, "1")
    body = {"wallet": seller.address, "secret": secret.hex, "quote_tx": "0x1", **change}
    response = bridge.client.http.post(f"/api/orders/{order_id}/confirm", json=body)
    assert (response.status_code, response.json()["error"]) == (status, error)
    assert bridge.client.order(order_id)["status"] == "quote_locked"
    bad_json = bridge.client.http.post(
        f"/api/orders/{order_id}/confirm",
        content=b"{oops",
        headers={"content-type": "application/json"},
    )
    assert bad_json.json()["error"] == "JSON object required"  # the reference's, on confirm
    assert bad_json.json()["message"].startswith("the body is not valid JSON")


def test_confirm_before_the_quote_lock_is_verified_is_refused(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    order_id, seller, _, secret = matched_sell(bridge, devnet, "1")
    response = confirm(bridge, order_id, seller, secret)
    assert response.status_code == 409
    assert response.json()["error"] == "quote_not_locked"
    assert bridge.client.order(order_id)["status"] == "matched"


def test_confirm_from_the_claim_deadline_on_is_refused(
    bridge: RunningBridge, devnet: DevnetControl, devchain: Devchain
) -> None:
    order_id, seller, _, secret = locked_sell(bridge, devnet, devchain, "1")
    deadlines = bridge.client.order(order_id)["deadlines"]
    assert deadlines["claim_deadline"] == deadlines["quote_timelock"] - 3600
    devnet.advance_clock(deadlines["claim_deadline"] - bridge.container.clock.now())
    response = confirm(bridge, order_id, seller, secret)
    assert response.status_code == 409
    assert response.json()["error"] == "claim_deadline_passed"
    assert response.json()["claim_deadline"] == deadlines["claim_deadline"]
    assert bridge.client.order(order_id)["status"] == "quote_locked"


def test_cancel_of_a_quote_locked_order_is_refused_naming_refundable_at(
    bridge: RunningBridge, devnet: DevnetControl, devchain: Devchain
) -> None:
    order_id, seller, _, _ = locked_sell(bridge, devnet, devchain, "1")
    response = bridge.client.cancel(seller, order_id)
    assert response.status_code == 409
    body = response.json()
    refundable_at = bridge.client.order(order_id)["deadlines"]["refundable_at"]
    assert (body["error"], body["refundable_at"]) == ("quote_locked", refundable_at)
    assert str(refundable_at) in body["message"]
    assert bridge.client.order(order_id)["status"] == "quote_locked"


def test_sell_match_that_times_out_ends_with_a_refund_and_records_the_stalled_taker(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    order_id, seller, buyer, _ = matched_sell(bridge, devnet, "5")
    devnet.advance_clock(3601)
    bridge.run_worker()
    order = bridge.client.order(order_id)
    assert order["status"] == "expired"  # never relisted with the same hashlock
    events = bridge.client.events(order_id)
    timeout = next(e for e in events if e["cause"] == "match_timeout")
    assert timeout["to"] == "refund_pending"
    assert timeout["refs"]["stalled_taker"] == buyer.address
    assert devnet.balance_i64(seller.address) == 100_000_000  # the escrow came back whole


def test_buy_match_that_times_out_refunds_the_taker_and_relists(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    buyer, seller = Wallet(), funded(devnet)
    order_id = bridge.client.create_order(
        buyer, side="buy", amount_rtc="4", price_per_rtc="1"
    ).json()["order_id"]
    bridge.client.match(seller, order_id, htlc_hash=Secret().hash)
    devnet.advance_clock(3601)
    bridge.run_worker()
    order = bridge.client.order(order_id)
    assert order["status"] == "open"
    assert order["taker_wallet"] is None
    assert order["escrow_job_id"] is None
    assert devnet.balance_i64(seller.address) == 100_000_000
    events = bridge.client.events(order_id)
    assert [e["to"] for e in events][-2:] == ["refund_pending", "open"]
    assert events[-2]["refs"]["stalled_taker"] == seller.address
    assert order["htlc_hash"] is None  # the next taker brings a fresh hashlock
