"""An in-process EVM (eth-tester on py-evm) with the project's contracts deployed.

`ContractChain` deploys the HTLC, the devnet USDC and the hostile test tokens once, funds
and approves the accounts, moves the clock far past the wall clock (so every block
timestamp is exactly what a test asks for: parent + 1 unless `at()` says otherwise) and
takes a snapshot; `reset()` goes back to it between tests.

Reverts are checked twice: the gas estimate (run against the pending block, at the
timestamp the transaction would get) must fail with the named custom error, and the
transaction sent anyway must be mined with status 0 and change nothing.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction

from otc_bridge.adapters.evm.codec import DecodedRevert, decode_revert
from otc_bridge.adapters.evm.compiled import (
    DEV_USDC,
    HTLC,
    Artifact,
    artifact_from_file,
    load_artifact,
)

TEST_ARTIFACTS = Path(__file__).parent / "artifacts"
BASE_TIME = 2_100_000_000  # far past the wall clock: timestamps are then fully ours
ZERO = "0x" + "00" * 20
GAS = 1_500_000
UNLIMITED = 2**256 - 1
TOKEN_FUNDS = 10**15
FEE_BPS = 100  # 1% on every transfer


def test_artifact(name: str) -> Artifact:
    return artifact_from_file(TEST_ARTIFACTS / f"{name}.json")


test_artifact.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


@dataclass(frozen=True)
class Secret:
    preimage: bytes
    hashlock: bytes

    @classmethod
    def new(cls) -> Secret:
        preimage = os.urandom(32)
        return cls(preimage, hashlib.sha256(preimage).digest())


class ContractChain:
    def __init__(self) -> None:
        self.provider = EthereumTesterProvider()
        self.w3 = Web3(self.provider)
        self.tester = cast(Any, self.provider.ethereum_tester)
        self.accounts: list[Any] = list(self.w3.eth.accounts[:6])
        self.deployer, self.buyer, self.seller, self.stranger = self.accounts[:4]
        self.htlc = self.deploy(load_artifact(HTLC))
        self.usdc = self.deploy(load_artifact(DEV_USDC))
        self.fee_token = self.deploy(test_artifact("FeeOnTransferToken"), FEE_BPS)
        self.swallow_token = self.deploy(test_artifact("FeeOnTransferToken"), 10_000)
        self.nobool = self.deploy(test_artifact("NoBoolToken"))
        for token in (self.usdc, self.fee_token, self.swallow_token, self.nobool):
            for account in self.accounts:
                self.send(token.functions.mint(account, TOKEN_FUNDS), self.deployer)
                self.send(token.functions.approve(self.htlc.address, UNLIMITED), account)
        self.tester.time_travel(BASE_TIME)
        self._snapshot = self.tester.take_snapshot()

    def reset(self) -> None:
        self.tester.revert_to_snapshot(self._snapshot)

    # ------------------------------------------------------------------ deploy

    def deploy(self, artifact: Artifact, *args: Any) -> Contract:
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        tx = factory.constructor(*args).transact({"from": self.deployer})
        address = self.w3.eth.get_transaction_receipt(tx)["contractAddress"]
        return cast(Contract, self.w3.eth.contract(address=address, abi=artifact.abi))

    # ------------------------------------------------------------------ time

    def pending_time(self) -> int:
        return int(self.tester.get_block_by_number("pending")["timestamp"])

    def at(self, timestamp: int) -> None:
        """The next transaction is mined in a block with exactly this timestamp."""
        if timestamp < self.pending_time():
            raise ValueError(f"cannot go back to {timestamp} from {self.pending_time()}")
        self.tester.time_travel(timestamp)

    # ------------------------------------------------------------------ transactions

    def send(self, fn: ContractFunction, sender: str, value: int = 0) -> Any:
        """Send with a fixed gas limit (no estimate) and return the mined receipt."""
        tx = fn.transact(_params(sender, value, GAS))
        receipt = self.w3.eth.get_transaction_receipt(tx)
        assert receipt["status"] == 1, f"{fn.fn_name} reverted"
        return receipt

    def revert_of(self, fn: ContractFunction, sender: str, value: int = 0) -> DecodedRevert:
        """The custom error `fn` fails with at the pending block (nothing is mined)."""
        try:
            fn.estimate_gas(_params(sender, value))
        except Exception as exc:
            revert = _revert_in(exc)
            if revert is None:
                raise AssertionError(f"{fn.fn_name} failed without a decodable revert") from exc
            return revert
        raise AssertionError(f"{fn.fn_name} did not revert")

    def expect_revert(
        self, fn: ContractFunction, sender: str, error: str, value: int = 0
    ) -> DecodedRevert:
        """`fn` reverts with `error`, both as an estimate and as a mined transaction."""
        revert = self.revert_of(fn, sender, value)
        assert revert.name == error, f"expected {error}, got {revert}"
        tx = fn.transact(_params(sender, value, GAS))
        assert self.w3.eth.get_transaction_receipt(tx)["status"] == 0
        return revert

    def gas_cost(self, receipt: Any) -> int:
        return int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])

    # ------------------------------------------------------------------ reads

    def eth(self, address: Any) -> int:
        return int(self.w3.eth.get_balance(address))

    def tokens(self, token: Contract, address: str) -> int:
        return int(token.functions.balanceOf(address).call())

    def lock_tuple(self, lock_id: bytes) -> tuple[Any, ...]:
        return tuple(self.htlc.functions.getLock(lock_id).call())

    def lock_eth(
        self, secret: Secret, amount: int, timelock: int, *, receiver: str | None = None
    ) -> tuple[bytes, Any]:
        receipt = self.send(
            self.htlc.functions.lock(
                receiver or self.seller, secret.hashlock, timelock, ZERO, amount, b"\0" * 32
            ),
            self.buyer,
            value=amount,
        )
        return self.htlc.functions.lockIdOf(secret.hashlock).call(), receipt

    def lock_token(
        self, token: Contract, secret: Secret, amount: int, timelock: int
    ) -> tuple[bytes, Any]:
        receipt = self.send(
            self.htlc.functions.lock(
                self.seller, secret.hashlock, timelock, token.address, amount, b"\0" * 32
            ),
            self.buyer,
        )
        return self.htlc.functions.lockIdOf(secret.hashlock).call(), receipt


def _params(sender: str, value: int, gas: int | None = None) -> Any:
    params: dict[str, Any] = {"from": sender, "value": value}
    if gas is not None:
        params["gas"] = gas
    return params


def _revert_in(exc: BaseException | None) -> DecodedRevert | None:
    """eth-tester wraps the revert bytes several exceptions deep; find them."""
    while exc is not None:
        for arg in exc.args:
            if isinstance(arg, bytes):
                return decode_revert(arg)
        data = getattr(exc, "data", None)
        if isinstance(data, str) and data.startswith("0x"):
            return decode_revert(data)
        exc = exc.__cause__ or exc.__context__
    return None
