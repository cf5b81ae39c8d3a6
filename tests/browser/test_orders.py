"""Orders signed by a key made in the page: the bridge accepts them, the escrow the node
takes matches the page's preview (its 5 % fee included), the seller's secret stays in the
browser, and bad input is refused in plain words with nothing created."""

from __future__ import annotations

import hashlib
import re

from playwright.sync_api import expect

from otc_bridge.devnet.control import DevnetControl
from otc_bridge.domain.rustchain import ESCROW_WALLET
from tests.browser.trading_page import TradingPage
from tests.support.bridge import RunningBridge

SELLER_ADDR = "0x" + "aa" * 20
BUYER_ADDR = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55 checksummed


def open_orders(bridge: RunningBridge) -> list[dict[str, object]]:
    orders: list[dict[str, object]] = bridge.client.http.get("/api/orders").json()["orders"]
    return orders


def test_a_buy_order_signed_in_the_page_is_accepted(
    trading_page: TradingPage, bridge: RunningBridge, devnet: DevnetControl
) -> None:
    page = trading_page.open()
    address = page.create_key()
    page.fill_order(side="buy", amount="2.5", price="0.2", address=BUYER_ADDR, ttl=86400)
    expect(page.by_id("preview-summary")).to_have_text("Buy 2.5 RTC at 0.2 USDC per RTC.")
    expect(page.by_id("preview-total")).to_have_text("Total: 0.5 USDC.")
    expect(page.by_id("preview-escrow")).to_contain_text("Nothing is locked now")
    expect(page.by_id("preview-deadlines")).to_contain_text("the buyer has 1 h to lock the USDC")
    result = page.place_order()
    expect(result).to_have_attribute("data-kind", "ok")
    order_id = page.placed_order_id()
    expect(result).to_contain_text("placed: open")

    order = bridge.client.order(order_id)
    assert order["maker_wallet"] == address
    assert (order["side"], order["status"], order["pair"]) == ("buy", "open", "RTC/USDC")
    assert order["amount_micro_rtc"] == 2_500_000
    assert order["price_per_rtc_nano_quote"] == 200_000_000
    assert order["total_quote_base_units"] == "500000"
    assert order["maker_eth_address"] == BUYER_ADDR
    assert order["expires_at"] - order["created_at"] == 86400
    assert devnet.balance_i64(address) == 0  # a buy order locks nothing
    bids = page.page.locator("#book tbody.bids tr.level")
    expect(bids).to_have_count(1)
    expect(bids.first).to_contain_text("0.2")
    page.screen("buy-placed")


def test_a_sell_order_locks_the_escrow_the_page_previewed(
    trading_page: TradingPage, bridge: RunningBridge, devnet: DevnetControl
) -> None:
    page = trading_page.open()
    address = page.create_key()
    devnet.faucet(address, "20")
    escrow_before = devnet.balance_i64(ESCROW_WALLET)
    page.fill_order(side="sell", amount="10", price="0.1", address=SELLER_ADDR)
    expect(page.by_id("preview-escrow")).to_have_text(
        "Locked now in escrow on the RustChain node: 10.5 RTC (10 RTC plus the node's 5 % fee "
        "of 0.5 RTC). Your RTC balance must cover it."
    )
    page.screen("sell-preview")
    result = page.place_order()
    expect(result).to_have_attribute("data-kind", "ok")
    order_id = page.placed_order_id()
    expect(result).to_contain_text("10.5 RTC is locked in escrow on the RustChain node")

    order = bridge.client.order(order_id)
    assert (order["maker_wallet"], order["status"], order["side"]) == (address, "open", "sell")
    assert order["escrow_job_id"]
    assert order["secret_origin"] == "client"
    assert devnet.balance_i64(address) == 20_000_000 - 10_500_000
    assert devnet.balance_i64(ESCROW_WALLET) - escrow_before == 10_500_000
    expect(result).to_contain_text(order["escrow_job_id"])

    secret_box = page.by_id(f"secret-{order_id}")
    expect(secret_box).to_be_visible()
    secret = secret_box.input_value()
    assert re.fullmatch(r"[0-9a-f]{64}", secret)
    assert hashlib.sha256(bytes.fromhex(secret)).hexdigest() == order["htlc_hash"]
    assert all(secret not in body for body in page.sent_bodies), "the secret left the browser"
    assert any(order["htlc_hash"] in body for body in page.sent_bodies)
    page.screen("sell-placed")
    page.page.get_by_role("button", name="I have saved it").click()
    expect(secret_box).to_have_count(0)


def test_bad_input_is_refused_in_plain_words_and_nothing_is_created(
    trading_page: TradingPage, bridge: RunningBridge, devnet: DevnetControl
) -> None:
    page = trading_page.open()
    address = page.create_key()
    devnet.faucet(address, "5")

    page.fill_order(side="sell", amount="0.05", price="0.2", address=SELLER_ADDR)
    expect(page.page.locator("#order-preview .warn-text")).to_contain_text("Below the minimum")
    result = page.place_order()
    expect(result).to_have_attribute("data-kind", "error")
    expect(result).to_have_text(
        "The bridge refused the order; nothing was created. "
        "The amount is below the minimum order of 0.1 RTC."
    )
    page.screen("refused-by-the-bridge")

    posts = len(page.sent_bodies)
    page.fill_order(side="sell", amount="1", price="1.2.3", address=SELLER_ADDR)
    page.by_id("place-order").click()
    expect(page.by_id("price")).to_be_focused()
    expect(page.by_id("price")).to_have_attribute("aria-invalid", "true")
    words = "The price must be a number, like 0.25."
    expect(page.by_id("price-error")).to_have_text(words)
    expect(result).to_have_text(f"The order was not sent: {words}")
    assert len(page.sent_bodies) == posts, "a malformed price is never signed or sent"
    # The bridge refuses the same text with the error those words translate.
    raw = bridge.client.http.post(
        "/api/orders",
        json={"side": "sell", "pair": "RTC/USDC", "wallet": address, "amount_rtc": "1",
              "price_per_rtc": "1.2.3", "eth_address": SELLER_ADDR},
    )  # fmt: skip
    assert (raw.status_code, raw.json()["error"]) == (
        400,
        "price_per_rtc must be a finite decimal number",
    )
    page.screen("refused-by-the-page")

    assert open_orders(bridge) == []
    assert devnet.balance_i64(address) == 5_000_000


def test_an_escrow_lock_of_unknown_outcome_is_never_reported_as_done_or_undone(
    trading_page: TradingPage, bridge: RunningBridge, devnet: DevnetControl
) -> None:
    page = trading_page.open()
    address = page.create_key()
    devnet.faucet(address, "20")
    devnet.add_fault("POST /agent/jobs", "drop")  # the node locks, the answer is lost
    devnet.add_fault("GET /agent/jobs", "gateway_error")  # and the bridge cannot look it up
    page.fill_order(side="sell", amount="2", price="0.1", address=SELLER_ADDR)
    result = page.place_order()
    expect(result).to_have_attribute("data-kind", "error")
    expect(result).not_to_contain_text("nothing was created")
    expect(result).to_contain_text("The node did not confirm the escrow lock.")
    order_id = re.search(r"Order (otc_[0-9a-f]{16})", result.inner_text())
    assert order_id is not None, result.inner_text()
    order = bridge.client.order(order_id.group(1))
    assert order["status"] == "opening"  # the bridge's worker settles it, never the page
    secret = page.by_id(f"secret-{order['order_id']}").input_value()
    assert hashlib.sha256(bytes.fromhex(secret)).hexdigest() == order["htlc_hash"]
    page.screen("escrow-outcome-unknown")
