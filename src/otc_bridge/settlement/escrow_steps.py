"""Escrow steps: lock the RTC seller's escrow, resolve a lock of unknown outcome, expire
open orders, and refund escrow until the node confirms it is back with the poster."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from otc_bridge.adapters.node import Job, JobStatus, Ok, Rejected
from otc_bridge.domain.money import micro_to_rtc_str
from otc_bridge.domain.order import Order
from otc_bridge.domain.rustchain import WORKER_WALLET, job_escrow_i64
from otc_bridge.domain.states import Cause, Status

if TYPE_CHECKING:
    from otc_bridge.settlement.driver import Ctx, EscrowOutcome, SettlementDriver

ESCROW_HOLDING = ("open", "claimed", "delivered", "disputed")

# Fields a buy order sheds when a match is undone and it goes back on the book.
UNMATCH: dict[str, Any] = {
    "taker_wallet": None,
    "taker_eth_address": None,
    "escrow_poster": None,
    "escrow_title": None,
    "escrow_job_id": None,
    "escrow_reward_i64": None,
    "escrow_total_i64": None,
    "escrow_expires_at": None,
    "escrow_requested_at": None,
    "escrow_state": None,
    "htlc_hash": None,
    "secret_origin": None,
    "htlc_secret_enc": None,
    "matched_at": None,
    "match_deadline": None,
    "refund_target": None,
    "refund_started_at": None,
}


def lock_escrow(d: SettlementDriver, order: Order, ctx: Ctx) -> EscrowOutcome:
    from otc_bridge.settlement.driver import EscrowOutcome

    assert order.status in {Status.OPENING, Status.MATCHING}
    assert order.escrow_poster is not None
    assert order.escrow_title is not None
    deadlines = d.policy.deadlines
    ttl = (
        deadlines.sell_escrow_ttl(order.ttl_seconds)
        if order.status is Status.OPENING
        else deadlines.buy_escrow_ttl()
    )
    poster, title = order.escrow_poster, order.escrow_title
    result = d.call(
        "escrow.create",
        lambda: d.node.create_job(
            poster=poster,
            reward_i64=order.amount_micro_rtc,
            ttl_seconds=ttl,
            title=title,
            description=(
                f"RTC escrow for OTC order {order.order_id}: "
                f"{micro_to_rtc_str(order.amount_micro_rtc)} RTC on {order.pair}"
            ),
        ),
    )
    if isinstance(result, Ok):
        created = result.value
        return EscrowOutcome(_locked(d, order, ctx, created.job_id, created.expires_at))
    if isinstance(result, Rejected):
        return EscrowOutcome(_rejected(d, order, ctx, result), result.error, result.code)
    # Unknown: the job may exist. Only its title can find it (job ids are random).
    found = _find_escrow(d, order)
    if found is not None and len(found) == 1:
        return EscrowOutcome(_locked(d, order, ctx, found[0].job_id, found[0].expires_at))
    return EscrowOutcome(d.reread(order))


def _locked(
    d: SettlementDriver, order: Order, ctx: Ctx, job_id: str, job_expires_at: int | None
) -> Order:
    escrow: dict[str, Any] = {
        "escrow_job_id": job_id,
        "escrow_expires_at": job_expires_at,
        "escrow_reward_i64": order.amount_micro_rtc,
        "escrow_total_i64": job_escrow_i64(order.amount_micro_rtc),
        "escrow_state": JobStatus.OPEN.value,
    }
    refs = {"job_id": job_id}
    if order.status is Status.OPENING:
        return d.move(
            order,
            Status.OPEN,
            Cause.ESCROW_LOCKED,
            ctx,
            refs=refs,
            next_action_at=order.expires_at + 1,
            **escrow,
        )
    deadline = ctx.now + d.policy.deadlines.lock_window
    return d.move(
        order,
        Status.MATCHED,
        Cause.ESCROW_LOCKED,
        ctx,
        refs=refs,
        matched_at=ctx.now,
        match_deadline=deadline,
        next_action_at=deadline,
        **escrow,
    )


def _relist(
    d: SettlementDriver, order: Order, cause: Cause, ctx: Ctx, refs: dict[str, Any]
) -> Order:
    """Back on the book without a taker or an escrow, due again at its expiry."""
    return d.move(
        order, Status.OPEN, cause, ctx, refs=refs, next_action_at=order.expires_at + 1, **UNMATCH
    )


def _close(
    d: SettlementDriver,
    order: Order,
    target: Status,
    cause: Cause,
    ctx: Ctx,
    refs: dict[str, Any] | None = None,
    **changes: Any,
) -> Order:
    """A terminal state: closed now, nothing left to do."""
    return d.move(
        order, target, cause, ctx, refs=refs, closed_at=ctx.now, next_action_at=None, **changes
    )


def _rejected(d: SettlementDriver, order: Order, ctx: Ctx, rejection: Rejected) -> Order:
    refs = {"error": rejection.error, "code": rejection.code, "status": rejection.status}
    if order.status is Status.OPENING:
        return _close(d, order, Status.CANCELLED, Cause.ESCROW_REJECTED, ctx, refs)
    return _relist(d, order, Cause.ESCROW_REJECTED, ctx, refs)


def _find_escrow(d: SettlementDriver, order: Order) -> list[Job] | None:
    assert order.escrow_poster is not None
    assert order.escrow_title is not None
    poster, title = order.escrow_poster, order.escrow_title
    found = d.call(
        "escrow.find",
        lambda: d.node.find_jobs(
            poster=poster,
            title=title,
            statuses=ESCROW_HOLDING,
            min_reward_i64=order.amount_micro_rtc,
        ),
    )
    return found.value if isinstance(found, Ok) else None


def resolve_escrow(d: SettlementDriver, order: Order, ctx: Ctx) -> Order:
    """An escrow lock whose request never reported back: undo whatever it did."""
    requested = order.escrow_requested_at or order.created_at
    if ctx.now < requested + d.policy.grace_seconds:
        return d.reschedule(order, requested + d.policy.grace_seconds, ctx)
    found = _find_escrow(d, order)
    if found is None:
        return d.reschedule(order, ctx.now + d.policy.retry_seconds, ctx)
    refs: dict[str, Any] = {"jobs": [job.job_id for job in found]}
    if len(found) > 1:
        d.alert("critical", "More than one escrow job found for one order", order, **refs)
    relist = order.status is Status.MATCHING
    if not found and relist:
        return _relist(d, order, Cause.ESCROW_UNRESOLVED, ctx, refs)
    if not found:
        return _close(d, order, Status.CANCELLED, Cause.ESCROW_UNRESOLVED, ctx, refs)
    return d.move(
        order,
        Status.REFUND_PENDING,
        Cause.ESCROW_UNRESOLVED,
        ctx,
        refs=refs,
        escrow_job_id=found[0].job_id,
        escrow_expires_at=found[0].expires_at,
        escrow_state=found[0].status.value,
        refund_target="open" if relist else "cancelled",
        refund_started_at=ctx.now,
        next_action_at=ctx.now,
    )


def expire_if_due(d: SettlementDriver, order: Order, ctx: Ctx) -> Order:
    if ctx.now <= order.expires_at:
        return d.reschedule(order, order.expires_at + 1, ctx)
    if order.holds_escrow:
        return d.move(
            order,
            Status.REFUND_PENDING,
            Cause.EXPIRE,
            ctx,
            refund_target="expired",
            refund_started_at=ctx.now,
            next_action_at=ctx.now + d.policy.retry_seconds,
        )
    return _close(d, order, Status.EXPIRED, Cause.EXPIRE, ctx)


def refund(d: SettlementDriver, order: Order, ctx: Ctx) -> Order:
    """Give the RTC seller's escrow back; the order ends only once the node confirms."""
    job_id, poster = order.escrow_job_id, order.escrow_poster
    if job_id is None or poster is None:
        return _refund_done(d, order, ctx, JobStatus.CANCELLED)
    result = d.call("escrow.cancel", lambda: d.node.cancel(job_id, poster))
    if isinstance(result, Ok):
        return _refund_done(d, order, ctx, result.value.status)
    job = result.job
    if isinstance(result, Rejected) and result.code == "job_conflict" and job is not None:
        return _refund_conflict(d, order, ctx, job)
    if isinstance(result, Rejected) and not result.retryable:
        d.alert(
            "critical",
            "Escrow refund refused by the node",
            order,
            job_id=job_id,
            error=result.error,
        )
    return d.reschedule(order, ctx.now + d.policy.retry_seconds, ctx)


