"""RIP-302 job escrow: `POST /agent/jobs`, plus the helpers the other job modules share
(lazy expiry, refunds, activity log, reputation counters).

No endpoint authenticates its caller. Escrow moves go straight into `balances` (instant and
final, never through the pending pool or `ledger`). Lazy expiry is strict: a job expires
once `now > expires_at`, and only `open` and `claimed` jobs ever do.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import time
from typing import TYPE_CHECKING, Any

from otc_bridge.devnet.devnode.wire import Reply, Request, json_reply
from otc_bridge.domain.rustchain import (
    ESCROW_WALLET,
    JOB_TTL_DEFAULT,
    JOB_TTL_MAX,
    JOB_TTL_MIN,
    MAX_ACTIVE_JOBS_PER_AGENT,
    MAX_REWARD_RTC,
    MIN_REWARD_RTC,
    job_fee_i64,
    job_reward_i64,
)

if TYPE_CHECKING:
    from otc_bridge.devnet.devnode.node import Node

VALID_CATEGORIES = [
    "research", "code", "video", "audio", "writing",
    "translation", "data", "design", "testing", "other",
]  # fmt: skip
REFUNDABLE = ("open", "claimed")
REPUTATION_FIELDS = frozenset(
    {
        "jobs_posted",
        "jobs_completed_as_poster",
        "jobs_completed_as_worker",
        "jobs_disputed",
        "jobs_expired",
    }
)


def error(message: str, status: int = 400) -> Reply:
    return json_reply({"error": message}, status)


def json_object(req: Request, *, required: bool) -> dict[str, Any] | Reply:
    """RIP-302's body rule: lifecycle bodies are optional, but never a non-object."""
    data = req.get_json()
    if data is None:
        return error("JSON body required") if required else {}
    if not isinstance(data, dict):
        return error("JSON object required")
    return data


def text_field(data: dict[str, Any], name: str, default: str = "") -> str:
    return str(data.get(name, default)).strip()


def fetch_job(node: Node, job_id: str) -> dict[str, Any] | None:
    row = node.store.conn.execute("SELECT * FROM agent_jobs WHERE job_id = ?", (job_id,)).fetchone()
    return None if row is None else dict(row)


def log_action(
    node: Node, job_id: str, action: str, actor: str | None, details: str | None = None
) -> None:
    node.store.conn.execute(
        "INSERT INTO agent_job_log (job_id, action, actor_wallet, details, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (job_id, action, actor, details, node.clock.now()),
    )


def bump_reputation(node: Node, wallet: str, field: str) -> None:
    assert field in REPUTATION_FIELDS
    now = node.clock.now()
    conn = node.store.conn
    conn.execute(
        "INSERT INTO agent_reputation (wallet_id, first_seen, last_active) VALUES (?, ?, ?) "
        "ON CONFLICT(wallet_id) DO UPDATE SET last_active = ?",
        (wallet, now, now, now),
    )
    conn.execute(
        f"UPDATE agent_reputation SET {field} = {field} + 1 WHERE wallet_id = ?",  # noqa: S608
        (wallet,),
    )


def refund_escrow(node: Node, job: dict[str, Any]) -> None:
    """The poster gets the whole escrow back: reward and fee."""
    escrow = job["escrow_i64"]
    node.store.adjust(ESCROW_WALLET, -escrow)
    node.store.adjust(job["poster_wallet"], escrow)
    log_action(
        node,
        job["job_id"],
        "escrow_refunded",
        job["poster_wallet"],
        f"refunded {escrow / 1000000} RTC",
    )


def expire_if_overdue(node: Node, job: dict[str, Any], now: int) -> bool:
    """Expire an overdue open/claimed job and refund it, once (a guarded update)."""
    if job["status"] not in REFUNDABLE or int(job["expires_at"]) >= now:
        return False
    cur = node.store.conn.execute(
        "UPDATE agent_jobs SET status = 'expired' "
        "WHERE job_id = ? AND status IN ('open', 'claimed') AND expires_at < ?",
        (job["job_id"], now),
    )
    if cur.rowcount == 0:
        return False
    refund_escrow(node, job)
    bump_reputation(node, job["poster_wallet"], "jobs_expired")
    log_action(node, job["job_id"], "expired", job["poster_wallet"], f"status={job['status']}")
    return True


def expire_all_overdue(node: Node, now: int) -> None:
    """What any `GET /agent/jobs` does first: refund every overdue open/claimed job."""
    rows = node.store.conn.execute(
        "SELECT * FROM agent_jobs WHERE status IN ('open', 'claimed') AND expires_at < ?", (now,)
    ).fetchall()
    for row in rows:
        expire_if_overdue(node, dict(row), now)


# --- POST /agent/jobs ----------------------------------------------------------------------


