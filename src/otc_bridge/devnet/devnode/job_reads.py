"""RIP-302 reads: `GET /agent/jobs` (with the global lazy expiry), `GET /agent/jobs/<id>`,
`GET /agent/stats` and `GET /agent/reputation/<wallet>`."""

from __future__ import annotations

import math
import sqlite3
from typing import TYPE_CHECKING, Any

from otc_bridge.devnet.devnode.jobs import (
    VALID_CATEGORIES,
    InputError,
    error,
    expire_all_overdue,
    expire_if_overdue,
    fetch_job,
)
from otc_bridge.devnet.devnode.wire import Reply, Request, json_reply
from otc_bridge.domain.rustchain import ESCROW_WALLET, PLATFORM_FEE_RATE

if TYPE_CHECKING:
    from otc_bridge.devnet.devnode.node import Node

LIST_COLUMNS = (
    "job_id, poster_wallet, title, description, category, reward_rtc, status, "
    "created_at, expires_at, tags, worker_wallet"
)


def int_arg(req: Request, name: str, default: int, maximum: int | None = None) -> int:
    raw = req.arg(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InputError(f"{name} must be an integer") from None
    if value < 0:
        raise InputError(f"{name} must be non-negative")
    return value if maximum is None else min(value, maximum)


def float_arg(req: Request, name: str, default: float) -> float:
    raw = req.arg(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"{name} must be a number") from None
    if not math.isfinite(value) or value < 0:
        raise InputError(f"{name} must be a non-negative number")
    return value


def list_jobs(node: Node, req: Request) -> Reply:
    category = (req.arg("category") or "").strip().lower()
    status = req.arg("status")
    status = ("open" if status is None else status).strip().lower()
    try:
        limit = int_arg(req, "limit", 50, maximum=100)
        offset = int_arg(req, "offset", 0)
        min_reward = float_arg(req, "min_reward", 0)
    except InputError as exc:
        return error(str(exc))
    expire_all_overdue(node, node.clock.now())  # anyone listing triggers every refund
    where = ["status = ?", "reward_rtc >= ?"]
    params: list[object] = [status, min_reward]
    if category in VALID_CATEGORIES:
        where.append("category = ?")
        params.append(category)
    clause = " AND ".join(where)
    conn = node.store.conn
    rows = conn.execute(
        f"SELECT {LIST_COLUMNS} FROM agent_jobs WHERE {clause} "  # noqa: S608
        "ORDER BY reward_rtc DESC, created_at DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    total = conn.execute(f"SELECT COUNT(*) FROM agent_jobs WHERE {clause}", params).fetchone()[0]  # noqa: S608
    return json_reply(
        {
            "ok": True,
            "jobs": [dict(row) for row in rows],
            "total": total,
            "limit": limit,
            "offset": offset,
            "categories": VALID_CATEGORIES,
        }
    )


def get_job(node: Node, req: Request) -> Reply:
    job_id = req.params["job_id"]
    job = fetch_job(node, job_id)
    if job is None:
        return error("Job not found", 404)
    if expire_if_overdue(node, job, node.clock.now()):
        job = fetch_job(node, job_id)
        assert job is not None
    conn = node.store.conn
    job["activity_log"] = [
        dict(row)
        for row in conn.execute(
            "SELECT action, actor_wallet, details, created_at FROM agent_job_log "
            "WHERE job_id = ? ORDER BY created_at ASC, id ASC",
            (job_id,),
        )
    ]
    job["ratings"] = [
        dict(row)
        for row in conn.execute(
            "SELECT rater_wallet, ratee_wallet, role, rating, comment, created_at "
            "FROM agent_ratings WHERE job_id = ?",
            (job_id,),
        )
    ]
    return json_reply({"ok": True, "job": job})


def stats(node: Node, req: Request) -> Reply:
    conn = node.store.conn

    def scalar(sql: str, *params: object) -> Any:
        return conn.execute(sql, params).fetchone()[0]

    categories = conn.execute(
        "SELECT category, COUNT(*) AS cnt, SUM(reward_rtc) AS total_rtc FROM agent_jobs "
        "GROUP BY category ORDER BY cnt DESC"
    ).fetchall()
    return json_reply(
        {
            "ok": True,
            "stats": {
                "total_jobs": scalar("SELECT COUNT(*) FROM agent_jobs"),
                "open_jobs": scalar("SELECT COUNT(*) FROM agent_jobs WHERE status = 'open'"),
                "completed_jobs": scalar(
                    "SELECT COUNT(*) FROM agent_jobs WHERE status = 'completed'"
                ),
                "total_rtc_volume": scalar(
                    "SELECT COALESCE(SUM(reward_rtc), 0) FROM agent_jobs WHERE status = 'completed'"
                ),
                "total_fees_collected": scalar(
                    "SELECT COALESCE(SUM(platform_fee_i64), 0) FROM agent_jobs "
                    "WHERE status = 'completed'"
                )
                / 1000000,
                "active_agents": scalar(
                    "SELECT COUNT(*) FROM agent_reputation WHERE last_active > ?",
                    node.clock.now() - 7 * 86400,
                ),
                "platform_fee_rate": f"{PLATFORM_FEE_RATE * 100}%",
                "escrow_wallet": ESCROW_WALLET,
                "escrow_balance_rtc": node.store.balance(ESCROW_WALLET) / 1000000,
                "categories": [
                    {"category": row[0], "jobs": row[1], "total_rtc": row[2]} for row in categories
                ],
            },
        }
    )


def reputation(node: Node, req: Request) -> Reply:
    wallet = req.params["wallet"]
    row: sqlite3.Row | None = node.store.conn.execute(
        "SELECT * FROM agent_reputation WHERE wallet_id = ?", (wallet,)
    ).fetchone()
    if row is None:
        return json_reply(
            {
                "ok": True,
                "wallet_id": wallet,
                "reputation": None,
                "message": "No reputation history",
            }
        )
    rep = dict(row)
    completed = rep["jobs_completed_as_worker"] + rep["jobs_completed_as_poster"]
    total = completed + rep["jobs_disputed"] + rep["jobs_expired"]
    if total == 0:
        score = 50
    else:
        # The node's precedence: the conditional covers the whole sum.
        rated = rep["rating_count"] > 0
        raw = (completed / total * 80 + min(rep["avg_rating"] / 5 * 20, 20)) if rated else 10
        score = int(min(100, max(0, raw)))
    rep["trust_score"] = score
    rep["trust_level"] = (
        "legendary"
        if score >= 90
        else "trusted"
        if score >= 70
        else "neutral"
        if score >= 40
        else "risky"
    )
    return json_reply({"ok": True, "wallet_id": wallet, "reputation": rep})
