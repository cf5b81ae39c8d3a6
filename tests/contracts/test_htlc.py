"""The HTLC contract on an in-process EVM: the rules of htlc-contract.md, one by one."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak
from web3.contract import Contract

from otc_bridge.adapters.evm.codec import (
    CLAIMED_TOPIC,
    LOCKED_TOPIC,
    REFUNDED_TOPIC,
    RawLog,
    decode_claimed_preimage,
    decode_locked,
    decode_order_ref,
    encode_order_ref,
)
from tests.contracts.evm import BASE_TIME, FEE_BPS, ZERO, ContractChain, Secret

ETH = 10**18
LOCKED, CLAIMED, REFUNDED = 1, 2, 3


def htlc_logs(chain: ContractChain, receipt: Any) -> list[RawLog]:
    logs = [RawLog.from_rpc(entry) for entry in receipt["logs"]]
    return [entry for entry in logs if entry.address == chain.htlc.address]


def lock_fn(chain: ContractChain, secret: Secret, timelock: int, **overrides: Any) -> Any:
    args = {
        "receiver": chain.seller,
        "hashlock": secret.hashlock,
        "timelock": timelock,
        "token": ZERO,
        "amount": ETH,
        "order_ref": b"\0" * 32,
    }
    args.update(overrides)
    return chain.htlc.functions.lock(*args.values())


# ---------------------------------------------------------------------------- lock


def test_eth_lock_records_terms_holds_the_value_and_derives_its_id(chain: ContractChain) -> None:
    secret = Secret.new()
    timelock = BASE_TIME + 3600
    ref = encode_order_ref("ord_7f3a")
    before = chain.eth(chain.buyer)
    receipt = chain.send(lock_fn(chain, secret, timelock, order_ref=ref), chain.buyer, value=ETH)
    lock_id = chain.htlc.functions.lockIdOf(secret.hashlock).call()
    chain_id = chain.w3.eth.chain_id
    assert lock_id == keccak(
        abi_encode(
            ["uint256", "address", "bytes32"], [chain_id, chain.htlc.address, secret.hashlock]
        )
    )
    assert chain.lock_tuple(lock_id) == (
        chain.buyer, chain.seller, ZERO, ETH, secret.hashlock, timelock, ref, LOCKED
    )  # fmt: skip
    assert chain.eth(chain.htlc.address) == ETH
    assert chain.eth(chain.buyer) == before - ETH - chain.gas_cost(receipt)
    assert decode_order_ref(chain.lock_tuple(lock_id)[6]) == "ord_7f3a"


def test_unknown_ids_and_unused_hashlocks_read_as_zero(chain: ContractChain) -> None:
    unknown = b"\x11" * 32
    assert chain.lock_tuple(unknown) == (ZERO, ZERO, ZERO, 0, b"\0" * 32, 0, b"\0" * 32, 0)
    assert chain.htlc.functions.lockIdOf(unknown).call() == b"\0" * 32


@pytest.mark.parametrize(
    ("value", "amount", "error"),
    [
        (ETH - 1, ETH, "EthValueMismatch"),
        (ETH + 1, ETH, "EthValueMismatch"),
        (0, ETH, "EthValueMismatch"),
        (0, 0, "ZeroAmount"),
        (1, 0, "ZeroAmount"),
    ],
)
def test_eth_lock_needs_msg_value_equal_to_a_positive_amount(
    chain: ContractChain, value: int, amount: int, error: str
) -> None:
    secret = Secret.new()
    fn = lock_fn(chain, secret, BASE_TIME + 3600, amount=amount)
    revert = chain.expect_revert(fn, chain.buyer, error, value=value)
    if error == "EthValueMismatch":
        assert revert.args == (value, amount)
    assert chain.eth(chain.htlc.address) == 0
    assert chain.htlc.functions.lockIdOf(secret.hashlock).call() == b"\0" * 32


def test_erc20_lock_refuses_eth_sent_along(chain: ContractChain) -> None:
    fn = lock_fn(chain, Secret.new(), BASE_TIME + 3600, token=chain.usdc.address, amount=5)
    assert chain.expect_revert(fn, chain.buyer, "EthSentWithToken", value=1).args == (1,)
    assert chain.tokens(chain.usdc, chain.htlc.address) == 0


def test_timelock_must_be_strictly_after_the_lock_block(chain: ContractChain) -> None:
    at = chain.pending_time() + 10
    chain.at(at)
    revert = chain.expect_revert(
        lock_fn(chain, Secret.new(), at), chain.buyer, "TimelockNotInFuture", ETH
    )
    assert revert.args == (at, at)
    chain.at(at + 5)
    chain.send(lock_fn(chain, Secret.new(), at + 6), chain.buyer, value=ETH)


def test_zero_receiver_and_a_token_without_code_are_refused(chain: ContractChain) -> None:
    secret = Secret.new()
    timelock = BASE_TIME + 3600
    chain.expect_revert(
        lock_fn(chain, secret, timelock, receiver=ZERO), chain.buyer, "InvalidReceiver", ETH
    )
    chain.expect_revert(
        lock_fn(chain, secret, timelock, token=chain.stranger, amount=5),
        chain.buyer,
        "TokenNotContract",
    )


@pytest.mark.parametrize("ending", ["open", "claimed", "refunded"])
def test_a_hashlock_backs_one_lock_ever(chain: ContractChain, ending: str) -> None:
    secret = Secret.new()
    timelock = BASE_TIME + 100
    lock_id, _ = chain.lock_eth(secret, ETH, timelock)
    if ending == "claimed":
        chain.send(chain.htlc.functions.claim(lock_id, secret.preimage), chain.seller)
    elif ending == "refunded":
        chain.at(timelock)
        chain.send(chain.htlc.functions.refund(lock_id), chain.buyer)
    later = chain.pending_time() + 3600
    revert = chain.expect_revert(
        lock_fn(chain, secret, later), chain.stranger, "HashlockAlreadyUsed", ETH
    )
    assert revert.args == (secret.hashlock, lock_id)
    # Also with another token, receiver and amount: the hashlock alone decides.
    chain.expect_revert(
        lock_fn(chain, secret, later, token=chain.usdc.address, amount=7, receiver=chain.stranger),
        chain.buyer,
        "HashlockAlreadyUsed",
    )


# ---------------------------------------------------------------------------- claim


def test_claim_pays_the_receiver_and_reveals_the_preimage(chain: ContractChain) -> None:
    secret = Secret.new()
    lock_id, _ = chain.lock_eth(secret, ETH, BASE_TIME + 3600)
    seller_before = chain.eth(chain.seller)
    receipt = chain.send(chain.htlc.functions.claim(lock_id, secret.preimage), chain.seller)
    assert chain.eth(chain.seller) == seller_before + ETH - chain.gas_cost(receipt)
    assert chain.eth(chain.htlc.address) == 0
    assert chain.lock_tuple(lock_id)[7] == CLAIMED
    (log,) = htlc_logs(chain, receipt)
    assert log.topics == (CLAIMED_TOPIC, "0x" + lock_id.hex())
    assert decode_claimed_preimage(log) == "0x" + secret.preimage.hex()


def test_anyone_may_claim_and_the_receiver_is_paid(chain: ContractChain) -> None:
    secret = Secret.new()
    lock_id, _ = chain.lock_eth(secret, ETH, BASE_TIME + 3600)
    seller_before = chain.eth(chain.seller)
    stranger_before = chain.eth(chain.stranger)
    receipt = chain.send(chain.htlc.functions.claim(lock_id, secret.preimage), chain.stranger)
    assert chain.eth(chain.seller) == seller_before + ETH
    assert chain.eth(chain.stranger) == stranger_before - chain.gas_cost(receipt)


def test_wrong_preimage_is_refused_and_the_right_one_still_works(chain: ContractChain) -> None:
    secret = Secret.new()
    lock_id, _ = chain.lock_eth(secret, ETH, BASE_TIME + 3600)
    for wrong in (secret.hashlock, b"\0" * 32, Secret.new().preimage):
        revert = chain.expect_revert(
            chain.htlc.functions.claim(lock_id, wrong), chain.seller, "WrongPreimage"
        )
        assert revert.args == (lock_id,)
    assert chain.lock_tuple(lock_id)[7] == LOCKED
    chain.send(chain.htlc.functions.claim(lock_id, secret.preimage), chain.seller)


def test_each_lock_pays_out_once(chain: ContractChain) -> None:
    secret = Secret.new()
    timelock = BASE_TIME + 100
    lock_id, _ = chain.lock_eth(secret, ETH, timelock)
    chain.send(chain.htlc.functions.claim(lock_id, secret.preimage), chain.seller)
    revert = chain.expect_revert(
        chain.htlc.functions.claim(lock_id, secret.preimage), chain.stranger, "LockNotOpen"
    )
    assert revert.args == (lock_id, CLAIMED)
    chain.at(timelock + 1)
    chain.expect_revert(chain.htlc.functions.refund(lock_id), chain.buyer, "LockNotOpen")
    assert chain.eth(chain.htlc.address) == 0


def test_claim_and_refund_of_an_unknown_lock(chain: ContractChain) -> None:
    unknown = b"\x42" * 32
    chain.expect_revert(
        chain.htlc.functions.claim(unknown, b"\0" * 32), chain.seller, "LockNotFound"
    )
    chain.expect_revert(chain.htlc.functions.refund(unknown), chain.buyer, "LockNotFound")


# ---------------------------------------------------------------------------- refund


def test_refund_by_anyone_at_the_timelock_pays_the_sender(chain: ContractChain) -> None:
    secret = Secret.new()
    timelock = BASE_TIME + 500
    lock_id, _ = chain.lock_eth(secret, ETH, timelock)
    buyer_before = chain.eth(chain.buyer)
    chain.at(timelock)
    receipt = chain.send(chain.htlc.functions.refund(lock_id), chain.stranger)
    assert chain.eth(chain.buyer) == buyer_before + ETH
    assert chain.eth(chain.htlc.address) == 0
    assert chain.lock_tuple(lock_id)[7] == REFUNDED
    (log,) = htlc_logs(chain, receipt)
    assert log.topics == (REFUNDED_TOPIC, "0x" + lock_id.hex())
    revert = chain.expect_revert(
        chain.htlc.functions.claim(lock_id, secret.preimage), chain.seller, "LockNotOpen"
    )
    assert revert.args == (lock_id, REFUNDED)


# ---------------------------------------------------------------------------- timelock edges


def test_claim_one_second_before_the_timelock_succeeds(chain: ContractChain) -> None:
    secret = Secret.new()
    timelock = BASE_TIME + 1000
    lock_id, _ = chain.lock_eth(secret, ETH, timelock)
    chain.at(timelock - 1)
    receipt = chain.send(chain.htlc.functions.claim(lock_id, secret.preimage), chain.seller)
    assert chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"] == timelock - 1
    assert chain.lock_tuple(lock_id)[7] == CLAIMED


def test_claim_at_the_timelock_fails(chain: ContractChain) -> None:
    secret = Secret.new()
    timelock = BASE_TIME + 1000
    lock_id, _ = chain.lock_eth(secret, ETH, timelock)
    chain.at(timelock)
    revert = chain.expect_revert(
        chain.htlc.functions.claim(lock_id, secret.preimage), chain.seller, "TimelockExpired"
    )
    assert revert.args == (lock_id, timelock, timelock)
    assert chain.lock_tuple(lock_id)[7] == LOCKED
    assert chain.eth(chain.htlc.address) == ETH


def test_refund_one_second_before_the_timelock_fails(chain: ContractChain) -> None:
    secret = Secret.new()
    timelock = BASE_TIME + 1000
    lock_id, _ = chain.lock_eth(secret, ETH, timelock)
    chain.at(timelock - 1)
    revert = chain.expect_revert(
        chain.htlc.functions.refund(lock_id), chain.buyer, "TimelockNotExpired"
    )
    assert revert.args == (lock_id, timelock, timelock - 1)
    assert chain.lock_tuple(lock_id)[7] == LOCKED


def test_refund_at_the_timelock_succeeds(chain: ContractChain) -> None:
    secret = Secret.new()
    timelock = BASE_TIME + 1000
    lock_id, _ = chain.lock_eth(secret, ETH, timelock)
    chain.at(timelock)
    receipt = chain.send(chain.htlc.functions.refund(lock_id), chain.buyer)
    assert chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"] == timelock
    assert chain.lock_tuple(lock_id)[7] == REFUNDED


# ---------------------------------------------------------------------------- ERC-20


def test_erc20_lock_claim_and_refund_move_exact_token_amounts(chain: ContractChain) -> None:
    usdc = chain.usdc
    assert usdc.functions.decimals().call() == 6
    paid, returned = Secret.new(), Secret.new()
    buyer_before = chain.tokens(usdc, chain.buyer)
    seller_before = chain.tokens(usdc, chain.seller)
    timelock = BASE_TIME + 200
    claim_id, _ = chain.lock_token(usdc, paid, 1_500_000, timelock)
    refund_id, _ = chain.lock_token(usdc, returned, 2_000_000, timelock)
    assert chain.tokens(usdc, chain.htlc.address) == 3_500_000
    assert chain.lock_tuple(claim_id)[2:4] == (usdc.address, 1_500_000)
    chain.send(chain.htlc.functions.claim(claim_id, paid.preimage), chain.stranger)
    chain.at(timelock)
    chain.send(chain.htlc.functions.refund(refund_id), chain.stranger)
    assert chain.tokens(usdc, chain.seller) == seller_before + 1_500_000
    assert chain.tokens(usdc, chain.buyer) == buyer_before - 1_500_000
    assert chain.tokens(usdc, chain.htlc.address) == 0
    assert chain.eth(chain.htlc.address) == 0


def test_fee_on_transfer_token_records_what_arrived(chain: ContractChain) -> None:
    token = chain.fee_token
    secret = Secret.new()
    asked = 1_000_000
    arrived = asked - asked * FEE_BPS // 10_000
    lock_id, receipt = chain.lock_token(token, secret, asked, BASE_TIME + 3600)
    assert chain.lock_tuple(lock_id)[3] == arrived
    assert chain.tokens(token, chain.htlc.address) == arrived
    (log,) = htlc_logs(chain, receipt)
    assert decode_locked(log).amount == arrived
    seller_before = chain.tokens(token, chain.seller)
    chain.send(chain.htlc.functions.claim(lock_id, secret.preimage), chain.seller)
    # The payout is taxed again on its way out; the contract keeps nothing.
    assert (
        chain.tokens(token, chain.seller) == seller_before + arrived - arrived * FEE_BPS // 10_000
    )
    assert chain.tokens(token, chain.htlc.address) == 0


def test_a_token_that_delivers_nothing_is_refused(chain: ContractChain) -> None:
    fn = lock_fn(
        chain, Secret.new(), BASE_TIME + 3600, token=chain.swallow_token.address, amount=10_000
    )
    revert = chain.expect_revert(fn, chain.buyer, "NothingReceived")
    assert revert.args == (chain.swallow_token.address.lower(),)


def test_token_that_returns_no_bool_works_for_lock_claim_and_refund(
    chain: ContractChain,
) -> None:
    token: Contract = chain.nobool
    claimed, refunded = Secret.new(), Secret.new()
    timelock = BASE_TIME + 300
    seller_before = chain.tokens(token, chain.seller)
    buyer_before = chain.tokens(token, chain.buyer)
    claim_id, _ = chain.lock_token(token, claimed, 4_000, timelock)
    refund_id, _ = chain.lock_token(token, refunded, 6_000, timelock)
    chain.send(chain.htlc.functions.claim(claim_id, claimed.preimage), chain.seller)
    chain.at(timelock)
    chain.send(chain.htlc.functions.refund(refund_id), chain.buyer)
    assert chain.tokens(token, chain.seller) == seller_before + 4_000
    assert chain.tokens(token, chain.buyer) == buyer_before - 4_000
    assert chain.tokens(token, chain.htlc.address) == 0


def test_a_failing_no_bool_transfer_reverts_the_lock(chain: ContractChain) -> None:
    broke = chain.accounts[5]
    chain.send(chain.nobool.functions.transfer(chain.stranger, 10**15), broke)
    fn = lock_fn(chain, Secret.new(), BASE_TIME + 3600, token=chain.nobool.address, amount=1)
    revert = chain.expect_revert(fn, broke, "Error")
    assert revert.args == ("balance",)


# ---------------------------------------------------------------------------- events


def test_locked_event_carries_every_term_a_watcher_needs(chain: ContractChain) -> None:
    secret = Secret.new()
    timelock = BASE_TIME + 7200
    ref = encode_order_ref("o-123")
    receipt = chain.send(
        lock_fn(chain, secret, timelock, token=chain.usdc.address, amount=42, order_ref=ref),
        chain.buyer,
    )
    (log,) = htlc_logs(chain, receipt)
    assert log.topics[0] == LOCKED_TOPIC
    fields = decode_locked(log)
    lock_id = chain.htlc.functions.lockIdOf(secret.hashlock).call()
    assert fields.id == "0x" + lock_id.hex()
    assert (fields.sender, fields.receiver, fields.token) == (
        chain.buyer,
        chain.seller,
        chain.usdc.address,
    )
    assert (fields.amount, fields.timelock) == (42, timelock)
    assert fields.hashlock == "0x" + secret.hashlock.hex()
    assert decode_order_ref(fields.order_ref) == "o-123"


def test_event_topics_match_the_abi(chain: ContractChain) -> None:
    from otc_bridge.adapters.evm.codec import event_signature, topic_of

    events = {e["name"]: e for e in chain.htlc.abi if e["type"] == "event"}
    assert topic_of(event_signature(events["Locked"])) == LOCKED_TOPIC
    assert topic_of(event_signature(events["Claimed"])) == CLAIMED_TOPIC
    assert topic_of(event_signature(events["Refunded"])) == REFUNDED_TOPIC
    indexed = [i["name"] for i in events["Locked"]["inputs"] if i["indexed"]]
    assert indexed == ["id", "sender", "receiver"]


def test_order_ref_is_ascii_right_padded() -> None:
    assert encode_order_ref("abc") == b"abc" + b"\0" * 29
    assert decode_order_ref(encode_order_ref("x" * 32)) == "x" * 32
    assert decode_order_ref(b"a\0b" + b"\0" * 29) is None
    with pytest.raises(ValueError, match="longer than 32"):
        encode_order_ref("y" * 33)
