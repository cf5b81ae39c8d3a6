"""The pending pool's admin side: `/pending/list`, `/pending/confirm`, `/pending/void`,
`/pending/integrity`, and the confirm pass the scheduler shares with `/pending/confirm`.

Choices where the node spec gives no exact rule:
* "stale" rows are `pending` rows already due (`confirms_at <= now`), counted node-wide;
  `max_confirm_overdue_seconds` is `now - min(confirms_at)` over them, 0 when there are none.
* `/pending/void` errors are `{"error": ...}` without `"ok"`, as the spec quotes them.
* `/pending/list` lower-cases and strips `status`; `miner_id` is stripped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from otc_bridge.devnet.devnode.admin import admin_gate, admin_key_unset, is_admin
from otc_bridge.devnet.devnode.store import Store
from otc_bridge.devnet.devnode.wire import Reply, Request, json_reply

if TYPE_CHECKING:
    from otc_bridge.devnet.devnode.node import Node

log = logging.getLogger(__name__)

LIST_DEFAULT_LIMIT = 100
LIST_MAX_LIMIT = 500
UNAUTHORIZED: dict[str, object] = {"error": "Unauthorized"}
LIST_UNAUTHORIZED = {
    "error": "Unauthorized. Provide miner_id for public check or Admin Key for full list."
}
ADMIN_OR_API_KEY = ("x-admin-key", "x-api-key")


def limit_error() -> Reply:
    return json_reply({"ok": False, "error": "limit must be an integer"}, 400)


def parse_limit(raw: Any, default: int, maximum: int) -> int | None:
    """Python's `int()` like the node (so 2.7 → 2 and True → 1), clamped to 1..maximum."""
    if raw is None:
        return max(1, min(default, maximum))
    try:
        value = int(raw)
    except (TypeError, ValueError, OverflowError):
        return None
    return max(1, min(value, maximum))


@dataclass(frozen=True)
class OverdueStats:
    count: int
    max_overdue_seconds: int


def overdue_stats(store: Store, now: int) -> OverdueStats:
    count, oldest = store.conn.execute(
        "SELECT COUNT(*), MIN(confirms_at) FROM pending_ledger "
        "WHERE status = 'pending' AND confirms_at <= ?",
        (now,),
    ).fetchone()
    return OverdueStats(int(count), 0 if oldest is None else now - int(oldest))


@dataclass
class ConfirmOutcome:
    selected: int = 0
    confirmed_ids: list[int] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


def confirm_due(store: Store, now: int, limit: int) -> ConfirmOutcome:
    """The node's algorithm: due rows by id ASC, each in its own savepoint."""
    conn = store.conn
    rows = conn.execute(
        "SELECT id, from_miner, to_miner, amount_i64, epoch, tx_hash FROM pending_ledger "
        "WHERE status = 'pending' AND confirms_at <= ? ORDER BY id ASC LIMIT ?",
        (now, limit),
    ).fetchall()
    outcome = ConfirmOutcome(selected=len(rows))
    for row in rows:
        pid, sender, receiver, amount = (
            row["id"],
            row["from_miner"],
            row["to_miner"],
            row["amount_i64"],
        )
        try:
            with store.savepoint():
                moved = conn.execute(
                    "UPDATE pending_ledger SET status = 'confirming' "
                    "WHERE id = ? AND status = 'pending'",
                    (pid,),
                )
                if moved.rowcount == 0:
                    continue
                if store.balance(sender) < amount:
                    conn.execute(
                        "UPDATE pending_ledger SET status = 'voided', voided_by = 'system', "
                        "voided_reason = 'insufficient_balance_at_confirm' WHERE id = ?",
                        (pid,),
                    )
                    outcome.errors.append({"id": pid, "error": "insufficient_balance"})
                    continue
                store.adjust(sender, -amount)
                store.adjust(receiver, amount)
                conn.executemany(
                    "INSERT INTO ledger (ts, epoch, miner_id, delta_i64, reason) "
                    "VALUES (?, ?, ?, ?, ?)",
                    [
                        (
                            now,
                            row["epoch"],
                            sender,
                            -amount,
                            f"transfer_out:{receiver}:{row['tx_hash']}",
                        ),
                        (
                            now,
                            row["epoch"],
                            receiver,
                            amount,
                            f"transfer_in:{sender}:{row['tx_hash']}",
                        ),
                    ],
                )
                conn.execute(
                    "UPDATE pending_ledger SET status = 'confirmed', confirmed_at = ? WHERE id = ?",
                    (now, pid),
                )
                outcome.confirmed_ids.append(pid)
        except Exception:
            log.exception("confirming pending row %s failed; it stays pending", pid)
            outcome.errors.append({"id": pid, "error": "internal_error"})
    return outcome


def run_confirm(node: Node, limit: int) -> dict[str, Any]:
    """One confirm pass and the `/pending/confirm` body describing it (caller holds the tx)."""
    now = node.clock.now()
    before = overdue_stats(node.store, now)
    outcome = confirm_due(node.store, now, limit)
    after = overdue_stats(node.store, now)
    return {
        "ok": True,
        "limit": limit,
        "selected_count": outcome.selected,
        "confirmed_count": len(outcome.confirmed_ids),
        "confirmed_ids": outcome.confirmed_ids,
        "errors": outcome.errors or None,
        "stale_pending_count_before": before.count,
        "max_confirm_overdue_seconds_before": before.max_overdue_seconds,
        "overdue_stats_measured_before": True,
        "stale_pending_count": after.count,
        "max_confirm_overdue_seconds": after.max_overdue_seconds,
        "overdue_stats_measured": True,
        "overdue_stats_error": None,
    }


