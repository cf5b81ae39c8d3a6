"""Operator use cases: see what the bridge is doing and resolve what automation cannot.

Every resolution is a transition in the same table as everything else, made through the
settlement layer only from `settlement_recovery`, with the operator's name and a
required reason in the order's history.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from otc_bridge.adapters.node import NodeClient, Ok
from otc_bridge.adapters.store.store import Store
from otc_bridge.domain.clock import Clock
from otc_bridge.domain.order import Order
from otc_bridge.domain.states import Status
from otc_bridge.services.errors import Conflict, InvalidRequest, NotFound
from otc_bridge.services.views import deadlines, order_detail
from otc_bridge.settlement.flows import Resolution, Settlement

NEXT_ACTION = {
    Status.OPENING: "find the escrow job by its title and refund it (the create never reported)",
    Status.OPEN: "expire at expires_at and refund the escrow, if any",
    Status.MATCHING: "find the taker's escrow job by its title and refund it",
    Status.MATCHED: "undo the match at match_deadline: refund the escrow (a sell order "
    "ends; a buy order is relisted without its hashlock)",
    Status.QUOTE_LOCKED: "at claim_deadline, then refundable_at: read the lock's final state "
    "(claimed: settle with its preimage; expired unclaimed: refund the seller)",
    Status.SETTLING: "claim, deliver and accept the escrow job, then queue the payout",
    Status.PAYOUT_PENDING: "read the payout by its tx hash: complete when confirmed, "
    "re-drive under a new key when voided",
    Status.REFUND_PENDING: "cancel the escrow job until the node confirms the refund",
    Status.SETTLEMENT_RECOVERY: "none besides completing if the payout confirms: "
    "an operator resolves it (otc-bridge orders resolve)",
}
RESOLUTIONS = tuple(r.value for r in Resolution)


class Operators:
    def __init__(self, *, store: Store, node: NodeClient, clock: Clock, settlement: Settlement):
        self.store = store
        self.node = node
        self.clock = clock
        self.settlement = settlement

    def list_orders(self, status: str, *, limit: int = 100) -> list[Order]:
        if status not in {s.value for s in Status}:
            raise InvalidRequest(f"unknown status {status!r}")
        with self.store.read() as uow:
            return uow.orders.by_status(Status(status), limit=limit)

    def explain(self, order_id: str) -> dict[str, Any]:
        """State, deadlines, what the node says, the next automatic action, the history."""
        with self.store.read() as uow:
            order = uow.orders.get(order_id)
            events = uow.orders.events(order_id) if order else []
        if order is None:
            raise NotFound("Order not found")
        node: dict[str, Any] = {}
        job = order.escrow_job
        if job is not None:
            found = self.node.get_job(job.job_id)
            node["escrow_job"] = asdict(found.value) if isinstance(found, Ok) else repr(found)
        payout = order.payout
        if payout is not None:
            status = self.node.payout_status(payout.key)
            node["payout"] = asdict(status.value) if isinstance(status, Ok) else repr(status)
        return {
            "order": order_detail(order),
            "deadlines": deadlines(order),
            "now": self.clock.now(),
            "next_action_at": order.next_action_at,
            "next_automatic_action": NEXT_ACTION.get(order.status, "none: the order has ended"),
            "recovery_reason": order.recovery_reason,
            "payout": {
                "key": payout.key if payout else None,
                "tx_hash": payout.tx_hash if payout else None,
                "attempt": payout.attempt if payout else 0,
                "amount_i64": job.released_i64 if job else None,
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
            raise InvalidRequest(f"action must be one of {', '.join(RESOLUTIONS)}")
        if len(reason.strip()) < 8:
            raise InvalidRequest("a reason of at least 8 characters is required")
        order = self.settlement.read(order_id)
        if order is None:
            raise NotFound("Order not found")
        if order.status is not Status.SETTLEMENT_RECOVERY:
            raise Conflict(
                f"only settlement_recovery orders are resolved by hand "
                f"(current: {order.status.value})"
            )
        resolution = Resolution(action)
        job = order.escrow_job
        released = job.released_i64 if job else None
        if resolution is Resolution.REDRIVE and released is None:
            raise Conflict("the escrow was never released to the worker wallet")
        if resolution is Resolution.REFUND:
            if job is None:
                raise Conflict("the order has no escrow job to refund")
            if order.reveal is not None and not force:
                # S revealed the preimage: S can claim the quote leg, so refunding S's
                # RTC too could pay S twice (I5, I6). B must be paid instead.
                raise Conflict(
                    "the seller revealed the preimage (confirm); refunding the escrow "
                    "could pay the seller twice: use redrive or complete (or --force "
                    "once the quote chain shows the seller did not and cannot claim)"
                )
            lock = order.quote_lock
            claimable_until = order.refundable_at or (lock.timelock if lock else 0)
            if lock is not None and self.clock.now() < claimable_until and not force:
                # B's lock can still be claimed with the preimage: refunding S's RTC now
                # could let S take both legs (I5).
                raise Conflict(
                    f"the buyer's quote lock {lock.lock_id} can still be claimed until "
                    f"refundable_at={claimable_until}; refund then, or --force once the "
                    "quote chain shows it cannot be claimed"
                )
            if job.state == "completed" or released is not None:
                raise Conflict(
                    "the escrow was already released to the worker wallet; use redrive or complete"
                )
        refs = {"reason": reason.strip(), "action": action, "force": force}
        moved = self.settlement.resolve(order, resolution, actor=f"operator:{operator}", refs=refs)
        if moved is None:
            raise Conflict("the order changed while resolving; look again")
        return moved
