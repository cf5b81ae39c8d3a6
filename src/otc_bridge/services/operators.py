"""Operator use cases: see what the bridge is doing and resolve what automation cannot.

Every resolution is a transition in the same table as everything else, made only from
`settlement_recovery`, with the operator's name and a required reason in the order's
history.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from otc_bridge.adapters.node import NodeClient, Ok
from otc_bridge.adapters.secret_box import SecretBox
from otc_bridge.adapters.store.store import Store
from otc_bridge.domain.clock import Clock
from otc_bridge.domain.order import Order
from otc_bridge.domain.states import Cause, Status
from otc_bridge.services.errors import Refusal
from otc_bridge.services.views import deadlines, order_detail
from otc_bridge.settlement.settle_steps import redrive_changes

NEXT_ACTION = {
    Status.OPENING: "find the escrow job by its title and refund it (the create never reported)",
    Status.OPEN: "expire at expires_at and refund the escrow, if any",
    Status.MATCHING: "find the taker's escrow job by its title and refund it",
    Status.MATCHED: "undo the match at match_deadline (relist, or refund the taker's escrow)",
    Status.SETTLING: "claim, deliver and accept the escrow job, then queue the payout",
    Status.PAYOUT_PENDING: "read the payout by its tx hash: complete when confirmed, "
    "re-drive under a new key when voided",
    Status.REFUND_PENDING: "cancel the escrow job until the node confirms the refund",
    Status.SETTLEMENT_RECOVERY: "none besides completing if the payout confirms: "
    "an operator resolves it (otc-bridge orders resolve)",
}
RESOLUTIONS = ("complete", "redrive", "refund")


class Operators:
    def __init__(
        self, *, store: Store, node: NodeClient, clock: Clock, secret_box: SecretBox
    ) -> None:
        self.store = store
        self.node = node
        self.clock = clock
        self.box = secret_box

    def list_orders(self, status: str, *, limit: int = 100) -> list[Order]:
        if status not in {s.value for s in Status}:
            raise Refusal(400, f"unknown status {status!r}")
        with self.store.read() as tx:
            return tx.orders_by_status(status, limit=limit)

    def explain(self, order_id: str) -> dict[str, Any]:
        """State, deadlines, what the node says, the next automatic action, the history."""
        with self.store.read() as tx:
            order = tx.get(order_id)
            events = tx.events(order_id) if order else []
        if order is None:
            raise Refusal(404, "Order not found")
        node: dict[str, Any] = {}
        if order.escrow_job_id:
            job = self.node.get_job(order.escrow_job_id)
            node["escrow_job"] = asdict(job.value) if isinstance(job, Ok) else repr(job)
        if order.payout_key:
            status = self.node.payout_status(order.payout_key)
            node["payout"] = asdict(status.value) if isinstance(status, Ok) else repr(status)
        return {
            "order": order_detail(order),
            "deadlines": deadlines(order),
            "now": self.clock.now(),
            "next_action_at": order.next_action_at,
            "next_automatic_action": NEXT_ACTION.get(order.status, "none: the order has ended"),
            "recovery_reason": order.recovery_reason,
            "payout": {
                "key": order.payout_key,
                "tx_hash": order.payout_tx_hash,
                "attempt": order.payout_attempt,
                "amount_i64": order.payout_amount_i64,
            },
            "node": node,
            "history": [
                {
                    "seq": e.seq,
                    "to": e.to_status,
                    "cause": e.cause,
                    "actor": e.actor,
                    "at": e.at,
                    "refs": e.refs,
                }
                for e in events
            ],
        }

    def resolve(
        self, order_id: str, action: str, *, reason: str, operator: str, force: bool = False
    ) -> Order:
        """Move a `settlement_recovery` order on, with the reason in its history:

        * complete: B was paid (the payout confirmed, or the operator paid B otherwise);
        * redrive: pay B again from the worker wallet under a new attempt key;
        * refund: give S's escrow back (only while the node job still holds it). Once S
          revealed the preimage, S may have claimed the quote leg, so this needs `force`:
          the operator has checked the quote chain and S did not and cannot claim.
        """
        if action not in RESOLUTIONS:
            raise Refusal(400, f"action must be one of {', '.join(RESOLUTIONS)}")
        if len(reason.strip()) < 8:
            raise Refusal(400, "a reason of at least 8 characters is required")
        with self.store.read() as tx:
            order = tx.get(order_id)
        if order is None:
            raise Refusal(404, "Order not found")
        if order.status is not Status.SETTLEMENT_RECOVERY:
            raise Refusal(
                409,
                f"only settlement_recovery orders are resolved by hand "
                f"(current: {order.status.value})",
            )
        now = self.clock.now()
        actor = f"operator:{operator}"
        refs: dict[str, Any] = {"reason": reason.strip(), "action": action, "force": force}
        with self.store.write() as tx:
            if action == "complete":
                secret = order.htlc_secret_enc
                moved = tx.transition(
                    order,
                    Status.COMPLETED,
                    Cause.OPERATOR,
                    actor=actor,
                    at=now,
                    refs=refs,
                    htlc_preimage=self.box.open(secret) if secret else None,
                    completed_at=now,
                    closed_at=now,
                    next_action_at=None,
                )
                if moved is not None:
                    tx.insert_trade(moved, at=now)
            elif action == "redrive":
                if order.payout_amount_i64 is None:
                    raise Refusal(409, "the escrow was never released to the worker wallet")
                changes = redrive_changes(order)
                refs.update(key=changes["payout_key"])
                moved = tx.transition(
                    order,
                    Status.PAYOUT_PENDING,
                    Cause.OPERATOR,
                    actor=actor,
                    at=now,
                    refs=refs,
                    next_action_at=now,
                    **changes,
                )
            else:
                if not order.escrow_job_id:
                    raise Refusal(409, "the order has no escrow job to refund")
                if order.settling_at is not None and not force:
                    # S revealed the preimage: S can claim the quote leg, so refunding S's
                    # RTC too could pay S twice (I5, I6). B must be paid instead.
                    raise Refusal(
                        409,
                        "the seller revealed the preimage (confirm); refunding the escrow "
                        "could pay the seller twice: use redrive or complete (or --force "
                        "once the quote chain shows the seller did not and cannot claim)",
                    )
                if order.escrow_state == "completed" or order.payout_amount_i64 is not None:
                    raise Refusal(
                        409,
                        "the escrow was already released to the worker wallet; "
                        "use redrive or complete",
                    )
                moved = tx.transition(
                    order,
                    Status.REFUND_PENDING,
                    Cause.OPERATOR,
                    actor=actor,
                    at=now,
                    refs=refs,
                    refund_target="cancelled",
                    refund_started_at=now,
                    next_action_at=now,
                )
        if moved is None:
            raise Refusal(409, "the order changed while resolving; look again")
        return moved
