"""`QuoteChain` on an EVM chain: the port of `settlement.quote_chains` over `EvmReader`.

One reader per configured chain (pairs on one chain share it and its connection); one
`EvmQuoteChain` per pair, which adds the pair's token and timelock window.
"""

from __future__ import annotations

from otc_bridge.adapters.evm.config import EvmPairConfig, EvmSettings
from otc_bridge.adapters.evm.reader import EvmReader
from otc_bridge.adapters.evm.results import (
    ClaimedEvent,
    LockResult,
    Missing,
    Ok,
    Unreachable,
)
from otc_bridge.domain.htlc_terms import LockState
from otc_bridge.settlement.quote_chains import (
    ChainStatus,
    FinalLockView,
    LockRef,
    LockTerms,
    QuoteChain,
    QuoteChains,
)


class EvmQuoteChain:
    def __init__(self, config: EvmPairConfig, reader: EvmReader, *, name: str) -> None:
        self.config = config
        self.reader = reader
        chain = config.chain
        self.key = f"{chain.chain_id}:{chain.rpc_url}:{chain.htlc_contract}"
        self.name = name
        self.terms = LockTerms(
            htlc_contract=chain.htlc_contract,
            token=config.token_or_zero,
            finality_confirmations=chain.finality_confirmations,
            timelock_min=config.timelock_min_seconds,
            timelock_max=config.timelock_max_seconds,
        )

    def find_lock(self, ref: LockRef) -> LockResult:
        if ref.lock_id is not None:
            return self.reader.lock_by_id(ref.lock_id)
        if ref.tx_hash is not None:
            return self.reader.lock_by_tx(ref.tx_hash)
        return Missing("no lock id or transaction given")

    def final_lock_state(self, lock_id: str, from_block: int = 0) -> FinalLockView | Unreachable:
        """The lock at the final block; for a claim, the preimage from its `Claimed` log
        (sought from the lock's own block up to the final one)."""
        head = self.reader.head()
        if isinstance(head, Unreachable):
            return head
        final = max(0, head.value.number - self.terms.finality_confirmations + 1)
        block = self.reader.block(final)
        if not isinstance(block, Ok):
            return block if isinstance(block, Unreachable) else Unreachable(block.reason)
        lock = self.reader.lock_at(lock_id, final)
        if isinstance(lock, Unreachable):
            return lock
        view = FinalLockView(lock.value.state, final, block.value.timestamp)
        if lock.value.state is not LockState.CLAIMED:
            return view
        claim = self._claim(lock_id, from_block, final)
        if isinstance(claim, Unreachable):
            return claim
        if claim is None:
            return Unreachable(f"lock {lock_id} is claimed but no Claimed log was found")
        return FinalLockView(
            view.state, final, view.block_timestamp, claim.preimage, claim.position.tx_hash
        )

    def _claim(self, lock_id: str, low: int, high: int) -> ClaimedEvent | Unreachable | None:
        span = self.config.chain.log_range_blocks
        start = max(low, self.config.chain.start_block)
        while start <= high:
            end = min(high, start + span - 1)
            events = self.reader.events(start, end)
            if isinstance(events, Unreachable):
                return events
            for event in events.value:
                if isinstance(event, ClaimedEvent) and event.id.lower() == lock_id.lower():
                    return event
            start = end + 1
        return None

    def health(self) -> ChainStatus:
        checked = self.reader.check_chain()
        if isinstance(checked, Unreachable):
            return ChainStatus(self.name, self.config.chain.chain_id, False, None, checked.reason)
        status = checked.value
        return ChainStatus(
            self.name, status.expected_chain_id, True, status.head.number, status.problem
        )


def evm_quote_chains(settings: EvmSettings, *, erg_policy: str) -> QuoteChains:
    """One reader per configured chain, one `EvmQuoteChain` per configured pair."""
    readers: dict[str, EvmReader] = {}
    chains: dict[str, QuoteChain] = {}
    for symbol, config in settings.pairs.items():
        chain = config.chain
        key = f"{chain.chain_id}:{chain.rpc_url}:{chain.htlc_contract}"
        reader = readers.setdefault(key, EvmReader(chain))
        sharing = sorted(s for s, c in settings.pairs.items() if c.chain == chain)
        chains[symbol] = EvmQuoteChain(config, reader, name=",".join(sharing))
    return QuoteChains(chains, settings.disabled, erg_policy=erg_policy)
