"""Whole swaps through the page only: two traders, each in a browser of their own, with
the page's built-in wallet over the dev chain's unlocked accounts, against a real anvil
(HTLC and devnet USDC), a devnode and the bridge. Every test checks what the page shows
against the API, the devnode's ledger and the chain, and saves screenshots.

The bridge's worker is run by the test where the embedded worker would run it: the chain
watcher's poll (an on-chain claim settles the order at once), the reconciler's pass (the
payout's confirmation, the quote_locked step that refunds an expired lock).
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from typing import Any

import pytest
from playwright.sync_api import ViewportSize, expect
from web3 import Web3

from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.domain.rustchain import ESCROW_WALLET
from tests.browser.conftest import Opener
from tests.browser.trading_page import TradingPage
from tests.support.bridge import RunningBridge

PRICES = {"ETH": ("RTC/ETH", "0.001", 2 * 10**15), "USDC": ("RTC/USDC", "0.25", 500_000)}
AMOUNT_RTC, AMOUNT_MICRO, ESCROW_MICRO = "2", 2_000_000, 2_100_000  # 5 % node fee
FAUCET_RTC, FAUCET_MICRO = "10", 10_000_000
PHONE = ViewportSize(width=360, height=780)
SMALL_PHONE = ViewportSize(width=375, height=740)
ERC20 = [
    {
        "type": "function",
        "name": "balanceOf",
        "stateMutability": "view",
        "inputs": [{"name": "owner", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    }
]
HTLC = [
    {
        "type": "function",
        "name": "getLock",
        "stateMutability": "view",
        "inputs": [{"name": "id", "type": "bytes32"}],
        "outputs": [
            {"name": "sender", "type": "address"},
            {"name": "receiver", "type": "address"},
            {"name": "token", "type": "address"},
            {"name": "amount", "type": "uint256"},
            {"name": "hashlock", "type": "bytes32"},
            {"name": "timelock", "type": "uint256"},
            {"name": "orderRef", "type": "bytes32"},
            {"name": "state", "type": "uint8"},
        ],
    }
]
LOCKED, CLAIMED, REFUNDED = 1, 2, 3
PAYOUT_POLL = 30  # the bridge's default OTC_PAYOUT_POLL_SECONDS


class Chain:
    """The test's own view of the chain (web3 over the same RPC), to check the page."""

    def __init__(self, devchain: Devchain) -> None:
        self.w3 = Web3(Web3.HTTPProvider(devchain.rpc_url))
        self.info = devchain.info
        self.htlc = self.w3.eth.contract(
            address=Web3.to_checksum_address(devchain.info.htlc_contract), abi=HTLC
        )
        self.usdc = self.w3.eth.contract(
            address=Web3.to_checksum_address(devchain.info.usdc_token), abi=ERC20
        )

    def balance(self, currency: str, account: str) -> int:
        address = Web3.to_checksum_address(account)
        if currency == "ETH":
            return int(self.w3.eth.get_balance(address))
        return int(self.usdc.functions.balanceOf(address).call())

    def gas_paid(self, tx_hash: str) -> int:
        receipt = self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        return int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])

    def lock(self, lock_id: str) -> dict[str, Any]:
        sender, receiver, token, amount, hashlock, timelock, _, state = self.htlc.functions.getLock(
            bytes.fromhex(lock_id[2:])
        ).call()
        return {
            "sender": sender,
            "receiver": receiver,
            "token": token,
            "amount": amount,
            "hashlock": hashlock.hex(),
            "timelock": timelock,
            "state": state,
        }


@pytest.fixture
def evm(chain: Devchain) -> Chain:
    return Chain(chain)


def until_status(
    bridge: RunningBridge, devnet: DevnetControl, order_id: str, wanted: str, seconds: float = 60
) -> None:
    """Run what the bridge's worker runs (the chain watcher's poll, the reconciler's pass)
    and the node's confirmation tick until the order reaches `wanted` (a deadline, no
    guessing)."""
    end = time.monotonic() + seconds
    pause = threading.Event()
    while True:
        for watcher in bridge.container.watchers.chains:
            watcher.poll_once()
        bridge.run_worker()
        devnet.tick()  # this suite's devnode confirms payouts at its next tick
        status = bridge.client.order(order_id)["status"]
        if status == wanted:
            return
        assert time.monotonic() < end, f"{order_id} stayed {status}, never {wanted}"
        if status == "payout_pending":
            devnet.advance_clock(PAYOUT_POLL + 1)  # the bridge reads the payout next poll
        pause.wait(0.25)  # the poll's interval: the chain mines a block a second


def tx_in(text: str) -> str:
    found = re.search(r"transaction (0x[0-9a-f]{64})", text)
    assert found is not None, text
    return found.group(1)


