"""The reconciler: drives every order whose next automatic action is due.

One leader at a time, across processes and hosts: the pass runs under the `reconciler`
lease (`settlement.lease`), renewed while the pass lasts; every write made under it checks
the lease's fencing token, so a leader paused past its lease cannot act on stale
leadership. Each order carries `next_action_at` (its expiry when open, its grace window
while a request drives it, its poll time while a payout is queued), so a pass costs
O(orders due) node requests, never a scan of the node's ledger.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from otc_bridge.adapters.store.store import Fence, Store
from otc_bridge.domain.clock import Clock
from otc_bridge.domain.states import Status
from otc_bridge.observability import metrics
from otc_bridge.settlement.flows import Settlement
from otc_bridge.settlement.lease import Lease
from otc_bridge.settlement.outbox import AlertDispatcher

log = logging.getLogger(__name__)
LEASE = "reconciler"

_OUTCOME = {
    Status.COMPLETED: "promoted",
    Status.SETTLEMENT_RECOVERY: "recovered",
    Status.CANCELLED: "refunded",
    Status.EXPIRED: "expired",
}


@dataclass(slots=True)
class PassSummary:
    promoted: int = 0  # payouts confirmed: completed, trade recorded
    recovered: int = 0  # handed to an operator (settlement_recovery)
    refunded: int = 0  # cancelled once the refund was confirmed
    expired: int = 0
    advanced: int = 0  # moved, but not to an end state
    left: int = 0  # nothing to do yet (waiting on the node or a deadline)
    errors: int = 0
    due: int = 0
    skipped_locked: int = 0  # another process holds the lease
    lease_lost: int = 0
    seconds: float = 0.0
    by_status: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}


class Reconciler:
    def __init__(
        self,
        *,
        store: Store,
        settlement: Settlement,
        clock: Clock,
        dispatcher: AlertDispatcher | None = None,
        lease_seconds: float = 30.0,
        batch: int = 500,
        order_budget_seconds: float = 30.0,
    ) -> None:
        self.store = store
        self.settlement = settlement
        self.clock = clock
        self.dispatcher = dispatcher
        self.lease_seconds = lease_seconds
        self.lease = Lease(store, LEASE, ttl_seconds=lease_seconds)
        self.batch = batch
        self.order_budget_seconds = order_budget_seconds
        self._one_pass = threading.Lock()  # the timer and an admin call in one process

    def run_pass(self, *, actor: str = "reconciler") -> PassSummary:
        summary = PassSummary()
        if not self._one_pass.acquire(blocking=False):
            return self._skipped(summary)
        try:
            return self._run_pass(actor, summary)
        finally:
            self._one_pass.release()

    def _run_pass(self, actor: str, summary: PassSummary) -> PassSummary:
        started = time.monotonic()
        with self.lease.hold() as tenure:
            if tenure is None:
                return self._skipped(summary)
            held = tenure
            self._drive_due(held.fence, actor, summary, held.lost)
            if held.lost.is_set():
                self._lease_lost(summary)
            if self.dispatcher is not None and not summary.lease_lost:
                self.dispatcher.deliver_due()  # still under the lease: one deliverer
        if not held.kept and not summary.lease_lost:
            # Taken over while the heartbeat had not yet noticed: the pass still lost it
            # (its fenced writes were refused), and says so.
            self._lease_lost(summary)
        summary.seconds = round(time.monotonic() - started, 3)
        metrics.RECONCILE_SECONDS.observe(summary.seconds)
        metrics.RECONCILE_PASSES.labels("lease_lost" if summary.lease_lost else "ran").inc()
        return summary

    @staticmethod
    def _lease_lost(summary: PassSummary) -> None:
        summary.lease_lost = 1
        log.warning("reconciler lease lost; stopping this pass")

    @staticmethod
    def _skipped(summary: PassSummary) -> PassSummary:
        summary.skipped_locked = 1
        metrics.RECONCILE_PASSES.labels("skipped_locked").inc()
        return summary

    def _drive_due(
        self, fence: Fence, actor: str, summary: PassSummary, lost: threading.Event
    ) -> None:
        """Every due order, in claimed batches, while the lease holds."""
        now = self.clock.now()
        with self.store.write() as uow:
            uow.guards.prune_signatures(now)
        seen: set[str] = set()
        while True:
            with self.store.write() as uow:
                batch = uow.orders.claim_due(
                    now, limit=self.batch, hold_seconds=int(self.lease_seconds), fence=fence
                )
            fresh = [order_id for order_id in batch if order_id not in seen]
            seen.update(fresh)
            summary.due = len(seen)
            for order_id in fresh:
                if lost.is_set():
                    return  # the caller reports it
                self._drive_one(order_id, fence, actor, summary)
            if len(batch) < self.batch or not fresh:
                return

    def _drive_one(self, order_id: str, fence: Fence, actor: str, summary: PassSummary) -> None:
        before = self.settlement.read(order_id)
        try:
            after = self.settlement.drive(
                order_id,
                actor=actor,
                budget_seconds=self.order_budget_seconds,
                fence=fence,
                order=before,
            )
        except Exception:  # one bad order must not stop the others
            log.exception("reconciling %s failed", order_id)
            summary.errors += 1
            return
        if after is None or before is None:
            return
        summary.by_status[after.status.value] = summary.by_status.get(after.status.value, 0) + 1
        if after.version == before.version:
            name = "left"
        elif after.status != before.status and after.status in _OUTCOME:
            name = _OUTCOME[after.status]
        else:
            name = "advanced"
        setattr(summary, name, getattr(summary, name) + 1)
        metrics.RECONCILE_ORDERS.labels(name).inc()

    def run_forever(self, stop: threading.Event, interval_seconds: float) -> None:
        """A startup pass, then one pass per interval (the seed's timer)."""
        while not stop.is_set():
            try:
                summary = self.run_pass()
                if summary.due or summary.errors or summary.lease_lost:
                    log.info("reconcile pass: %s", summary.as_dict())
            except Exception:
                log.exception("reconcile pass failed")
            stop.wait(interval_seconds)
