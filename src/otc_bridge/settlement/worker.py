"""The worker loop: every due order gets its next automatic action from the driver.

Each order carries `next_action_at` (its expiry when open, its grace window when a step
is in flight, its retry time after an unknown outcome), so a pass costs O(orders due),
never a scan of the book or of the node's ledger.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from otc_bridge.adapters.store.store import Store
from otc_bridge.domain.clock import Clock
from otc_bridge.settlement.driver import SettlementDriver

log = logging.getLogger(__name__)


@dataclass(slots=True)
class PassSummary:
    due: int = 0
    advanced: int = 0
    errors: int = 0
    by_status: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "due": self.due,
            "advanced": self.advanced,
            "errors": self.errors,
            "by_status": dict(self.by_status),
        }


class Worker:
    def __init__(
        self, *, store: Store, driver: SettlementDriver, clock: Clock, batch: int = 200
    ) -> None:
        self.store = store
        self.driver = driver
        self.clock = clock
        self.batch = batch

    def run_once(self, *, actor: str = "worker") -> PassSummary:
        now = self.clock.now()
        summary = PassSummary()
        with self.store.write() as tx:
            tx.prune_signatures(now)
        with self.store.read() as tx:
            due = tx.due_orders(now, limit=self.batch)
        summary.due = len(due)
        for order_id in due:
            try:
                after = self.driver.drive(order_id, actor=actor, budget_seconds=30.0)
            except Exception:  # one bad order must not stop the others
                log.exception("advancing %s failed", order_id)
                summary.errors += 1
                continue
            if after is not None:
                summary.advanced += 1
                key = after.status.value
                summary.by_status[key] = summary.by_status.get(key, 0) + 1
        return summary

    def run_forever(self, stop: threading.Event, interval_seconds: float) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("worker pass failed")
            stop.wait(interval_seconds)