def expect_a_finished_order(page: TradingPage, status: str, events: list[dict[str, Any]]) -> None:
    """An ended order, with nothing left for this trader to do, shows how it ended and
    the status changes of its history with their times: no settlement step, no deadline
    or countdown any more."""
    page.expect_status(status)
    expect(page.by_id("order-outcome")).to_have_attribute("data-status", status)
    expect(page.by_id("order-outcome")).to_contain_text(status.capitalize())
    expect(page.by_id("order-deadlines")).to_have_count(0)
    expect(page.page.locator("#order-detail [data-deadline]")).to_have_count(0)
    changes = [e for e in events if e["from"] != e["to"]]
    timeline = page.page.locator("#order-timeline li")
    expect(timeline).to_have_count(len(changes))
    assert timeline.evaluate_all("rows => rows.map((r) => r.dataset.cause)") == [
        e["cause"] for e in changes
    ]
    expect(page.page.locator('#order-timeline li[data-cause="step"]')).to_have_count(0)
    expect(page.page.locator("#order-timeline")).not_to_contain_text("Settlement step")


class Swap:
    """Two traders on one pair, each with an RTC key and a dev-chain account."""

    def __init__(
        self, trader: Opener, devnet: DevnetControl, chain: Devchain, currency: str
    ) -> None:
        self.currency = currency
        self.pair, self.price, self.total = PRICES[currency]
        self.seller_account, self.buyer_account = chain.info.accounts[1], chain.info.accounts[2]
        self.seller = trader("seller").open(f"?pair={self.pair}")
        self.buyer = trader("buyer").open(f"?pair={self.pair}")
        self.seller_rtc = self.seller.create_key()
        self.buyer_rtc = self.buyer.create_key()
        devnet.faucet(self.seller_rtc, FAUCET_RTC)
        self.seller.use_dev_wallet(self.seller_account)
        self.buyer.use_dev_wallet(self.buyer_account)
        self.secret = ""

    def place(self, side: str) -> str:
        """The maker places the order and the taker takes it from the open orders."""
        maker, taker = (self.seller, self.buyer) if side == "sell" else (self.buyer, self.seller)
        own, other = (
            (self.seller_account, self.buyer_account)
            if side == "sell"
            else (self.buyer_account, self.seller_account)
        )
        maker.fill_order(side=side, amount=AMOUNT_RTC, price=self.price, address=own)
        expect(maker.place_order()).to_have_attribute("data-kind", "ok")
        order_id = maker.placed_order_id()
        maker.expect_order(order_id)
        expect(taker.page.locator(f'button[data-take="{order_id}"]')).to_be_visible()
        taker.picture("trading-page")  # the market with the order to take (the README's)
        taker.take(order_id, other)
        self.secret = self.seller.save_secret(order_id)
        return order_id

    def lock(self, order_id: str) -> dict[str, Any]:
        self.buyer.expect_status("matched")
        self.buyer.expect_next("lock_quote")
        self.buyer.screen("lock-quote")
        result = self.buyer.act("lock-quote")
        expect(result).to_have_attribute("data-kind", "ok")
        expect(result).to_contain_text("verified by the bridge")
        self.buyer.expect_status("quote_locked")
        self.buyer.expect_next("wait_for_reveal")
        self.seller.expect_order(order_id)
        self.seller.expect_status("quote_locked")  # live, from the order's stream
        self.seller.expect_next("reveal")
        order: dict[str, Any] = self.seller.bridge.client.order(order_id)
        return order


