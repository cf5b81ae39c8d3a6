"""The chain follower against a real anvil and a real store: the checkpoint, finality,
restarts, re-orgs before and past finality, the bounded range, and the lease.

The effects here record what they are handed (the follower's contract is "each final
event handed over in chain order, once per checkpoint move"); what the events do to
orders, through the real `Settlement`, is tests/watch/test_watcher_settles.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from otc_bridge.adapters.evm.config import EvmChain
from otc_bridge.adapters.evm.reader import EvmReader
from otc_bridge.adapters.evm.results import ClaimedEvent, HtlcEvent, LockedEvent
from otc_bridge.adapters.evm.rpc import call_counts
from otc_bridge.adapters.evm.writer import HtlcWriter, LockMade
from otc_bridge.adapters.store.chain_watch import Mark
from otc_bridge.adapters.store.engine import make_engine
from otc_bridge.adapters.store.migrate import upgrade
from otc_bridge.adapters.store.store import Fence, Store
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.domain.clock import SystemClock
from otc_bridge.settlement.alerts import LogAlerts
from otc_bridge.settlement.lease import Lease
from otc_bridge.settlement.watch.config import WatcherSettings
from otc_bridge.settlement.watch.follower import (
    Applied,
    ChainFollower,
    PollReport,
    PollResult,
    chain_key,
    lease_name,
)
from otc_bridge.settlement.watch.watcher import ChainWatcher
from tests.contracts.evm import Secret
from tests.support.databases import fresh_database_url

WEI = 10**16


@dataclass
class Recorder:
    """Effects that record each final event handed over, and can be told to ask for the
    range again (a transient failure) a number of times."""

    handed: list[tuple[str, str, int]] = field(default_factory=list)
    ranges: list[tuple[int, int]] = field(default_factory=list)
    retries: int = 0

    def apply(
        self, events: Sequence[HtlcEvent], *, since: Mark, final: Mark, fence: Fence
    ) -> Applied:
        self.ranges.append((since.number, final.number))
        if self.retries:
            self.retries -= 1
            return Applied(retry="the node is down")
        for event in events:
            self.handed.append((type(event).__name__, event.id, event.position.block_number))
        return Applied(acted=len(events))

    def kinds(self) -> list[tuple[str, str]]:
        return [(kind, lock_id) for kind, lock_id, _ in self.handed]


@pytest.fixture
def devchain(tmp_path: Path) -> Iterator[Devchain]:
    with Devchain(tmp_path / "chain") as chain:
        yield chain


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    engine = make_engine(fresh_database_url(tmp_path))
    upgrade(engine)
    yield Store(engine)
    engine.dispose()


@pytest.fixture
def buyer(devchain: Devchain) -> HtlcWriter:
    return HtlcWriter.connect(
        devchain.rpc_url, devchain.info.htlc_contract, devchain.info.accounts[1]
    )


def chain(devchain: Devchain, finality: int) -> EvmChain:
    return EvmChain(
        rpc_url=devchain.rpc_url,
        chain_id=devchain.info.chain_id,
        htlc_contract=devchain.info.htlc_contract,
        finality_confirmations=finality,
        rpc_timeout_seconds=5.0,
        start_block=devchain.info.deployed_at_block,
    )


@dataclass
class Rig:
    devchain: Devchain
    store: Store
    finality: int
    settings: WatcherSettings
    effects: Recorder = field(default_factory=Recorder)
    alerts: LogAlerts = field(default_factory=LogAlerts)

    def follower(self) -> ChainFollower:
        """A new follower, as a restarted process builds it (nothing kept in memory)."""
        return ChainFollower(
            reader=EvmReader(chain(self.devchain, self.finality)),
            store=self.store,
            clock=SystemClock(),
            effects=self.effects,
            settings=self.settings,
            alerts=self.alerts,
        )

    def watcher(self, identity: str) -> ChainWatcher:
        follower = self.follower()
        lease = Lease(self.store, lease_name(follower.chain), ttl_seconds=30, identity=identity)
        return ChainWatcher(follower, lease, self.settings)

    def poll(self, follower: ChainFollower | None = None) -> PollReport:
        report = self.watcher_for(follower or self.follower()).poll_once()
        assert report is not None
        return report

    def watcher_for(self, follower: ChainFollower) -> ChainWatcher:
        lease = Lease(self.store, lease_name(follower.chain), ttl_seconds=30)
        return ChainWatcher(follower, lease, self.settings)

    def catch_up(self, follower: ChainFollower | None = None) -> list[PollReport]:
        """Poll until the checkpoint is at the final head."""
        follower = follower or self.follower()
        reports = [self.poll(follower)]
        while reports[-1].result is not PollResult.IDLE:
            assert len(reports) < 50, reports
            reports.append(self.poll(follower))
        return reports

    def checkpoint(self) -> int:
        with self.store.read() as uow:
            found = uow.chain_watch.checkpoint(chain_key(chain(self.devchain, self.finality)))
        assert found is not None
        return found.block.number


def rig(devchain: Devchain, store: Store, finality: int, **settings: int) -> Rig:
    return Rig(devchain, store, finality, WatcherSettings(**settings))  # type: ignore[arg-type]


def lock(devchain: Devchain, buyer: HtlcWriter, secret: Secret, seconds: int = 3600) -> LockMade:
    return buyer.lock(
        receiver=devchain.info.accounts[2],
        hashlock=secret.hashlock,
        timelock=devchain.control.head().timestamp + seconds,
        amount=WEI,
    )


# ---------------------------------------------------------------------- finality and restarts


def test_a_lock_is_handed_over_once_final_and_never_again_after_restarts(
    devchain: Devchain, store: Store, buyer: HtlcWriter
) -> None:
    r = rig(devchain, store, finality=3)
    assert r.poll().result is PollResult.STARTED
    r.catch_up()
    secret = Secret.new()
    made = lock(devchain, buyer, secret)  # the head: 1 confirmation
    r.catch_up()
    assert r.effects.handed == []  # seen, not final
    with store.read() as uow:
        sightings = uow.chain_watch.sightings(hashlock="0x" + secret.hashlock.hex())
    assert [(s.kind, s.lock_id, s.tx_hash) for s in sightings] == [
        ("locked", made.lock_id, made.tx.tx_hash)
    ]
    devchain.control.mine(1)  # 2 confirmations
    r.catch_up()
    assert r.effects.handed == []
    devchain.control.mine(1)  # 3: final
    r.catch_up()  # a new follower object every time: as after a restart
    assert r.effects.handed == [("LockedEvent", made.lock_id, made.tx.block_number)]
    assert r.checkpoint() == devchain.control.head().number - 2
    # restart, and restart again: nothing is handed twice, nothing is missed
    claim = buyer.claim(made.lock_id, secret.preimage)
    r.catch_up()
    devchain.control.mine(5)
    r.catch_up()
    r.catch_up()
    assert r.effects.kinds() == [("LockedEvent", made.lock_id), ("ClaimedEvent", made.lock_id)]
    assert r.effects.handed[1][2] == claim.block_number
    with store.read() as uow:
        assert uow.chain_watch.sightings(chain_key(chain(devchain, 3))) == []


def test_a_transient_failure_reads_the_same_range_again(
    devchain: Devchain, store: Store, buyer: HtlcWriter
) -> None:
    r = rig(devchain, store, finality=1)
    r.catch_up()
    made = lock(devchain, buyer, Secret.new())
    before = r.checkpoint()
    r.effects.retries = 2
    assert r.poll().result is PollResult.RETRY
    assert r.poll().result is PollResult.RETRY
    assert r.checkpoint() == before  # not moved while the effects could not act
    assert r.poll().result is PollResult.ADVANCED
    assert r.effects.kinds() == [("LockedEvent", made.lock_id)]
    assert r.effects.ranges[-3:] == [(before, made.tx.block_number)] * 3


def test_one_poll_reads_a_bounded_range_with_a_fixed_number_of_calls(
    devchain: Devchain, store: Store, buyer: HtlcWriter
) -> None:
    r = rig(devchain, store, finality=2, max_range_blocks=10)
    r.catch_up()
    secrets = [Secret.new() for _ in range(5)]
    locks = [lock(devchain, buyer, s) for s in secrets]
    devchain.control.mine(30)
    follower = r.follower()
    start = r.checkpoint()
    reports = r.catch_up(follower)
    advanced = [rep for rep in reports if rep.result is PollResult.ADVANCED]
    assert [rep.blocks for rep in advanced][:-1] == [10] * (len(advanced) - 1)
    assert sum(rep.blocks for rep in advanced) == devchain.control.head().number - 1 - start
    # head, the checkpoint's block, the range's last block twice, one eth_getLogs
    assert {rep.rpc_calls for rep in advanced} == {5}
    logs = call_counts(follower.reader.web3)["eth_getLogs"]
    assert logs == len(reports)  # one per poll, however many locks
    assert r.effects.kinds() == [("LockedEvent", m.lock_id) for m in locks]


# ---------------------------------------------------------------------- re-orgs


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_a_lock_reorged_away_before_finality_is_never_handed_over(
    devchain: Devchain, store: Store, buyer: HtlcWriter, depth: int
) -> None:
    r = rig(devchain, store, finality=4)
    r.catch_up()
    made = lock(devchain, buyer, Secret.new())
    devchain.control.mine(depth - 1)  # the lock is `depth` blocks deep: not final
    follower = r.follower()
    r.catch_up(follower)
    with store.read() as uow:
        assert [s.lock_id for s in uow.chain_watch.sightings()] == [made.lock_id]
    label = {"chain": str(devchain.info.chain_id), "kind": "unfinal"}
    seen_before = REGISTRY.get_sample_value("otc_watcher_reorgs_total", label) or 0.0
    devchain.control.reorg(depth)  # replaces the lock's block and those after it
    devchain.control.mine(6)
    r.catch_up(follower)
    assert r.effects.handed == []
    assert REGISTRY.get_sample_value("otc_watcher_reorgs_total", label) == seen_before + 1
    with store.read() as uow:
        assert uow.chain_watch.sightings() == []
        checkpoint = uow.chain_watch.checkpoint(follower.key)
    assert checkpoint is not None
    assert checkpoint.reorgs == 0
    assert checkpoint.block.number == devchain.control.head().number - 3


def test_a_reorg_past_finality_rewinds_to_the_fork_and_reads_forward_again(
    devchain: Devchain, store: Store, buyer: HtlcWriter
) -> None:
    r = rig(devchain, store, finality=2)
    r.catch_up()
    for _ in range(4):  # marks one block apart
        devchain.control.mine(1)
        r.catch_up()
    secret = Secret.new()
    made = lock(devchain, buyer, secret)
    devchain.control.mine(1)
    r.catch_up()
    assert r.effects.kinds() == [("LockedEvent", made.lock_id)]
    replaced = r.checkpoint()
    devchain.control.reorg(3)  # deeper than the finality depth: the checkpoint's block too
    report = r.poll()
    assert report.result is PollResult.REWOUND
    assert report.checkpoint is not None
    assert report.checkpoint < made.tx.block_number
    with store.read() as uow:
        checkpoint = uow.chain_watch.checkpoint(chain_key(chain(devchain, 2)))
    assert checkpoint is not None
    assert checkpoint.reorgs == 1
    assert [a[1] for a in r.alerts.raised] == [
        "quote chain re-organised past the watcher's finality depth"
    ]
    devchain.control.mine(3)
    r.catch_up()
    assert r.checkpoint() > replaced
    assert r.effects.kinds() == [("LockedEvent", made.lock_id)]  # the lock was re-orged out


# ---------------------------------------------------------------------- the lease


def test_one_watcher_per_chain_across_processes(devchain: Devchain, store: Store) -> None:
    r = rig(devchain, store, finality=1)
    first, second = r.watcher("host-a:1:1"), r.watcher("host-b:2:2")
    with first.lease.hold() as tenure:
        assert tenure is not None
        assert second.poll_once() is None  # held elsewhere: this one polls nothing
        assert first.follower.poll(tenure.fence).result is PollResult.STARTED
    report = second.poll_once()  # released: the other may take over
    assert report is not None
    assert report.result is PollResult.ADVANCED  # from where the first one started


def test_a_superseded_watcher_cannot_move_the_checkpoint(
    devchain: Devchain, store: Store, buyer: HtlcWriter
) -> None:
    r = rig(devchain, store, finality=1)
    r.catch_up()
    old = r.watcher("host-a:1:1")
    stale = old.lease.acquire()
    assert stale is not None
    old.lease.release(stale)
    new = r.watcher("host-b:2:2")
    fresh = new.lease.acquire()
    assert fresh is not None
    lock(devchain, buyer, Secret.new())
    before = r.checkpoint()
    assert old.follower.poll(stale).result is PollResult.LEASE_LOST
    assert r.checkpoint() == before
    assert new.follower.poll(fresh).result is PollResult.ADVANCED


def test_claimed_events_carry_the_preimage(
    devchain: Devchain, store: Store, buyer: HtlcWriter
) -> None:
    seen: list[HtlcEvent] = []

    class Keep(Recorder):
        def apply(
            self, events: Sequence[HtlcEvent], *, since: Mark, final: Mark, fence: Fence
        ) -> Applied:
            seen.extend(events)
            return Applied()

    r = Rig(devchain, store, 1, WatcherSettings(), effects=Keep())
    r.catch_up()
    secret = Secret.new()
    made = lock(devchain, buyer, secret)
    buyer.claim(made.lock_id, secret.preimage)
    r.catch_up()
    assert isinstance(seen[0], LockedEvent)
    assert isinstance(seen[1], ClaimedEvent)
    assert seen[1].preimage == "0x" + secret.preimage.hex()
