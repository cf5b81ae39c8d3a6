"""One chain's follower: from a persisted checkpoint to the final head, one bounded range
per poll, re-orgs detected by block hash and undone by a rewind.

A poll, under the chain's lease (every write carries its fence):

1. the head (`eth_getBlockByNumber latest`); a block is final when it has the chain's
   `finality_confirmations` (the head itself has one);
2. the range's last final block, `eth_getLogs` once over the checkpoint's next block up
   to the head (at most `max_range_blocks`), and that last final block again: a hash
   that changed during the read means the chain moved under us, and the poll is retried;
3. the checkpoint's block again by number, last (so a re-org that replaced it before any
   of the reads above is seen): a different hash means a re-org reached a block we had
   already acted on: the operators are alerted (once per replaced block, keyed by the
   chain, its number and old hash), then the checkpoint goes back to the newest recent
   mark still on the chain (at or below the fork) and the next polls read forward from
   there;
4. the final events go to the effects (idempotent calls into `Settlement`), in chain
   order; the events above the final block are only recorded as sightings;
5. the checkpoint moves to the range's last final block, with a compare-and-set on the
   checkpoint the poll started from.

Crash boundaries: effects are made before the checkpoint moves, and each one is
idempotent (it checks the order's state, and `Settlement`'s writes are guarded), so a
process killed between an effect and the checkpoint reads the same range again and the
second pass finds nothing left to do. A kill during a rewind leaves either the old
checkpoint (the rewind is found again, its alert already queued under the same key) or
the new one (one transaction, after the alert). See
docs/settlement.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import Protocol, TypeVar

from otc_bridge.adapters.evm.config import EvmChain
from otc_bridge.adapters.evm.reader import EvmReader
from otc_bridge.adapters.evm.results import (
    BlockRef,
    ClaimedEvent,
    HtlcEvent,
    LockedEvent,
    Missing,
    Ok,
    Unreachable,
)
from otc_bridge.adapters.store.chain_watch import Checkpoint, Mark, Sighting
from otc_bridge.adapters.store.store import Fence, Store
from otc_bridge.domain.clock import Clock
from otc_bridge.observability import metrics
from otc_bridge.settlement.alerts import Alerts
from otc_bridge.settlement.crashpoints import crashpoint
from otc_bridge.settlement.watch.config import WatcherSettings

log = logging.getLogger(__name__)

T = TypeVar("T")
REORG_ALERT = "quote chain re-organised past the watcher's finality depth"


def chain_key(chain: EvmChain) -> str:
    """How a chain's checkpoint is named: its id and the HTLC contract."""
    return f"{chain.chain_id}:{chain.htlc_contract.lower()}"


def lease_name(chain: EvmChain) -> str:
    """The chain's lease (fits the leases table's 40 characters)."""
    return f"watch:{chain.chain_id}:{chain.htlc_contract.lower()[2:12]}"


@dataclass(slots=True)
class Applied:
    """What the effects did with a range's final events."""

    acted: int = 0  # a call into Settlement that changed an order
    skipped: int = 0  # nothing to do (not ours, or already done)
    retry: str | None = None  # a transient failure: the range is read again next poll


class Effects(Protocol):
    def apply(
        self, events: Sequence[HtlcEvent], *, since: Mark, final: Mark, fence: Fence
    ) -> Applied: ...


class PollResult(StrEnum):
    STARTED = "started"  # the first checkpoint was written
    ADVANCED = "advanced"  # the checkpoint moved forward
    IDLE = "idle"  # no new final block
    REWOUND = "rewound"  # a re-org reached the checkpoint: it went back
    MOVED = "moved"  # the chain changed during the read: try again
    RETRY = "retry"  # an effect met a transient failure: the range is read again
    UNREACHABLE = "unreachable"
    LEASE_LOST = "lease_lost"  # a fenced write was refused


@dataclass(slots=True)
class PollReport:
    result: PollResult
    head: int | None = None
    checkpoint: int | None = None
    blocks: int = 0  # final blocks this poll added
    events: int = 0  # final events handed to the effects
    acted: int = 0
    rpc_calls: int = 0
    reason: str | None = None
    sightings: list[Sighting] = field(default_factory=list)


