"""The reconciler: drives every order whose next automatic action is due.

One leader at a time, across processes and hosts: the pass runs under a lease row with a
fencing token, renewed while the pass lasts; every write made under it checks the token,
so a leader paused past its lease cannot act on stale leadership. Each order carries
`next_action_at` (its expiry when open, its grace window while a request drives it, its
poll time while a payout is queued), so a pass costs O(orders due) node requests, never a
scan of the node's ledger.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from otc_bridge.adapters.store.store import Fence, Store
from otc_bridge.domain.clock import Clock
from otc_bridge.domain.states import Status
from otc_bridge.observability import metrics
from otc_bridge.settlement.driver import SettlementDriver
from otc_bridge.settlement.outbox import AlertDispatcher

log = logging.getLogger(__name__)
LEASE = "reconciler"

_OUTCOME = {
    Status.COMPLETED: "promoted",
    Status.SETTLEMENT_RECOVERY: "recovered",
    Status.CANCELLED: "refunded",
    Status.EXPIRED: "expired",
}


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in ticks) from Linux /proc; None when there is no such pid."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return None
    except OSError:
        return ("?", "?")
    return (fields[0], fields[19]) if len(fields) > 19 else ("?", "?")


def process_identity() -> str:
    pid = os.getpid()
    started = (_proc_stat(pid) or ("?", "?"))[1]
    return f"{socket.gethostname()}:{pid}:{started}"


def holder_is_dead(holder: str) -> bool:
    """True only for a holder of this host whose process is gone (or whose pid now
    belongs to another process). Holders on other hosts are never judged dead here:
    their lease runs out instead."""
    parts = holder.split(":")
    if len(parts) < 4 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    pid, started = int(parts[1]), parts[2]
    stat = _proc_stat(pid)
    if stat is None:
        return True
    state, now_started = stat
    if state == "Z":  # killed, not yet reaped
        return True
    return "?" not in {started, now_started} and now_started != started  # pid reused


class _Heartbeat(threading.Thread):
    """Renews the lease every third of its length while a pass runs, so a short lease
    (which a dead leader holds only briefly) still outlives any pass. A paused process
    renews nothing: its lease runs out and its writes fail on the fence."""

    def __init__(self, renew: Callable[[], bool], every: float) -> None:
        super().__init__(name="otc-lease-heartbeat", daemon=True)
        self._renew = renew
        self._every = every
        self._done = threading.Event()
        self.lost = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self._every):
            try:
                renewed = self._renew()
            except Exception:
                log.exception("renewing the reconciler lease failed")
                renewed = False
            if not renewed:
                self.lost.set()
                return

    def stop(self) -> None:
        self._done.set()
        self.join()


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
        driver: SettlementDriver,
        clock: Clock,
        dispatcher: AlertDispatcher | None = None,
        lease_seconds: float = 30.0,
        batch: int = 500,
        order_budget_seconds: float = 30.0,
    ) -> None:
        self.store = store
        self.driver = driver
        self.clock = clock
        self.dispatcher = dispatcher
        self.lease_seconds = lease_seconds
        self.batch = batch
        self.order_budget_seconds = order_budget_seconds
        self.process = process_identity()
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
        fence = self._acquire()
        if fence is None:
            return self._skipped(summary)
        heartbeat = _Heartbeat(lambda: self._renew(fence), self.lease_seconds / 3)
        heartbeat.start()
        try:
            self._drive_due(fence, actor, summary, heartbeat.lost)
            if heartbeat.lost.is_set():
                self._lease_lost(summary)
            if self.dispatcher is not None and not summary.lease_lost:
                self.dispatcher.deliver_due()  # still under the lease: one deliverer
        finally:
            heartbeat.stop()
            with self.store.write() as tx:
                released = tx.release_lease(fence)
            if not released and not summary.lease_lost:
                # Taken over while the heartbeat had not yet noticed: the pass still lost
                # it (its fenced writes were refused), and says so.
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

    def _acquire(self) -> Fence | None:
        """Each pass is its own holder: a pass can never inherit another's lease. A lease
        held by a process of this host that no longer runs (a crash, a SIGKILL) is taken
        over at once instead of being waited out."""
        holder = f"{self.process}:{uuid.uuid4().hex[:8]}"
        with self.store.write() as tx:
            fence = tx.acquire_lease(LEASE, holder, ttl=self.lease_seconds, now=time.time())
            if fence is not None:
                return fence
            current, token = tx.lease_holder(LEASE)
            if current is None or not holder_is_dead(current):
                return None
            log.warning("taking over the reconciler lease of dead holder %s", current)
            return tx.take_over_lease(
                LEASE,
                dead=current,
                token=token,
                holder=holder,
                ttl=self.lease_seconds,
                now=time.time(),
            )

    def _renew(self, fence: Fence) -> bool:
        with self.store.write() as tx:
            return tx.renew_lease(fence, ttl=self.lease_seconds, now=time.time())

    def _drive_due(
        self, fence: Fence, actor: str, summary: PassSummary, lost: threading.Event
    ) -> None:
        """Every due order, in claimed batches, while the lease holds."""
        now = self.clock.now()
        with self.store.write() as tx:
            tx.prune_signatures(now)
        seen: set[str] = set()
        while True:
            with self.store.write() as tx:
                batch = tx.claim_due_orders(
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
        before = self.driver.read(order_id)
        try:
            after = self.driver.drive(
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
