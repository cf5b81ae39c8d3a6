"""The quote lock through the bridge, against the devnode's own anvil: refusals of the
lock route that change nothing (a wrong receiver, one lock for two orders, a lock not yet
final, a chain that cannot be asked), and the `quote_locked` driver step: a claim seen on
chain settles the order by itself (I6), an expired unclaimed lock refunds the seller (I5).

The full swaps with exact balances and every bad lock are in the quote-leg integration
suite; these are the bridge's own rules around the route and the step."""

from __future__ import annotations

from pathlib import Path

from eth_utils.address import to_checksum_address

from otc_bridge.adapters.evm.writer import HtlcWriter
from otc_bridge.clientlib.wallet import Secret, Wallet
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.devnet.process import DevnodeProcess
from tests.support.bridge import RunningBridge, bridge_env, running_bridge
from tests.support.chain import fund, lock_on_chain, locked, make_final

SELLER_ADDR = "0x" + "a1" * 20
BUYER_ADDR = "0x" + "b2" * 20
DAY = 86400


def matched_sell(bridge: RunningBridge, devnet: DevnetControl) -> tuple[str, Wallet, Secret]:
    seller, buyer, secret = Wallet(), Wallet(), Secret()
    devnet.faucet(seller.address, "100")
    created = bridge.client.create_order(
        seller,
        side="sell",
        amount_rtc="3",
        price_per_rtc="0.1",
        htlc_hash=secret.hash,
        eth_address=SELLER_ADDR,
    )
    assert created.status_code == 201, created.text
    order_id = created.json()["order_id"]
    matched = bridge.client.match(buyer, order_id, eth_address=BUYER_ADDR)
    assert matched.status_code == 200, matched.text
    return order_id, seller, secret


def unchanged(bridge: RunningBridge, order_id: str, version: int) -> None:
    order = bridge.client.order(order_id)
    assert (order["status"], order["version"], order["quote_lock"]) == ("matched", version, None)


def test_a_lock_to_another_receiver_is_refused_with_what_the_chain_shows(
    bridge: RunningBridge, devnet: DevnetControl, devchain: Devchain
) -> None:
    order_id, _, _ = matched_sell(bridge, devnet)
    version = bridge.client.order(order_id)["version"]
    stranger = "0x" + "c3" * 20
    made = lock_on_chain(
        devchain, bridge.client.order(order_id), now=bridge.client.now(), receiver=stranger
    )
    make_final(devchain)
    refused = bridge.client.report_lock(order_id, quote_tx=made.tx.tx_hash)
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["error"] == "wrong_receiver"
    assert body["observed"].lower() == stranger
    assert body["expected"].lower() == SELLER_ADDR
    unchanged(bridge, order_id, version)


def test_one_lock_backs_one_order_only(
    bridge: RunningBridge, devnet: DevnetControl, devchain: Devchain
) -> None:
    """Two orders with the same terms and parties: the lock made for the first one would
    pass every check of the second, and is refused there as lock_already_used."""
    first, _, secret = matched_sell(bridge, devnet)
    seller, buyer = Wallet(), Wallet()
    devnet.faucet(seller.address, "100")
    second = bridge.client.create_order(
        seller, side="sell", amount_rtc="3", price_per_rtc="0.1", htlc_hash=secret.hash,
        eth_address=SELLER_ADDR,
    ).json()["order_id"]  # fmt: skip
    assert bridge.client.match(buyer, second, eth_address=BUYER_ADDR).status_code == 200
    done = locked(bridge.client, devchain, first)
    version = bridge.client.order(second)["version"]
    refused = bridge.client.report_lock(second, lock_id=done.lock_id)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "lock_already_used"
    unchanged(bridge, second, version)
    again = bridge.client.report_lock(first, quote_tx=done.tx_hash)  # idempotent
    assert again.status_code == 200, again.text
    assert again.json()["order"]["quote_lock"]["lock_id"] == done.lock_id


