"""The settlement driver: the one place where an order meets the node.

`advance(order_id)` performs at most one idempotent step for an order, chosen from its
durable state and, where that is ambiguous, from the node's own state. The request path
(create, match, cancel, confirm), the reconciler and the chain watcher all call it; there
is no other copy of any flow. The state an order is in is the intent of its next step,
durable before the step's external call; the result is recorded by a guarded transition
after. The steps live in `escrow_steps` and `settle_steps`; this module dispatches and
holds the guarded-write helpers they share.

The one call that is not re-drivable is posting an escrow: the node's job creation is not
idempotent, so only the request that recorded the intent makes it (`lock_escrow`). Any
other process that finds an escrow lock of unknown outcome resolves it by looking for the
job by its title and undoing it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from otc_bridge.adapters.node import NodeClient
from otc_bridge.adapters.secret_box import SecretBox
from otc_bridge.adapters.store.store import Fence, Store
from otc_bridge.domain.clock import Clock
from otc_bridge.domain.deadlines import DeadlinePolicy
from otc_bridge.domain.order import Order
from otc_bridge.domain.states import Cause, Status
from otc_bridge.observability import metrics
from otc_bridge.observability.logs import order_id_var
from otc_bridge.settlement import escrow_steps, settle_steps
from otc_bridge.settlement.alerts import Alerts
from otc_bridge.settlement.crashpoints import crashpoint

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DriverPolicy:
    deadlines: DeadlinePolicy
    grace_seconds: int = 120  # how long an in-flight step is left to its own request
    retry_seconds: int = 15  # how soon a step that met an unknown outcome is retried
    payout_poll_seconds: int = 30  # how often a queued payout's status is read
    recovery_poll_seconds: int = 600  # how often a recovery order's payout is re-read


@dataclass(frozen=True, slots=True)
class Ctx:
    """Who is driving, under which lease, at what time (one step's worth)."""

    actor: str
    fence: Fence | None
    now: int
    chained: bool = False  # this step follows another in the same drive()


Step = Callable[["SettlementDriver", Order, Ctx], Order]


@dataclass(frozen=True, slots=True)
class EscrowOutcome:
    order: Order
    error: str | None = None  # the node's refusal, when it refused
    code: str | None = None


class SettlementDriver:
    def __init__(
        self,
        *,
        store: Store,
        node: NodeClient,
        clock: Clock,
        alerts: Alerts,
        secret_box: SecretBox,
        policy: DriverPolicy,
    ) -> None:
        self.store = store
        self.node = node
        self.clock = clock
        self.alerts = alerts
        self.box = secret_box
        self.policy = policy
        self._steps: dict[Status, Step] = {
            Status.OPEN: escrow_steps.expire_if_due,
            Status.OPENING: escrow_steps.resolve_escrow,
            Status.MATCHING: escrow_steps.resolve_escrow,
            Status.REFUND_PENDING: escrow_steps.refund,
            Status.MATCHED: settle_steps.match_timeout,
            Status.SETTLING: settle_steps.release,
            Status.PAYOUT_PENDING: settle_steps.check_payout,
            Status.SETTLEMENT_RECOVERY: settle_steps.watch_recovery,
        }
        self._lock_escrow = escrow_steps.lock_escrow

    # ------------------------------------------------------------------ driving

    def advance(self, order_id: str, *, actor: str, fence: Fence | None = None) -> Order | None:
        """Perform at most one step for the order; return it as stored afterwards."""
        order = self.read(order_id)
        return None if order is None else self._step(order, actor, fence)

    def drive(
        self,
        order_id: str,
        *,
        actor: str,
        budget_seconds: float,
        fence: Fence | None = None,
        order: Order | None = None,
    ) -> Order | None:
        """Advance while each step makes progress and the time budget lasts. Each step
        returns the order as stored after it, so the next one starts from there (a
        compare-and-set that loses re-reads the winner's state)."""
        deadline = time.monotonic() + budget_seconds
        current = order if order is not None else self.read(order_id)
        chained = False
        while current is not None and time.monotonic() < deadline:
            after = self._step(current, actor, fence, chained=chained)
            if after.version == current.version:
                return after
            current, chained = after, True
        return current

    def _step(
        self, order: Order, actor: str, fence: Fence | None, *, chained: bool = False
    ) -> Order:
        step = self._steps.get(order.status)
        if step is None:
            return order
        token = order_id_var.set(order.order_id)  # every log line of this step names it
        try:
            return step(self, order, Ctx(actor, fence, self.clock.now(), chained))
        finally:
            order_id_var.reset(token)

    def lock_escrow(self, order: Order, *, actor: str) -> EscrowOutcome:
        """Post the RTC seller's escrow for an order whose intent (opening/matching) is
        durable. Called once, by the request that recorded the intent."""
        return self._lock_escrow(self, order, Ctx(actor, None, self.clock.now()))

    # -------------------------------------------------- guarded writes for steps

    def read(self, order_id: str) -> Order | None:
        with self.store.read() as tx:
            return tx.get(order_id)

    def reread(self, order: Order) -> Order:
        """After a lost compare-and-set: the order as the winner left it."""
        return self.read(order.order_id) or order

    def move(
        self,
        order: Order,
        target: Status,
        cause: Cause,
        ctx: Ctx,
        *,
        refs: dict[str, Any] | None = None,
        trade: bool = False,
        **changes: Any,
    ) -> Order:
        """One guarded transition (plus the trade row when `trade`), or the winner's."""
        with self.store.write() as tx:
            moved = tx.transition(
                order,
                target,
                cause,
                actor=ctx.actor,
                at=ctx.now,
                refs=refs,
                fence=ctx.fence,
                **changes,
            )
            if moved is not None and trade:
                tx.insert_trade(moved, at=ctx.now)
        if moved is None:
            return self.reread(order)
        crashpoint(f"commit:{order.status.value}->{target.value}")
        return moved

    def note(
        self,
        order: Order,
        step: str,
        ctx: Ctx,
        *,
        refs: dict[str, Any] | None = None,
        **changes: Any,
    ) -> Order:
        """Record a step's intent or result without a status change, guarded the same way."""
        with self.store.write() as tx:
            moved = tx.record_step(
                order, step, actor=ctx.actor, at=ctx.now, refs=refs, fence=ctx.fence, **changes
            )
        if moved is None:
            return self.reread(order)
        crashpoint(f"commit:{step}")
        return moved

    def reschedule(self, order: Order, at: int, ctx: Ctx) -> Order:
        """Move the order's next automatic action; returns the order as now stored."""
        if order.next_action_at == at:
            return order
        with self.store.write() as tx:
            done = tx.reschedule(order, at, fence=ctx.fence)
        return replace(order, next_action_at=at) if done else self.reread(order)

    def call(self, name: str, fn: Callable[[], Any]) -> Any:
        """An external call, with its crash boundaries on either side."""
        crashpoint(f"call:{name}:before")
        with metrics.timed(metrics.STEP_SECONDS, name):
            result = fn()
        crashpoint(f"call:{name}:after")
        return result

    def alert(self, level: str, title: str, order: Order, **fields: Any) -> None:
        self.alerts.raise_alert(level, title, {"order_id": order.order_id, **fields})
