"""Settlement's moves, forward only once the preimage is known: reveal, the escrow's
release steps, the payout's intent, queueing, re-drive and completion, and the hand-over
to an operator. Pure, like `domain.transitions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from otc_bridge.domain.move import Move, Step, step, transition
from otc_bridge.domain.order import Order, Payout, Reveal, required
from otc_bridge.domain.rustchain import idempotent_tx_hash
from otc_bridge.domain.states import Cause, Status

JOB_DISPUTED = "disputed"
RECOVERY_ESCROW_TAKEN = "escrow released to a third party"


def payout_key(order_id: str, attempt: int) -> str:
    """The seed's key; a re-drive after a void needs a new one (the node keeps a voided
    key dead for good)."""
    return f"otc_payout:{order_id}" if attempt == 0 else f"otc_payout:{order_id}:{attempt}"


def first_payout(order: Order) -> Payout:
    key = payout_key(order.order_id, 0)
    return Payout(attempt=0, key=key, tx_hash=idempotent_tx_hash(key))


def next_payout(order: Order) -> Payout:
    """A new attempt under a new key, not yet sent."""
    attempt = (order.payout.attempt if order.payout else 0) + 1
    key = payout_key(order.order_id, attempt)
    return Payout(attempt=attempt, key=key, tx_hash=idempotent_tx_hash(key))


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why the preimage may be revealed now: the quote leg's transaction and what its
    check found (confirm's verifier; a watched claim's log)."""

    quote_tx: str
    facts: Mapping[str, Any] = field(default_factory=dict)
    claim_deadline: int | None = None


# ---------------------------------------------------------------------- reveal


def reveal(
    order: Order,
    sealed: str,
    evidence: Evidence,
    *,
    at: int,
    grace: int,
    cause: Cause = Cause.CONFIRM,
) -> Move:
    """S's preimage is known (sealed at rest): settle. From here the order only moves
    forward, to B's payout or to an operator. `cause`: CONFIRM (S revealed through the
    API) or QUOTE_CLAIMED (a claim on the quote chain showed the preimage)."""
    hashlock = required(order.hashlock, "hashlock", order)
    after = replace(
        order,
        status=Status.SETTLING,
        hashlock=replace(hashlock, sealed=sealed),
        reveal=Reveal(at=at, quote_tx=evidence.quote_tx),
        claim_deadline=evidence.claim_deadline or order.claim_deadline,
        next_action_at=at + grace,
    )
    refs = {"quote_tx": evidence.quote_tx, "quote_check": dict(evidence.facts)}
    return transition(order, after, cause, refs)


# ---------------------------------------------------------------------- the escrow's release


def escrow_progressed(
    order: Order,
    name: Step,
    job_state: str,
    refs: Mapping[str, Any],
    *,
    released_i64: int | None = None,
) -> Move:
    """A claim, deliver or accept of the escrow job took effect (`released_i64`: what the
    accept paid the worker wallet, which is what B is paid)."""
    escrow = required(order.escrow, "escrow", order)
    job = required(escrow.job, "escrow job", order)
    released = job.released_i64 if released_i64 is None else released_i64
    job = replace(job, state=job_state, released_i64=released)
    return step(order, replace(order, escrow=replace(escrow, job=job)), name, refs)


def escrow_disputed(order: Order, refs: Mapping[str, Any]) -> Move:
    """A job delivered by someone else was disputed: the refund can cancel it next."""
    return escrow_progressed(order, Step.ESCROW_DISPUTED, JOB_DISPUTED, refs)


def escrow_taken(order: Order, job_state: str, refs: Mapping[str, Any]) -> Move:
    """The job was released to someone else before the refund: an operator's case."""
    escrow = required(order.escrow, "escrow", order)
    job = required(escrow.job, "escrow job", order)
    after = replace(
        order,
        status=Status.SETTLEMENT_RECOVERY,
        escrow=replace(escrow, job=replace(job, state=job_state)),
        recovery_reason=RECOVERY_ESCROW_TAKEN,
        next_action_at=None,
    )
    return transition(order, after, Cause.ESCROW_LOST, refs)


# ---------------------------------------------------------------------- the payout


def payout_requested(order: Order) -> Move:
    """Durable before the transfer: the key, the hash the node will derive, the amount."""
    payout = first_payout(order)
    job = order.escrow_job
    refs = {
        "key": payout.key,
        "tx_hash": payout.tx_hash,
        "amount_i64": job.released_i64 if job else None,
    }
    return step(order, replace(order, payout=payout), Step.PAYOUT_REQUESTED, refs)


def payout_queued(
    order: Order,
    *,
    tx_hash: str,
    phase: str,
    pending_id: int | None,
    confirms_at: int | None,
    at: int,
    next_at: int,
) -> Move:
    """The node holds the transfer (pending, or already final): from `settling` that is
    the move to `payout_pending`; a re-sent attempt records it as a step."""
    payout = required(order.payout, "payout", order)
    after = replace(
        order,
        payout=replace(payout, pending_id=pending_id, queued_at=at, confirms_at=confirms_at),
        next_action_at=next_at,
    )
    refs = {"key": payout.key, "tx_hash": tx_hash, "phase": phase, "pending_id": pending_id}
    if order.status is Status.SETTLING:
        return transition(
            order, replace(after, status=Status.PAYOUT_PENDING), Cause.PAYOUT_QUEUED, refs
        )
    return step(order, after, Step.PAYOUT_QUEUED, refs)


def redrive(
    order: Order, payout: Payout, cause: Cause, *, next_at: int, refs: Mapping[str, Any]
) -> Move:
    """Pay B again under `payout` (a `next_payout`): after a void, or by an operator."""
    after = replace(order, status=Status.PAYOUT_PENDING, payout=payout, next_action_at=next_at)
    return transition(order, after, cause, refs)


def complete(
    order: Order, preimage: str | None, cause: Cause, *, at: int, refs: Mapping[str, Any]
) -> Move:
    """B is paid: the order ends, its trade is recorded (by the store, with the move) and
    the preimage becomes public."""
    hashlock = order.hashlock
    if hashlock is not None:
        hashlock = replace(hashlock, preimage=preimage)
    after = replace(
        order,
        status=Status.COMPLETED,
        hashlock=hashlock,
        completed_at=at,
        closed_at=at,
        next_action_at=None,
    )
    return transition(order, after, cause, refs)


def fail(
    order: Order,
    cause: Cause,
    reason: str,
    *,
    next_at: int,
    refs: Mapping[str, Any] | None = None,
) -> Move:
    """Hand the order to an operator: automation cannot make it whole."""
    after = replace(
        order, status=Status.SETTLEMENT_RECOVERY, recovery_reason=reason, next_action_at=next_at
    )
    return transition(order, after, cause, {"reason": reason, **(refs or {})})