def test_a_lock_not_yet_final_is_refused_with_a_retry_time(
    bridge: RunningBridge, devnet: DevnetControl, devchain: Devchain
) -> None:
    order_id, _, _ = matched_sell(bridge, devnet)
    version = bridge.client.order(order_id)["version"]
    made = lock_on_chain(devchain, bridge.client.order(order_id), now=bridge.client.now())
    refused = bridge.client.report_lock(order_id, lock_id=made.lock_id)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "not_final"
    assert int(refused.headers["Retry-After"]) >= 1
    unchanged(bridge, order_id, version)
    make_final(devchain)
    accepted = bridge.client.report_lock(order_id, lock_id=made.lock_id)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["order"]["status"] == "quote_locked"


def test_a_chain_that_cannot_be_asked_is_503_and_changes_nothing(
    node: DevnodeProcess, devnet: DevnetControl, tmp_path: Path
) -> None:
    env = bridge_env(node, tmp_path, OTC_EVM_RPC_URL="http://127.0.0.1:9")  # nothing listens
    with running_bridge(env) as bridge:
        order_id, _, _ = matched_sell(bridge, devnet)
        version = bridge.client.order(order_id)["version"]
        refused = bridge.client.report_lock(order_id, quote_tx="0x" + "ab" * 32)
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"] == "chain_unreachable"
        assert "Retry-After" in refused.headers
        unchanged(bridge, order_id, version)
        health = bridge.client.http.get("/healthz").json()
        assert [c["status"] for c in health["chains"]] == ["unreachable"]


def test_a_claim_on_chain_settles_the_order_without_a_confirm(
    bridge: RunningBridge, devnet: DevnetControl, devchain: Devchain
) -> None:
    """I6: the seller claims the quote leg directly; the driver reads the claim's
    preimage from the chain's final view and pays the buyer (cause quote_claimed)."""
    order_id, _, secret = matched_sell(bridge, devnet)
    done = locked(bridge.client, devchain, order_id)
    web3 = fund(devchain, SELLER_ADDR)
    claimer = HtlcWriter(web3, devchain.info.htlc_contract, to_checksum_address(SELLER_ADDR))
    claimer.claim(done.lock_id, "0x" + secret.hex)
    make_final(devchain)
    deadlines = bridge.client.order(order_id)["deadlines"]
    devnet.advance_clock(deadlines["claim_deadline"] - bridge.container.clock.now())
    devchain.control.mine(devchain.info.finality_confirmations)
    bridge.run_worker()
    order = bridge.client.order(order_id)
    assert order["status"] in {"settling", "payout_pending"}, order["status"]
    causes = [e["cause"] for e in bridge.client.events(order_id)]
    assert "quote_claimed" in causes
    assert "htlc_secret" not in order  # I3: not before completion


def test_an_expired_unclaimed_lock_refunds_the_seller_and_ends_the_order(
    bridge: RunningBridge, devnet: DevnetControl, devchain: Devchain
) -> None:
    """I5: never before the chain's final view shows the lock past T_q and unclaimed."""
    order_id, seller, _ = matched_sell(bridge, devnet)
    locked(bridge.client, devchain, order_id)
    deadlines = bridge.client.order(order_id)["deadlines"]
    devnet.advance_clock(deadlines["claim_deadline"] - bridge.container.clock.now())
    bridge.run_worker()
    assert bridge.client.order(order_id)["status"] == "quote_locked"  # still claimable
    devnet.advance_clock(deadlines["refundable_at"] - bridge.container.clock.now())
    devchain.control.mine(devchain.info.finality_confirmations)
    for _ in range(3):  # the expiry, then the refund's confirmation on the node
        bridge.run_worker()
    order = bridge.client.order(order_id)
    assert order["status"] == "expired", order["status"]
    causes = [e["cause"] for e in bridge.client.events(order_id)]
    assert "lock_expired" in causes
    assert devnet.balance_i64(seller.address) == 100_000_000  # the escrow came back whole
