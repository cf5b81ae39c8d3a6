"""The settlement driver: the one place where an order meets the node.

`advance(order_id)` performs at most one idempotent step for an order, chosen from its
durable state and, where that is ambiguous, from the node's own state. The request path,
the worker (expiry, reconciliation) and the chain watcher all call it; there is no other
copy of any flow. Each step's intent is durable before its external call (the state the
order is in *is* the intent), and its result is recorded by a guarded transition after.

The one call that is not re-drivable is posting an escrow: the node's job creation is not
idempotent, so only the request that recorded the intent makes it (`lock_escrow`). Any
other process that finds an escrow lock of unknown outcome resolves it by looking for the
job by its title and undoing it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from otc_bridge.adapters.node import Job, JobStatus, NodeClient, Ok, Rejected
from otc_bridge.adapters.store.store import Store
from otc_bridge.domain.clock import Clock
from otc_bridge.domain.deadlines import DeadlinePolicy
from otc_bridge.domain.money import micro_to_rtc_str
from otc_bridge.domain.order import Order
from otc_bridge.domain.rustchain import job_escrow_i64
from otc_bridge.domain.states import Cause, Status
from otc_bridge.settlement.alerts import Alerts

log = logging.getLogger(__name__)

ESCROW_HOLDING = ("open", "claimed", "delivered", "disputed")

# Fields a buy order sheds when a match is undone and it goes back on the book.
_UNMATCH: dict[str, Any] = {
    "taker_wallet": None,
    "taker_eth_address": None,
    "escrow_poster": None,
    "escrow_title": None,
    "escrow_job_id": None,
    "escrow_reward_i64": None,
    "escrow_total_i64": None,
    "escrow_expires_at": None,
    "escrow_requested_at": None,
    "htlc_hash": None,
    "secret_origin": None,
    "htlc_secret_enc": None,
    "matched_at": None,
    "match_deadline": None,
    "refund_target": None,
    "refund_started_at": None,
}


@dataclass(frozen=True, slots=True)
class DriverPolicy:
    deadlines: DeadlinePolicy
    grace_seconds: int = 120  # how long an in-flight step is left to its own request
    retry_seconds: int = 15  # how soon a step that met an unknown outcome is retried


@dataclass(frozen=True, slots=True)
class EscrowOutcome:
    order: Order
    error: str | None = None  # the node's refusal, when it refused


class SettlementDriver:
    def __init__(
        self,
        *,
        store: Store,
        node: NodeClient,
        clock: Clock,
        alerts: Alerts,
        policy: DriverPolicy,
    ) -> None:
        self.store = store
        self.node = node
        self.clock = clock
        self.alerts = alerts
        self.policy = policy
        self._steps: dict[Status, Callable[[Order, str], Order]] = {
            Status.OPEN: self._expire_if_due,
            Status.OPENING: self._resolve_escrow,
            Status.MATCHING: self._resolve_escrow,
            Status.REFUND_PENDING: self._refund,
        }

    # ------------------------------------------------------------------ driving

    def advance(self, order_id: str, *, actor: str) -> Order | None:
        """Perform at most one step for the order; return it as stored afterwards."""
        order = self._read(order_id)
        if order is None:
            return None
        step = self._steps.get(order.status)
        if step is None:
            return order
        return step(order, actor)

    def drive(self, order_id: str, *, actor: str, budget_seconds: float) -> Order | None:
        """Advance while each step makes progress and the time budget lasts."""
        deadline = time.monotonic() + budget_seconds
        order = self._read(order_id)
        while order is not None and time.monotonic() < deadline:
            after = self.advance(order_id, actor=actor)
            if after is None or after.version == order.version:
                return after
            order = after
        return order

    # ------------------------------------------------- escrow lock (request path)

    def lock_escrow(self, order: Order, *, actor: str) -> EscrowOutcome:
        """Post the RTC seller's escrow for an order whose intent (opening/matching) is
        durable. Called once, by the request that recorded the intent."""
        assert order.status in {Status.OPENING, Status.MATCHING}
        assert order.escrow_poster is not None
        assert order.escrow_title is not None
        ttl = (
            self.policy.deadlines.sell_escrow_ttl(order.ttl_seconds)
            if order.status is Status.OPENING
            else self.policy.deadlines.buy_escrow_ttl()
        )
        result = self.node.create_job(
            poster=order.escrow_poster,
            reward_i64=order.amount_micro_rtc,
            ttl_seconds=ttl,
            title=order.escrow_title,
            description=(
                f"RTC escrow for OTC order {order.order_id}: "
                f"{micro_to_rtc_str(order.amount_micro_rtc)} RTC on {order.pair}"
            ),
        )
        if isinstance(result, Ok):
            created = result.value
            locked = self._escrow_locked(order, created.job_id, created.expires_at, actor)
            return EscrowOutcome(locked)
        if isinstance(result, Rejected):
            return EscrowOutcome(self._escrow_rejected(order, result, actor), result.error)
        # Unknown: the job may exist. Only its title can find it (job ids are random).
        found = self._find_escrow(order)
        if found is not None and len(found) == 1:
            job = found[0]
            return EscrowOutcome(self._escrow_locked(order, job.job_id, job.expires_at, actor))
        return EscrowOutcome(self._read(order.order_id) or order)

    def _escrow_locked(
        self, order: Order, job_id: str, job_expires_at: int | None, actor: str
    ) -> Order:
        now = self.clock.now()
        escrow = {
            "escrow_job_id": job_id,
            "escrow_expires_at": job_expires_at,
            "escrow_reward_i64": order.amount_micro_rtc,
            "escrow_total_i64": job_escrow_i64(order.amount_micro_rtc),
        }
        refs = {"job_id": job_id}
        with self.store.write() as tx:
            if order.status is Status.OPENING:
                moved = tx.transition(
                    order,
                    Status.OPEN,
                    Cause.ESCROW_LOCKED,
                    actor=actor,
                    at=now,
                    refs=refs,
                    next_action_at=order.expires_at + 1,
                    **escrow,
                )
            else:
                deadline = now + self.policy.deadlines.lock_window
                moved = tx.transition(
                    order,
                    Status.MATCHED,
                    Cause.ESCROW_LOCKED,
                    actor=actor,
                    at=now,
                    refs=refs,
                    matched_at=now,
                    match_deadline=deadline,
                    next_action_at=deadline,
                    **escrow,
                )
        return moved or self._reread(order)

    def _escrow_rejected(self, order: Order, rejection: Rejected, actor: str) -> Order:
        now = self.clock.now()
        refs = {"error": rejection.error, "code": rejection.code, "status": rejection.status}
        with self.store.write() as tx:
            if order.status is Status.OPENING:
                moved = tx.transition(
                    order,
                    Status.CANCELLED,
                    Cause.ESCROW_REJECTED,
                    actor=actor,
                    at=now,
                    refs=refs,
                    closed_at=now,
                    next_action_at=None,
                )
            else:
                moved = tx.transition(
                    order,
                    Status.OPEN,
                    Cause.ESCROW_REJECTED,
                    actor=actor,
                    at=now,
                    refs=refs,
                    next_action_at=order.expires_at + 1,
                    **_UNMATCH,
                )
        return moved or self._reread(order)

    def _find_escrow(self, order: Order) -> list[Job] | None:
        assert order.escrow_poster is not None
        assert order.escrow_title is not None
        found = self.node.find_jobs(
            poster=order.escrow_poster,
            title=order.escrow_title,
            statuses=ESCROW_HOLDING,
            min_reward_i64=order.amount_micro_rtc,
        )
        return found.value if isinstance(found, Ok) else None

    # ------------------------------------------------------------------ steps

    def _resolve_escrow(self, order: Order, actor: str) -> Order:
        """An escrow lock whose request never reported back: undo whatever it did."""
        now = self.clock.now()
        requested = order.escrow_requested_at or order.created_at
        if now < requested + self.policy.grace_seconds:
            return self._reschedule(order, requested + self.policy.grace_seconds)
        found = self._find_escrow(order)
        if found is None:
            return self._reschedule(order, now + self.policy.retry_seconds)
        refs: dict[str, Any] = {"jobs": [job.job_id for job in found]}
        if len(found) > 1:
            self.alerts.raise_alert(
                "critical",
                "More than one escrow job found for one order",
                {"order_id": order.order_id, "jobs": refs["jobs"]},
            )
        relist = order.status is Status.MATCHING
        with self.store.write() as tx:
            if not found:
                if relist:
                    moved = tx.transition(
                        order,
                        Status.OPEN,
                        Cause.ESCROW_UNRESOLVED,
                        actor=actor,
                        at=now,
                        refs=refs,
                        next_action_at=order.expires_at + 1,
                        **_UNMATCH,
                    )
                else:
                    moved = tx.transition(
                        order,
                        Status.CANCELLED,
                        Cause.ESCROW_UNRESOLVED,
                        actor=actor,
                        at=now,
                        refs=refs,
                        closed_at=now,
                        next_action_at=None,
                    )
            else:
                moved = tx.transition(
                    order,
                    Status.REFUND_PENDING,
                    Cause.ESCROW_UNRESOLVED,
                    actor=actor,
                    at=now,
                    refs=refs,
                    escrow_job_id=found[0].job_id,
                    escrow_expires_at=found[0].expires_at,
                    refund_target="open" if relist else "cancelled",
                    refund_started_at=now,
                    next_action_at=now,
                )
        return moved or self._reread(order)

    def _expire_if_due(self, order: Order, actor: str) -> Order:
        now = self.clock.now()
        if now <= order.expires_at:
            return self._reschedule(order, order.expires_at + 1)
        with self.store.write() as tx:
            if order.holds_escrow:
                moved = tx.transition(
                    order,
                    Status.REFUND_PENDING,
                    Cause.EXPIRE,
                    actor=actor,
                    at=now,
                    refund_target="expired",
                    refund_started_at=now,
                    next_action_at=now + self.policy.retry_seconds,
                )
            else:
                moved = tx.transition(
                    order,
                    Status.EXPIRED,
                    Cause.EXPIRE,
                    actor=actor,
                    at=now,
                    closed_at=now,
                    next_action_at=None,
                )
        return moved or self._reread(order)

    def _refund(self, order: Order, actor: str) -> Order:
        """Give the RTC seller's escrow back; the order ends only once the node confirms."""
        now = self.clock.now()
        if order.escrow_job_id is None or order.escrow_poster is None:
            return self._refund_done(order, actor, JobStatus.CANCELLED)
        result = self.node.cancel(order.escrow_job_id, order.escrow_poster)
        if isinstance(result, Ok):
            return self._refund_done(order, actor, result.value.status)
        job = result.job
        if isinstance(result, Rejected) and result.code == "job_conflict" and job is not None:
            return self._refund_conflict(order, actor, job)
        if isinstance(result, Rejected) and not result.retryable:
            self.alerts.raise_alert(
                "critical",
                "Escrow refund refused by the node",
                {"order_id": order.order_id, "job_id": order.escrow_job_id, "error": result.error},
            )
        return self._reschedule(order, now + self.policy.retry_seconds)

    def _refund_conflict(self, order: Order, actor: str, job: Job) -> Order:
        """The job is not where a cancel can act: someone else moved it (the node has no
        auth on jobs). Take the only way back to the poster that the node leaves open."""
        now = self.clock.now()
        refs = {"job_id": job.job_id, "job_status": job.status.value, "worker": job.worker_wallet}
        if job.status is JobStatus.DELIVERED:
            assert order.escrow_poster is not None
            disputed = self.node.dispute(
                job.job_id, order.escrow_poster, f"OTC bridge refund for {order.order_id}"
            )
            if isinstance(disputed, Ok):
                with self.store.write() as tx:
                    moved = tx.record_step(order, "escrow_disputed", actor=actor, at=now, refs=refs)
                return moved or self._reread(order)
            return self._reschedule(order, now + self.policy.retry_seconds)
        if job.status is JobStatus.CLAIMED and job.expires_at is not None:
            # A claimed job can only be cancelled once overdue (the node then expires it
            # and refunds the poster): come back just after its expiry.
            if order.next_action_at != job.expires_at + 1:
                self.alerts.raise_alert(
                    "warning",
                    "Escrow claimed by a third party; refund waits for the job to expire",
                    {"order_id": order.order_id, **refs},
                )
            return self._reschedule(order, job.expires_at + 1)
        if job.status is JobStatus.COMPLETED:
            self.alerts.raise_alert(
                "critical",
                "Escrow released to a third party before the refund",
                {"order_id": order.order_id, **refs},
            )
            with self.store.write() as tx:
                moved = tx.transition(
                    order,
                    Status.SETTLEMENT_RECOVERY,
                    Cause.ESCROW_LOST,
                    actor=actor,
                    at=now,
                    refs=refs,
                    recovery_reason="escrow released to a third party",
                    next_action_at=None,
                )
            return moved or self._reread(order)
        return self._reschedule(order, now + self.policy.retry_seconds)

    def _refund_done(self, order: Order, actor: str, job_status: JobStatus) -> Order:
        now = self.clock.now()
        target = Status(order.refund_target or "cancelled")
        if target is Status.OPEN and now > order.expires_at:
            target = Status.EXPIRED
        refs = {"job_id": order.escrow_job_id, "job_status": job_status.value}
        with self.store.write() as tx:
            if target is Status.OPEN:
                moved = tx.transition(
                    order,
                    target,
                    Cause.REFUND_CONFIRMED,
                    actor=actor,
                    at=now,
                    refs=refs,
                    next_action_at=order.expires_at + 1,
                    **_UNMATCH,
                )
            else:
                moved = tx.transition(
                    order,
                    target,
                    Cause.REFUND_CONFIRMED,
                    actor=actor,
                    at=now,
                    refs=refs,
                    closed_at=now,
                    next_action_at=None,
                )
        return moved or self._reread(order)

    # ------------------------------------------------------------------ helpers

    def _read(self, order_id: str) -> Order | None:
        with self.store.read() as tx:
            return tx.get(order_id)

    def _reread(self, order: Order) -> Order:
        """After a lost compare-and-set: the order as the winner left it."""
        return self._read(order.order_id) or order

    def _reschedule(self, order: Order, at: int) -> Order:
        if order.next_action_at != at:
            with self.store.write() as tx:
                tx.reschedule(order, at)
        return order
