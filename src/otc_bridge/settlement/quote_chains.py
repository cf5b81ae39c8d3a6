"""The quote chains as settlement sees them: a port, one `QuoteChain` per pair whose quote
leg can be verified, and which pairs accept orders at all.

    chain = chains.for_pair(order.pair)          # None: the pair's quote leg is not verified
    chain.find_lock(LockRef(lock_id=..., tx_hash=None))  -> Found | NotFinal | Missing | Unreachable
    chain.final_lock_state(lock_id, from_block)  -> FinalLockView | Unreachable
    chain.health()                               -> ChainStatus

The EVM implementation (`settlement.evm_quote_chain`) wraps `adapters.evm.EvmReader`.
Pair gating lives here too, so the request path, `GET /api/pairs` and the driver agree:
an EVM pair is enabled exactly when its chain is configured; RTC/ERG has no verifier and
is enabled only under the documented `unverified` policy (`OTC_RTC_ERG_QUOTE_POLICY`),
which trusts the seller's word that the buyer paid.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from otc_bridge.adapters.evm.results import LockResult, Unreachable
from otc_bridge.domain.htlc_terms import LockState
from otc_bridge.domain.pairs import PAIRS

_HEX32 = re.compile(r"0x[0-9a-fA-F]{64}")


class QuotePolicy(StrEnum):
    VERIFIED = "verified"  # B's lock is read from the chain and checked (EVM pairs)
    UNVERIFIED = "unverified"  # RTC/ERG only, off by default: the seller's word
    NONE = "none"  # the pair accepts no orders


def is_hex32(value: str) -> bool:
    return _HEX32.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class LockRef:
    """How a lock is reported: its id, or the transaction that made it (exactly one)."""

    lock_id: str | None = None
    tx_hash: str | None = None

    def names(self, lock_id: str, tx_hash: str) -> bool:
        """Whether this reference points at the lock with `lock_id`, made by `tx_hash`."""
        if self.lock_id is not None:
            return self.lock_id.lower() == lock_id.lower()
        return self.tx_hash is not None and self.tx_hash.lower() == tx_hash.lower()


@dataclass(frozen=True, slots=True)
class FinalLockView:
    """A lock as of the chain's final block (head - confirmations + 1)."""

    state: LockState
    block_number: int
    block_timestamp: int
    preimage: str | None = None  # CLAIMED: the preimage the claim revealed (0x-hex)
    claim_tx: str | None = None


@dataclass(frozen=True, slots=True)
class ChainStatus:
    name: str  # the pairs it serves, "RTC/ETH,RTC/USDC"
    chain_id: int
    reachable: bool
    head: int | None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class LockTerms:
    """What a pair's chain needs from a lock beyond the order's own terms."""

    htlc_contract: str
    token: str  # the zero address for ETH
    finality_confirmations: int
    timelock_min: int | None  # None: the bridge's deadline policy
    timelock_max: int | None


class QuoteChain(Protocol):
    terms: LockTerms
    key: str  # the same for every pair on one chain (and contract)

    def find_lock(self, ref: LockRef) -> LockResult: ...

    def final_lock_state(
        self, lock_id: str, from_block: int = 0
    ) -> FinalLockView | Unreachable: ...

    def health(self) -> ChainStatus: ...


class QuoteChains:
    def __init__(
        self,
        chains: Mapping[str, QuoteChain] | None = None,
        disabled: Mapping[str, str] | None = None,
        *,
        erg_policy: str = "none",
    ) -> None:
        self._chains = dict(chains or {})
        self._disabled = dict(disabled or {})
        self.erg_policy = QuotePolicy.UNVERIFIED if erg_policy == "unverified" else None

    def for_pair(self, pair: str) -> QuoteChain | None:
        return self._chains.get(pair)

    def policy(self, pair: str) -> QuotePolicy:
        if pair in self._chains:
            return QuotePolicy.VERIFIED
        if PAIRS[pair].chain == "ergo" and self.erg_policy is QuotePolicy.UNVERIFIED:
            return QuotePolicy.UNVERIFIED
        return QuotePolicy.NONE

    def disabled_reason(self, pair: str) -> str | None:
        """Why the pair accepts no orders, or None when it does."""
        if self.policy(pair) is not QuotePolicy.NONE:
            return None
        if PAIRS[pair].chain == "ergo":
            return (
                "the RTC/ERG quote leg cannot be verified; it is enabled only with "
                "OTC_RTC_ERG_QUOTE_POLICY=unverified, which trusts the seller"
            )
        why = self._disabled.get(pair, "its quote chain is not configured")
        return f"no verifiable quote chain for {pair}: {why}"

    def chains(self) -> list[QuoteChain]:
        """Each distinct chain once (pairs on one chain share it)."""
        seen: dict[str, QuoteChain] = {}
        for chain in self._chains.values():
            seen.setdefault(chain.key, chain)
        return list(seen.values())

    def health(self) -> list[ChainStatus]:
        return [chain.health() for chain in self.chains()]