class InputError(ValueError):
    pass


def parse_reward(raw: Any) -> float:
    if isinstance(raw, bool):
        raise InputError("reward_rtc must be a finite number")
    try:
        reward = float(raw)
    except (TypeError, ValueError):
        raise InputError("reward_rtc must be a finite number") from None
    if not math.isfinite(reward):
        raise InputError("reward_rtc must be a finite number")
    if reward < MIN_REWARD_RTC:
        raise InputError("Minimum reward is 0.01 RTC")
    if reward > MAX_REWARD_RTC:
        raise InputError("Maximum reward is 10,000 RTC")
    return reward


def parse_ttl(raw: Any) -> int:
    """`int()` of the value (5000.9 → 5000, "5000.9" rejected), clamped to [1 h, 30 d]."""
    if isinstance(raw, bool):
        raise InputError("ttl_seconds must be an integer")
    try:
        ttl = int(raw)
    except (TypeError, ValueError):
        raise InputError("ttl_seconds must be an integer") from None
    return min(max(ttl, JOB_TTL_MIN), JOB_TTL_MAX)


def new_job_id(poster: str, title: str) -> str:
    """Effectively random, like the node's: a retried POST creates a second job."""
    seed = f"{poster}:{title}:{time.time()}:{secrets.token_hex(8)}"
    return "job_" + hashlib.sha256(seed.encode()).hexdigest()[:16]


def create(node: Node, req: Request) -> Reply:
    data = json_object(req, required=True)
    if isinstance(data, Reply):
        return data
    poster = text_field(data, "poster_wallet")
    title = text_field(data, "title")
    description = text_field(data, "description")
    category = text_field(data, "category", "other").lower()
    if not poster:
        return error("poster_wallet required")
    if len(title) < 5:
        return error("title must be at least 5 characters")
    if len(description) < 20:
        return error("description must be at least 20 characters")
    if category not in VALID_CATEGORIES:
        return error(f"category must be one of: {VALID_CATEGORIES}")
    try:
        reward_rtc = parse_reward(data.get("reward_rtc", 0))
        ttl = parse_ttl(data.get("ttl_seconds", JOB_TTL_DEFAULT))
    except InputError as exc:
        return error(str(exc))
    reward_i64 = job_reward_i64(reward_rtc)
    fee_i64 = job_fee_i64(reward_i64)
    escrow_i64 = reward_i64 + fee_i64
    now = node.clock.now()
    # Like the node, the check ignores the poster's pending-pool debits.
    balance = node.store.balance(poster)
    if balance < escrow_i64:
        return json_reply(
            {
                "error": "Insufficient balance for escrow",
                "balance_rtc": balance / 1000000,
                "escrow_required_rtc": escrow_i64 / 1000000,
                "reward_rtc": reward_rtc,
                "platform_fee_rtc": fee_i64 / 1000000,
                "hint": "Total escrow = reward + 5% platform fee",
            },
            400,
        )
    conn = node.store.conn
    active = conn.execute(
        "SELECT COUNT(*) FROM agent_jobs "
        "WHERE poster_wallet = ? AND status IN ('open', 'claimed', 'delivered')",
        (poster,),
    ).fetchone()[0]
    if active >= MAX_ACTIVE_JOBS_PER_AGENT:
        return json_reply(
            {
                "error": f"Maximum {MAX_ACTIVE_JOBS_PER_AGENT} active jobs per agent",
                "active_jobs": active,
            },
            429,
        )
    job_id = new_job_id(poster, title)
    node.store.adjust(poster, -escrow_i64)
    node.store.adjust(ESCROW_WALLET, escrow_i64)
    conn.execute(
        "INSERT INTO agent_jobs (job_id, poster_wallet, title, description, category, reward_rtc, "
        "reward_i64, escrow_i64, platform_fee_i64, status, created_at, expires_at, tags) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)",
        (job_id, poster, title, description, category, reward_rtc, reward_i64, escrow_i64,
         fee_i64, now, now + ttl, json.dumps(data.get("tags", []))),
    )  # fmt: skip
    log_action(
        node,
        job_id,
        "posted",
        poster,
        f"reward={reward_rtc} RTC, escrow={escrow_i64 / 1000000} RTC",
    )
    bump_reputation(node, poster, "jobs_posted")
    return json_reply(
        {
            "ok": True,
            "job_id": job_id,
            "status": "open",
            "poster_wallet": poster,
            "reward_rtc": reward_rtc,
            "platform_fee_rtc": fee_i64 / 1000000,
            "escrow_total_rtc": escrow_i64 / 1000000,
            "expires_at": now + ttl,
            "expires_in_hours": ttl / 3600,
            "message": f"Job posted! {escrow_i64 / 1000000} RTC locked in escrow.",
        },
        201,
    )
