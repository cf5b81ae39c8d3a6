"""Whole swaps in ETH through the trader CLI only (`otc …`), against anvil, the devnode and
the bridge; each checked against the devnode's ledger and the chain's balances."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from web3 import Web3

from otc_bridge.adapters.evm.writer import ERC20_ABI
from tests.trader.conftest import Party, Stack

RTC = 10**6
FAUCET_RTC = 100


def eth_balance(stack: Stack, address: str) -> int:
    web3 = Web3(Web3.HTTPProvider(stack.chain.rpc_url))
    return int(web3.eth.get_balance(Web3.to_checksum_address(address)))


def gas_cost(stack: Stack, tx_hash: str) -> int:
    web3 = Web3(Web3.HTTPProvider(stack.chain.rpc_url))
    receipt = web3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
    return int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])


def rtc_balance(stack: Stack, wallet: str) -> int:
    return stack.devnet.balance_i64(wallet)


def new_party(
    stack: Stack, name: str, account: int, tmp_path: Path, fund: bool, passphrase: str = ""
) -> Party:
    """A trader with an RTC key; with a passphrase, also an encrypted EVM key file of the
    dev chain's account `account`, which signs its transactions locally."""
    party = stack.party(name, account, tmp_path)
    party.ok("key", "new")
    if passphrase:
        party.signs_locally, party.passphrase = True, passphrase
        made = party.ok("evm-key", "import", "--dev-account", str(account), "--encrypt")
        assert made["address"] == party.evm_account
    if fund:
        stack.devnet.faucet(party.address, str(FAUCET_RTC))
    return party


def watch_to_the_end(party: Party, order_id: str) -> list[dict[str, Any]]:
    """`otc watch --json`: one JSON object a line, the last one the final status."""
    result = party.otc("watch", order_id, "--json")
    assert result.exit_code == 0, (result.output, result.stderr)
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def settle_and_check(
    stack: Stack, seller: Party, buyer: Party, order_id: str, amount_rtc: int, total_wei: int
) -> None:
    """S reveals and claims, B watches to the end; then the ledger and the chain agree."""
    seller_eth = eth_balance(stack, seller.evm_account)
    seller_rtc = rtc_balance(stack, seller.address)

    shown = seller.ok("order", "show", order_id)
    assert shown["next_actions"]["rtc_seller"]["code"] == "reveal"
    assert shown["next_actions"]["rtc_buyer"]["code"] == "wait_for_reveal"

    confirmed = seller.ok("confirm", order_id)
    assert confirmed["status"] in {"payout_pending", "completed"}
    after_reveal = buyer.ok("order", "show", order_id)
    assert after_reveal["next_actions"]["rtc_seller"]["code"] in {"claim_quote"}

    claimed = seller.ok("claim", order_id)
    assert int(claimed["amount"]) == total_wei

    lines = watch_to_the_end(buyer, order_id)
    assert lines[-1] == {"order_id": order_id, "final": "completed"}
    # What the watch saw: the status it started from, then each change (the payout may
    # have confirmed before it started).
    seen = [lines[0]["status"], *(line["to"] for line in lines if "to" in line)]
    assert seen[-1] == "completed"
    assert set(seen) <= {"payout_pending", "completed"}
    history = [(e["to"], e["cause"]) for e in stack.bridge.client.events(order_id)]
    assert history[-2:] == [("payout_pending", "payout_queued"), ("completed", "payout_confirmed")]

    # B got exactly the RTC; S's escrow left S at creation (nothing more moved since).
    assert rtc_balance(stack, buyer.address) == amount_rtc * RTC
    assert rtc_balance(stack, seller.address) == seller_rtc
    # S got exactly the quote total, less the claim's gas.
    gained = eth_balance(stack, seller.evm_account) - seller_eth
    assert gained == total_wei - gas_cost(stack, claimed["tx_hash"])
    final = buyer.ok("order", "show", order_id)
    assert final["status"] == "completed"
    assert final["next_actions"]["rtc_buyer"]["code"] == "none"
    # The bridge cannot tell a claim after a reveal through confirm (the chain can): the
    # seller's action stays claim_quote until T_q, and claiming again says it is done.
    assert final["next_actions"]["rtc_seller"]["code"] == "claim_quote"
    assert seller.ok("claim", order_id)["state"] == "claimed"


def lock_and_check(stack: Stack, buyer: Party, order_id: str, total_wei: int) -> dict[str, Any]:
    before = eth_balance(stack, buyer.evm_account)
    locked = buyer.ok("lock", order_id)
    assert locked["order"]["status"] == "quote_locked"
    assert locked["order"]["quote_lock"]["lock_id"] == locked["lock_id"]
    assert int(locked["amount"]) == total_wei
    spent = before - eth_balance(stack, buyer.evm_account)
    assert spent == total_wei + gas_cost(stack, locked["tx_hash"])
    return dict(locked)


