"""The client writer: lock, claim and refund from an unlocked account or a local key,
with a contract refusal named instead of a bare revert."""

from __future__ import annotations

import pytest
from eth_account import Account
from web3 import Web3

from otc_bridge.adapters.evm.compiled import DEV_USDC, load_artifact
from otc_bridge.adapters.evm.reader import EvmReader
from otc_bridge.adapters.evm.results import Found
from otc_bridge.adapters.evm.writer import HtlcWriteError, HtlcWriter
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.domain.htlc_terms import LockState

from .conftest import Secret, chain_now

# anvil's well-known key for its sixth development account (accounts[5]).
DEV_KEY_5 = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba"


def test_a_local_key_signs_its_own_eth_and_usdc_locks(
    devchain: Devchain, reader: EvmReader, seller_address: str
) -> None:
    account = Account.from_key(DEV_KEY_5)
    assert account.address == devchain.info.accounts[5]
    writer = HtlcWriter.connect(devchain.rpc_url, devchain.info.htlc_contract, account)
    usdc = Web3(Web3.HTTPProvider(devchain.rpc_url)).eth.contract(
        address=Web3.to_checksum_address(devchain.info.usdc_token), abi=load_artifact(DEV_USDC).abi
    )
    seller_before = usdc.functions.balanceOf(seller_address).call()
    eth_secret, usdc_secret = Secret.new(), Secret.new()
    timelock = chain_now(devchain) + 3600
    eth_lock = writer.lock(
        receiver=seller_address, hashlock=eth_secret.hashlock, timelock=timelock, amount=10**15
    )
    usdc_lock = writer.lock(
        receiver=seller_address,
        hashlock=usdc_secret.hashlock,
        timelock=timelock,
        amount=2_500_000,
        token=devchain.info.usdc_token,
    )
    assert usdc_lock.amount == 2_500_000
    writer.claim(usdc_lock.lock_id, usdc_secret.preimage)
    devchain.control.mine(1)
    for made, state in ((eth_lock, LockState.LOCKED), (usdc_lock, LockState.CLAIMED)):
        found = reader.lock_by_id(made.lock_id)
        assert isinstance(found, Found)
        assert found.lock.sender == account.address
        assert found.lock.state == state
    assert usdc.functions.balanceOf(seller_address).call() == seller_before + 2_500_000


def test_contract_refusals_are_named(
    devchain: Devchain, buyer: HtlcWriter, seller_address: str
) -> None:
    secret = Secret.new()
    timelock = chain_now(devchain) + 3600
    made = buyer.lock(
        receiver=seller_address, hashlock=secret.hashlock, timelock=timelock, amount=10**15
    )
    with pytest.raises(HtlcWriteError, match="HashlockAlreadyUsed") as reused:
        buyer.lock(
            receiver=seller_address, hashlock=secret.hashlock, timelock=timelock, amount=10**15
        )
    assert reused.value.error_name == "HashlockAlreadyUsed"
    with pytest.raises(HtlcWriteError) as wrong:
        buyer.claim(made.lock_id, Secret.new().preimage)
    assert wrong.value.error_name == "WrongPreimage"
    with pytest.raises(HtlcWriteError) as early:
        buyer.refund(made.lock_id)
    assert early.value.error_name == "TimelockNotExpired"
    with pytest.raises(HtlcWriteError) as past:
        buyer.lock(
            receiver=seller_address,
            hashlock=Secret.new().hashlock,
            timelock=chain_now(devchain) - 1,
            amount=10**15,
        )
    assert past.value.error_name == "TimelockNotInFuture"


def test_refund_after_the_timelock_returns_the_funds(
    devchain: Devchain, buyer: HtlcWriter, seller_address: str
) -> None:
    w3 = Web3(Web3.HTTPProvider(devchain.rpc_url))
    timelock = chain_now(devchain) + 600
    made = buyer.lock(
        receiver=seller_address, hashlock=Secret.new().hashlock, timelock=timelock, amount=10**17
    )
    assert w3.eth.get_balance(Web3.to_checksum_address(devchain.info.htlc_contract)) == 10**17
    devchain.control.advance_time(600)
    buyer.refund(made.lock_id)
    assert w3.eth.get_balance(Web3.to_checksum_address(devchain.info.htlc_contract)) == 0
