"""What a chain read can come back with, and the values it carries.

A lock read ends in exactly one of four results, like the node adapter's Ok/Rejected/
Unknown, and the difference matters to the money:

* `Found`: the lock is on the canonical chain, in the pair's contract, and its block
  has the chain's finality depth. Its terms still have to pass `domain.htlc_terms`.
* `NotFinal`: the same, but the block is not deep enough yet; ask again later.
* `Missing`: the chain answered, and there is no such lock (unknown id or transaction,
  a reverted transaction, a lock in another contract, or one re-organised away).
* `Unreachable`: we could not ask (dead RPC, timeout, an answer that changed under us).
  Never treat it as "not there".

Other reads return `Ok(value)`, `Missing` where the thing asked for may not exist, or
`Unreachable`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeAlias, TypeVar

from otc_bridge.domain.htlc_terms import LockState, ObservedLock, RefusalCode

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BlockRef:
    number: int
    hash: str
    parent_hash: str
    timestamp: int


@dataclass(frozen=True, slots=True)
class OnChainLock:
    """`getLock(id)` as of some block (addresses checksummed, bytes32 as 0x-hex)."""

    id: str
    sender: str
    receiver: str
    token: str  # the zero address for ETH
    amount: int
    hashlock: str
    timelock: int
    order_ref: str
    state: LockState


@dataclass(frozen=True, slots=True)
class LockSighting:
    """A lock as the chain shows it now: its storage at `head`, and where its `Locked`
    log sits (contract, transaction, block)."""

    lock: OnChainLock
    contract: str
    tx_hash: str
    log_index: int
    block: BlockRef
    head: int

    @property
    def confirmations(self) -> int:
        """1 when the lock's block is the head."""
        return self.head - self.block.number + 1

    def observed(self) -> ObservedLock:
        """The fields `domain.htlc_terms.check_lock` judges."""
        lock = self.lock
        return ObservedLock(
            contract=self.contract,
            token=lock.token,
            amount=lock.amount,
            hashlock=lock.hashlock,
            receiver=lock.receiver,
            sender=lock.sender,
            timelock=lock.timelock,
            state=lock.state,
            block_timestamp=self.block.timestamp,
            confirmations=self.confirmations,
        )


@dataclass(frozen=True, slots=True)
class Found:
    sighting: LockSighting

    @property
    def lock(self) -> OnChainLock:
        return self.sighting.lock

    @property
    def depth(self) -> int:
        return self.sighting.confirmations

    @property
    def block(self) -> BlockRef:
        return self.sighting.block


@dataclass(frozen=True, slots=True)
class NotFinal:
    sighting: LockSighting
    required: int

    @property
    def lock(self) -> OnChainLock:
        return self.sighting.lock

    @property
    def depth(self) -> int:
        return self.sighting.confirmations


@dataclass(frozen=True, slots=True)
class Missing:
    reason: str
    code: RefusalCode = RefusalCode.LOCK_NOT_FOUND  # or WRONG_CONTRACT


@dataclass(frozen=True, slots=True)
class Unreachable:
    reason: str


@dataclass(frozen=True, slots=True)
class Ok(Generic[T]):
    value: T


LockResult: TypeAlias = Found | NotFinal | Missing | Unreachable


@dataclass(frozen=True, slots=True)
class LogPosition:
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int


@dataclass(frozen=True, slots=True)
class LockedEvent:
    """The fields of `codec.LockedFields`, where the chain put them."""

    position: LogPosition
    id: str
    sender: str
    receiver: str
    token: str
    amount: int
    hashlock: str
    timelock: int
    order_ref: str


@dataclass(frozen=True, slots=True)
class ClaimedEvent:
    position: LogPosition
    id: str
    preimage: str


@dataclass(frozen=True, slots=True)
class RefundedEvent:
    position: LogPosition
    id: str


HtlcEvent: TypeAlias = LockedEvent | ClaimedEvent | RefundedEvent


@dataclass(frozen=True, slots=True)
class ChainHealth:
    chain_id: int
    expected_chain_id: int
    head: BlockRef
    contract_deployed: bool

    @property
    def ok(self) -> bool:
        return self.chain_id == self.expected_chain_id and self.contract_deployed

    @property
    def problem(self) -> str | None:
        if self.chain_id != self.expected_chain_id:
            return f"chain id is {self.chain_id}, expected {self.expected_chain_id}"
        if not self.contract_deployed:
            return "no contract code at the configured HTLC address"
        return None
