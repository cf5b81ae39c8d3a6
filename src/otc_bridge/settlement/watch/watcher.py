"""The chain watchers of a bridge process: one per configured quote chain, each under its
own fenced lease (`settlement.lease`), so however many workers run, one follows a chain.

    watchers = build_watchers(evm_settings, settings, store=..., clock=..., settlement=...)
                                  # (settlement.watch.build)
    watchers.start(stop)          # a thread per chain (`otc-bridge worker`, the API's
                                  # embedded worker)
    watchers.chains[0].poll_once()  # one poll under the lease (tests, bench)

A holder keeps its lease while it polls (a heartbeat renews it) and gives it up when
stopped; a worker that cannot take it polls nothing and tries again a poll later, so a
dead holder is replaced within the lease's length (at once on its own host).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from otc_bridge.settlement.lease import Lease, Tenure
from otc_bridge.settlement.watch.config import WatcherSettings
from otc_bridge.settlement.watch.follower import ChainFollower, PollReport, PollResult

log = logging.getLogger(__name__)

_AGAIN_AT_ONCE = {PollResult.STARTED, PollResult.REWOUND}


class ChainWatcher:
    def __init__(self, follower: ChainFollower, lease: Lease, settings: WatcherSettings) -> None:
        self.follower = follower
        self.lease = lease
        self.settings = settings

    @property
    def chain_key(self) -> str:
        return self.follower.key

    def poll_once(self) -> PollReport | None:
        """One poll under the lease; None when another process holds it."""
        with self.lease.hold() as tenure:
            if tenure is None:
                return None
            return self.follower.poll(tenure.fence)

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                with self.lease.hold() as tenure:
                    if tenure is not None:
                        self._poll_while_held(tenure, stop)
                        continue
            except Exception:  # a database hiccup must not end the thread
                log.exception("chain watcher %s: taking its lease failed", self.chain_key)
            stop.wait(self.settings.poll_seconds)

    def _poll_while_held(self, tenure: Tenure, stop: threading.Event) -> None:
        log.info("chain watcher %s: holding the lease", self.chain_key)
        while not stop.is_set() and not tenure.lost.is_set():
            try:
                report = self.follower.poll(tenure.fence)
            except Exception:  # one bad poll must not end the watcher
                log.exception("chain watcher %s: poll failed", self.chain_key)
                stop.wait(self.settings.poll_seconds)
                continue
            if report.result is PollResult.LEASE_LOST:
                log.warning("chain watcher %s: %s", self.chain_key, report.reason)
                return
            behind = report.result is PollResult.ADVANCED and (
                report.blocks >= self.settings.max_range_blocks
            )
            if report.result in _AGAIN_AT_ONCE or behind:
                continue  # catching up: read the next range at once
            stop.wait(self.settings.poll_seconds)


@dataclass
class Watchers:
    chains: list[ChainWatcher] = field(default_factory=list)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self, stop: threading.Event) -> None:
        if self._threads:
            return
        for watcher in self.chains:
            thread = threading.Thread(
                target=watcher.run_forever,
                args=(stop,),
                name=f"otc-watch-{watcher.follower.label}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def join(self, timeout: float) -> None:
        for thread in self._threads:
            thread.join(timeout=timeout)
        self._threads = []
