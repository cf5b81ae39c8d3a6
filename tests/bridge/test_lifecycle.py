"""Order lifecycles over HTTP against the devnode: create, match, cancel, expiry, for both
sides, with the money on the node and the order's history checked at every end."""

from __future__ import annotations

from otc_bridge.clientlib.wallet import Secret, Wallet
from otc_bridge.devnet.control import DevnetControl
from tests.support.bridge import RunningBridge

USDC_ADDR = "0x" + "11" * 20


def funded(devnet: DevnetControl, amount: str = "100") -> Wallet:
    wallet = Wallet()
    devnet.faucet(wallet.address, amount)
    return wallet


def path(events: list[dict[str, object]]) -> list[tuple[object, object, object]]:
    return [(e["from"], e["to"], e["cause"]) for e in events]


def test_sell_order_locks_escrow_with_fee_and_cancel_refunds_all(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    seller = funded(devnet)
    secret = Secret()
    created = bridge.client.create_order(
        seller,
        side="sell",
        amount_rtc="10",
        price_per_rtc="0.10",
        htlc_hash=secret.hash,
        eth_address=USDC_ADDR,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "open"
    assert body["escrow_status"] == "locked"
    assert body["htlc_hash"] == secret.hash
    assert "htlc_secret" not in body  # the seller made the secret; the bridge never had it
    assert body["total_quote_base_units"] == "1000000"  # 1 USDC in 6-decimal units
    assert devnet.balance_i64(seller.address) == 100_000_000 - 10_500_000  # amount + 5 %

    cancelled = bridge.client.cancel(seller, body["order_id"])
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["escrow_refunded"] is True
    assert devnet.balance_i64(seller.address) == 100_000_000
    assert path(bridge.client.events(body["order_id"])) == [
        (None, "opening", "create"),
        ("opening", "open", "escrow_locked"),
        ("open", "refund_pending", "cancel"),
        ("refund_pending", "cancelled", "refund_confirmed"),
    ]


def test_server_generated_secret_is_returned_once_and_hidden_from_reads(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    seller = funded(devnet)
    created = bridge.client.create_order(seller, side="sell", amount_rtc="1", price_per_rtc="2")
    assert created.status_code == 201, created.text
    body = created.json()
    assert len(body["htlc_secret"]) == 64
    order = bridge.client.order(body["order_id"])
    assert "htlc_secret" not in order
    assert order["secret_origin"] == "server"
    raw = bridge.client.http.get(f"/api/orders/{body['order_id']}").text
    assert body["htlc_secret"] not in raw
    assert bridge.client.cancel(seller, body["order_id"]).json()["status"] == "cancelled"


def test_buy_order_match_locks_the_taker_escrow(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    buyer, seller = Wallet(), funded(devnet)
    created = bridge.client.create_order(buyer, side="buy", amount_rtc="2.01", price_per_rtc="0.5")
    assert created.status_code == 201, created.text
    order_id = created.json()["order_id"]
    assert created.json()["status"] == "open"
    assert "escrow_job_id" not in created.json()

    secret = Secret()
    matched = bridge.client.match(seller, order_id, htlc_hash=secret.hash, eth_address=USDC_ADDR)
    assert matched.status_code == 200, matched.text
    body = matched.json()
    assert body["status"] == "matched"
    assert body["htlc_hash"] == secret.hash
    assert "htlc_secret" not in body
    assert body["escrow_job_id"]
    assert body["seller_quote_address"] == USDC_ADDR
    # 2.01 RTC truncates to 2009999 on the node unless sent right: the escrow is exact.
    assert devnet.balance_i64(seller.address) == 100_000_000 - 2_010_000 - 100_500
    order = bridge.client.order(order_id)
    assert order["status"] == "matched"
    assert order["deadlines"]["match_deadline"] > order["matched_at"]
    assert path(bridge.client.events(order_id)) == [
        (None, "open", "create"),
        ("open", "matching", "match"),
        ("matching", "matched", "escrow_locked"),
    ]


def test_sell_order_match_needs_no_escrow_from_the_buyer(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    seller, buyer = funded(devnet), Wallet()
    order_id = bridge.client.create_order(
        seller, side="sell", amount_rtc="5", price_per_rtc="0.2", eth_address=USDC_ADDR
    ).json()["order_id"]
    matched = bridge.client.match(buyer, order_id, eth_address="0x" + "22" * 20)
    assert matched.status_code == 200, matched.text
    assert matched.json()["status"] == "matched"
    assert matched.json()["settlement_instructions"]["amount_base_units"] == "1000000"
    assert devnet.balance_i64(buyer.address) == 0
    again = bridge.client.match(Wallet(), order_id)
    assert again.status_code == 409
    assert again.json() == {"error": "Order is not open (status: matched)"}
    cancel = bridge.client.cancel(seller, order_id)
    assert cancel.status_code == 409
    assert cancel.json() == {"error": "Can only cancel open orders (current: matched)"}


def test_open_orders_expire_through_the_worker_and_refund(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    seller, buyer = funded(devnet), Wallet()
    sell = bridge.client.create_order(
        seller, side="sell", amount_rtc="3", price_per_rtc="1", ttl_seconds=3600
    ).json()["order_id"]
    buy = bridge.client.create_order(
        buyer, side="buy", amount_rtc="3", price_per_rtc="1", ttl_seconds=3600
    ).json()["order_id"]
    listed = bridge.client.http.get("/api/orders").json()
    assert {o["order_id"] for o in listed["orders"]} >= {sell, buy}

    devnet.advance_clock(3601)
    listed = bridge.client.http.get("/api/orders").json()
    assert not {o["order_id"] for o in listed["orders"]} & {sell, buy}  # hidden at once
    assert bridge.client.order(sell)["status"] == "open"  # reads never write

    bridge.run_worker()
    assert bridge.client.order(buy)["status"] == "expired"
    assert bridge.client.order(sell)["status"] == "expired"
    assert devnet.balance_i64(seller.address) == 100_000_000
    assert path(bridge.client.events(sell))[-2:] == [
        ("open", "refund_pending", "expire"),
        ("refund_pending", "expired", "refund_confirmed"),
    ]


def test_matching_an_expired_order_answers_410_and_expires_it(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    seller = funded(devnet)
    order_id = bridge.client.create_order(
        seller, side="sell", amount_rtc="1", price_per_rtc="1", ttl_seconds=3600
    ).json()["order_id"]
    devnet.advance_clock(3601)
    late = bridge.client.match(Wallet(), order_id)
    assert late.status_code == 410
    assert late.json() == {"error": "Order has expired"}
    assert bridge.client.order(order_id)["status"] == "expired"
    assert devnet.balance_i64(seller.address) == 100_000_000


def test_balance_precheck_includes_the_node_fee(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    seller = funded(devnet, "10")
    refused = bridge.client.create_order(seller, side="sell", amount_rtc="10", price_per_rtc="1")
    assert refused.status_code == 400
    assert refused.json()["error"] == "Insufficient RTC balance"
    assert refused.json()["required_rtc"] == 10.5
    assert bridge.client.http.get("/api/orders").json()["total"] == 0