def test_a_sell_order_swap_in_eth_through_the_cli_only(stack: Stack, tmp_path: Path) -> None:
    seller = new_party(stack, "seller", 2, tmp_path, fund=True)
    buyer = new_party(stack, "buyer", 3, tmp_path, fund=False)
    balance = seller.ok("balance")
    assert balance["rtc"]["amount_i64"] == FAUCET_RTC * RTC
    assert int(balance["quote"]["ETH"]) > 0

    created = seller.ok("order", "sell", "10", "0.001", "--pair", "RTC/ETH")
    order_id = created["order_id"]
    total_wei = int(created["total_quote_base_units"])
    assert total_wei == Web3.to_wei(Decimal("0.01"), "ether")
    assert seller.ok("secret", "list")[0]["order_id"] == order_id

    matched = buyer.ok("order", "match", order_id)
    assert matched["status"] == "matched"
    shown = buyer.ok("order", "show", order_id)
    assert shown["next_actions"]["rtc_buyer"]["code"] == "lock_quote"
    assert shown["next_actions"]["rtc_seller"]["code"] == "wait_for_lock"

    lock_and_check(stack, buyer, order_id, total_wei)
    settle_and_check(stack, seller, buyer, order_id, 10, total_wei)


def test_a_buy_order_swap_in_eth_through_the_cli_only(stack: Stack, tmp_path: Path) -> None:
    # Both sign on the quote chain with encrypted key files, as in real use.
    buyer = new_party(stack, "buyer", 4, tmp_path, fund=False, passphrase="buyer pass")
    seller = new_party(stack, "seller", 5, tmp_path, fund=True, passphrase="seller pass")
    wrong = buyer.otc("balance", env={"OTC_KEY_PASSPHRASE": "seller pass"})
    assert wrong.exit_code == 0  # balances need only the address, never the key
    refused = buyer.otc("lock", "otc_0000000000000000", env={"OTC_KEY_PASSPHRASE": "nope"})
    assert refused.exit_code == 3  # no such order: the bridge answers before any key is read
    assert "the bridge refused (404" in refused.stderr

    created = buyer.ok("order", "buy", "5", "0.002", "--pair", "RTC/ETH")
    order_id = created["order_id"]
    total_wei = int(created["total_quote_base_units"])
    assert created["status"] == "open"

    matched = seller.ok("order", "match", order_id)  # S's escrow, S's new hashlock
    assert matched["status"] == "matched"
    assert seller.ok("secret", "list")[0]["order_id"] == order_id

    # A wrong passphrase stops the lock before anything is sent.
    before = eth_balance(stack, buyer.evm_account)
    wrong = buyer.otc("lock", order_id, env={"OTC_KEY_PASSPHRASE": "not it"})
    assert wrong.exit_code == 4
    assert "wrong passphrase" in wrong.stderr
    assert eth_balance(stack, buyer.evm_account) == before
    assert buyer.ok("order", "show", order_id)["status"] == "matched"

    lock_and_check(stack, buyer, order_id, total_wei)
    settle_and_check(stack, seller, buyer, order_id, 5, total_wei)


