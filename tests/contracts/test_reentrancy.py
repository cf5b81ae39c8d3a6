"""Hostile receivers and tokens call back into the HTLC mid-payout (or mid-deposit).

Each attacker catches its inner failure, so the outer call completes and the test sees
both facts: the lock paid out exactly once, and the re-entrant call was refused by the
reentrancy guard (before any state check could even run).
"""

from __future__ import annotations

from eth_utils.crypto import keccak

from otc_bridge.adapters.evm.codec import decode_revert
from tests.contracts.evm import BASE_TIME, ContractChain, Secret, test_artifact

ETH = 10**18
GUARD_SELECTOR = keccak(text="ReentrancyGuardReentrantCall()")[:4]
MODE = {"claim": 1, "refund": 2}
TOKEN_MODE = {"lock": 1, "claim": 2, "refund": 3}


def assert_refused_by_guard(attacker) -> None:
    assert attacker.functions.reentrySucceeded().call() == 0
    assert attacker.functions.reentryFailed().call() == 1
    reason = attacker.functions.lastRevert().call()
    assert reason == GUARD_SELECTOR
    decoded = decode_revert(reason)
    assert decoded is not None
    assert decoded.name == "ReentrancyGuardReentrantCall"


def test_receiver_contract_reentering_claim_is_paid_once(chain: ContractChain) -> None:
    attacker = chain.deploy(test_artifact("ReentrantReceiver"), chain.htlc.address)
    secret = Secret.new()
    lock_id, _ = chain.lock_eth(secret, ETH, BASE_TIME + 3600, receiver=attacker.address)
    chain.send(attacker.functions.arm(MODE["claim"], lock_id, secret.preimage), chain.stranger)
    chain.send(chain.htlc.functions.claim(lock_id, secret.preimage), chain.stranger)
    assert_refused_by_guard(attacker)
    assert chain.eth(attacker.address) == ETH
    assert chain.eth(chain.htlc.address) == 0
    assert chain.lock_tuple(lock_id)[7] == 2


def test_sender_contract_reentering_refund_is_refunded_once(chain: ContractChain) -> None:
    attacker = chain.deploy(test_artifact("ReentrantReceiver"), chain.htlc.address)
    secret = Secret.new()
    timelock = BASE_TIME + 100
    chain.send(
        attacker.functions.lockEth(chain.seller, secret.hashlock, timelock),
        chain.buyer,
        value=ETH,
    )
    lock_id = chain.htlc.functions.lockIdOf(secret.hashlock).call()
    assert chain.lock_tuple(lock_id)[0] == attacker.address
    chain.send(attacker.functions.arm(MODE["refund"], lock_id, b"\0" * 32), chain.stranger)
    chain.at(timelock)
    chain.send(chain.htlc.functions.refund(lock_id), chain.stranger)
    assert_refused_by_guard(attacker)
    assert chain.eth(attacker.address) == ETH
    assert chain.eth(chain.htlc.address) == 0


def test_receiver_that_cannot_take_eth_leaves_the_lock_open_for_refund(
    chain: ContractChain,
) -> None:
    # A contract without receive(): the claim reverts as a whole and nothing is lost.
    no_receive = chain.deploy(test_artifact("NoBoolToken"))
    secret = Secret.new()
    timelock = BASE_TIME + 100
    lock_id, _ = chain.lock_eth(secret, ETH, timelock, receiver=no_receive.address)
    revert = chain.expect_revert(
        chain.htlc.functions.claim(lock_id, secret.preimage), chain.seller, "EthTransferFailed"
    )
    assert revert.args == (no_receive.address.lower(), ETH)
    assert chain.lock_tuple(lock_id)[7] == 1
    chain.at(timelock)
    chain.send(chain.htlc.functions.refund(lock_id), chain.buyer)
    assert chain.eth(chain.htlc.address) == 0


def hostile_token(chain: ContractChain):
    token = chain.deploy(test_artifact("ReentrantToken"), chain.htlc.address)
    chain.send(token.functions.mint(chain.buyer, 10**9), chain.deployer)
    chain.send(token.functions.approve(chain.htlc.address, 2**256 - 1), chain.buyer)
    return token


def lock_with(chain: ContractChain, token, secret: Secret, amount: int, timelock: int) -> bytes:
    chain.send(
        chain.htlc.functions.lock(
            chain.seller, secret.hashlock, timelock, token.address, amount, b"\0" * 32
        ),
        chain.buyer,
    )
    lock_id: bytes = chain.htlc.functions.lockIdOf(secret.hashlock).call()
    return lock_id


def test_token_reentering_lock_during_the_deposit_cannot_inflate_it(chain: ContractChain) -> None:
    token = hostile_token(chain)
    nested = Secret.new()
    chain.send(
        token.functions.arm(TOKEN_MODE["lock"], b"\0" * 32, b"\0" * 32, nested.hashlock),
        chain.stranger,
    )
    secret = Secret.new()
    lock_id = lock_with(chain, token, secret, 5_000, BASE_TIME + 3600)
    assert_refused_by_guard(token)
    assert chain.lock_tuple(lock_id)[3] == 5_000
    assert chain.tokens(token, chain.htlc.address) == 5_000
    assert chain.htlc.functions.lockIdOf(nested.hashlock).call() == b"\0" * 32


def test_token_reentering_claim_during_the_payout_pays_once(chain: ContractChain) -> None:
    token = hostile_token(chain)
    secret = Secret.new()
    lock_id = lock_with(chain, token, secret, 5_000, BASE_TIME + 3600)
    chain.send(
        token.functions.arm(TOKEN_MODE["claim"], lock_id, secret.preimage, b"\0" * 32),
        chain.stranger,
    )
    chain.send(chain.htlc.functions.claim(lock_id, secret.preimage), chain.stranger)
    assert_refused_by_guard(token)
    assert chain.tokens(token, chain.seller) == 5_000
    assert chain.tokens(token, chain.htlc.address) == 0


def test_token_reentering_refund_during_the_payout_refunds_once(chain: ContractChain) -> None:
    token = hostile_token(chain)
    secret = Secret.new()
    timelock = BASE_TIME + 100
    lock_id = lock_with(chain, token, secret, 5_000, timelock)
    before = chain.tokens(token, chain.buyer)
    chain.send(
        token.functions.arm(TOKEN_MODE["refund"], lock_id, b"\0" * 32, b"\0" * 32), chain.stranger
    )
    chain.at(timelock)
    chain.send(chain.htlc.functions.refund(lock_id), chain.stranger)
    assert_refused_by_guard(token)
    assert chain.tokens(token, chain.buyer) == before + 5_000
    assert chain.tokens(token, chain.htlc.address) == 0
    assert chain.lock_tuple(lock_id)[7] == 3