@pytest.mark.parametrize("currency", ["ETH", "USDC"])
@pytest.mark.parametrize("side", ["sell", "buy"])
def test_a_whole_swap_through_the_page(
    trader: Opener,
    bridge: RunningBridge,
    devnet: DevnetControl,
    chain: Devchain,
    evm: Chain,
    side: str,
    currency: str,
) -> None:
    swap = Swap(trader, devnet, chain, currency)
    escrow_before = devnet.balance_i64(ESCROW_WALLET)
    seller_before = evm.balance(currency, swap.seller_account)
    buyer_before = evm.balance(currency, swap.buyer_account)
    order_id = swap.place(side)
    assert devnet.balance_i64(swap.seller_rtc) == FAUCET_MICRO - ESCROW_MICRO
    assert devnet.balance_i64(ESCROW_WALLET) - escrow_before == ESCROW_MICRO

    order = swap.lock(order_id)
    lock = evm.lock(order["quote_lock"]["lock_id"])
    assert lock["state"] == LOCKED
    assert (lock["sender"], lock["receiver"]) == (swap.buyer_account, swap.seller_account)
    assert lock["amount"] == swap.total == int(order["total_quote_base_units"])
    assert lock["hashlock"] == order["htlc_hash"]
    assert lock["timelock"] == order["deadlines"]["quote_timelock"]
    if currency == "USDC":
        assert evm.balance(currency, swap.buyer_account) == buyer_before - swap.total
    secret = swap.secret
    assert hashlib.sha256(bytes.fromhex(secret)).hexdigest() == order["htlc_hash"]
    for page in (swap.seller, swap.buyer):
        assert all(secret not in body for body in page.sent_bodies), "sent before the reveal"
    swap.seller.screen("reveal")

    result = swap.seller.act("reveal")
    expect(result).to_have_attribute("data-kind", "ok")
    assert any(secret in body for body in swap.seller.sent_to_bridge())  # only now
    until_status(bridge, devnet, order_id, "completed")
    swap.buyer.expect_status("completed")
    swap.buyer.expect_next("none")
    swap.seller.expect_status("completed")
    swap.seller.expect_next("claim_quote")
    claimed = swap.seller.act("claim-quote")
    expect(claimed).to_have_attribute("data-kind", "ok")
    expect(swap.seller.by_id("claimed-note")).to_be_visible()
    swap.seller.screen("completed-and-claimed")
    swap.buyer.screen("completed")
    swap.seller.picture("order-view", "order-detail")  # the README's pictures

    # The page's story against the API, the ledger and the chain.
    done = bridge.client.order(order_id)
    assert done["status"] == "completed"
    assert done["htlc_secret"] == secret
    events = bridge.client.events(order_id)
    causes = [e["cause"] for e in events]
    assert "lock_verified" in causes
    assert "confirm" in causes
    assert causes[-1] == "payout_confirmed"
    assert "step" in causes  # the settlement's own progress, which traders are not shown
    for page in (swap.seller, swap.buyer):
        expect_a_finished_order(page, "completed", events)
    assert devnet.balance_i64(swap.buyer_rtc) == AMOUNT_MICRO
    assert devnet.balance_i64(swap.seller_rtc) == FAUCET_MICRO - ESCROW_MICRO
    assert evm.lock(order["quote_lock"]["lock_id"])["state"] == CLAIMED
    seller_gain = evm.balance(currency, swap.seller_account) - seller_before
    if currency == "USDC":
        assert seller_gain == swap.total
        assert evm.balance(currency, swap.buyer_account) == buyer_before - swap.total
    else:  # the seller's account paid gas for the claim; the buyer's for the lock
        assert seller_gain + evm.gas_paid(tx_in(claimed.inner_text())) == swap.total


def test_a_maker_cancels_an_open_order_at_phone_width_with_the_keyboard(
    trader: Opener, bridge: RunningBridge, devnet: DevnetControl, chain: Devchain
) -> None:
    seller = trader(viewport=PHONE).open("?pair=RTC/USDC")
    address = seller.create_key()
    devnet.faucet(address, FAUCET_RTC)
    seller.fill_order(side="sell", amount=AMOUNT_RTC, price="0.25", address=chain.info.accounts[1])
    expect(seller.place_order()).to_have_attribute("data-kind", "ok")
    order_id = seller.placed_order_id()
    seller.save_secret(order_id)
    seller.expect_order(order_id)
    seller.expect_next("wait_for_match")  # and the maker may cancel until someone matches
    assert devnet.balance_i64(address) == FAUCET_MICRO - ESCROW_MICRO
    width = seller.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the order view scrolls sideways on a phone"
    seller.screen("open-order-phone")

    result = seller.by_id("action-result")
    seller.by_id("cancel-order").focus()
    seller.page.keyboard.press("Enter")
    expect(result).to_have_attribute("data-actions", "1")
    expect(result).to_have_attribute("data-kind", "ok")
    expect(result).to_be_focused()  # the outcome is where focus lands
    seller.expect_status("cancelled")
    expect(seller.page.locator(f'#my-orders-list li[data-order="{order_id}"]')).to_contain_text(
        "cancelled"
    )
    expect_a_finished_order(seller, "cancelled", bridge.client.events(order_id))
    expect(seller.by_id("order-outcome")).to_contain_text("its maker cancelled it")
    seller.screen("cancelled-phone")
    assert bridge.client.order(order_id)["status"] == "cancelled"
    assert devnet.balance_i64(address) == FAUCET_MICRO