def test_the_buyer_refunds_after_the_timelock_and_the_seller_gets_the_rtc_back(
    stack: Stack, tmp_path: Path
) -> None:
    seller = new_party(stack, "seller", 6, tmp_path, fund=True)
    buyer = new_party(stack, "buyer", 7, tmp_path, fund=False)
    order_id = seller.ok("order", "sell", "3", "0.001", "--pair", "RTC/ETH")["order_id"]
    buyer.ok("order", "match", order_id)
    locked = lock_and_check(stack, buyer, order_id, int(locked_total(buyer, order_id)))

    # Before T_q: the CLI refuses in words, and so does the bridge for a cancel.
    early = buyer.otc("refund", order_id)
    assert early.exit_code == 3
    assert "the timelock has not passed: refundable from" in early.stderr
    cancel = seller.otc("order", "cancel", order_id)
    assert cancel.exit_code == 3
    assert "the bridge refused (409 quote_locked)" in cancel.stderr

    # The seller follows the order and never reveals. Past the claim deadline (node, chain
    # and bridge move together) nothing changes status, yet `otc watch` says what to do
    # now: the reveal is too late, a claim on-chain is not.
    watcher = seller.spawn("watch", order_id, "--json")
    try:
        first = watcher.until(lambda line: "status" in line, timeout=60)
        assert first["next_actions"]["rtc_seller"]["code"] == "reveal"
        claim_deadline = int(first["next_actions"]["rtc_seller"]["deadline"])
        stack.devnet.advance_clock(claim_deadline - stack.devnet.now() + 10)
        told = watcher.until(lambda line: seller_code(line) == "claim_quote", timeout=60)
        assert told["status"] == "quote_locked"

        # Past T_q, B refunds on-chain.
        timelock = int(locked["timelock"])
        stack.devnet.advance_clock(timelock - stack.devnet.now() + 60)
        shown = buyer.ok("order", "show", order_id)
        assert shown["next_actions"]["rtc_buyer"]["code"] == "refund_quote"
        before = eth_balance(stack, buyer.evm_account)
        refunded = buyer.ok("refund", order_id)
        assert refunded["lock_id"] == locked["lock_id"]
        got = eth_balance(stack, buyer.evm_account) - before
        assert got == int(locked["amount"]) - gas_cost(stack, refunded["tx_hash"])
        again = buyer.otc("refund", order_id)
        assert again.exit_code == 3
        assert "is refunded: there is nothing to refund" in again.stderr

        # The bridge looks at the lock's final state again at refundable_at (it last
        # looked at the claim deadline, when the lock was still claimable).
        refundable_at = int(shown["deadlines"]["refundable_at"])
        stack.devnet.advance_clock(max(refundable_at - stack.devnet.now() + 1, 0))
        assert watcher.finish(timeout=120) == 0  # the watch ends with the order
    finally:
        watcher.stop()
    assert watcher.seen[-1] == {"order_id": order_id, "final": "expired"}
    assert "lock_expired" in {line.get("cause") for line in watcher.seen}
    assert rtc_balance(stack, seller.address) == FAUCET_RTC * RTC
    assert rtc_balance(stack, buyer.address) == 0


def seller_code(line: dict[str, Any]) -> str | None:
    return ((line.get("next_actions") or {}).get("rtc_seller") or {}).get("code")


def locked_total(party: Party, order_id: str) -> str:
    return str(party.ok("order", "show", order_id)["total_quote_base_units"])


def usdc_balance(stack: Stack, address: str) -> int:
    web3 = Web3(Web3.HTTPProvider(stack.chain.rpc_url))
    token = web3.eth.contract(
        address=Web3.to_checksum_address(stack.chain.info.usdc_token), abi=ERC20_ABI
    )
    return int(token.functions.balanceOf(Web3.to_checksum_address(address)).call())


def test_a_usdc_swap_where_the_seller_only_claims_on_chain(stack: Stack, tmp_path: Path) -> None:
    seller = new_party(stack, "seller", 8, tmp_path, fund=True)
    buyer = new_party(stack, "buyer", 9, tmp_path, fund=False)
    created = seller.ok("order", "sell", "10", "0.5", "--pair", "RTC/USDC")
    order_id, total = created["order_id"], int(created["total_quote_base_units"])
    assert total == 5 * 10**6  # 5 USDC in its 6 decimals
    buyer.ok("order", "match", order_id)
    seller_usdc, buyer_usdc = (
        usdc_balance(stack, seller.evm_account),
        usdc_balance(stack, buyer.evm_account),
    )

    locked = buyer.ok("lock", order_id)  # approves the HTLC for the USDC first
    assert locked["order"]["status"] == "quote_locked"
    assert usdc_balance(stack, buyer.evm_account) == buyer_usdc - total

    # S never confirms: the claim on-chain reveals the preimage there.
    claimed = seller.ok("claim", order_id)
    assert usdc_balance(stack, seller.evm_account) == seller_usdc + total
    assert int(claimed["amount"]) == total
    shown = buyer.ok("order", "show", order_id)
    assert shown["status"] == "quote_locked"  # the bridge has not looked yet

    # The bridge checks the lock's final state by the claim deadline at the latest, and
    # settles B's RTC from the claim's preimage.
    claim_deadline = int(shown["deadlines"]["claim_deadline"])
    stack.devnet.advance_clock(claim_deadline - stack.devnet.now() + 1)
    lines = watch_to_the_end(buyer, order_id)
    assert lines[-1] == {"order_id": order_id, "final": "completed"}
    causes = [event["cause"] for event in stack.bridge.client.events(order_id)]
    assert "quote_claimed" in causes  # the history says where the preimage came from
    assert rtc_balance(stack, buyer.address) == 10 * RTC
    final = seller.ok("order", "show", order_id)
    assert final["settlement_tx"] == claimed["tx_hash"]
    assert final["next_actions"]["rtc_seller"]["code"] == "none"  # the bridge saw the claim
