"""What a final HTLC event means for an order, as calls into `Settlement` (never a copy of
a flow):

* `Locked` whose hashlock is a `matched` order's: `Settlement.report_lock`, exactly as if
  B had called `POST /api/orders/{id}/lock`;
* `Claimed` of the lock an order is `quote_locked` with: `Settlement.reveal` with the
  claim's preimage (cause `quote_claimed`, the claim's transaction in the history), then
  the order is driven on (escrow released, B's payout queued) with no call from S;
* `Refunded` of such a lock, or its timelock passed at a final block with no claim: the
  driver's `quote_locked` step (`Settlement.drive`), which reads the chain's final view
  itself and refunds S's escrow;
* `Claimed` of a lock no order counts (it failed the order's checks, or was never
  reported) whose preimage is an order's hashlock: no order moves (the lock was never
  verified), but the secret is public now, so operators get a critical alert, one per
  lock (its key in the alert outbox is the lock: re-reads and restarts add none).

Every effect first checks the order's state and each `Settlement` write is a guarded
compare-and-set, so handing the same event over twice (a restart before the checkpoint
moved, a rewind) changes nothing the second time.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from enum import StrEnum

from otc_bridge.adapters.evm.results import ClaimedEvent, HtlcEvent, LockedEvent, RefundedEvent
from otc_bridge.adapters.store.chain_watch import Mark
from otc_bridge.adapters.store.store import Fence, Store
from otc_bridge.domain.clock import Clock
from otc_bridge.domain.errors import DomainError
from otc_bridge.domain.hashing import hashlock
from otc_bridge.domain.htlc_terms import RETRYABLE_CODES
from otc_bridge.domain.order import Order
from otc_bridge.domain.settling import Evidence
from otc_bridge.domain.states import Cause, Status
from otc_bridge.observability import metrics
from otc_bridge.settlement.flows import Settlement
from otc_bridge.settlement.quote_chains import LockRef
from otc_bridge.settlement.quote_lock import LockRefused
from otc_bridge.settlement.watch.follower import Applied

log = logging.getLogger(__name__)
ACTOR = "watcher"
UNCOUNTED_CLAIM = "Quote lock claimed on-chain that no order counts: the order's secret is public"


class Outcome(StrEnum):
    ACTED = "acted"  # an order moved
    SKIPPED = "skipped"  # not an order's, or already done
    REFUSED = "refused"  # a lock that fails the order's checks (the order keeps waiting)
    RETRY = "retry"  # transient: the range is read again next poll


class SettlementEffects:
    def __init__(
        self,
        *,
        settlement: Settlement,
        store: Store,
        clock: Clock,
        pairs: Collection[str],
        budget_seconds: float,
        label: str,
    ) -> None:
        self.settlement = settlement
        self.store = store
        self.clock = clock
        self.pairs = frozenset(pairs)  # the pairs whose quote leg is on this chain
        self.budget_seconds = budget_seconds
        self.label = label

    def apply(
        self, events: Sequence[HtlcEvent], *, since: Mark, final: Mark, fence: Fence
    ) -> Applied:
        applied = Applied()
        for event in events:
            kind, outcome, why = self._one(event, fence)
            metrics.WATCHER_EVENTS.labels(self.label, kind, outcome.value).inc()
            if outcome is Outcome.RETRY:
                applied.retry = f"{kind} {event.id} at block {event.position.block_number}: {why}"
                return applied
            if outcome is Outcome.ACTED:
                applied.acted += 1
            else:
                applied.skipped += 1
        for order_id in self._expiring(since, final):
            outcome = self._drive_quote_locked(order_id, fence, "timelock passed")
            metrics.WATCHER_EVENTS.labels(self.label, "expired", outcome.value).inc()
            applied.acted += outcome is Outcome.ACTED
        return applied

    # ------------------------------------------------------------------ events

    def _one(self, event: HtlcEvent, fence: Fence) -> tuple[str, Outcome, str]:
        try:
            if isinstance(event, LockedEvent):
                return ("locked", *self._locked(event))
            if isinstance(event, ClaimedEvent):
                return ("claimed", *self._claimed(event, fence))
            return ("refunded", *self._refunded(event, fence))
        except DomainError as exc:  # the order moved on in a way the event no longer fits
            log.info("watcher: %s left as is: %s", event.id, exc)
            return (type(event).__name__.lower(), Outcome.SKIPPED, str(exc))

    def _locked(self, event: LockedEvent) -> tuple[Outcome, str]:
        matched = [
            order
            for order in self._orders_with_hashlock(_bare(event.hashlock))
            if order.status is Status.MATCHED
        ]
        if not matched:
            return Outcome.SKIPPED, "no matched order has this hashlock"
        outcome, why = Outcome.SKIPPED, ""
        for order in matched:
            try:
                moved = self.settlement.report_lock(
                    order, LockRef(lock_id=event.id, tx_hash=None), actor=ACTOR
                )
            except LockRefused as refused:
                code = refused.verdict.code
                if code in RETRYABLE_CODES:
                    return Outcome.RETRY, f"{code}: {refused.verdict.message}"
                log.warning(
                    "watcher: lock %s does not fit order %s: %s (%s)",
                    event.id,
                    order.order_id,
                    code,
                    refused.verdict.message,
                )
                outcome, why = Outcome.REFUSED, str(code)
                continue
            if moved is not None:
                log.info("watcher: order %s is quote_locked by lock %s", order.order_id, event.id)
                return Outcome.ACTED, "quote_locked"
        return outcome, why or "the order moved meanwhile"

    def _claimed(self, event: ClaimedEvent, fence: Fence) -> tuple[Outcome, str]:
        order = self._order_with_lock(event.id)
        if order is not None and order.status is Status.SETTLING:
            # Revealed already (by this claim before a crash, or by S): push the escrow's
            # release and B's payout on now rather than at the reconciler's next pass.
            self.settlement.drive(
                order.order_id, actor=ACTOR, budget_seconds=self.budget_seconds, fence=fence
            )
            return Outcome.SKIPPED, "already settling"
        if order is None:
            return self._uncounted_claim(event)
        if order.status is not Status.QUOTE_LOCKED:
            return Outcome.SKIPPED, "no quote_locked order has this lock"
        evidence = Evidence(
            quote_tx=event.position.tx_hash,
            facts={
                "source": "quote chain claim",
                "lock_id": event.id,
                "claim_tx": event.position.tx_hash,
                "block_number": event.position.block_number,
                "block_hash": event.position.block_hash,
            },
        )
        moved = self.settlement.reveal(
            order, _bare(event.preimage), evidence, ACTOR, cause=Cause.QUOTE_CLAIMED
        )
        if moved is None:
            return Outcome.SKIPPED, "the order moved meanwhile"
        log.info(
            "watcher: order %s settles from the claim %s", order.order_id, event.position.tx_hash
        )
        self.settlement.drive(
            order.order_id, actor=ACTOR, budget_seconds=self.budget_seconds, fence=fence
        )
        return Outcome.ACTED, "settling"

    def _uncounted_claim(self, event: ClaimedEvent) -> tuple[Outcome, str]:
        """A claim of a lock that backs no order. When its preimage opens an order's
        hashlock, S's secret is public while that order never had a verified lock: the
        order is left as it is (nothing verified it; its deadlines still run), and the
        operators are told, once per lock. A claim of anyone else's lock on the contract
        is none of the bridge's business (and alerting on it would let anyone flood the
        alerts)."""
        orders = self._orders_with_hashlock(hashlock(bytes.fromhex(_bare(event.preimage))))
        if not orders:
            return Outcome.SKIPPED, "not a lock of the bridge's orders"
        fields = {
            "chain_id": self.label,
            "lock_id": event.id,
            "claim_tx": event.position.tx_hash,
            "block_number": event.position.block_number,
            "orders": {order.order_id: order.status.value for order in orders},
        }
        with self.store.write() as uow:
            fresh = uow.alerts.enqueue(
                dedupe_key=f"watch:uncounted_claim:{self.label}:{event.id.lower()}",
                level="critical",
                title=UNCOUNTED_CLAIM,
                fields=fields,
                now=self.clock.now(),
            )
        if fresh:
            log.warning("ALERT CRITICAL: %s %s", UNCOUNTED_CLAIM, fields)
        return Outcome.SKIPPED, "no order counts this lock: operators alerted"

    def _refunded(self, event: RefundedEvent, fence: Fence) -> tuple[Outcome, str]:
        order = self._order_with_lock(event.id)
        if order is None or order.status is not Status.QUOTE_LOCKED:
            return Outcome.SKIPPED, "no quote_locked order has this lock"
        return self._drive_quote_locked(order.order_id, fence, "refunded on chain"), ""

    def _drive_quote_locked(self, order_id: str, fence: Fence, why: str) -> Outcome:
        """The driver's quote_locked step decides (it reads the chain's final view)."""
        before = self.settlement.read(order_id)
        if before is None or before.status is not Status.QUOTE_LOCKED:
            return Outcome.SKIPPED
        after = self.settlement.drive(
            order_id, actor=ACTOR, budget_seconds=self.budget_seconds, fence=fence, order=before
        )
        if after is None or after.status is Status.QUOTE_LOCKED:
            log.info("watcher: order %s (%s) left to the driver's schedule", order_id, why)
            return Outcome.SKIPPED
        log.info("watcher: order %s is %s (%s)", order_id, after.status.value, why)
        return Outcome.ACTED

    # ------------------------------------------------------------------ reads

    def _orders_with_hashlock(self, hashlock: str) -> list[Order]:
        with self.store.read() as uow:
            return uow.chain_watch.orders_with_hashlock(hashlock, self.pairs)

    def _order_with_lock(self, lock_id: str) -> Order | None:
        with self.store.read() as uow:
            order_id = uow.orders.by_quote_lock(lock_id.lower())
            order = uow.orders.get(order_id) if order_id is not None else None
        return order if order is not None and order.pair in self.pairs else None

    def _expiring(self, since: Mark, final: Mark) -> list[str]:
        """quote_locked orders whose T_q the final block time crossed in this range:
        no claim can come any more (a claim must be strictly before T_q)."""
        if final.time <= since.time:
            return []
        with self.store.read() as uow:
            return uow.chain_watch.timelocks_crossed(self.pairs, after=since.time, upto=final.time)


def _bare(value: str) -> str:
    """0x-less lower-case hex, as the order stores its hashlock and preimage."""
    value = value.lower()
    return value[2:] if value.startswith("0x") else value
