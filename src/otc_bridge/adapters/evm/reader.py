"""`EvmReader`: everything the bridge reads from an EVM chain about the HTLC contract.

    reader = EvmReader(config.chain)
    match reader.lock_by_tx(tx_hash):
        case Found(sighting): check_lock(expected, sighting.observed(), now)
        case NotFinal(sighting, required): ...   # seen, count it once final
        case Missing(reason, code): ...          # refuse (lock_not_found / wrong_contract)
        case Unreachable(reason): ...            # 503 chain_unreachable; never "missing"

A lock is always judged on the contract's storage (`getLock` at the head the read
started from), never on what a client says; its `Locked` log only says where it sits
(transaction, block, depth). Every call has the chain's timeout, and no exception leaves
this class: whatever goes wrong while asking is `Unreachable`, including an answer that
changed under us (a re-org between two calls of one read).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, TypeVar, cast

from eth_typing import HexStr
from eth_utils.address import to_checksum_address

from otc_bridge.adapters.evm.codec import (
    CLAIMED_TOPIC,
    HTLC_TOPICS,
    LOCKED_TOPIC,
    REFUNDED_TOPIC,
    RawLog,
    as_bytes32,
    decode_claimed_preimage,
    decode_locked,
    hex32,
)
from otc_bridge.adapters.evm.compiled import HTLC, load_artifact
from otc_bridge.adapters.evm.config import EvmChain
from otc_bridge.adapters.evm.results import (
    BlockRef,
    ChainHealth,
    ClaimedEvent,
    Found,
    HtlcEvent,
    LockedEvent,
    LockResult,
    LockSighting,
    LogPosition,
    Missing,
    NotFinal,
    Ok,
    OnChainLock,
    RefundedEvent,
    Unreachable,
)
from otc_bridge.domain.htlc_terms import LockState, RefusalCode

if TYPE_CHECKING:
    from web3 import Web3
    from web3.contract import Contract
    from web3.types import FilterParams

log = logging.getLogger(__name__)

R = TypeVar("R")


class _Reorged(Exception):
    """Two answers of one read disagree: the chain moved under us."""


class EvmReader:
    """web3.py (over a second of CPU to import) is imported and connected on the first
    read, not here: a bridge process that never reads its chain (most CLI commands, a
    process that dies or stops before any lock) starts without it."""

    def __init__(self, chain: EvmChain, web3: Web3 | None = None) -> None:
        self.chain = chain
        self._address = to_checksum_address(chain.htlc_contract)
        self._web3 = web3
        self._contract: Contract | None = None
        self._connecting = threading.Lock()  # API threads and a watcher may read first

    @property
    def web3(self) -> Web3:
        if self._web3 is None:
            with self._connecting:
                if self._web3 is None:
                    from otc_bridge.adapters.evm.rpc import connect

                    chain = self.chain
                    self._web3 = connect(
                        chain.rpc_url, timeout=chain.rpc_timeout_seconds, read_only=True
                    )
        return self._web3

    @property
    def _htlc(self) -> Contract:
        if self._contract is None:
            self._contract = self.web3.eth.contract(
                address=self._address, abi=load_artifact(HTLC).abi
            )
        return self._contract

    # ------------------------------------------------------------------ chain

    def chain_id(self) -> Ok[int] | Unreachable:
        return self._guard("eth_chainId", lambda: Ok(int(self.web3.eth.chain_id)))

    def head(self) -> Ok[BlockRef] | Unreachable:
        return self._guard("head", lambda: Ok(self._block("latest")))

    def block(self, number: int) -> Ok[BlockRef] | Missing | Unreachable:
        def read() -> Ok[BlockRef] | Missing:
            from web3.exceptions import BlockNotFound

            try:
                return Ok(self._block(number))
            except BlockNotFound:
                return Missing(f"no block {number} yet")

        return self._guard(f"block {number}", read)

    def check_chain(self) -> Ok[ChainHealth] | Unreachable:
        """Reachability, the chain id, the head and whether the contract is deployed."""

        def read() -> Ok[ChainHealth]:
            chain_id = int(self.web3.eth.chain_id)
            head = self._block("latest")
            code = self.web3.eth.get_code(self._htlc.address, block_identifier=head.number)
            return Ok(ChainHealth(chain_id, self.chain.chain_id, head, len(code) > 0))

        return self._guard("chain check", read)

    # ------------------------------------------------------------------ locks

    def lock_by_id(self, lock_id: str, *, from_block: int | None = None) -> LockResult:
        """The lock with this id; its `Locked` log is sought back from the head over at
        most `log_lookback_blocks`, and never before `from_block` or the deployment."""

        def read() -> LockResult:
            head = int(self.web3.eth.block_number)
            lock = self._lock_storage(lock_id, head)
            if lock.state == LockState.NONE:
                return Missing(f"no lock with id {hex32(lock_id)} in {self._htlc.address}")
            found = self._find_locked_log(lock.id, head, from_block)
            if found is None:
                return Missing(
                    f"lock {lock.id} exists but its Locked log is older than the "
                    f"{self.chain.log_lookback_blocks} blocks searched"
                )
            return self._sighting(lock, found, head)

        return self._guard(f"lock {lock_id}", read)

    def lock_by_tx(self, tx_hash: str) -> LockResult:
        """The lock made by this transaction (its `Locked` log from the pair's contract)."""

        def read() -> LockResult:
            from web3.exceptions import TransactionNotFound

            try:
                receipt = self.web3.eth.get_transaction_receipt(HexStr(hex32(tx_hash)))
            except TransactionNotFound:
                return self._no_receipt(tx_hash)
            if int(receipt["status"]) != 1:
                return Missing(f"transaction {hex32(tx_hash)} reverted: it locked nothing")
            logs = [RawLog.from_rpc(cast(Mapping[str, Any], entry)) for entry in receipt["logs"]]
            locked = [e for e in logs if e.topics and e.topics[0] == LOCKED_TOPIC]
            ours = [e for e in locked if e.address == self._htlc.address]
            if not ours:
                return self._not_ours(tx_hash, locked)
            if len(ours) > 1:
                return Missing(
                    f"transaction {hex32(tx_hash)} made {len(ours)} locks; report the lock id"
                )
            head = int(self.web3.eth.block_number)
            if ours[0].block_number > head:
                raise _Reorged("the receipt is newer than the head")
            lock = self._lock_storage(ours[0].topics[1], head)
            if lock.state == LockState.NONE:
                return Missing(f"the lock of {hex32(tx_hash)} is not on the canonical chain")
            return self._sighting(lock, ours[0], head)

        return self._guard(f"lock of tx {tx_hash}", read)

    def lock_at(self, lock_id: str, block_number: int) -> Ok[OnChainLock] | Unreachable:
        """`getLock(id)` as of a block (state NONE if the lock did not exist then)."""
        return self._guard(
            f"lock {lock_id} at {block_number}",
            lambda: Ok(self._lock_storage(lock_id, block_number)),
        )

    # ------------------------------------------------------------------ events

    def events(self, from_block: int, to_block: int) -> Ok[list[HtlcEvent]] | Unreachable:
        """Every Locked/Claimed/Refunded of the contract in [from_block, to_block], in
        chain order, with ONE eth_getLogs (the caller bounds the range)."""

        def read() -> Ok[list[HtlcEvent]]:
            params = {
                "address": self._htlc.address,
                "fromBlock": from_block,
                "toBlock": to_block,
                "topics": [list(HTLC_TOPICS)],
            }
            raw = self.web3.eth.get_logs(cast("FilterParams", params))
            entries = [RawLog.from_rpc(cast(Mapping[str, Any], e)) for e in raw]
            decoded = [_decode_event(e) for e in entries if e.address == self._htlc.address]
            return Ok([event for event in decoded if event is not None])

        return self._guard(f"events {from_block}..{to_block}", read)

    # ------------------------------------------------------------------ internals

    def _guard(self, what: str, read: Callable[[], R]) -> R | Unreachable:
        try:
            return read()
        except _Reorged as exc:
            return Unreachable(f"{what}: the chain re-organised during the read ({exc})")
        except Exception as exc:  # a dead RPC must never become an exception upstream
            log.warning("chain %d: %s failed: %r", self.chain.chain_id, what, exc)
            return Unreachable(f"{what}: {type(exc).__name__}: {exc}")

    def _block(self, identifier: int | str) -> BlockRef:
        block = self.web3.eth.get_block(identifier)  # type: ignore[arg-type]
        return BlockRef(
            number=int(block["number"]),
            hash=hex32(block["hash"]),
            parent_hash=hex32(block["parentHash"]),
            timestamp=int(block["timestamp"]),
        )

    def _lock_storage(self, lock_id: str, block_number: int) -> OnChainLock:
        sender, receiver, token, amount, hashlock, timelock, order_ref, state = (
            self._htlc.functions.getLock(as_bytes32(lock_id)).call(block_identifier=block_number)
        )
        return OnChainLock(
            id=hex32(lock_id),
            sender=to_checksum_address(sender),
            receiver=to_checksum_address(receiver),
            token=to_checksum_address(token),
            amount=int(amount),
            hashlock=hex32(hashlock),
            timelock=int(timelock),
            order_ref=hex32(order_ref),
            state=LockState(int(state)),
        )

    def _find_locked_log(self, lock_id: str, head: int, from_block: int | None) -> RawLog | None:
        lowest = max(
            self.chain.start_block,
            head - self.chain.log_lookback_blocks + 1,
            from_block or 0,
            0,
        )
        high = head
        while high >= lowest:  # newest range first: locks being verified are recent
            low = max(lowest, high - self.chain.log_range_blocks + 1)
            params = {
                "address": self._htlc.address,
                "fromBlock": low,
                "toBlock": high,
                "topics": [LOCKED_TOPIC, lock_id],
            }
            found = self.web3.eth.get_logs(cast("FilterParams", params))
            if found:
                return RawLog.from_rpc(cast(Mapping[str, Any], found[-1]))
            high = low - 1
        return None

    def _sighting(self, lock: OnChainLock, locked_log: RawLog, head: int) -> LockResult:
        block = self._block(locked_log.block_number)
        if block.hash != locked_log.block_hash:
            raise _Reorged(f"block {block.number} is no longer {locked_log.block_hash}")
        sighting = LockSighting(
            lock=lock,
            contract=locked_log.address,
            tx_hash=locked_log.tx_hash,
            log_index=locked_log.log_index,
            block=block,
            head=head,
        )
        required = self.chain.finality_confirmations
        if sighting.confirmations >= required:
            return Found(sighting)
        return NotFinal(sighting, required)

    def _no_receipt(self, tx_hash: str) -> Missing:
        """No receipt: a transaction still in the mempool (say so: it may lock once
        mined) or one the chain does not know."""
        from web3.exceptions import TransactionNotFound

        try:
            self.web3.eth.get_transaction(HexStr(hex32(tx_hash)))
        except TransactionNotFound:
            return Missing(f"transaction {hex32(tx_hash)} is not on the chain")
        return Missing(f"transaction {hex32(tx_hash)} is pending: not mined yet")

    def _not_ours(self, tx_hash: str, locked: list[RawLog]) -> Missing:
        if locked:
            return Missing(
                f"the Locked event of {hex32(tx_hash)} comes from {locked[0].address}, "
                f"not the pair's HTLC contract {self._htlc.address}",
                RefusalCode.WRONG_CONTRACT,
            )
        return Missing(f"transaction {hex32(tx_hash)} made no lock in {self._htlc.address}")


def _decode_event(entry: RawLog) -> HtlcEvent | None:
    position = LogPosition(entry.block_number, entry.block_hash, entry.tx_hash, entry.log_index)
    topic = entry.topics[0] if entry.topics else None
    if topic == LOCKED_TOPIC:
        return LockedEvent(position, **asdict(decode_locked(entry)))
    if topic == CLAIMED_TOPIC:
        return ClaimedEvent(position, entry.topics[1], decode_claimed_preimage(entry))
    if topic == REFUNDED_TOPIC:
        return RefundedEvent(position, entry.topics[1])
    return None
