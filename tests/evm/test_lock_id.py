"""The lock id the bridge computes from a hashlock is the one the deployed HTLC gives, so
the driver can find B's lock at the match deadline from the order's hashlock alone."""

from __future__ import annotations

from otc_bridge.adapters.evm.codec import lock_id_of
from otc_bridge.adapters.evm.writer import HtlcWriter
from otc_bridge.devnet.devchain.harness import Devchain
from tests.evm.conftest import Secret, chain_now


def test_lock_id_of_is_the_contracts_id(
    devchain: Devchain, buyer: HtlcWriter, seller_address: str
) -> None:
    secret = Secret.new()
    computed = lock_id_of(devchain.info.chain_id, devchain.info.htlc_contract, secret.hashlock)
    made = buyer.lock(
        receiver=seller_address,
        hashlock=secret.hashlock,
        timelock=chain_now(devchain) + 3600,
        amount=10**15,
    )
    assert computed == made.lock_id.lower()
    other = lock_id_of(devchain.info.chain_id, devchain.info.htlc_contract, Secret.new().hashlock)
    assert other != computed
