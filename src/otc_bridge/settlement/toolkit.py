"""What every settlement step and flow works with: the node, the quote chains, the secret
box, the policy, and the guarded writes. The step modules depend on this, never on the driver.

`commit` is the one place that writes a move: the store's guarded transition under the
caller's lease fence, then the crash boundary `commit:<from>-><to>` (or `commit:<step>`).
An external call is wrapped by `call`, which marks `call:<name>:before` and `:after`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from otc_bridge.adapters.node import NodeClient
from otc_bridge.adapters.secret_box import SecretBox
from otc_bridge.adapters.store.orders import prepare
from otc_bridge.adapters.store.store import Fence, Store
from otc_bridge.domain.clock import Clock
from otc_bridge.domain.deadlines import DeadlinePolicy
from otc_bridge.domain.move import Move
from otc_bridge.domain.order import Order
from otc_bridge.observability import metrics
from otc_bridge.settlement.alerts import Alerts
from otc_bridge.settlement.crashpoints import crashpoint
from otc_bridge.settlement.quote_chains import QuoteChains

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DriverPolicy:
    deadlines: DeadlinePolicy
    grace_seconds: int = 120  # how long an in-flight step is left to its own request
    retry_seconds: int = 15  # how soon a step that met an unknown outcome is retried
    payout_poll_seconds: int = 30  # how often a queued payout's status is read
    recovery_poll_seconds: int = 600  # how often a recovery order's payout is re-read


@dataclass(frozen=True, slots=True)
class Ctx:
    """Who is acting, under which lease, at what time (one step's or flow's worth)."""

    actor: str
    fence: Fence | None
    now: int
    chained: bool = False  # this step follows another in the same drive()


class Toolkit:
    def __init__(
        self,
        *,
        store: Store,
        node: NodeClient,
        clock: Clock,
        alerts: Alerts,
        secret_box: SecretBox,
        policy: DriverPolicy,
        chains: QuoteChains | None = None,
    ) -> None:
        self.chains = chains if chains is not None else QuoteChains()
        self.store = store
        self.node = node
        self.clock = clock
        self.alerts = alerts
        self.box = secret_box
        self.policy = policy

    def ctx(self, actor: str, fence: Fence | None = None, *, chained: bool = False) -> Ctx:
        return Ctx(actor, fence, self.clock.now(), chained)

    # ------------------------------------------------------------------ reads

    def read(self, order_id: str) -> Order | None:
        with self.store.read() as uow:
            return uow.orders.get(order_id)

    def reread(self, order: Order) -> Order:
        """After a lost compare-and-set: the order as the winner left it."""
        return self.read(order.order_id) or order

    def preimage(self, order: Order) -> str | None:
        """The order's preimage in clear (to publish once it completes), if it is known."""
        sealed = order.hashlock.sealed if order.hashlock else None
        return self.box.open(sealed) if sealed else None

    # ------------------------------------------------------------------ writes

    def insert(self, order: Order, ctx: Ctx, refs: dict[str, Any]) -> Order:
        """Record a new order and the first row of its history."""
        with self.store.write() as uow:
            order = uow.orders.insert(order, actor=ctx.actor, at=ctx.now, refs=refs)
        crashpoint(f"commit:create->{order.status.value}")
        return order

    def commit(self, move: Move, ctx: Ctx) -> Order | None:
        """Write one move; None when the order changed since it was read (or the lease
        behind `ctx.fence` moved on)."""
        ready = prepare(move, actor=ctx.actor, at=ctx.now)  # before the write lock
        moved = self.store.transition(ready, fence=ctx.fence)
        if moved is not None:
            crashpoint(move.boundary)
        return moved

    def apply(self, move: Move, ctx: Ctx) -> Order:
        """`commit`, or the winner's state when it lost: a step continues from there."""
        moved = self.commit(move, ctx)
        return moved if moved is not None else self.reread(move.before)

    def reschedule(self, order: Order, at: int, ctx: Ctx) -> Order:
        """Move the order's next automatic action; returns the order as now stored."""
        if order.next_action_at == at:
            return order
        with self.store.write() as uow:
            done = uow.orders.reschedule(order, at, fence=ctx.fence)
        return replace(order, next_action_at=at) if done else self.reread(order)

    # ------------------------------------------------------------------ the outside

    def call(self, name: str, fn: Callable[[], T]) -> T:
        """An external call, with its crash boundaries on either side."""
        crashpoint(f"call:{name}:before")
        with metrics.timed(metrics.STEP_SECONDS, name):
            result = fn()
        crashpoint(f"call:{name}:after")
        return result

    def alert(
        self, level: str, title: str, order: Order, *, event: str | None = None, **fields: Any
    ) -> None:
        """One alert per order and title, or, with `event`, one per order, title and
        event (for what can happen to an order more than once)."""
        key = None if event is None else f"{order.order_id}:{title}:{event}"
        self.alerts.raise_alert(level, title, {"order_id": order.order_id, **fields}, key=key)
