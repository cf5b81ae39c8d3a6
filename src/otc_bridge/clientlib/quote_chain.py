"""A trader's side of the quote chain: balances, lock, claim and refund on the pair's HTLC.

    chain = QuoteChainSettings.from_pair(bridge.pair("RTC/ETH"))    # GET /api/pairs
    wallet = QuoteWallet(chain, account)        # an unlocked address, or a LocalAccount
    made = wallet.lock(receiver=s, hashlock=h, timelock=t, amount=wei)
    wallet.wait_final(made.tx.tx_hash, timeout=120)

Everything about the chain comes from what the bridge publishes for the pair (contract,
token, decimals, chain id, RPC URL, finality depth, timelock window), and the RPC's own
chain id is checked against it before anything is sent. Reads go through the bridge's
`EvmReader` (the same code that judges the lock); writes through `HtlcWriter`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from otc_bridge.adapters.evm.config import EvmChain
from otc_bridge.adapters.evm.reader import EvmReader
from otc_bridge.adapters.evm.results import Found, Missing, NotFinal, Ok, OnChainLock, Unreachable
from otc_bridge.adapters.evm.writer import ERC20_ABI, HtlcWriter, LockMade, TxOutcome

POLL_SECONDS = 0.25


class QuoteChainError(Exception):
    """The chain could not do what was asked; the message says why in words."""


@dataclass(frozen=True, slots=True)
class QuoteChainSettings:
    pair: str
    currency: str
    chain_id: int
    rpc_url: str
    htlc_contract: str
    token_address: str | None  # None: ETH
    decimals: int
    finality_confirmations: int
    timelock_min_seconds: int
    timelock_max_seconds: int

    @classmethod
    def from_pair(cls, info: dict[str, Any], rpc_url: str | None = None) -> QuoteChainSettings:
        """From a `GET /api/pairs` entry; QuoteChainError if the pair has no usable chain."""
        if info.get("enabled") is False:
            raise QuoteChainError(
                f"{info.get('pair')} is disabled on this bridge: {info.get('disabled_reason')}"
            )
        missing = [k for k in ("chain_id", "htlc_contract", "rpc_url") if not info.get(k)]
        if missing and not (rpc_url and missing == ["rpc_url"]):
            raise QuoteChainError(
                f"the bridge publishes no quote chain for {info.get('pair')} "
                f"(missing {', '.join(missing)})"
            )
        window = info.get("timelock_window") or {}
        token = info.get("token_address")
        zero = "0x" + "00" * 20
        return cls(
            pair=str(info["pair"]),
            currency=str(info.get("quote_currency", "")),
            chain_id=int(info["chain_id"]),
            rpc_url=rpc_url or str(info["rpc_url"]),
            htlc_contract=to_checksum_address(str(info["htlc_contract"])),
            token_address=None if not token or token.lower() == zero else str(token),
            decimals=int(info["decimals"]),
            finality_confirmations=int(info.get("finality_confirmations") or 1),
            timelock_min_seconds=int(
                info.get("timelock_min_seconds") or window.get("min_seconds") or 7200
            ),
            timelock_max_seconds=int(
                info.get("timelock_max_seconds") or window.get("max_seconds") or 86400
            ),
        )


class QuoteWallet:
    def __init__(
        self, settings: QuoteChainSettings, account: str | LocalAccount, *, timeout: float = 30.0
    ) -> None:
        self.settings = settings
        self.writer = HtlcWriter.connect(
            settings.rpc_url, settings.htlc_contract, account, timeout=timeout
        )
        self.reader = EvmReader(
            EvmChain(
                rpc_url=settings.rpc_url,
                chain_id=settings.chain_id,
                htlc_contract=settings.htlc_contract,
                finality_confirmations=settings.finality_confirmations,
                rpc_timeout_seconds=timeout,
            )
        )

    @property
    def address(self) -> str:
        return str(self.writer.address)

    def check_chain(self) -> None:
        """Refuse to act on a chain other than the one the bridge names."""
        got = self.reader.chain_id()
        if isinstance(got, Unreachable):
            raise QuoteChainError(f"the quote chain at {self.settings.rpc_url} is unreachable")
        if got.value != self.settings.chain_id:
            raise QuoteChainError(
                f"the RPC at {self.settings.rpc_url} is chain {got.value}, but the bridge "
                f"settles {self.settings.pair} on chain {self.settings.chain_id}"
            )

    def head_time(self) -> int:
        head = self.reader.head()
        if isinstance(head, Unreachable):
            raise QuoteChainError(f"the quote chain is unreachable: {head.reason}")
        return head.value.timestamp

    # ------------------------------------------------------------------ balances

    def eth_balance(self, address: str | None = None) -> int:
        who = to_checksum_address(address or self.address)
        return int(self.writer.web3.eth.get_balance(who))

    def token_balance(self, token: str, address: str | None = None) -> int:
        who = to_checksum_address(address or self.address)
        erc20 = self.writer.web3.eth.contract(address=to_checksum_address(token), abi=ERC20_ABI)
        return int(erc20.functions.balanceOf(who).call())

    def quote_balance(self, address: str | None = None) -> int:
        token = self.settings.token_address
        return self.eth_balance(address) if token is None else self.token_balance(token, address)

    # ------------------------------------------------------------------ writes

    def lock(
        self, *, receiver: str, hashlock: str, timelock: int, amount: int, order_ref: str = ""
    ) -> LockMade:
        """Lock `amount` base units for `receiver` (approving the token first if needed)."""
        return self.writer.lock(
            receiver=receiver,
            hashlock=hashlock,
            timelock=timelock,
            amount=amount,
            token=self.settings.token_address,
            order_ref=order_ref,
        )

    def claim(self, lock_id: str, preimage: str) -> TxOutcome:
        return self.writer.claim(lock_id, preimage)

    def refund(self, lock_id: str) -> TxOutcome:
        return self.writer.refund(lock_id)

    # ------------------------------------------------------------------ reads

    def lock_state(self, lock_id: str) -> OnChainLock:
        head = self.reader.head()
        if isinstance(head, Unreachable):
            raise QuoteChainError(f"the quote chain is unreachable: {head.reason}")
        found = self.reader.lock_at(lock_id, head.value.number)
        if isinstance(found, Unreachable):
            raise QuoteChainError(f"the quote chain is unreachable: {found.reason}")
        return found.value

    def wait_final(self, tx_hash: str, *, timeout: float) -> Found:
        """Poll until the lock made by `tx_hash` is `finality_confirmations` deep."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.reader.lock_by_tx(tx_hash)
            if isinstance(result, Found):
                return result
            if isinstance(result, Missing):
                raise QuoteChainError(f"the lock is gone from the chain: {result.reason}")
            if time.monotonic() > deadline:
                seen = (
                    f"{result.sighting.confirmations} of {result.required} confirmations"
                    if isinstance(result, NotFinal)
                    else f"unreachable: {result.reason}"
                )
                raise QuoteChainError(f"the lock did not become final within {timeout}s ({seen})")
            time.sleep(POLL_SECONDS)  # polling the chain's head, with a deadline


__all__ = [
    "Found",
    "Ok",
    "QuoteChainError",
    "QuoteChainSettings",
    "QuoteWallet",
]