def _refund_conflict(d: SettlementDriver, order: Order, ctx: Ctx, job: Job) -> Order:
    """The job is not where a cancel can act: someone else moved it (the node has no auth
    on jobs). Take the only way back to the poster that the node leaves open."""
    refs = {"job_id": job.job_id, "job_status": job.status.value, "worker": job.worker_wallet}
    if job.status is JobStatus.DELIVERED:
        poster = order.escrow_poster
        assert poster is not None
        disputed = d.call(
            "escrow.dispute",
            lambda: d.node.dispute(job.job_id, poster, f"OTC bridge refund {order.order_id}"),
        )
        if isinstance(disputed, Ok):
            return d.note(order, "escrow_disputed", ctx, refs=refs, escrow_state="disputed")
        return d.reschedule(order, ctx.now + d.policy.retry_seconds, ctx)
    if job.status is JobStatus.CLAIMED and job.expires_at is not None:
        # A claimed job can be cancelled only once overdue (the node then expires it and
        # refunds the poster): come back just after its expiry.
        if order.next_action_at != job.expires_at + 1:
            d.alert(
                "warning",
                "Escrow claimed by a third party; the refund waits for the job to expire",
                order,
                **refs,
            )
        return d.reschedule(order, job.expires_at + 1, ctx)
    if job.status is JobStatus.COMPLETED:
        title = (
            "Escrow already released to the bridge's worker wallet; it cannot be refunded"
            if job.worker_wallet == WORKER_WALLET
            else "Escrow released to a third party before the refund"
        )
        d.alert("critical", title, order, **refs)
        return d.move(
            order,
            Status.SETTLEMENT_RECOVERY,
            Cause.ESCROW_LOST,
            ctx,
            refs=refs,
            escrow_state=job.status.value,
            recovery_reason="escrow released to a third party",
            next_action_at=None,
        )
    return d.reschedule(order, ctx.now + d.policy.retry_seconds, ctx)


def _refund_done(d: SettlementDriver, order: Order, ctx: Ctx, job_status: JobStatus) -> Order:
    target = Status(order.refund_target or "cancelled")
    if target is Status.OPEN and ctx.now > order.expires_at:
        target = Status.EXPIRED
    refs = {"job_id": order.escrow_job_id, "job_status": job_status.value}
    if target is Status.OPEN:
        return _relist(d, order, Cause.REFUND_CONFIRMED, ctx, refs)
    return _close(
        d, order, target, Cause.REFUND_CONFIRMED, ctx, refs, escrow_state=job_status.value
    )
