"""Everything a handler can touch: settings, the SQLite store, the clock, limiter, faults."""

from __future__ import annotations

from dataclasses import dataclass

from otc_bridge.devnet.devnode.admin import RateLimiter
from otc_bridge.devnet.devnode.clock import Clock
from otc_bridge.devnet.devnode.faults import FaultRegistry
from otc_bridge.devnet.devnode.latency import Latency
from otc_bridge.devnet.devnode.pending import run_confirm
from otc_bridge.devnet.devnode.scheduler import Scheduler
from otc_bridge.devnet.devnode.settings import Settings
from otc_bridge.devnet.devnode.store import Store

# The node's slot clock: slot = (now - genesis) // block time (10 minutes).
GENESIS_TIMESTAMP = 1764706927
BLOCK_TIME_SECONDS = 600


@dataclass
class Node:
    settings: Settings
    store: Store
    clock: Clock
    limiter: RateLimiter
    faults: FaultRegistry
    scheduler: Scheduler
    # RC_CONFIRMATION_DELAY_SECONDS, adjustable at run time through /devnet/scheduler.
    confirmation_delay_seconds: int
    # DEVNODE_LATENCY_MS and _JITTER_MS, adjustable at run time through /devnet/latency.
    latency: Latency

    def current_slot(self) -> int:
        return (self.clock.now() - GENESIS_TIMESTAMP) // BLOCK_TIME_SECONDS

    def reset_runtime(self) -> None:
        """Back to the settings the process started with (used by /devnet/reset)."""
        self.confirmation_delay_seconds = self.settings.confirmation_delay_seconds
        self.latency.latency_ms = self.settings.latency_ms
        self.latency.jitter_ms = self.settings.latency_jitter_ms
        self.limiter.reset()
        self.faults.clear()
        self.scheduler.reset(
            enabled=self.settings.scheduler_enabled,
            interval_seconds=self.settings.scheduler_interval_seconds,
            batch_limit=self.settings.scheduler_batch,
        )


def open_node(settings: Settings) -> Node:
    store = Store.open(settings.db_path)

    def confirm_pass(limit: int) -> dict[str, object]:
        with store.tx():
            return run_confirm(node, limit)

    node = Node(
        settings=settings,
        store=store,
        clock=Clock(settings.clock_path),
        limiter=RateLimiter(
            settings.admin_rate_limit_max, settings.admin_rate_limit_window_seconds
        ),
        faults=FaultRegistry(),
        scheduler=Scheduler(
            confirm_pass,
            enabled=settings.scheduler_enabled,
            interval_seconds=settings.scheduler_interval_seconds,
            batch_limit=settings.scheduler_batch,
        ),
        confirmation_delay_seconds=settings.confirmation_delay_seconds,
        latency=Latency(settings.latency_ms, settings.latency_jitter_ms),
    )
    return node
