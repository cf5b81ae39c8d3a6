"""Settlement steps: the match's timeout, the verified quote lock's watch (a claim on
chain reveals the preimage; an expired, unclaimed lock refunds S), then forward only
once the preimage is known:

    matched ──lock──▶ quote_locked ──reveal──▶ settling: claim → deliver → accept
    (escrow released to the worker wallet) → payout intent ──▶ payout_pending: queued →
    confirmed ──▶ completed

Each escrow call is resolved against the job's state on the node, so repeating any of
them after a crash is safe. The payout's idempotency key and deterministic tx hash are
durable before the transfer is sent; its status is read from `/wallet/tx/<hash>`, one
request per order. A voided payout is re-driven under a new attempt key; when the worker
wallet cannot cover it, the order goes to `settlement_recovery` with an alert.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from otc_bridge.adapters.evm.results import Unreachable
from otc_bridge.adapters.node import JobStatus, NodeResult, Ok, Rejected, StepDone, TxPhase, TxState
from otc_bridge.domain import hashing, settling, transitions
from otc_bridge.domain.htlc_terms import RETRYABLE_CODES, LockState
from otc_bridge.domain.move import Step
from otc_bridge.domain.order import Order, Payout, required
from otc_bridge.domain.rustchain import WORKER_WALLET
from otc_bridge.domain.settling import Evidence
from otc_bridge.domain.states import Cause
from otc_bridge.settlement.quote_chains import LockRef
from otc_bridge.settlement.quote_lock import LockRefused, take_lock
from otc_bridge.settlement.toolkit import Ctx, Toolkit

RELEASED = JobStatus.COMPLETED.value
_PROGRESS = {
    "escrow.claim": Step.ESCROW_CLAIMED,
    "escrow.deliver": Step.ESCROW_DELIVERED,
    "escrow.accept": Step.ESCROW_ACCEPTED,
}

# ------------------------------------------------------------------ matched


def match_timeout(kit: Toolkit, order: Order, ctx: Ctx) -> Order:
    """No reveal (or verified quote lock) by the match deadline: undo the match, but only
    once the chain shows no lock that backs it. B may have locked in time without anyone
    reporting it (no watcher, a watcher behind, a lock not final yet): undoing the match
    then would refund S while S, who knows the preimage, could still claim B's lock."""
    deadline = order.match.deadline if order.match else None
    if deadline is None or ctx.now <= deadline:
        return kit.reschedule(order, (deadline or ctx.now) + 1, ctx)
    chain = kit.chains.for_pair(order.pair)
    if chain is not None and order.htlc_hash is not None:
        ref = LockRef(lock_id=chain.lock_id_of("0x" + order.htlc_hash))
        try:
            taken = take_lock(kit, order, chain, ref, ctx)
        except LockRefused as refusal:
            if refusal.verdict.code in RETRYABLE_CODES:  # not final yet, or no answer
                return kit.reschedule(order, ctx.now + kit.policy.retry_seconds, ctx)
            # No lock, or one that does not back the order (too late, too little, ...):
            # B's to refund after its timelock, as the API told B when it was refused.
        else:
            return taken if taken is not None else kit.reread(order)
    return kit.apply(transitions.match_timeout(order, at=ctx.now), ctx)


# ------------------------------------------------------------------ quote_locked


def watch_quote_lock(kit: Toolkit, order: Order, ctx: Ctx) -> Order:
    """I5/I6 without anyone calling (design §4), from the chain's FINAL view of B's lock:
    claimed → the claim's preimage settles the order (cause QUOTE_CLAIMED); refunded, or
    still locked at a final block past T_q → S's escrow is refunded (LOCK_EXPIRED); else
    look again at the claim deadline, then at refundable_at (sooner when unreachable)."""
    lock = required(order.quote_lock, "quote lock", order)
    chain = kit.chains.for_pair(order.pair)
    retry = ctx.now + kit.policy.retry_seconds
    if chain is None:  # the pair's chain was unconfigured since: never refund blind
        kit.alert("critical", "Quote-locked order on a pair with no quote chain", order)
        return kit.reschedule(order, ctx.now + kit.policy.recovery_poll_seconds, ctx)
    view = kit.call(
        "quote.final_lock_state", lambda: chain.final_lock_state(lock.lock_id, lock.block_number)
    )
    if isinstance(view, Unreachable):
        return kit.reschedule(order, retry, ctx)
    if view.state is LockState.CLAIMED and view.preimage is not None:
        return _claimed(kit, order, ctx, view.preimage, view.claim_tx or "")
    expired = view.state is LockState.REFUNDED or (
        view.state is LockState.LOCKED and view.block_timestamp >= lock.timelock
    )
    if expired:
        move = transitions.lock_expired(
            order, view.state.name.lower(), view.block_timestamp, at=ctx.now
        )
        return kit.apply(move, ctx)
    claim_deadline = order.claim_deadline or lock.timelock
    if ctx.now < claim_deadline:
        return kit.reschedule(order, claim_deadline, ctx)
    refundable_at = order.refundable_at or lock.timelock
    return kit.reschedule(order, max(refundable_at, retry), ctx)