def confirm(node: Node, req: Request) -> Reply:
    denied = admin_gate(node, req, UNAUTHORIZED)
    if denied is not None:
        return denied
    raw = req.arg("limit")
    body = req.get_json()
    if isinstance(body, dict) and body.get("limit") is not None:
        raw = body["limit"]  # the body's value wins
    settings = node.settings
    limit = parse_limit(
        raw, settings.pending_confirm_default_limit, settings.pending_confirm_max_limit
    )
    if limit is None:
        return limit_error()
    return json_reply(run_confirm(node, limit))


def list_pending(node: Node, req: Request) -> Reply:
    if not node.settings.admin_key:
        return admin_key_unset()
    admin = is_admin(node, req, ADMIN_OR_API_KEY)
    miner_id = (req.arg("miner_id") or "").strip()
    if not admin and not miner_id:
        return json_reply(LIST_UNAUTHORIZED, 401)
    limit = parse_limit(req.arg("limit"), LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT)
    if limit is None:
        return limit_error()
    status = (req.arg("status") or "pending").strip().lower()
    where: list[str] = []
    params: list[object] = []
    if status != "all":
        where.append("status = ?")
        params.append(status)
    if miner_id:
        where.append("(from_miner = ? OR to_miner = ?)")
        params.extend([miner_id, miner_id])
    clause = " WHERE " + " AND ".join(where) if where else ""
    sql = (
        "SELECT id, ts, from_miner, to_miner, amount_i64, reason, status, confirms_at, "  # noqa: S608
        f"voided_by, voided_reason, tx_hash FROM pending_ledger{clause} "
        "ORDER BY id DESC LIMIT ?"  # newest first; `offset` is ignored, as on the node
    )
    rows = node.store.conn.execute(sql, [*params, limit]).fetchall()
    items = [
        {
            "id": r["id"],
            "ts": r["ts"],
            "from_miner": r["from_miner"],
            "to_miner": r["to_miner"],
            "amount_rtc": r["amount_i64"] / 1000000,
            "reason": r["reason"],
            "status": r["status"],
            "confirms_at": r["confirms_at"],
            "voided_by": r["voided_by"],
            "voided_reason": r["voided_reason"],
            "tx_hash": r["tx_hash"],
        }
        for r in rows
    ]
    stats = overdue_stats(node.store, node.clock.now())
    return json_reply(
        {
            "ok": True,
            "count": len(items),
            "pending": items,
            "stale_pending_count": stats.count,
            "max_confirm_overdue_seconds": stats.max_overdue_seconds,
            "overdue_stats_measured": True,
            "overdue_stats_error": None,
        }
    )


def void(node: Node, req: Request) -> Reply:
    denied = admin_gate(node, req, UNAUTHORIZED)
    if denied is not None:
        return denied
    data = req.get_json()
    if not isinstance(data, dict):
        return json_reply({"error": "Invalid JSON body"}, 400)
    pending_id = data.get("pending_id")
    tx_hash = data.get("tx_hash")
    if isinstance(pending_id, list | dict):
        return json_reply({"error": "pending_id must be a scalar"}, 400)
    if tx_hash is not None and not isinstance(tx_hash, str):
        return json_reply({"error": "tx_hash must be a string"}, 400)
    if not pending_id and not tx_hash:
        return json_reply({"error": "Provide pending_id or tx_hash"}, 400)
    reason = data.get("reason", "admin_void")
    voided_by = data.get("voided_by", "admin")
    by_id = bool(pending_id)
    row = node.store.conn.execute(
        "SELECT id, status, from_miner, to_miner, amount_i64 FROM pending_ledger "  # noqa: S608
        + ("WHERE id = ?" if by_id else "WHERE tx_hash = ?"),
        (pending_id if by_id else tx_hash,),
    ).fetchone()
    if row is None:
        return json_reply({"error": "Pending transfer not found"}, 404)
    if row["status"] != "pending":
        return json_reply(
            {
                "error": f"Cannot void - status is '{row['status']}'",
                "hint": "Only pending transfers can be voided",
            },
            400,
        )
    # Not idempotent: a second void finds status 'voided' and gets the 400 above.
    node.store.void_pending(row["id"], voided_by, reason)
    return json_reply(
        {
            "ok": True,
            "voided_id": row["id"],
            "from_miner": row["from_miner"],
            "to_miner": row["to_miner"],
            "amount_rtc": row["amount_i64"] / 1000000,
            "voided_by": voided_by,
            "reason": reason,
        }
    )


def integrity(node: Node, req: Request) -> Reply:
    """Balances against ledger sums; RIP-302 and faucet moves always show as mismatches."""
    denied = admin_gate(node, req, UNAUTHORIZED, ADMIN_OR_API_KEY)
    if denied is not None:
        return denied
    conn = node.store.conn
    ledger_sums = {
        str(r[0]): int(r[1])
        for r in conn.execute("SELECT miner_id, SUM(delta_i64) FROM ledger GROUP BY miner_id")
    }
    pending_senders = conn.execute(
        "SELECT COUNT(DISTINCT from_miner) FROM pending_ledger WHERE status = 'pending'"
    ).fetchone()[0]
    balances = node.store.balances()
    mismatches = [
        {
            "miner_id": miner_id,
            "balance_rtc": balance / 1000000,
            "ledger_sum_rtc": ledger_sums.get(miner_id, 0) / 1000000,
            "diff_rtc": (balance - ledger_sums.get(miner_id, 0)) / 1000000,
        }
        for miner_id, balance in balances.items()
        if balance != ledger_sums.get(miner_id, 0)
    ]
    return json_reply(
        {
            "ok": not mismatches,
            "total_miners_checked": len(balances),
            "mismatches": mismatches or None,
            "pending_transfers": pending_senders,
        }
    )
