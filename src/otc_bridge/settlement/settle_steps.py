"""Settlement steps, forward only once the preimage is known:

    matched ──confirm──▶ settling: claim → deliver → accept (escrow released to the
    worker wallet) → payout intent ──▶ payout_pending: queued → confirmed ──▶ completed

Each escrow call is resolved against the job's state on the node, so repeating any of
them after a crash is safe. The payout's idempotency key and deterministic tx hash are
durable before the transfer is sent; its status is read from `/wallet/tx/<hash>`, one
request per order. A voided payout is re-driven under a new attempt key; when the worker
wallet cannot cover it, the order goes to `settlement_recovery` with an alert.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from otc_bridge.adapters.node import JobStatus, Ok, Rejected, TxPhase, TxState
from otc_bridge.domain.order import Order
from otc_bridge.domain.rustchain import WORKER_WALLET, idempotent_tx_hash
from otc_bridge.domain.states import Cause, Status

if TYPE_CHECKING:
    from otc_bridge.settlement.driver import Ctx, SettlementDriver

RELEASED = JobStatus.COMPLETED.value


def payout_key(order_id: str, attempt: int) -> str:
    """The seed's key; a re-drive after a void needs a new one (the node keeps a voided
    key dead for good)."""
    return f"otc_payout:{order_id}" if attempt == 0 else f"otc_payout:{order_id}:{attempt}"


def redrive_changes(order: Order) -> dict[str, Any]:
    """A new payout attempt under a new key, not yet sent (the driver sends it next)."""
    attempt = order.payout_attempt + 1
    key = payout_key(order.order_id, attempt)
    return {
        "payout_attempt": attempt,
        "payout_key": key,
        "payout_tx_hash": idempotent_tx_hash(key),
        "payout_pending_id": None,
        "payout_queued_at": None,
        "payout_confirms_at": None,
    }


# ------------------------------------------------------------------ matched


def match_timeout(d: SettlementDriver, order: Order, ctx: Ctx) -> Order:
    """No confirm (or verified quote lock) by the match deadline: undo the match."""
    deadline = order.match_deadline
    if deadline is None or ctx.now <= deadline:
        return d.reschedule(order, (deadline or ctx.now) + 1, ctx)
    refs = {"taker": order.taker_wallet, "reason": "quote leg not settled before the deadline"}
    if order.is_sell and ctx.now <= order.expires_at:
        return d.move(
            order,
            Status.OPEN,
            Cause.MATCH_TIMEOUT,
            ctx,
            refs=refs,
            taker_wallet=None,
            taker_eth_address=None,
            matched_at=None,
            match_deadline=None,
            next_action_at=order.expires_at + 1,
        )
    return d.move(
        order,
        Status.REFUND_PENDING,
        Cause.MATCH_TIMEOUT,
        ctx,
        refs=refs,
        refund_target="expired" if order.is_sell else "open",
        refund_started_at=ctx.now,
        next_action_at=ctx.now,
    )


# ------------------------------------------------------------------ settling


def release(d: SettlementDriver, order: Order, ctx: Ctx) -> Order:
    if order.payout_key is not None:
        return _send_payout(d, order, ctx)
    stage = order.escrow_state
    if stage == RELEASED:
        return _payout_intent(d, order, ctx)
    job_id, poster = order.escrow_job_id, order.escrow_poster
    if job_id is None or poster is None:
        return _fail(d, order, ctx, Cause.SETTLEMENT_FAILED, "the order has no escrow job")
    if stage in {None, JobStatus.OPEN.value}:
        name, call = "escrow.claim", lambda: d.node.claim(job_id, WORKER_WALLET)
    elif stage == JobStatus.CLAIMED.value:
        summary = f"OTC settlement of {order.order_id}; quote tx {order.quote_tx}"
        name, call = "escrow.deliver", lambda: d.node.deliver(job_id, WORKER_WALLET, summary)
    else:
        name, call = "escrow.accept", lambda: d.node.accept(job_id, poster, WORKER_WALLET)
    result = d.call(name, call)
    if isinstance(result, Ok):
        done = result.value
        changes: dict[str, Any] = {"escrow_state": done.status.value}
        if done.status is JobStatus.COMPLETED:
            # Pay out what the escrow actually released (the node's own arithmetic).
            changes["payout_amount_i64"] = done.paid_i64 or order.escrow_reward_i64
        refs = {"job_id": job_id, "job_status": done.status.value, "read": done.resolved_by_read}
        return d.note(order, name.replace("escrow.", "escrow_") + "ed", ctx, refs=refs, **changes)
    job = result.job
    conflict = isinstance(result, Rejected) and result.code in {"job_conflict", "job_expired"}
    if conflict and job is not None:
        refs = {"job_id": job.job_id, "job_status": job.status.value, "worker": job.worker_wallet}
        d.alert(
            "critical", "Escrow taken out of the bridge's hands during settlement", order, **refs
        )
        return _fail(
            d,
            order,
            ctx,
            Cause.ESCROW_LOST,
            f"escrow job is {job.status.value} (worker {job.worker_wallet})",
            refs,
        )
    return d.reschedule(order, ctx.now + d.policy.retry_seconds, ctx)


def _payout_intent(d: SettlementDriver, order: Order, ctx: Ctx) -> Order:
    """Durable before the transfer: the key, the hash the node will derive, the amount."""
    key = payout_key(order.order_id, order.payout_attempt)
    tx_hash = idempotent_tx_hash(key)
    return d.note(
        order,
        "payout_requested",
        ctx,
        refs={"key": key, "tx_hash": tx_hash, "amount_i64": order.payout_amount_i64},
        payout_key=key,
        payout_tx_hash=tx_hash,
    )


def _send_payout(d: SettlementDriver, order: Order, ctx: Ctx) -> Order:
    key, to, amount = order.payout_key, order.rtc_buyer, order.payout_amount_i64
    assert key is not None
    if to is None or amount is None:
        return _fail(d, order, ctx, Cause.SETTLEMENT_FAILED, "payout has no recipient or amount")
    result = d.call(
        "payout.transfer",
        lambda: d.node.transfer(to=to, amount_i64=amount, idempotency_key=key),
    )
    if isinstance(result, Ok):
        receipt = result.value
        refs = {
            "key": key,
            "tx_hash": receipt.tx_hash,
            "phase": receipt.phase.value,
            "pending_id": receipt.pending_id,
        }
        poll = ctx.now + d.policy.payout_poll_seconds
        confirms_at = receipt.confirms_at or poll
        changes: dict[str, Any] = {
            "payout_pending_id": receipt.pending_id,
            "payout_queued_at": ctx.now,
            "payout_confirms_at": receipt.confirms_at,
            "next_action_at": ctx.now
            if receipt.phase is not TxPhase.PENDING
            else max(poll, confirms_at),
        }
        if order.status is Status.SETTLING:
            return d.move(
                order, Status.PAYOUT_PENDING, Cause.PAYOUT_QUEUED, ctx, refs=refs, **changes
            )
        return d.note(order, "payout_queued", ctx, refs=refs, **changes)
    if isinstance(result, Rejected):
        return _payout_refused(d, order, ctx, result)
    return d.reschedule(order, ctx.now + d.policy.retry_seconds, ctx)


def _payout_refused(d: SettlementDriver, order: Order, ctx: Ctx, refusal: Rejected) -> Order:
    code = refusal.code or ""
    if code == "insufficient_available_balance" and order.payout_attempt > 0:
        d.alert(
            "critical",
            "Voided payout cannot be re-driven: the worker wallet is short",
            order,
            key=order.payout_key,
            error=refusal.error,
        )
        return _fail(
            d,
            order,
            ctx,
            Cause.PAYOUT_VOIDED,
            "payout voided and otc_bridge_worker cannot cover a re-drive",
        )
    if code == "idempotency_key_conflict":
        d.alert(
            "critical",
            "Payout key conflicts with a different transfer",
            order,
            key=order.payout_key,
        )
        return _fail(d, order, ctx, Cause.SETTLEMENT_FAILED, "payout idempotency key conflict")
    if not refusal.retryable:
        d.alert(
            "critical",
            "Payout refused by the node",
            order,
            key=order.payout_key,
            error=refusal.error,
            code=code,
        )
    wait = refusal.retry_after if refusal.retry_after is not None else d.policy.retry_seconds
    return d.reschedule(order, ctx.now + max(1, int(wait)), ctx)


def _fail(
    d: SettlementDriver,
    order: Order,
    ctx: Ctx,
    cause: Cause,
    reason: str,
    refs: dict[str, Any] | None = None,
) -> Order:
    """Hand the order to an operator: automation cannot make it whole."""
    return d.move(
        order,
        Status.SETTLEMENT_RECOVERY,
        cause,
        ctx,
        refs={"reason": reason, **(refs or {})},
        recovery_reason=reason,
        next_action_at=ctx.now + d.policy.recovery_poll_seconds,
    )


# ------------------------------------------------------------------ payout_pending


def check_payout(d: SettlementDriver, order: Order, ctx: Ctx) -> Order:
    if order.payout_queued_at is None:  # re-driven: the new key is durable, send it
        return _send_payout(d, order, ctx)
    if ctx.chained and (order.payout_confirms_at or 0) > ctx.now:
        return order  # just queued in this drive, confirmable later: nothing to read yet
    key = order.payout_key
    assert key is not None
    status = d.call("payout.status", lambda: d.node.payout_status(key))
    if not isinstance(status, Ok):
        return d.reschedule(order, ctx.now + d.policy.retry_seconds, ctx)
    state = status.value.state
    if state is TxState.CONFIRMED:
        return _complete(d, order, ctx)
    if state is TxState.PENDING:
        # Not before the node's own confirmation time (24 h on mainnet), then every poll.
        poll = ctx.now + d.policy.payout_poll_seconds
        return d.reschedule(order, max(poll, order.payout_confirms_at or 0), ctx)
    if state is TxState.NOT_FOUND:
        return _send_payout(d, order, ctx)  # never reached the queue: same key again
    # Voided (by an admin, or by the node at confirm time): re-drive under a new key.
    changes = redrive_changes(order)
    new_key = changes["payout_key"]
    d.alert(
        "warning",
        "Payout voided; re-driving under a new key",
        order,
        voided_key=key,
        new_key=new_key,
    )
    return d.move(
        order,
        Status.PAYOUT_PENDING,
        Cause.PAYOUT_REDRIVEN,
        ctx,
        refs={"voided_key": key, "key": new_key, "tx_hash": changes["payout_tx_hash"]},
        next_action_at=ctx.now,
        **changes,
    )


def _complete(d: SettlementDriver, order: Order, ctx: Ctx) -> Order:
    """Confirmed on the node: record the trade once and make the preimage public."""
    preimage = d.box.open(order.htlc_secret_enc) if order.htlc_secret_enc else None
    return d.move(
        order,
        Status.COMPLETED,
        Cause.PAYOUT_CONFIRMED,
        ctx,
        refs={"key": order.payout_key, "tx_hash": order.payout_tx_hash},
        trade=True,
        htlc_preimage=preimage,
        completed_at=ctx.now,
        closed_at=ctx.now,
        next_action_at=None,
    )


# ------------------------------------------------------------------ settlement_recovery


def watch_recovery(d: SettlementDriver, order: Order, ctx: Ctx) -> Order:
    """An order waiting for an operator still completes by itself if its payout lands."""
    key = order.payout_key
    if key is None or order.payout_queued_at is None:
        return d.reschedule(order, ctx.now + d.policy.recovery_poll_seconds, ctx)
    status = d.call("payout.status", lambda: d.node.payout_status(key))
    if isinstance(status, Ok) and status.value.state is TxState.CONFIRMED:
        return _complete(d, order, ctx)
    return d.reschedule(order, ctx.now + d.policy.recovery_poll_seconds, ctx)
