"""A move: what one status change (or one step within a status) writes, as a value.

The typed functions of `domain.transitions` and `domain.settling` build moves; the store
applies one as a guarded compare-and-set with its history row, and nothing else changes
an order. A move whose `cause` is a `Step` records progress within the state (the history
row's cause is `step`, its refs name the step).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from otc_bridge.domain.order import Order
from otc_bridge.domain.states import Cause, Status, check_transition

STEP = "step"  # the history cause of a row that records progress without a status change


class Step(StrEnum):
    ESCROW_CLAIMED = "escrow_claimed"
    ESCROW_DELIVERED = "escrow_delivered"
    ESCROW_ACCEPTED = "escrow_accepted"
    ESCROW_DISPUTED = "escrow_disputed"
    PAYOUT_REQUESTED = "payout_requested"
    PAYOUT_QUEUED = "payout_queued"


@dataclass(frozen=True, slots=True)
class Move:
    before: Order  # the order as read: the compare-and-set's expectation
    after: Order  # status and fields after the move (version and hash as before)
    cause: Cause | Step
    refs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_step(self) -> bool:
        return isinstance(self.cause, Step)

    @property
    def target(self) -> Status:
        return self.after.status

    @property
    def history_cause(self) -> str:
        return STEP if isinstance(self.cause, Step) else self.cause.value

    @property
    def history_refs(self) -> dict[str, Any]:
        if isinstance(self.cause, Step):
            return {"step": self.cause.value, **self.refs}
        return dict(self.refs)

    @property
    def boundary(self) -> str:
        """The crash boundary passed once the move is committed."""
        if isinstance(self.cause, Step):
            return f"commit:{self.cause.value}"
        return f"commit:{self.before.status.value}->{self.after.status.value}"


def transition(
    order: Order, after: Order, cause: Cause, refs: Mapping[str, Any] | None = None
) -> Move:
    """A status change from `order` to `after`, refused unless the table allows it."""
    check_transition(order.status, after.status, cause)
    return Move(order, after, cause, refs or {})


def step(order: Order, after: Order, name: Step, refs: Mapping[str, Any] | None = None) -> Move:
    """Progress within the order's status."""
    if after.status is not order.status:  # (a copy of the whole order only when needed)
        after = replace(after, status=order.status)
    return Move(order, after, name, refs or {})
