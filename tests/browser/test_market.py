"""The market view shows what the API serves: the book with its depth, the spread, the
last price, the 24 h figures and the recent trades."""

from __future__ import annotations

import re
import threading
import time
from decimal import Decimal

from playwright.sync_api import Locator, expect

from otc_bridge.adapters.evm.writer import HtlcWriter
from otc_bridge.clientlib.wallet import Secret, Wallet
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.domain.money import format_units
from tests.browser.trading_page import TradingPage
from tests.support.bridge import RunningBridge

SELLER_ADDR = "0x" + "aa" * 20
BUYER_ADDR = "0x" + "bb" * 20
PAYOUT_POLL = 30  # the bridge's default OTC_PAYOUT_POLL_SECONDS


def locked_and_reported(
    bridge: RunningBridge, chain: Devchain, order_id: str, secret: Secret, seller: str, buyer: str
) -> str:
    """B's real lock on the dev chain, reported until the bridge counts it final."""
    order = bridge.client.order(order_id)
    writer = HtlcWriter.connect(chain.rpc_url, chain.info.htlc_contract, buyer)
    made = writer.lock(
        receiver=seller,
        hashlock=secret.hash,
        timelock=chain.control.head().timestamp + 6 * 3600,
        amount=int(order["total_quote_base_units"]),
        token=chain.info.usdc_token,
        order_ref=order_id,
    )
    end = time.monotonic() + 30
    pause = threading.Event()
    while True:
        reported = bridge.client.http.post(
            f"/api/orders/{order_id}/lock", json={"quote_tx": made.tx.tx_hash}
        )
        if reported.status_code == 200:
            return made.tx.tx_hash
        assert reported.json()["error"] == "not_final", reported.text
        assert time.monotonic() < end, reported.text
        pause.wait(0.5)  # a block a second: final after two


def seed_market(bridge: RunningBridge, devnet: DevnetControl, chain: Devchain) -> str:
    """Open orders on both sides and one completed trade; returns the trade's order id."""
    client = bridge.client
    seller, buyer = Wallet(), Wallet()
    devnet.faucet(seller.address, "100")
    for amount, price in (("1", "0.12"), ("2", "0.12"), ("3", "0.15")):
        created = client.create_order(
            seller,
            side="sell",
            amount_rtc=amount,
            price_per_rtc=price,
            eth_address=SELLER_ADDR,
            htlc_hash=Secret().hash,
        )
        assert created.status_code == 201, created.text
    for amount, price in (("4", "0.1"), ("1.5", "0.09")):
        created = client.create_order(
            buyer, side="buy", amount_rtc=amount, price_per_rtc=price, eth_address=BUYER_ADDR
        )
        assert created.status_code == 201, created.text
    secret = Secret()
    traded = client.create_order(
        seller,
        side="sell",
        amount_rtc="1",
        price_per_rtc="0.11",
        eth_address=chain.info.accounts[3],
        htlc_hash=secret.hash,
    ).json()["order_id"]
    assert isinstance(traded, str)
    taker = chain.info.accounts[4]
    assert client.match(Wallet(), traded, eth_address=taker).status_code == 200
    quote_tx = locked_and_reported(bridge, chain, traded, secret, chain.info.accounts[3], taker)
    confirmed = client.confirm(traded, wallet=seller.address, secret=secret.hex, quote_tx=quote_tx)
    assert confirmed.status_code == 200, confirmed.text
    devnet.tick()  # the devnode of this suite confirms payouts at once
    devnet.advance_clock(PAYOUT_POLL + 1)  # the bridge reads the payout's status next poll
    bridge.run_worker()
    assert client.order(traded)["status"] == "completed"
    return traded


def price(nano: int) -> str:
    return format_units(nano, 9)


def rtc(micro: int) -> str:
    return format_units(micro, 6)


def as_js_number(value: float) -> str:
    """How JavaScript prints a JSON number (1.0 → "1")."""
    text: str = format(Decimal(repr(value)).normalize(), "f")
    return text


def test_market_view_shows_the_book_spread_last_price_and_trades(
    trading_page: TradingPage, bridge: RunningBridge, devnet: DevnetControl, chain: Devchain
) -> None:
    traded = seed_market(bridge, devnet, chain)
    book = bridge.client.http.get("/api/orderbook", params={"pair": "RTC/USDC"}).json()
    trades = bridge.client.http.get("/api/trades", params={"pair": "RTC/USDC"}).json()["trades"]
    assert [t["order_id"] for t in trades] == [traded]

    page = trading_page.open()
    rows = page.page.locator("#book tbody.asks tr")
    expected_asks = [
        [price(lv["price_nano"]), rtc(lv["total_micro_rtc"]), str(lv["order_count"])]
        for lv in reversed(book["asks"])  # highest ask on top, best ask next to the spread
    ]
    expect(rows).to_have_count(len(expected_asks))
    assert [[r[0], r[1], r[3]] for r in _cells(rows)] == expected_asks
    assert _cells(rows)[-1][2] == "3"  # depth: the best ask level alone
    assert _cells(rows)[0][2] == "6"  # depth: cumulative up to the highest ask
    bids = page.page.locator("#book tbody.bids tr")
    expected_bids = [[price(lv["price_nano"]), rtc(lv["total_micro_rtc"])] for lv in book["bids"]]
    assert [[r[0], r[1]] for r in _cells(bids)] == expected_bids
    assert expected_bids == [["0.1", "4"], ["0.09", "1.5"]]

    spread = price(book["asks"][0]["price_nano"] - book["bids"][0]["price_nano"])
    assert spread == "0.02"
    expect(page.by_id("stat-spread")).to_have_text("0.02 USDC (18.18 %)")
    expect(page.page.locator("#book .spread-row")).to_contain_text("Spread: 0.02 USDC")
    expect(page.by_id("stat-last")).to_have_text(
        f"{price(trades[0]['price_per_rtc_nano_quote'])} USDC"
    )
    assert book["last_price"] == 0.11
    expect(page.by_id("stat-volume")).to_have_text(f"{as_js_number(book['volume_24h_rtc'])} RTC")
    expect(page.by_id("stat-trades")).to_have_text(str(book["trades_24h"]))
    expect(page.by_id("stat-range")).to_have_text("0.11 / 0.11 USDC")

    trade_rows = _cells(page.page.locator("#trades tbody tr"))
    assert [r[1:] for r in trade_rows] == [["0.11", "1", "0.11"]]
    expect(page.by_id("freshness")).to_have_text(re.compile(r"^Updated (just now|\d+ s ago)$"))
    page.screen("market")

    # Another pair: its own (empty) book, and the view follows the selector.
    page.by_id("pair").select_option("RTC/ETH")
    expect(page.page.locator("#book caption")).to_contain_text("RTC/ETH")
    expect(page.page.locator("#book tbody.asks")).to_have_text("No sell orders")
    expect(page.by_id("stat-last")).to_have_text("no trades yet")


def _cells(rows: Locator) -> list[list[str]]:
    return [
        [c.strip() for c in rows.nth(i).locator("td").all_inner_texts()]
        for i in range(rows.count())
    ]
