"""The settlement layer's public interface: the one way an order changes status.

Every entry point (the HTTP use cases, operators' commands, the reconciler, a chain
watcher) moves orders through `Settlement`. Each method builds the move with the
domain's typed functions (`domain.transitions`, `domain.settling`), commits it through
the toolkit (a guarded write plus its crash boundary), and, where the move recorded the
intent of a node call only the caller may make (posting an escrow), makes that call.
Callers keep authentication, validation and what they answer; a method returns the order
as stored afterwards, or None when it lost a race (the order changed since it was read).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from otc_bridge.adapters.store.store import Fence
from otc_bridge.domain import hashing, settling, transitions
from otc_bridge.domain.errors import LockAlreadyUsed, OrderNotMatched, PairDisabled, WrongPreimage
from otc_bridge.domain.move import Move
from otc_bridge.domain.order import Hashlock, Order, required
from otc_bridge.domain.settling import Evidence
from otc_bridge.domain.states import Cause, Status
from otc_bridge.settlement.driver import SettlementDriver
from otc_bridge.settlement.escrow_steps import EscrowOutcome, lock_escrow
from otc_bridge.settlement.quote_chains import LockRef
from otc_bridge.settlement.quote_lock import already_used, same_lock, verify
from otc_bridge.settlement.toolkit import Toolkit


class Resolution(StrEnum):
    """What an operator may do with an order automation handed over."""

    COMPLETE = "complete"  # B was paid (the payout confirmed, or the operator paid B)
    REDRIVE = "redrive"  # pay B again from the worker wallet under a new key
    REFUND = "refund"  # give S's escrow back


class Settlement:
    def __init__(self, kit: Toolkit, driver: SettlementDriver) -> None:
        self.kit = kit
        self.driver = driver

    # ------------------------------------------------------------------ reads

    def read(self, order_id: str) -> Order | None:
        return self.kit.read(order_id)

    # ------------------------------------------------------------------ the book

    def open(self, order: Order, *, actor: str, refs: Mapping[str, Any]) -> EscrowOutcome:
        """Record a new order (`domain.transitions.create`); a sell order's escrow intent
        is durable with it, and its escrow is posted next."""
        ctx = self.kit.ctx(actor)
        created = self.kit.insert(order, ctx, dict(refs))
        if created.status is Status.OPENING:
            return lock_escrow(self.kit, created, self.kit.ctx(actor))
        return EscrowOutcome(created)

    def match(
        self,
        order: Order,
        taker_wallet: str,
        taker_address: str | None,
        *,
        hashlock: Hashlock | None = None,
    ) -> EscrowOutcome | None:
        """Take an open order. A buy order's taker is S: S's escrow intent (with S's
        `hashlock`) is durable first, then the escrow is posted."""
        policy = self.kit.policy
        ctx = self.kit.ctx(taker_wallet)
        move = transitions.match(
            order,
            taker_wallet,
            taker_address,
            hashlock=hashlock,
            at=ctx.now,
            lock_window=policy.deadlines.lock_window,
            grace=policy.grace_seconds,
            deadlines=policy.deadlines,
        )
        moved = self.kit.commit(move, ctx)
        if moved is None:
            return None
        if moved.status is Status.MATCHING:
            return lock_escrow(self.kit, moved, self.kit.ctx(taker_wallet))
        return EscrowOutcome(moved)

    def cancel(self, order: Order, *, actor: str) -> Order | None:
        """The maker cancels an open order (an escrow is refunded before it ends)."""
        ctx = self.kit.ctx(actor)
        move = transitions.cancel(order, at=ctx.now, grace=self.kit.policy.grace_seconds)
        return self.kit.commit(move, ctx)

    # ------------------------------------------------------------------ the quote lock

    def report_lock(self, order: Order, ref: LockRef, *, actor: str) -> Order | None:
        """B's lock, reported by anyone (the chain is the authority): read it from the
        pair's chain, check it against the order (`domain.htlc_terms.check_lock`), and
        move `matched → quote_locked`. Raises `LockRefused` (nothing written) when it
        does not back the order, `OrderNotMatched` / `PairDisabled` when the order takes
        no lock. The same lock reported again for its order answers the order as is."""
        if order.status is Status.QUOTE_LOCKED and same_lock(order, ref):
            return order
        if order.status is not Status.MATCHED:
            raise OrderNotMatched(order.order_id, order.status.value)
        chain = self.kit.chains.for_pair(order.pair)
        if chain is None:
            raise PairDisabled(self.kit.chains.disabled_reason(order.pair) or order.pair)
        ctx = self.kit.ctx(actor)
        policy = self.kit.policy
        found = self.kit.call("quote.find_lock", lambda: chain.find_lock(ref))
        lock = verify(
            order, chain, found, policy.deadlines, now=ctx.now, retry_seconds=policy.retry_seconds
        )
        with self.kit.store.read() as uow:
            holder = uow.orders.by_quote_lock(lock.lock_id)
        if holder is not None and holder != order.order_id:
            raise already_used(lock.lock_id)
        move = transitions.lock_verified(order, lock, policy.deadlines, at=ctx.now)
        try:
            return self.kit.commit(move, ctx)
        except LockAlreadyUsed:  # another order took it between the read and the write
            raise already_used(lock.lock_id) from None

    # ------------------------------------------------------------------ settlement

    def reveal(
        self,
        order: Order,
        preimage: str,
        evidence: Evidence,
        actor: str,
        *,
        cause: Cause = Cause.CONFIRM,
    ) -> Order | None:
        """S's preimage is known (S confirmed, or a claim on the quote chain showed it:
        `cause` QUOTE_CLAIMED): seal it and move the order to `settling`. Drive it on with
        `drive`, or leave it to the reconciler (it is due after the grace window)."""
        hashlock = required(order.hashlock, "hashlock", order)
        if not hashing.preimage_matches(preimage, hashlock.hash):
            raise WrongPreimage(f"the preimage does not hash to {order.order_id}'s hashlock")
        sealed = hashlock.sealed or self.kit.box.seal(preimage.lower())
        ctx = self.kit.ctx(actor)
        move = settling.reveal(
            order, sealed, evidence, at=ctx.now, grace=self.kit.policy.grace_seconds, cause=cause
        )
        return self.kit.commit(move, ctx)

    def resolve(
        self, order: Order, resolution: Resolution, *, actor: str, refs: Mapping[str, Any]
    ) -> Order | None:
        """An operator's decision on an order in `settlement_recovery` (the caller has
        checked it is allowed), with `refs` (the reason) in the history."""
        ctx = self.kit.ctx(actor)
        move: Move
        if resolution is Resolution.COMPLETE:
            preimage = self.kit.preimage(order)
            move = settling.complete(order, preimage, Cause.OPERATOR, at=ctx.now, refs=refs)
        elif resolution is Resolution.REDRIVE:
            payout = settling.next_payout(order)
            refs = {**refs, "key": payout.key}
            move = settling.redrive(order, payout, Cause.OPERATOR, next_at=ctx.now, refs=refs)
        else:
            move = transitions.start_refund(
                order, Status.CANCELLED, Cause.OPERATOR, at=ctx.now, next_at=ctx.now, refs=refs
            )
        return self.kit.commit(move, ctx)

    # ------------------------------------------------------------------ driving

    def drive(
        self,
        order_id: str,
        *,
        actor: str,
        budget_seconds: float,
        fence: Fence | None = None,
        order: Order | None = None,
    ) -> Order | None:
        """Take the order's steps while they make progress, for up to `budget_seconds`."""
        return self.driver.drive(
            order_id, actor=actor, budget_seconds=budget_seconds, fence=fence, order=order
        )

    def advance(self, order_id: str, *, actor: str, fence: Fence | None = None) -> Order | None:
        """At most one step for the order."""
        return self.driver.advance(order_id, actor=actor, fence=fence)
