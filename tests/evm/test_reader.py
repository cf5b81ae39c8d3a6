"""The EVM reader against a real anvil: locks by id and by transaction (ETH and USDC),
depth and finality, "not there" vs "unreachable", re-orgs, and the watcher's one-call
event range."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from web3.types import Wei

from otc_bridge.adapters.evm.config import EvmChain
from otc_bridge.adapters.evm.reader import EvmReader
from otc_bridge.adapters.evm.results import (
    ClaimedEvent,
    Found,
    LockedEvent,
    Missing,
    NotFinal,
    Ok,
    RefundedEvent,
    Unreachable,
)
from otc_bridge.adapters.evm.rpc import call_counts
from otc_bridge.adapters.evm.writer import HtlcWriter, LockMade
from otc_bridge.devnet.devchain.deploy import deploy
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.devnet.service_process import free_port
from otc_bridge.domain.htlc_terms import (
    ZERO_ADDRESS,
    Accepted,
    ExpectedLock,
    LockState,
    RefusalCode,
    Refused,
    check_lock,
)

from .conftest import FINALITY, Secret, chain_now

WEI = 3 * 10**16
USDC = 1_250_000  # 1.25 USDC


def lock_eth(devchain: Devchain, buyer: HtlcWriter, seller: str, secret: Secret) -> LockMade:
    return buyer.lock(
        receiver=seller,
        hashlock=secret.hashlock,
        timelock=chain_now(devchain) + 6 * 3600,
        amount=WEI,
        order_ref="order-1",
    )


def lock_usdc(devchain: Devchain, buyer: HtlcWriter, seller: str, secret: Secret) -> LockMade:
    return buyer.lock(
        receiver=seller,
        hashlock=secret.hashlock,
        timelock=chain_now(devchain) + 6 * 3600,
        amount=USDC,
        token=devchain.info.usdc_token,
        order_ref="order-2",
    )


@pytest.mark.parametrize("token", ["eth", "usdc"])
@pytest.mark.parametrize("by", ["id", "tx"])
def test_lock_is_not_final_until_the_finality_depth_then_found(
    devchain: Devchain,
    reader: EvmReader,
    buyer: HtlcWriter,
    seller_address: str,
    token: str,
    by: str,
) -> None:
    secret = Secret.new()
    made = (lock_eth if token == "eth" else lock_usdc)(devchain, buyer, seller_address, secret)

    def read() -> object:
        return reader.lock_by_id(made.lock_id) if by == "id" else reader.lock_by_tx(made.tx.tx_hash)

    first = read()
    assert isinstance(first, NotFinal)
    assert (first.depth, first.required) == (1, FINALITY)
    devchain.control.mine(FINALITY - 1)
    found = read()
    assert isinstance(found, Found)
    assert found.depth == FINALITY
    lock = found.lock
    assert lock.id == made.lock_id
    assert lock.state == LockState.LOCKED
    assert (lock.sender, lock.receiver) == (buyer.address, seller_address)
    assert lock.token == (ZERO_ADDRESS if token == "eth" else devchain.info.usdc_token)
    assert lock.amount == (WEI if token == "eth" else USDC)
    assert lock.hashlock == "0x" + secret.hashlock.hex()
    assert found.sighting.tx_hash == made.tx.tx_hash
    assert found.block.number == made.tx.block_number
    assert found.block.hash == made.tx.block_hash
    assert found.sighting.contract == devchain.info.htlc_contract


def test_a_found_lock_passes_the_domain_checks(
    devchain: Devchain, reader: EvmReader, buyer: HtlcWriter, seller_address: str
) -> None:
    secret = Secret.new()
    made = lock_usdc(devchain, buyer, seller_address, secret)
    devchain.control.mine(1)
    found = reader.lock_by_tx(made.tx.tx_hash)
    assert isinstance(found, Found)
    now = chain_now(devchain)
    expected = ExpectedLock(
        htlc_contract=devchain.info.htlc_contract.lower(),
        token=devchain.info.usdc_token,
        min_amount=USDC,
        hashlock="0x" + secret.hashlock.hex(),
        receiver=seller_address.lower(),
        sender=buyer.address,
        match_deadline=now + 60,
        escrow_expires_at=now + 40 * 3600,
        timelock_min=2 * 3600,
        timelock_max=24 * 3600,
        claim_margin=3600,
        settlement_margin=6 * 3600,
        finality_confirmations=FINALITY,
    )
    assert check_lock(expected, found.sighting.observed(), now) == Accepted()
    short = replace(expected, min_amount=USDC + 1)
    refused = check_lock(short, found.sighting.observed(), now)
    assert isinstance(refused, Refused)
    assert refused.code == RefusalCode.AMOUNT_TOO_LOW


def test_unknown_id_and_unknown_tx_are_missing(reader: EvmReader) -> None:
    result = reader.lock_by_id("0x" + "ab" * 32)
    assert isinstance(result, Missing)
    assert result.code == RefusalCode.LOCK_NOT_FOUND
    result = reader.lock_by_tx("0x" + "cd" * 32)
    assert isinstance(result, Missing)
    assert result.reason.endswith("is not on the chain")


def test_a_pending_transaction_is_missing_and_says_so(
    devchain: Devchain, reader: EvmReader, seller_address: str
) -> None:
    from web3 import Web3

    devchain.control.set_automine(False)
    w3 = Web3(Web3.HTTPProvider(devchain.rpc_url))
    htlc = w3.eth.contract(address=reader._htlc.address, abi=reader._htlc.abi)
    tx = htlc.functions.lock(
        seller_address,
        Secret.new().hashlock,
        chain_now(devchain) + 7200,
        ZERO_ADDRESS,
        WEI,
        b"\0" * 32,
    ).transact({"from": Web3.to_checksum_address(devchain.info.accounts[1]), "value": Wei(WEI)})
    pending = reader.lock_by_tx(tx.to_0x_hex())
    assert isinstance(pending, Missing)
    assert "pending" in pending.reason
    devchain.control.mine(2)
    assert isinstance(reader.lock_by_tx(tx.to_0x_hex()), Found)


def test_a_transaction_that_made_no_lock_is_missing(
    devchain: Devchain, reader: EvmReader, buyer: HtlcWriter
) -> None:
    approve = buyer.approve(devchain.info.usdc_token, 5)
    result = reader.lock_by_tx(approve.tx_hash)
    assert isinstance(result, Missing)
    assert result.code == RefusalCode.LOCK_NOT_FOUND
    assert "made no lock" in result.reason


def test_a_lock_in_another_htlc_deployment_is_wrong_contract(
    devchain: Devchain, reader: EvmReader, seller_address: str
) -> None:
    from otc_bridge.adapters.evm.rpc import connect

    other = deploy(connect(devchain.rpc_url, timeout=10.0))
    assert other.htlc_contract != devchain.info.htlc_contract
    writer = HtlcWriter.connect(devchain.rpc_url, other.htlc_contract, devchain.info.accounts[1])
    made = writer.lock(
        receiver=seller_address,
        hashlock=Secret.new().hashlock,
        timelock=chain_now(devchain) + 7200,
        amount=WEI,
    )
    devchain.control.mine(3)
    by_tx = reader.lock_by_tx(made.tx.tx_hash)
    assert isinstance(by_tx, Missing)
    assert by_tx.code == RefusalCode.WRONG_CONTRACT
    assert other.htlc_contract in by_tx.reason
    by_id = reader.lock_by_id(made.lock_id)
    assert isinstance(by_id, Missing)  # ids include the contract address: not ours


def test_a_reverted_transaction_is_missing(
    devchain: Devchain, reader: EvmReader, seller_address: str
) -> None:
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(devchain.rpc_url))
    htlc = w3.eth.contract(address=reader._htlc.address, abi=reader._htlc.abi)
    tx = htlc.functions.lock(
        seller_address, Secret.new().hashlock, 1, ZERO_ADDRESS, WEI, b"\0" * 32
    ).transact(
        {
            "from": Web3.to_checksum_address(devchain.info.accounts[1]),
            "value": Wei(WEI),
            "gas": 300_000,  # a fixed limit skips the estimate, which would refuse to send
        }
    )
    assert w3.eth.get_transaction_receipt(tx)["status"] == 0
    result = reader.lock_by_tx(tx.to_0x_hex())
    assert isinstance(result, Missing)
    assert "reverted" in result.reason


def test_claimed_lock_reads_as_claimed_and_its_past_state_is_kept(
    devchain: Devchain, reader: EvmReader, buyer: HtlcWriter, seller_address: str
) -> None:
    secret = Secret.new()
    made = lock_eth(devchain, buyer, seller_address, secret)
    claim = buyer.claim(made.lock_id, secret.preimage)
    devchain.control.mine(2)
    found = reader.lock_by_id(made.lock_id)
    assert isinstance(found, Found)
    assert found.lock.state == LockState.CLAIMED
    before_lock = reader.lock_at(made.lock_id, made.tx.block_number - 1)
    at_lock = reader.lock_at(made.lock_id, made.tx.block_number)
    at_claim = reader.lock_at(made.lock_id, claim.block_number)
    assert isinstance(before_lock, Ok)
    assert isinstance(at_lock, Ok)
    assert isinstance(at_claim, Ok)
    assert before_lock.value.state == LockState.NONE
    assert at_lock.value.state == LockState.LOCKED
    assert at_claim.value.state == LockState.CLAIMED


@pytest.mark.parametrize("by", ["id", "tx"])
def test_a_lock_reorged_away_disappears(
    devchain: Devchain, reader: EvmReader, buyer: HtlcWriter, seller_address: str, by: str
) -> None:
    made = lock_eth(devchain, buyer, seller_address, Secret.new())
    devchain.control.mine(1)
    assert isinstance(reader.lock_by_id(made.lock_id), Found)
    devchain.control.reorg(2)  # the lock's block and the one after it
    result = reader.lock_by_id(made.lock_id) if by == "id" else reader.lock_by_tx(made.tx.tx_hash)
    assert isinstance(result, Missing), result
    events = reader.events(made.tx.block_number, devchain.control.head().number)
    assert isinstance(events, Ok)
    assert events.value == []


def test_events_over_a_range_decode_all_three_with_one_get_logs(
    devchain: Devchain, reader: EvmReader, buyer: HtlcWriter, seller_address: str
) -> None:
    start = devchain.control.head().number + 1
    claimed, refunded = Secret.new(), Secret.new()
    paid = lock_usdc(devchain, buyer, seller_address, claimed)
    timelock = chain_now(devchain) + 600
    back = buyer.lock(
        receiver=seller_address, hashlock=refunded.hashlock, timelock=timelock, amount=WEI
    )
    claim = buyer.claim(paid.lock_id, claimed.preimage)
    devchain.control.set_next_timestamp(timelock)
    devchain.control.mine()  # gas estimates run on the latest block: let it show T_q
    refund = buyer.refund(back.lock_id)
    end = devchain.control.head().number
    calls_before = call_counts(reader.web3)["eth_getLogs"]
    result = reader.events(start, end)
    assert call_counts(reader.web3)["eth_getLogs"] == calls_before + 1
    assert isinstance(result, Ok)
    kinds = [type(event) for event in result.value]
    # approve (no event of ours), lock, lock, claim, refund
    assert kinds == [LockedEvent, LockedEvent, ClaimedEvent, RefundedEvent]
    first, second, claimed_event, refunded_event = result.value
    assert isinstance(first, LockedEvent)
    assert (first.id, first.amount, first.token) == (paid.lock_id, USDC, devchain.info.usdc_token)
    assert (first.sender, first.receiver) == (buyer.address, seller_address)
    assert first.hashlock == "0x" + claimed.hashlock.hex()
    assert isinstance(second, LockedEvent)
    assert (second.id, second.timelock, second.token) == (back.lock_id, timelock, ZERO_ADDRESS)
    assert isinstance(claimed_event, ClaimedEvent)
    assert claimed_event.id == paid.lock_id
    assert claimed_event.preimage == "0x" + claimed.preimage.hex()
    assert claimed_event.position.tx_hash == claim.tx_hash
    assert isinstance(refunded_event, RefundedEvent)
    assert refunded_event.id == back.lock_id
    assert refunded_event.position.block_number == refund.block_number
    positions = [(e.position.block_number, e.position.log_index) for e in result.value]
    assert positions == sorted(positions)


def test_head_block_and_chain_check(devchain: Devchain, reader: EvmReader) -> None:
    head = reader.head()
    assert isinstance(head, Ok)
    block = reader.block(head.value.number)
    assert isinstance(block, Ok)
    assert block.value == head.value
    parent = reader.block(head.value.number - 1)
    assert isinstance(parent, Ok)
    assert parent.value.hash == head.value.parent_hash
    assert isinstance(reader.block(head.value.number + 100), Missing)
    health = reader.check_chain()
    assert isinstance(health, Ok)
    assert health.value.ok
    assert health.value.head.number == head.value.number


def test_chain_check_names_a_wrong_chain_id_and_a_missing_contract(devchain: Devchain) -> None:
    wrong = EvmReader(EvmChain(devchain.rpc_url, 8453, devchain.info.htlc_contract))
    health = wrong.check_chain()
    assert isinstance(health, Ok)
    assert not health.value.ok
    assert health.value.problem == "chain id is 31337, expected 8453"
    nothing = EvmReader(EvmChain(devchain.rpc_url, 31337, "0x" + "12" * 20))
    health = nothing.check_chain()
    assert isinstance(health, Ok)
    assert health.value.problem == "no contract code at the configured HTLC address"


def test_a_dead_rpc_is_unreachable_for_every_read(tmp_path: Path) -> None:
    dead = EvmReader(
        EvmChain(f"http://127.0.0.1:{free_port()}", 31337, "0x" + "12" * 20, rpc_timeout_seconds=2)
    )
    some_id = "0x" + "ab" * 32
    results = [
        dead.chain_id(),
        dead.head(),
        dead.block(1),
        dead.check_chain(),
        dead.lock_by_id(some_id),
        dead.lock_by_tx(some_id),
        dead.lock_at(some_id, 1),
        dead.events(0, 10),
    ]
    for result in results:
        assert isinstance(result, Unreachable), result
        assert "Connection" in result.reason or "connect" in result.reason.lower()


def test_a_chain_that_dies_is_unreachable_not_missing(
    devchain: Devchain, reader: EvmReader, buyer: HtlcWriter, seller_address: str
) -> None:
    made = lock_eth(devchain, buyer, seller_address, Secret.new())
    devchain.kill()
    assert isinstance(reader.lock_by_id(made.lock_id), Unreachable)
    assert isinstance(reader.lock_by_tx(made.tx.tx_hash), Unreachable)


def test_a_verification_costs_a_handful_of_rpc_calls(
    devchain: Devchain, reader: EvmReader, buyer: HtlcWriter, seller_address: str
) -> None:
    made = lock_eth(devchain, buyer, seller_address, Secret.new())
    devchain.control.mine(1)
    before = sum(call_counts(reader.web3).values())
    assert isinstance(reader.lock_by_tx(made.tx.tx_hash), Found)
    by_tx = sum(call_counts(reader.web3).values()) - before
    assert by_tx == 4  # receipt, head, getLock at the head, the lock's block
    before = sum(call_counts(reader.web3).values())
    assert isinstance(reader.lock_by_id(made.lock_id), Found)
    assert sum(call_counts(reader.web3).values()) - before == 4  # head, getLock, logs, block
