"""`HtlcWriter`: lock, claim and refund from a client's account (trader CLI, tests).

    writer = HtlcWriter.connect(rpc_url, htlc_contract, account)   # address or LocalAccount
    made = writer.lock(receiver=s, hashlock=h, timelock=t, amount=wei)          # ETH
    made = writer.lock(receiver=s, hashlock=h, timelock=t, amount=n, token=usdc)  # ERC-20
    writer.claim(made.lock_id, preimage)
    writer.refund(made.lock_id)

The account is either an address the node holds unlocked (the dev chain's accounts) or a
local private key (`eth_account.Account.from_key`), in which case transactions are signed
here and only the signed bytes leave the process. Each call waits for its receipt; a
revert raises `HtlcWriteError` naming the contract's custom error (the gas estimate
replays the call first, so most refusals are reported before anything is sent).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.types import TxParams

from otc_bridge.adapters.evm.codec import (
    LOCKED_TOPIC,
    DecodedRevert,
    RawLog,
    as_bytes32,
    decode_locked,
    decode_revert,
    encode_order_ref,
    hex32,
)
from otc_bridge.adapters.evm.compiled import HTLC, load_artifact
from otc_bridge.adapters.evm.rpc import connect
from otc_bridge.domain.htlc_terms import ZERO_ADDRESS

ERC20_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": "approve",
        "stateMutability": "nonpayable",
        "inputs": [{"name": "spender", "type": "address"}, {"name": "amount", "type": "uint256"}],
        "outputs": [{"name": "", "type": "bool"}],
    },
    {
        "type": "function",
        "name": "allowance",
        "stateMutability": "view",
        "inputs": [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
    {
        "type": "function",
        "name": "balanceOf",
        "stateMutability": "view",
        "inputs": [{"name": "owner", "type": "address"}],
        "outputs": [{"name": "", "type": "uint256"}],
    },
]


class HtlcWriteError(RuntimeError):
    def __init__(self, message: str, revert: DecodedRevert | None = None) -> None:
        super().__init__(message if revert is None else f"{message}: {revert}")
        self.revert = revert

    @property
    def error_name(self) -> str | None:
        return self.revert.name if self.revert is not None else None


@dataclass(frozen=True, slots=True)
class TxOutcome:
    tx_hash: str
    block_number: int
    block_hash: str
    gas_used: int


@dataclass(frozen=True, slots=True)
class LockMade:
    tx: TxOutcome
    lock_id: str
    amount: int  # what the contract recorded (less than asked for a fee-on-transfer token)


class HtlcWriter:
    def __init__(
        self,
        web3: Web3,
        htlc_contract: str,
        account: str | LocalAccount,
        *,
        receipt_timeout: float = 120.0,
    ) -> None:
        self.web3 = web3
        self.htlc = web3.eth.contract(
            address=to_checksum_address(htlc_contract), abi=load_artifact(HTLC).abi
        )
        self.account = account
        self.receipt_timeout = receipt_timeout

    @classmethod
    def connect(
        cls, rpc_url: str, htlc_contract: str, account: str | LocalAccount, *, timeout: float = 30.0
    ) -> HtlcWriter:
        return cls(connect(rpc_url, timeout=timeout), htlc_contract, account)

    @property
    def address(self) -> ChecksumAddress:
        if isinstance(self.account, str):
            return to_checksum_address(self.account)
        return to_checksum_address(self.account.address)

    # ------------------------------------------------------------------ actions

    def lock(
        self,
        *,
        receiver: str,
        hashlock: bytes | str,
        timelock: int,
        amount: int,
        token: str | None = None,
        order_ref: str = "",
    ) -> LockMade:
        """Lock ETH (token None or zero) or an ERC-20 (approving the HTLC first if the
        allowance is short). Returns the lock id and the amount the contract recorded."""
        token_address = to_checksum_address(token or ZERO_ADDRESS)
        is_eth = token_address == ZERO_ADDRESS
        if not is_eth:
            self._ensure_allowance(token_address, amount)
        call = self.htlc.functions.lock(
            to_checksum_address(receiver),
            as_bytes32(hashlock),
            timelock,
            token_address,
            amount,
            encode_order_ref(order_ref),
        )
        outcome, receipt = self._send(call, value=amount if is_eth else 0)
        for entry in receipt["logs"]:
            raw = RawLog.from_rpc(cast(Mapping[str, Any], entry))
            if raw.address == self.htlc.address and raw.topics[0] == LOCKED_TOPIC:
                fields = decode_locked(raw)
                return LockMade(outcome, fields.id, fields.amount)
        raise HtlcWriteError(f"transaction {outcome.tx_hash} emitted no Locked event")

    def claim(self, lock_id: str, preimage: bytes | str) -> TxOutcome:
        return self._send(self.htlc.functions.claim(as_bytes32(lock_id), as_bytes32(preimage)))[0]

    def refund(self, lock_id: str) -> TxOutcome:
        return self._send(self.htlc.functions.refund(as_bytes32(lock_id)))[0]

    def approve(self, token: str, amount: int) -> TxOutcome:
        erc20 = self.web3.eth.contract(address=to_checksum_address(token), abi=ERC20_ABI)
        return self._send(erc20.functions.approve(self.htlc.address, amount))[0]

    def _ensure_allowance(self, token: ChecksumAddress, amount: int) -> None:
        erc20 = self.web3.eth.contract(address=token, abi=ERC20_ABI)
        allowed = int(erc20.functions.allowance(self.address, self.htlc.address).call())
        if allowed < amount:
            self.approve(token, amount)

    # ------------------------------------------------------------------ sending

    def _send(self, call: ContractFunction, *, value: int = 0) -> tuple[TxOutcome, Any]:
        params: TxParams = {"from": self.address, "value": value}  # type: ignore[typeddict-item]
        try:
            tx = call.build_transaction(params)  # estimates gas: a revert shows up here
        except (ContractCustomError, ContractLogicError) as exc:
            raise HtlcWriteError(
                f"{call.fn_name} would revert", decode_revert(_revert_data(exc))
            ) from exc
        if isinstance(self.account, str):
            tx_hash = self.web3.eth.send_transaction(tx)
        else:
            tx["nonce"] = self.web3.eth.get_transaction_count(self.address, "pending")
            signed = self.account.sign_transaction(cast(dict[str, Any], tx))
            tx_hash = self.web3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = self.web3.eth.wait_for_transaction_receipt(
            tx_hash, timeout=self.receipt_timeout, poll_latency=0.05
        )
        outcome = TxOutcome(
            tx_hash=hex32(receipt["transactionHash"]),
            block_number=int(receipt["blockNumber"]),
            block_hash=hex32(receipt["blockHash"]),
            gas_used=int(receipt["gasUsed"]),
        )
        if int(receipt["status"]) != 1:
            raise HtlcWriteError(f"{call.fn_name} reverted in {outcome.tx_hash}")
        return outcome, receipt


def _revert_data(exc: ContractCustomError | ContractLogicError) -> str | None:
    data = exc.data
    if isinstance(data, str):
        return data
    if isinstance(data, Mapping):
        inner = data.get("data")
        return inner if isinstance(inner, str) else None
    return None