def _claimed(kit: Toolkit, order: Order, ctx: Ctx, preimage: str, claim_tx: str) -> Order:
    """S claimed on the quote chain: the preimage is public there, so B's payout goes
    ahead through the same reveal move a confirm makes."""
    secret = preimage.removeprefix("0x").lower()
    hashlock = required(order.hashlock, "hashlock", order)
    if not hashing.preimage_matches(secret, hashlock.hash):  # the contract checked it
        kit.alert("critical", "Claimed preimage does not match the hashlock", order)
        return kit.reschedule(order, ctx.now + kit.policy.recovery_poll_seconds, ctx)
    sealed = hashlock.sealed or kit.box.seal(secret)
    facts = {
        "lock_id": required(order.quote_lock, "quote lock", order).lock_id,
        "claim_tx": claim_tx,
    }
    evidence = Evidence(claim_tx, facts, order.claim_deadline)
    move = settling.reveal(
        order,
        sealed,
        evidence,
        at=ctx.now,
        grace=kit.policy.grace_seconds,
        cause=Cause.QUOTE_CLAIMED,
    )
    return kit.apply(move, ctx)


# ------------------------------------------------------------------ settling


def release(kit: Toolkit, order: Order, ctx: Ctx) -> Order:
    if order.payout is not None:
        return _send_payout(kit, order, ctx, order.payout)
    job, escrow = order.escrow_job, order.escrow
    if job is None or escrow is None:
        return _fail(kit, order, ctx, Cause.SETTLEMENT_FAILED, "the order has no escrow job")
    if job.state == RELEASED:
        return kit.apply(settling.payout_requested(order), ctx)
    job_id, poster = job.job_id, escrow.poster
    call: Callable[[], NodeResult[StepDone]]
    if job.state == JobStatus.OPEN.value:
        name, call = "escrow.claim", lambda: kit.node.claim(job_id, WORKER_WALLET)
    elif job.state == JobStatus.CLAIMED.value:
        summary = f"OTC settlement of {order.order_id}; quote tx {_quote_tx(order)}"
        name, call = "escrow.deliver", lambda: kit.node.deliver(job_id, WORKER_WALLET, summary)
    else:
        name, call = "escrow.accept", lambda: kit.node.accept(job_id, poster, WORKER_WALLET)
    result = kit.call(name, call)
    if isinstance(result, Ok):
        done = result.value
        released = None
        if done.status is JobStatus.COMPLETED:
            # Pay out what the escrow actually released (the node's own arithmetic).
            released = done.paid_i64 or job.reward_i64
        refs: dict[str, Any] = {
            "job_id": job_id,
            "job_status": done.status.value,
            "read": done.resolved_by_read,
        }
        move = settling.escrow_progressed(
            order, _PROGRESS[name], done.status.value, refs, released_i64=released
        )
        return kit.apply(move, ctx)
    seen = result.job
    conflict = isinstance(result, Rejected) and result.code in {"job_conflict", "job_expired"}
    if conflict and seen is not None:
        refs = {
            "job_id": seen.job_id,
            "job_status": seen.status.value,
            "worker": seen.worker_wallet,
        }
        kit.alert(
            "critical", "Escrow taken out of the bridge's hands during settlement", order, **refs
        )
        reason = f"escrow job is {seen.status.value} (worker {seen.worker_wallet})"
        return _fail(kit, order, ctx, Cause.ESCROW_LOST, reason, refs)
    return kit.reschedule(order, ctx.now + kit.policy.retry_seconds, ctx)


def _quote_tx(order: Order) -> str | None:
    return order.reveal.quote_tx if order.reveal else None


def _send_payout(kit: Toolkit, order: Order, ctx: Ctx, payout: Payout) -> Order:
    job = order.escrow_job
    to, amount = order.rtc_buyer, job.released_i64 if job else None
    if to is None or amount is None:
        return _fail(kit, order, ctx, Cause.SETTLEMENT_FAILED, "payout has no recipient or amount")
    result = kit.call(
        "payout.transfer",
        lambda: kit.node.transfer(to=to, amount_i64=amount, idempotency_key=payout.key),
    )
    if isinstance(result, Ok):
        receipt = result.value
        poll = ctx.now + kit.policy.payout_poll_seconds
        pending = receipt.phase is TxPhase.PENDING
        move = settling.payout_queued(
            order,
            tx_hash=receipt.tx_hash,
            phase=receipt.phase.value,
            pending_id=receipt.pending_id,
            confirms_at=receipt.confirms_at,
            at=ctx.now,
            next_at=max(poll, receipt.confirms_at or poll) if pending else ctx.now,
        )
        return kit.apply(move, ctx)
    if isinstance(result, Rejected):
        return _payout_refused(kit, order, ctx, payout, result)
    return kit.reschedule(order, ctx.now + kit.policy.retry_seconds, ctx)