def test_the_buyer_refunds_after_the_timelock_when_the_seller_never_reveals(
    trader: Opener,
    bridge: RunningBridge,
    devnet: DevnetControl,
    chain: Devchain,
    evm: Chain,
) -> None:
    swap = Swap(trader, devnet, chain, "USDC")
    buyer_before = evm.balance("USDC", swap.buyer_account)
    order_id = swap.place("sell")
    # A lock from another account than the one the buyer gave would be refused by the
    # bridge: the page says so in words and sends nothing.
    other = chain.info.accounts[3]
    other_nonce = evm.w3.eth.get_transaction_count(Web3.to_checksum_address(other))
    swap.buyer.use_dev_wallet(other)
    refused = swap.buyer.act("lock-quote")
    expect(refused).to_have_attribute("data-kind", "error")
    expect(refused).to_have_text(
        f"Choose the account {swap.buyer_account} in “Quote wallet”: it is the address you "
        "gave for this order, and the bridge accepts a lock only from it."
    )
    swap.buyer.screen("lock-refused")
    assert evm.w3.eth.get_transaction_count(Web3.to_checksum_address(other)) == other_nonce
    assert bridge.client.order(order_id)["status"] == "matched"
    swap.buyer.use_dev_wallet(swap.buyer_account)
    order = swap.lock(order_id)
    lock_id = order["quote_lock"]["lock_id"]
    assert evm.balance("USDC", swap.buyer_account) == buyer_before - swap.total

    # Nobody reveals; the node's clock (and with it the chain's) passes the timelock and
    # the finality wait after it, when the bridge may refund the seller's escrow.
    devnet.advance_clock(order["deadlines"]["refundable_at"] - devnet.now() + 5)
    until_status(bridge, devnet, order_id, "expired")
    assert devnet.balance_i64(swap.seller_rtc) == FAUCET_MICRO  # S's escrow came back
    swap.buyer.expect_status("expired")
    swap.buyer.expect_next("refund_quote")
    swap.buyer.screen("refund")
    result = swap.buyer.act("refund-quote")
    expect(result).to_have_attribute("data-kind", "ok")
    expect(swap.buyer.by_id("refunded-note")).to_be_visible()
    swap.buyer.screen("refunded")
    assert evm.lock(lock_id)["state"] == REFUNDED
    assert evm.balance("USDC", swap.buyer_account) == buyer_before
    assert devnet.balance_i64(swap.buyer_rtc) == 0
    events = bridge.client.events(order_id)
    assert "lock_expired" in [e["cause"] for e in events]
    swap.buyer.expect_next("none")  # the lock is refunded: nothing is left to do
    expect_a_finished_order(swap.buyer, "expired", events)


def test_the_seller_claims_on_chain_and_the_bridge_settles_from_the_claim(
    trader: Opener,
    bridge: RunningBridge,
    devnet: DevnetControl,
    chain: Devchain,
    evm: Chain,
) -> None:
    swap = Swap(trader, devnet, chain, "USDC")
    seller_before = evm.balance("USDC", swap.seller_account)
    order_id = swap.place("sell")
    order = swap.lock(order_id)
    result = swap.seller.act("claim-instead")
    expect(result).to_have_attribute("data-kind", "ok")
    assert evm.lock(order["quote_lock"]["lock_id"])["state"] == CLAIMED
    assert evm.balance("USDC", swap.seller_account) - seller_before == swap.total
    secret = swap.secret
    assert all(secret not in body for body in swap.seller.sent_to_bridge()), "the chain has it"

    # The chain watcher sees the claim (once final) and settles with its preimage; nobody
    # calls the bridge, and no clock moves.
    until_status(bridge, devnet, order_id, "completed")
    swap.buyer.expect_status("completed")
    swap.seller.expect_status("completed")
    expect(swap.seller.by_id("claimed-note")).to_be_visible()
    swap.seller.screen("claimed-on-chain")
    claimed = [e for e in bridge.client.events(order_id) if e["cause"] == "quote_claimed"]
    assert [(e["from"], e["to"], e["actor"]) for e in claimed] == [
        ("quote_locked", "settling", "watcher")
    ]
    assert bridge.client.order(order_id)["htlc_secret"] == secret
    assert devnet.balance_i64(swap.buyer_rtc) == AMOUNT_MICRO

    # The buyer, on a phone with the same key, finds the order in "My orders": the
    # finished order reads whole at that width and passes the accessibility check.
    phone = trader("buyer-phone", viewport=SMALL_PHONE).open(f"?pair={swap.pair}")
    phone.import_seed(swap.buyer.export_seed())
    expect(phone.page.locator(f'#my-orders-list li[data-order="{order_id}"]')).to_contain_text(
        "completed"
    )
    phone.screen("my-orders-small-phone")
    phone.open_order(order_id)
    expect_a_finished_order(phone, "completed", bridge.client.events(order_id))
    width = phone.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= SMALL_PHONE["width"], "the order view scrolls sideways on a phone"
    phone.screen("completed-small-phone")
