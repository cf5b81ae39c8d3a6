"""Escrow steps: lock the RTC seller's escrow, resolve a lock of unknown outcome, expire
open orders, and refund escrow until the node confirms it is back with the poster."""

from __future__ import annotations

from dataclasses import dataclass

from otc_bridge.adapters.node import Job, JobStatus, Ok, Rejected
from otc_bridge.domain import settling, transitions
from otc_bridge.domain.money import micro_to_rtc_str
from otc_bridge.domain.order import Escrow, Order, required
from otc_bridge.domain.rustchain import WORKER_WALLET
from otc_bridge.domain.states import Status
from otc_bridge.domain.transitions import FoundJob
from otc_bridge.settlement.toolkit import Ctx, Toolkit

ESCROW_HOLDING = ("open", "claimed", "delivered", "disputed")


@dataclass(frozen=True, slots=True)
class EscrowOutcome:
    order: Order
    error: str | None = None  # the node's refusal, when it refused
    code: str | None = None


def lock_escrow(kit: Toolkit, order: Order, ctx: Ctx) -> EscrowOutcome:
    """Post the escrow whose intent (`opening`, `matching`) is durable. The node's job
    creation is not idempotent: only the request that recorded the intent calls this."""
    escrow = required(order.escrow, "escrow intent", order)
    deadlines = kit.policy.deadlines
    ttl = (
        deadlines.sell_escrow_ttl(order.ttl_seconds)
        if order.status is Status.OPENING
        else deadlines.buy_escrow_ttl()
    )
    result = kit.call(
        "escrow.create",
        lambda: kit.node.create_job(
            poster=escrow.poster,
            reward_i64=order.amount_micro_rtc,
            ttl_seconds=ttl,
            title=escrow.title,
            description=(
                f"RTC escrow for OTC order {order.order_id}: "
                f"{micro_to_rtc_str(order.amount_micro_rtc)} RTC on {order.pair}"
            ),
        ),
    )
    if isinstance(result, Ok):
        created = result.value
        return EscrowOutcome(_locked(kit, order, ctx, created.job_id, created.expires_at))
    if isinstance(result, Rejected):
        refs = {"error": result.error, "code": result.code, "status": result.status}
        moved = kit.apply(transitions.escrow_rejected(order, refs, at=ctx.now), ctx)
        return EscrowOutcome(moved, result.error, result.code)
    # Unknown: the job may exist. Only its title can find it (job ids are random).
    found = _find_escrow(kit, order, escrow)
    if found is not None and len(found) == 1:
        return EscrowOutcome(_locked(kit, order, ctx, found[0].job_id, found[0].expires_at))
    return EscrowOutcome(kit.reread(order))


def _locked(kit: Toolkit, order: Order, ctx: Ctx, job_id: str, job_expires_at: int | None) -> Order:
    lock_window = kit.policy.deadlines.lock_window
    move = transitions.escrow_locked(
        order,
        job_id,
        job_expires_at,
        at=ctx.now,
        lock_window=lock_window,
        deadlines=kit.policy.deadlines,
    )
    return kit.apply(move, ctx)


def _find_escrow(kit: Toolkit, order: Order, escrow: Escrow) -> list[Job] | None:
    found = kit.call(
        "escrow.find",
        lambda: kit.node.find_jobs(
            poster=escrow.poster,
            title=escrow.title,
            statuses=ESCROW_HOLDING,
            min_reward_i64=order.amount_micro_rtc,
        ),
    )
    return found.value if isinstance(found, Ok) else None


def resolve_escrow(kit: Toolkit, order: Order, ctx: Ctx) -> Order:
    """An escrow lock whose request never reported back: undo whatever it did."""
    escrow = required(order.escrow, "escrow intent", order)
    grace = kit.policy.grace_seconds
    requested = escrow.requested_at or order.created_at
    if ctx.now < requested + grace:
        return kit.reschedule(order, requested + grace, ctx)
    found = _find_escrow(kit, order, escrow)
    if found is None:
        return kit.reschedule(order, ctx.now + kit.policy.retry_seconds, ctx)
    if len(found) > 1:
        jobs = [job.job_id for job in found]
        kit.alert("critical", "More than one escrow job found for one order", order, jobs=jobs)
    jobs_found = [FoundJob(job.job_id, job.status.value, job.expires_at) for job in found]
    return kit.apply(transitions.escrow_unresolved(order, jobs_found, at=ctx.now), ctx)


def expire_if_due(kit: Toolkit, order: Order, ctx: Ctx) -> Order:
    if ctx.now <= order.expires_at:
        return kit.reschedule(order, order.expires_at + 1, ctx)
    return kit.apply(transitions.expire(order, at=ctx.now, retry=kit.policy.retry_seconds), ctx)


def refund(kit: Toolkit, order: Order, ctx: Ctx) -> Order:
    """Give the RTC seller's escrow back; the order ends only once the node confirms."""
    job, escrow = order.escrow_job, order.escrow
    if job is None or escrow is None:
        return kit.apply(
            transitions.refund_confirmed(order, JobStatus.CANCELLED.value, at=ctx.now), ctx
        )
    job_id, poster = job.job_id, escrow.poster
    result = kit.call("escrow.cancel", lambda: kit.node.cancel(job_id, poster))
    if isinstance(result, Ok):
        done = transitions.refund_confirmed(order, result.value.status.value, at=ctx.now)
        return kit.apply(done, ctx)
    seen = result.job
    if isinstance(result, Rejected) and result.code == "job_conflict" and seen is not None:
        return _refund_conflict(kit, order, ctx, poster, seen)
    if isinstance(result, Rejected) and not result.retryable:
        kit.alert(
            "critical",
            "Escrow refund refused by the node",
            order,
            job_id=job_id,
            error=result.error,
        )
    return kit.reschedule(order, ctx.now + kit.policy.retry_seconds, ctx)


def _refund_conflict(kit: Toolkit, order: Order, ctx: Ctx, poster: str, job: Job) -> Order:
    """The job is not where a cancel can act: someone else moved it (the node has no auth
    on jobs). Take the only way back to the poster that the node leaves open."""
    refs = {"job_id": job.job_id, "job_status": job.status.value, "worker": job.worker_wallet}
    retry = ctx.now + kit.policy.retry_seconds
    if job.status is JobStatus.DELIVERED:
        disputed = kit.call(
            "escrow.dispute",
            lambda: kit.node.dispute(job.job_id, poster, f"OTC bridge refund {order.order_id}"),
        )
        if isinstance(disputed, Ok):
            return kit.apply(settling.escrow_disputed(order, refs), ctx)
        return kit.reschedule(order, retry, ctx)
    if job.status is JobStatus.CLAIMED and job.expires_at is not None:
        # A claimed job can be cancelled only once overdue (the node then expires it and
        # refunds the poster): come back just after its expiry.
        if order.next_action_at != job.expires_at + 1:
            kit.alert(
                "warning",
                "Escrow claimed by a third party; the refund waits for the job to expire",
                order,
                **refs,
            )
        return kit.reschedule(order, job.expires_at + 1, ctx)
    if job.status is JobStatus.COMPLETED:
        title = (
            "Escrow already released to the bridge's worker wallet; it cannot be refunded"
            if job.worker_wallet == WORKER_WALLET
            else "Escrow released to a third party before the refund"
        )
        kit.alert("critical", title, order, **refs)
        return kit.apply(settling.escrow_taken(order, job.status.value, refs), ctx)
    return kit.reschedule(order, retry, ctx)