def _payout_refused(
    kit: Toolkit, order: Order, ctx: Ctx, payout: Payout, refusal: Rejected
) -> Order:
    code = refusal.code or ""
    if code == "insufficient_available_balance" and payout.attempt > 0:
        kit.alert(
            "critical",
            "Voided payout cannot be re-driven: the worker wallet is short",
            order,
            key=payout.key,
            error=refusal.error,
        )
        reason = "payout voided and otc_bridge_worker cannot cover a re-drive"
        return _fail(kit, order, ctx, Cause.PAYOUT_VOIDED, reason)
    if code == "idempotency_key_conflict":
        kit.alert(
            "critical", "Payout key conflicts with a different transfer", order, key=payout.key
        )
        return _fail(kit, order, ctx, Cause.SETTLEMENT_FAILED, "payout idempotency key conflict")
    if not refusal.retryable:
        kit.alert(
            "critical",
            "Payout refused by the node",
            order,
            key=payout.key,
            error=refusal.error,
            code=code,
        )
    wait = refusal.retry_after if refusal.retry_after is not None else kit.policy.retry_seconds
    return kit.reschedule(order, ctx.now + max(1, int(wait)), ctx)


def _fail(
    kit: Toolkit,
    order: Order,
    ctx: Ctx,
    cause: Cause,
    reason: str,
    refs: dict[str, Any] | None = None,
) -> Order:
    """Hand the order to an operator: automation cannot make it whole."""
    next_at = ctx.now + kit.policy.recovery_poll_seconds
    return kit.apply(settling.fail(order, cause, reason, next_at=next_at, refs=refs), ctx)


# ------------------------------------------------------------------ payout_pending


def check_payout(kit: Toolkit, order: Order, ctx: Ctx) -> Order:
    payout = order.payout
    if payout is None:
        return _fail(kit, order, ctx, Cause.SETTLEMENT_FAILED, "payout has no key")
    if payout.queued_at is None:  # re-driven: the new key is durable, send it
        return _send_payout(kit, order, ctx, payout)
    if ctx.chained and (payout.confirms_at or 0) > ctx.now:
        return order  # just queued in this drive, confirmable later: nothing to read yet
    status = kit.call("payout.status", lambda: kit.node.payout_status(payout.key))
    if not isinstance(status, Ok):
        return kit.reschedule(order, ctx.now + kit.policy.retry_seconds, ctx)
    state = status.value.state
    if state is TxState.CONFIRMED:
        return complete(kit, order, ctx)
    if state is TxState.PENDING:
        # Not before the node's own confirmation time (24 h on mainnet), then every poll.
        poll = ctx.now + kit.policy.payout_poll_seconds
        return kit.reschedule(order, max(poll, payout.confirms_at or 0), ctx)
    if state is TxState.NOT_FOUND:
        return _send_payout(kit, order, ctx, payout)  # never reached the queue: same key again
    # Voided (by an admin, or by the node at confirm time): re-drive under a new key.
    new = settling.next_payout(order)
    kit.alert(
        "warning",
        "Payout voided; re-driving under a new key",
        order,
        event=payout.key,  # a re-driven payout voided again alerts again
        voided_key=payout.key,
        new_key=new.key,
    )
    refs = {"voided_key": payout.key, "key": new.key, "tx_hash": new.tx_hash}
    move = settling.redrive(order, new, Cause.PAYOUT_REDRIVEN, next_at=ctx.now, refs=refs)
    return kit.apply(move, ctx)


def complete(kit: Toolkit, order: Order, ctx: Ctx) -> Order:
    """Confirmed on the node: record the trade once and make the preimage public."""
    payout = order.payout
    refs = {"key": payout.key if payout else None, "tx_hash": payout.tx_hash if payout else None}
    move = settling.complete(
        order, kit.preimage(order), Cause.PAYOUT_CONFIRMED, at=ctx.now, refs=refs
    )
    return kit.apply(move, ctx)


# ------------------------------------------------------------------ settlement_recovery


def watch_recovery(kit: Toolkit, order: Order, ctx: Ctx) -> Order:
    """An order waiting for an operator still completes by itself if its payout lands."""
    payout = order.payout
    if payout is None or payout.queued_at is None:
        return kit.reschedule(order, ctx.now + kit.policy.recovery_poll_seconds, ctx)
    status = kit.call("payout.status", lambda: kit.node.payout_status(payout.key))
    if isinstance(status, Ok) and status.value.state is TxState.CONFIRMED:
        return complete(kit, order, ctx)
    return kit.reschedule(order, ctx.now + kit.policy.recovery_poll_seconds, ctx)
