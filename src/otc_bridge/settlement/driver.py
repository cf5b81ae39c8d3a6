"""The settlement driver: one step per status, chosen from the order's durable state.

`advance(order_id)` performs at most one idempotent step, picked from `STEPS` by the
order's status and, where that is ambiguous, by the node's own state. The state an order
is in is the intent of its next step, durable before the step's external call; the result
is recorded by a guarded move after. The request path, the reconciler and the chain
watcher all drive orders through this (via `settlement.flows.Settlement`); there is no
other copy of any flow.

The one node call no step makes is posting an escrow: the node's job creation is not
idempotent, so only the request that recorded the intent makes it (`Settlement.open`,
`Settlement.match`). A step that finds an escrow lock of unknown outcome resolves it by
looking for the job by its title and undoing it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from types import MappingProxyType

from otc_bridge.adapters.store.store import Fence
from otc_bridge.domain.order import Order
from otc_bridge.domain.states import Status
from otc_bridge.observability.logs import order_id_var
from otc_bridge.settlement import escrow_steps, settle_steps
from otc_bridge.settlement.toolkit import Ctx, Toolkit

Step = Callable[[Toolkit, Order, Ctx], Order]

# Every status that is not terminal has exactly one step (tests/unit/test_layers.py).
STEPS: Mapping[Status, Step] = MappingProxyType(
    {
        Status.OPENING: escrow_steps.resolve_escrow,
        Status.OPEN: escrow_steps.expire_if_due,
        Status.MATCHING: escrow_steps.resolve_escrow,
        Status.MATCHED: settle_steps.match_timeout,
        Status.QUOTE_LOCKED: settle_steps.watch_quote_lock,
        Status.SETTLING: settle_steps.release,
        Status.PAYOUT_PENDING: settle_steps.check_payout,
        Status.SETTLEMENT_RECOVERY: settle_steps.watch_recovery,
        Status.REFUND_PENDING: escrow_steps.refund,
    }
)


class SettlementDriver:
    def __init__(self, kit: Toolkit, steps: Mapping[Status, Step] = STEPS) -> None:
        self.kit = kit
        self.steps = steps

    def advance(self, order_id: str, *, actor: str, fence: Fence | None = None) -> Order | None:
        """Perform at most one step for the order; return it as stored afterwards."""
        order = self.kit.read(order_id)
        return None if order is None else self.step(order, actor, fence)

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
        current = order if order is not None else self.kit.read(order_id)
        chained = False
        while current is not None and time.monotonic() < deadline:
            after = self.step(current, actor, fence, chained=chained)
            if after.version == current.version:
                return after
            current, chained = after, True
        return current

    def step(
        self, order: Order, actor: str, fence: Fence | None, *, chained: bool = False
    ) -> Order:
        step = self.steps.get(order.status)
        if step is None:
            return order
        token = order_id_var.set(order.order_id)  # every log line of this step names it
        try:
            return step(self.kit, order, self.kit.ctx(actor, fence, chained=chained))
        finally:
            order_id_var.reset(token)
