"""`GET /api/orders?wallet=`: one wallet's orders as maker or taker, every status, newest
first, for the trading page's "my orders"; a wallet that is not a native RTC address is a
400, never an empty list that hides a typo."""

from __future__ import annotations

import pytest

from otc_bridge.api.commands import list_orders
from otc_bridge.clientlib.wallet import Secret, Wallet
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.services.errors import InvalidRequest
from tests.support.bridge import RunningBridge

USDC_ADDR = "0x" + "11" * 20
BUYER_ADDR = "0x" + "22" * 20


def ids(bridge: RunningBridge, wallet: str, **params: str) -> list[str]:
    answer = bridge.client.http.get("/api/orders", params={"wallet": wallet, **params})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] >= len(body["orders"])
    return [o["order_id"] for o in body["orders"]]


def test_a_wallet_sees_its_orders_as_maker_and_taker_in_every_status(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    seller, buyer, other = Wallet(), Wallet(), Wallet()
    devnet.faucet(seller.address, "50")
    devnet.faucet(other.address, "50")
    first = bridge.client.create_order(
        seller, side="sell", amount_rtc="1", price_per_rtc="0.1",
        htlc_hash=Secret().hash, eth_address=USDC_ADDR,
    )  # fmt: skip
    second = bridge.client.create_order(
        seller, side="sell", amount_rtc="2", price_per_rtc="0.1",
        htlc_hash=Secret().hash, eth_address=USDC_ADDR,
    )  # fmt: skip
    theirs = bridge.client.create_order(
        other, side="sell", amount_rtc="3", price_per_rtc="0.1",
        htlc_hash=Secret().hash, eth_address=USDC_ADDR,
    )  # fmt: skip
    for answer in (first, second, theirs):
        assert answer.status_code == 201, answer.text
    first_id, second_id, their_id = (a.json()["order_id"] for a in (first, second, theirs))
    assert bridge.client.cancel(seller, first_id).json()["status"] == "cancelled"
    taken = bridge.client.match(buyer, their_id, eth_address=BUYER_ADDR)
    assert taken.status_code == 200, taken.text

    mine = ids(bridge, seller.address)
    assert set(mine) == {first_id, second_id}  # the cancelled one too
    assert ids(bridge, buyer.address) == [their_id]  # as taker
    assert ids(bridge, other.address) == [their_id]  # as maker, now matched
    assert ids(bridge, seller.address, limit="1", offset="1") == [mine[1]]
    # Upper-case hex names the same wallet (the node's canonical spelling is lower case).
    assert set(ids(bridge, "RTC" + seller.address[3:].upper())) == set(mine)
    assert ids(bridge, Wallet().address) == []
    # Without `wallet` the read is still the open book only.
    book = bridge.client.http.get("/api/orders").json()["orders"]
    assert [o["order_id"] for o in book] == [second_id]


@pytest.mark.parametrize("bad", ["", "RTC123", "0x" + "11" * 20, "RTC" + "g" * 40])
def test_a_malformed_wallet_is_refused(bad: str) -> None:
    with pytest.raises(InvalidRequest, match=r"^wallet_must_be_native_rtc_address$"):
        list_orders({"wallet": bad})


def test_a_malformed_wallet_is_a_400_over_http(bridge: RunningBridge) -> None:
    answer = bridge.client.http.get("/api/orders", params={"wallet": "alice"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "wallet_must_be_native_rtc_address"


def test_a_wallet_read_never_comes_from_the_market_snapshots(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    """The market's answers are cached per pair and query; a wallet's orders (every
    status, moves the market does not see) are read afresh every time."""
    seller, other = Wallet(), Wallet()
    devnet.faucet(seller.address, "50")
    devnet.faucet(other.address, "50")
    made = [
        bridge.client.create_order(
            wallet, side="sell", amount_rtc="1", price_per_rtc="0.1",
            htlc_hash=Secret().hash, eth_address=USDC_ADDR,
        ).json()["order_id"]
        for wallet in (seller, other)
    ]  # fmt: skip
    for _ in range(2):  # warm the market's snapshot of the same page
        assert {
            o["order_id"] for o in bridge.client.http.get("/api/orders").json()["orders"]
        } == set(made)
    assert ids(bridge, seller.address) == [made[0]]
    assert bridge.client.cancel(seller, made[0]).json()["status"] == "cancelled"
    assert ids(bridge, seller.address) == [made[0]]
    assert ids(bridge, other.address) == [made[1]]
