"""RIP-302 lifecycle actions: claim, deliver, accept, dispute, cancel.

Each action checks in the node's order and ends with a compare-and-set on `status`
(0 rows → 409 STATE_RACE, nothing applied) before any balance moves. None is idempotent:
repeating one gets the 409 texts of the node spec §2.11.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from otc_bridge.devnet.devnode.faults import state_race
from otc_bridge.devnet.devnode.jobs import (
    bump_reputation,
    error,
    expire_if_overdue,
    fetch_job,
    json_object,
    log_action,
    refund_escrow,
    text_field,
)
from otc_bridge.devnet.devnode.wire import Reply, Request, json_reply
from otc_bridge.domain.rustchain import ESCROW_WALLET, FEE_WALLET

if TYPE_CHECKING:
    from otc_bridge.devnet.devnode.node import Node


def _load(node: Node, req: Request) -> dict[str, Any] | Reply:
    job = fetch_job(node, req.params["job_id"])
    return error("Job not found", 404) if job is None else job


def _wallet_and_job(
    node: Node,
    req: Request,
    field: str,
    missing: Callable[[dict[str, Any]], str | None] = lambda data: None,
) -> tuple[dict[str, Any], str, dict[str, Any]] | Reply:
    """The node's first checks of a lifecycle call, in its order: a JSON object, the acting
    wallet, the call's other required fields (`missing` names what is absent), the job."""
    data = json_object(req, required=False)
    if isinstance(data, Reply):
        return data
    wallet = text_field(data, field)
    if not wallet:
        return error(f"{field} required")
    absent = missing(data)
    if absent:
        return error(absent)
    job = _load(node, req)
    return job if isinstance(job, Reply) else (data, wallet, job)


def _transition(
    node: Node, job_id: str, sets: str, params: tuple[object, ...], *statuses: str
) -> bool:
    marks = ", ".join("?" for _ in statuses)
    cur = node.store.conn.execute(
        f"UPDATE agent_jobs SET {sets} WHERE job_id = ? AND status IN ({marks})",  # noqa: S608
        (*params, job_id, *statuses),
    )
    return cur.rowcount == 1


def _expired_reply(node: Node, job: dict[str, Any], now: int) -> Reply:
    """An overdue job met by claim or deliver: refund it and answer 410."""
    if expire_if_overdue(node, job, now):
        return error("Job has expired", 410)
    return state_race()


def claim(node: Node, req: Request) -> Reply:
    found = _wallet_and_job(node, req, "worker_wallet")
    if isinstance(found, Reply):
        return found
    _, worker, job = found
    if job["status"] != "open":
        return error(f"Job is not open (status: {job['status']})", 409)
    if job["poster_wallet"] == worker:
        return error("Cannot claim your own job")
    now = node.clock.now()
    if now > job["expires_at"]:
        return _expired_reply(node, job, now)
    if not _transition(
        node,
        job["job_id"],
        "worker_wallet = ?, status = 'claimed', claimed_at = ?",
        (worker, now),
        "open",
    ):
        return error("Job was claimed by another worker", 409)
    log_action(node, job["job_id"], "claimed", worker)
    return json_reply(
        {
            "ok": True,
            "job_id": job["job_id"],
            "status": "claimed",
            "worker_wallet": worker,
            "reward_rtc": job["reward_rtc"],
            "expires_at": job["expires_at"],
            "message": "Job claimed! Submit your deliverable when ready.",
        }
    )


def _no_deliverable(data: dict[str, Any]) -> str | None:
    if text_field(data, "deliverable_url") or text_field(data, "result_summary"):
        return None
    return "deliverable_url or result_summary required"


def deliver(node: Node, req: Request) -> Reply:
    found = _wallet_and_job(node, req, "worker_wallet", _no_deliverable)
    if isinstance(found, Reply):
        return found
    data, worker, job = found
    url = text_field(data, "deliverable_url")
    digest = text_field(data, "deliverable_hash")
    summary = text_field(data, "result_summary")
    if job["status"] != "claimed":
        return error(f"Job must be in 'claimed' status (current: {job['status']})", 409)
    if job["worker_wallet"] != worker:
        return error("Only the assigned worker can deliver", 403)
    now = node.clock.now()
    if now > job["expires_at"]:
        return _expired_reply(node, job, now)
    sets = (
        "status = 'delivered', deliverable_url = ?, deliverable_hash = ?, "
        "result_summary = ?, delivered_at = ?"
    )
    if not _transition(node, job["job_id"], sets, (url, digest, summary, now), "claimed"):
        return state_race()
    log_action(node, job["job_id"], "delivered", worker, f"url={url}")
    return json_reply(
        {
            "ok": True,
            "job_id": job["job_id"],
            "status": "delivered",
            "message": "Deliverable submitted! Waiting for poster to accept.",
        }
    )