class ChainFollower:
    def __init__(
        self,
        *,
        reader: EvmReader,
        store: Store,
        clock: Clock,
        effects: Effects,
        settings: WatcherSettings,
        alerts: Alerts | None = None,
    ) -> None:
        self.reader = reader
        self.chain = reader.chain
        self.key = chain_key(self.chain)
        self.store = store
        self.clock = clock
        self.effects = effects
        self.settings = settings
        self.alerts = alerts
        self.label = str(self.chain.chain_id)
        self._calls = 0
        self._seen: dict[tuple[int, int], str] = {}  # unfinal sightings: (block, log) -> hash

    @property
    def finality(self) -> int:
        return self.chain.finality_confirmations

    # ------------------------------------------------------------------ a poll

    def poll(self, fence: Fence) -> PollReport:
        self._calls = 0
        report = self._poll(fence)
        report.rpc_calls = self._calls
        metrics.WATCHER_POLLS.labels(self.label, report.result.value).inc()
        metrics.WATCHER_RPC_CALLS.labels(self.label).inc(self._calls)
        return report

    def _poll(self, fence: Fence) -> PollReport:
        head = self._ask(self.reader.head)
        if isinstance(head, Unreachable):
            return PollReport(PollResult.UNREACHABLE, reason=head.reason)
        with self.store.read() as uow:
            checkpoint = uow.chain_watch.checkpoint(self.key)
        if checkpoint is None:
            return self._start(head.value, fence)
        return self._forward(checkpoint, head.value, fence)

    def _forward(self, checkpoint: Checkpoint, head: BlockRef, fence: Fence) -> PollReport:
        since = checkpoint.block
        final_number = head.number - self.finality + 1
        target_number = min(final_number, since.number + self.settings.max_range_blocks)
        scan_to = min(head.number, since.number + self.settings.max_range_blocks)
        target: BlockRef | None = None
        if target_number > since.number:
            got = self._ask(partial(self.reader.block, target_number))
            if not isinstance(got, Ok):
                return self._unreachable(got)
            target = got.value
        events: list[HtlcEvent] = []
        if scan_to > since.number:
            read = self._ask(partial(self.reader.events, since.number + 1, scan_to))
            if isinstance(read, Unreachable):
                return PollReport(
                    PollResult.UNREACHABLE, head.number, since.number, reason=read.reason
                )
            events = read.value
        if target is not None:
            again = self._ask(partial(self.reader.block, target_number))
            if not isinstance(again, Ok):
                return self._unreachable(again)
            if again.value.hash != target.hash or not _consistent(events, target):
                metrics.WATCHER_REORGS.labels(self.label, "during_poll").inc()
                return PollReport(PollResult.MOVED, head.number, since.number, reason="re-org")
        # The checkpoint's block, read last: if it is still ours, everything read above
        # (before any re-org that could replace it) descends from it.
        current = self._ask(partial(self.reader.block, since.number))
        if isinstance(current, Unreachable):
            return PollReport(
                PollResult.UNREACHABLE, head.number, since.number, reason=current.reason
            )
        if isinstance(current, Missing) or current.value.hash != since.hash:
            return self._rewind(checkpoint, head, fence)
        final_events = [
            e for e in events if target is not None and e.position.block_number <= target.number
        ]
        sightings = [
            _sighting(e)
            for e in events
            if target is None or e.position.block_number > target.number
        ]
        self._count_dropped(events, sightings, since=since.number, upto=scan_to)
        new = Mark(target.number, target.hash, target.timestamp) if target is not None else since
        applied = Applied()
        if target is not None:
            crashpoint("watch.events_read")  # seen, not acted on
            applied = self.effects.apply(final_events, since=since, final=new, fence=fence)
            crashpoint("watch.effects_done")  # acted on, the checkpoint not moved
            if applied.retry is not None:
                log.info(
                    "chain %s: %s; blocks %d..%d are read again",
                    self.label,
                    applied.retry,
                    since.number + 1,
                    new.number,
                )
                return PollReport(
                    PollResult.RETRY,
                    head.number,
                    since.number,
                    events=len(final_events),
                    acted=applied.acted,
                    reason=applied.retry,
                    sightings=sightings,
                )
        with self.store.write() as uow:
            moved = uow.chain_watch.advance(
                self.key,
                expected=since,
                to=new,
                head=head.number,
                now=self.clock.now(),
                sightings=sightings,
                keep_marks=self.settings.keep_marks,
                fence=fence,
            )
        if not moved:
            return PollReport(
                PollResult.LEASE_LOST,
                head.number,
                since.number,
                reason="the checkpoint or the lease moved",
            )
        return PollReport(
            PollResult.ADVANCED if new.number > since.number else PollResult.IDLE,
            head.number,
            new.number,
            blocks=new.number - since.number,
            events=len(final_events),
            acted=applied.acted,
            sightings=sightings,
        )

    # ------------------------------------------------------------------ start and rewind

    def _start(self, head: BlockRef, fence: Fence) -> PollReport:
        """The first poll of a chain: start after the contract's deployment block when it
        is configured, else `log_lookback_blocks` behind the final head."""
        if self.chain.start_block > 0:
            number = self.chain.start_block - 1
        else:
            number = max(0, head.number - self.finality + 1 - self.chain.log_lookback_blocks)
        got = self._ask(partial(self.reader.block, number))
        if not isinstance(got, Ok):
            return self._unreachable(got)
        block = got.value
        with self.store.write() as uow:
            started = uow.chain_watch.start(
                self.key,
                Mark(block.number, block.hash, block.timestamp),
                head=head.number,
                now=self.clock.now(),
                fence=fence,
            )
        if not started:
            return PollReport(
                PollResult.LEASE_LOST, head.number, reason="another watcher started it"
            )
        log.info("chain %s: watching from block %d", self.label, block.number)
        return PollReport(PollResult.STARTED, head.number, block.number)

    def _rewind(self, checkpoint: Checkpoint, head: BlockRef, fence: Fence) -> PollReport:
        """The checkpoint's block is gone: go back to the newest mark still on the chain.
        Effects already made for the replaced blocks stay (they were final by our
        finality depth, which this re-org exceeded): the operators are alerted."""
        with self.store.read() as uow:
            marks = uow.chain_watch.marks(self.key)
        fork: Mark | None = None
        for mark in marks:
            if mark.number > head.number or mark == checkpoint.block:
                continue
            got = self._ask(partial(self.reader.block, mark.number))
            if isinstance(got, Unreachable):
                return PollReport(
                    PollResult.UNREACHABLE, head.number, checkpoint.block.number, reason=got.reason
                )
            if isinstance(got, Ok) and got.value.hash == mark.hash:
                fork = mark
                break
        if fork is None:  # deeper than every mark: read the whole kept window again
            oldest = marks[-1].number if marks else checkpoint.block.number
            number = max(0, min(oldest, head.number) - self.settings.max_range_blocks)
            got = self._ask(partial(self.reader.block, number))
            if not isinstance(got, Ok):
                return self._unreachable(got)
            fork = Mark(got.value.number, got.value.hash, got.value.timestamp)
        # Alerted before the rewind commits: a process killed after the rewind could not
        # find this re-org again, so an alert raised after it could be lost. Keyed by the
        # replaced block, every deep re-org alerts once, and the same one found again (the
        # rewind lost to a kill or to another lease holder) adds no alert.
        self._alert_reorg(checkpoint.block, fork)
        crashpoint("watch.rewind_found")  # the fork known and alerted, the checkpoint not moved
        with self.store.write() as uow:
            rewound = uow.chain_watch.rewind(
                self.key,
                expected=checkpoint.block,
                to=fork,
                head=head.number,
                now=self.clock.now(),
                fence=fence,
            )
        if not rewound:
            return PollReport(
                PollResult.LEASE_LOST,
                head.number,
                checkpoint.block.number,
                reason="the checkpoint or the lease moved",
            )
        depth = checkpoint.block.number - fork.number
        metrics.WATCHER_REORGS.labels(self.label, "rewind").inc()
        log.error(
            "chain %s: a re-org replaced block %d (%s), final by %d confirmations; "
            "rewound %d blocks to %d",
            self.label,
            checkpoint.block.number,
            checkpoint.block.hash,
            self.finality,
            depth,
            fork.number,
        )
        return PollReport(
            PollResult.REWOUND, head.number, fork.number, reason=f"rewound {depth} blocks"
        )

    def _alert_reorg(self, replaced: Mark, fork: Mark) -> None:
        if self.alerts is None:
            return
        self.alerts.raise_alert(
            "critical",
            REORG_ALERT,
            {
                "chain_id": self.chain.chain_id,
                "checkpoint": replaced.number,
                "replaced_hash": replaced.hash,
                "rewound_to": fork.number,
                "finality_confirmations": self.finality,
            },
            key=f"watch:reorg:{self.chain.chain_id}:{replaced.number}:{replaced.hash.lower()}",
        )

    # ------------------------------------------------------------------ internals

    def _ask(self, call: Callable[[], T]) -> T:
        self._calls += 1
        return call()

    @staticmethod
    def _unreachable(got: Missing | Unreachable) -> PollReport:
        return PollReport(PollResult.UNREACHABLE, reason=got.reason)

    def _count_dropped(
        self, events: list[HtlcEvent], sightings: list[Sighting], *, since: int, upto: int
    ) -> None:
        """A sighting of the last poll whose block was read again (final by now or not)
        but which is gone, or in a block of another hash, was re-organised away before it
        was final."""
        read = {
            (e.position.block_number, e.position.log_index): e.position.block_hash for e in events
        }
        dropped = sorted(
            {
                number
                for (number, index), block_hash in self._seen.items()
                if since < number <= upto and read.get((number, index)) != block_hash
            }
        )
        if dropped:
            metrics.WATCHER_REORGS.labels(self.label, "unfinal").inc()
            log.warning(
                "chain %s: events in unfinal blocks %s were re-organised away", self.label, dropped
            )
        self._seen = {(s.block_number, s.log_index): s.block_hash for s in sightings}


def _consistent(events: list[HtlcEvent], target: BlockRef) -> bool:
    """Every log of the range's last final block carries that block's hash."""
    return all(
        e.position.block_hash == target.hash
        for e in events
        if e.position.block_number == target.number
    )


def _sighting(event: HtlcEvent) -> Sighting:
    position = event.position
    kind = (
        "locked"
        if isinstance(event, LockedEvent)
        else "claimed"
        if isinstance(event, ClaimedEvent)
        else "refunded"
    )
    return Sighting(
        block_number=position.block_number,
        block_hash=position.block_hash,
        log_index=position.log_index,
        tx_hash=position.tx_hash,
        kind=kind,
        lock_id=event.id,
        hashlock=event.hashlock if isinstance(event, LockedEvent) else None,
    )