def _rate(node: Node, job: dict[str, Any], poster: str, rating: Any, now: int) -> None:
    """Optional 1..5 rating; values `int()` cannot read are ignored, as on the node."""
    try:
        value = max(1, min(5, int(rating)))
    except (TypeError, ValueError):
        return
    conn = node.store.conn
    worker = job["worker_wallet"]
    conn.execute(
        "INSERT INTO agent_ratings (job_id, rater_wallet, ratee_wallet, role, rating, created_at) "
        "VALUES (?, ?, ?, 'poster_rates_worker', ?, ?)",
        (job["job_id"], poster, worker, value, now),
    )
    avg, count = conn.execute(
        "SELECT AVG(rating), COUNT(*) FROM agent_ratings WHERE ratee_wallet = ?", (worker,)
    ).fetchone()
    if avg:
        conn.execute(
            "UPDATE agent_reputation SET avg_rating = ?, rating_count = ? WHERE wallet_id = ?",
            (round(avg, 2), count, worker),
        )


def accept(node: Node, req: Request) -> Reply:
    found = _wallet_and_job(node, req, "poster_wallet")
    if isinstance(found, Reply):
        return found
    data, poster, job = found
    if job["status"] != "delivered":
        return error(f"Job must be in 'delivered' status (current: {job['status']})", 409)
    if job["poster_wallet"] != poster:
        return error("Only the poster can accept delivery", 403)
    now = node.clock.now()
    if not _transition(
        node, job["job_id"], "status = 'completed', completed_at = ?", (now,), "delivered"
    ):
        return state_race()
    worker, reward, fee = job["worker_wallet"], job["reward_i64"], job["platform_fee_i64"]
    node.store.adjust(ESCROW_WALLET, -job["escrow_i64"])
    node.store.adjust(worker, reward)
    node.store.adjust(FEE_WALLET, fee)
    bump_reputation(node, poster, "jobs_completed_as_poster")
    bump_reputation(node, worker, "jobs_completed_as_worker")
    conn = node.store.conn
    conn.execute(
        "UPDATE agent_reputation SET total_rtc_paid = total_rtc_paid + ? WHERE wallet_id = ?",
        (job["reward_rtc"], poster),
    )
    conn.execute(
        "UPDATE agent_reputation SET total_rtc_earned = total_rtc_earned + ? WHERE wallet_id = ?",
        (job["reward_rtc"], worker),
    )
    if data.get("rating") is not None:
        _rate(node, job, poster, data["rating"], now)
    log_action(
        node, job["job_id"], "completed", poster,
        f"worker={worker}, reward={job['reward_rtc']} RTC, fee={fee / 1000000} RTC",
    )  # fmt: skip
    return json_reply(
        {
            "ok": True,
            "job_id": job["job_id"],
            "status": "completed",
            "worker_wallet": worker,
            "reward_paid_rtc": reward / 1000000,
            "platform_fee_rtc": fee / 1000000,
            "message": f"Job complete! {reward / 1000000} RTC paid to {worker}.",
        }
    )


def _no_reason(data: dict[str, Any]) -> str | None:
    return None if text_field(data, "reason") else "reason required"


def dispute(node: Node, req: Request) -> Reply:
    found = _wallet_and_job(node, req, "poster_wallet", _no_reason)
    if isinstance(found, Reply):
        return found
    data, poster, job = found
    reason = text_field(data, "reason")
    if job["status"] != "delivered":
        return error(f"Can only dispute delivered jobs (current: {job['status']})", 409)
    if job["poster_wallet"] != poster:
        return error("Only the poster can dispute", 403)
    if not _transition(
        node,
        job["job_id"],
        "status = 'disputed', rejection_reason = ?",
        (reason[:500],),
        "delivered",
    ):
        return state_race()
    bump_reputation(node, job["worker_wallet"], "jobs_disputed")
    log_action(node, job["job_id"], "disputed", poster, reason[:200])
    return json_reply(
        {
            "ok": True,
            "job_id": job["job_id"],
            "status": "disputed",
            "message": "Job disputed. Escrow held pending resolution. "
            "Worker can re-deliver or admin can refund.",
        }
    )


def cancel(node: Node, req: Request) -> Reply:
    found = _wallet_and_job(node, req, "poster_wallet")
    if isinstance(found, Reply):
        return found
    _, poster, job = found
    if job["poster_wallet"] != poster:
        return error("Only the poster can cancel", 403)  # checked before the status
    now = node.clock.now()
    refunded = job["escrow_i64"] / 1000000
    if job["status"] == "claimed" and now > job["expires_at"]:
        if not expire_if_overdue(node, job, now):
            return state_race()
        return json_reply(
            {
                "ok": True,
                "job_id": job["job_id"],
                "status": "expired",
                "refunded_rtc": refunded,
                "message": "Job expired. Escrow refunded.",
            }
        )
    if job["status"] not in ("open", "disputed"):
        return error(f"Can only cancel open or disputed jobs (current: {job['status']})", 409)
    if not _transition(node, job["job_id"], "status = 'cancelled'", (), "open", "disputed"):
        return state_race()
    refund_escrow(node, job)
    log_action(node, job["job_id"], "cancelled", poster)
    return json_reply(
        {
            "ok": True,
            "job_id": job["job_id"],
            "status": "cancelled",
            "refunded_rtc": refunded,
            "message": "Job cancelled. Escrow refunded.",
        }
    )
