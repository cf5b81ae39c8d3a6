"""The devnet extras under `/devnet/*`: faucet, ledger view, clock, faults, scheduler,
pending-history fill and reset. No auth and no rate limit: a loopback development tool.
Errors are `400 {"ok": false, "error": <text>}`.
"""

from __future__ import annotations

import secrets
from decimal import ROUND_DOWN
from typing import TYPE_CHECKING, Any

from otc_bridge.devnet.devchain.control import ChainRpcError, move_chain_clock
from otc_bridge.devnet.devnode.faults import FaultSpecError
from otc_bridge.devnet.devnode.pending import run_confirm
from otc_bridge.devnet.devnode.settings import MAX_CONFIRMATION_DELAY_SECONDS
from otc_bridge.devnet.devnode.wire import Reply, Request, json_reply
from otc_bridge.domain.money import MoneyError, parse_decimal, rtc_to_micro
from otc_bridge.domain.rustchain import ESCROW_WALLET

if TYPE_CHECKING:
    from otc_bridge.devnet.devnode.node import Node

MAX_FAUCET_I64 = 2**62  # keeps every sum far from SQLite's i64 limit
MAX_FILL = 1_000_000
FILL_STATUSES = ("pending", "confirmed", "voided")
HISTORY_SENDER = "devnet_history_sender"
HISTORY_RECEIVER = "devnet_history_receiver"
ACTIVE_JOB_STATUSES = ("open", "claimed", "delivered", "disputed")


def bad(message: str, status: int = 400) -> Reply:
    return json_reply({"ok": False, "error": message}, status)


def body_object(req: Request) -> dict[str, Any] | None:
    data = req.get_json()
    if data is None and not req.body.strip():
        return {}
    return data if isinstance(data, dict) else None


MAX_CLOCK_ADVANCE = 10 * 365 * 86400


def int_field(data: dict[str, Any], name: str, minimum: int, maximum: int | None = None) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}")
    return value


def faucet(node: Node, req: Request) -> Reply:
    data = body_object(req)
    if data is None:
        return bad("JSON object required")
    wallet = data.get("wallet")
    if not isinstance(wallet, str) or not wallet:
        return bad("wallet must be a non-empty string")
    try:
        amount = parse_decimal(data.get("amount_rtc"))
    except MoneyError:
        return bad("amount_rtc must be a finite number or numeric string")
    credited = rtc_to_micro(amount, rounding=ROUND_DOWN)  # floor(amount × 10^6)
    if credited <= 0:
        return bad("amount_rtc must be at least 0.000001")
    if credited + node.store.minted() > MAX_FAUCET_I64:
        return bad("amount_rtc is too large")
    node.store.mint(wallet, credited)
    return json_reply(
        {
            "ok": True,
            "wallet": wallet,
            "credited_i64": credited,
            "balance_i64": node.store.balance(wallet),
            "total_supply_i64": node.store.minted(),
        }
    )


def ledger(node: Node, req: Request) -> Reply:
    conn = node.store.conn
    balances = node.store.balances()
    minted = node.store.minted()
    marks = ", ".join("?" for _ in ACTIVE_JOB_STATUSES)
    jobs_escrow, active_jobs = conn.execute(
        f"SELECT COALESCE(SUM(escrow_i64), 0), COUNT(*) FROM agent_jobs WHERE status IN ({marks})",  # noqa: S608
        ACTIVE_JOB_STATUSES,
    ).fetchone()
    pool = {status: {"count": 0, "amount_i64": 0} for status in FILL_STATUSES}
    for row in conn.execute(
        "SELECT status, COUNT(*), COALESCE(SUM(amount_i64), 0) FROM pending_ledger GROUP BY status"
    ):
        pool[row[0]] = {"count": row[1], "amount_i64": row[2]}
    escrow_balance = balances.get(ESCROW_WALLET, 0)
    checks = {
        "supply_conserved": sum(balances.values()) == minted,
        "escrow_matches_jobs": escrow_balance == jobs_escrow,
        "no_negative_balances": all(value >= 0 for value in balances.values()),
    }
    return json_reply(
        {
            "ok": True,
            "balances": balances,
            "balances_total_i64": sum(balances.values()),
            "total_supply_i64": minted,
            "escrow": {
                "wallet": ESCROW_WALLET,
                "balance_i64": escrow_balance,
                "jobs_escrow_i64": jobs_escrow,
                "active_jobs": active_jobs,
            },
            "pending_pool": pool,
            "checks": checks,
            "conserved": all(checks.values()),
        }
    )


def clock_state(node: Node, **extra: Any) -> Reply:
    return json_reply(
        {"ok": True, "now": node.clock.now(), "offset_seconds": node.clock.offset_seconds, **extra}
    )


def get_clock(node: Node, req: Request) -> Reply:
    return clock_state(node)


def advance_clock(node: Node, req: Request) -> Reply:
    data = body_object(req)
    if data is None:
        return bad("JSON object required")
    try:
        # Ten years at most: far beyond any deadline, and the clock (and the chain's
        # 64-bit timestamps) can never be pushed past what they can hold.
        seconds = int_field(data, "advance_seconds", 0, MAX_CLOCK_ADVANCE)
    except ValueError as exc:
        return bad(str(exc))
    extra: dict[str, Any] = {}
    chain_url = node.settings.chain_rpc_url
    if chain_url and seconds > 0:
        # The chain first: if it cannot move, neither does the node (one clock for all).
        try:
            head = move_chain_clock(chain_url, seconds)
        except ChainRpcError as exc:
            return bad(f"the dev chain's clock did not move, nothing changed: {exc}", 502)
        extra["chain"] = {"block": head.number, "timestamp": head.timestamp}
    node.clock.advance(seconds)
    return clock_state(node, **extra)


def add_fault(node: Node, req: Request) -> Reply:
    try:
        fault = node.faults.add(req.get_json())
    except FaultSpecError as exc:
        return bad(str(exc))
    return json_reply({"ok": True, "fault": fault.to_dict()}, 201)


def list_faults(node: Node, req: Request) -> Reply:
    return json_reply({"ok": True, "faults": node.faults.list()})


def clear_faults(node: Node, req: Request) -> Reply:
    return json_reply({"ok": True, "cleared": node.faults.clear()})


def remove_fault(node: Node, req: Request) -> Reply:
    raw = req.params["fault_id"]
    if not raw.isdigit() or not node.faults.remove(int(raw)):
        return bad("fault not found", 404)
    return json_reply({"ok": True, "removed": int(raw)})


def scheduler_state(node: Node) -> Reply:
    return json_reply(
        {
            "ok": True,
            **node.scheduler.status(),
            "confirmation_delay_seconds": node.confirmation_delay_seconds,
        }
    )


def get_scheduler(node: Node, req: Request) -> Reply:
    return scheduler_state(node)


def configure_scheduler(node: Node, req: Request) -> Reply:
    data = body_object(req)
    if data is None:
        return bad("JSON object required")
    enabled = data.get("enabled")
    interval = data.get("interval_seconds")
    if enabled is not None and not isinstance(enabled, bool):
        return bad("enabled must be a boolean")
    if interval is not None and (
        isinstance(interval, bool)
        or not isinstance(interval, int | float)
        or not 0.01 <= interval <= 86400
    ):
        return bad("interval_seconds must be a number between 0.01 and 86400")
    try:
        batch = None
        if "batch_limit" in data:
            batch = int_field(data, "batch_limit", 1, node.settings.pending_confirm_max_limit)
        if "confirmation_delay_seconds" in data:
            node.confirmation_delay_seconds = int_field(
                data, "confirmation_delay_seconds", 0, MAX_CONFIRMATION_DELAY_SECONDS
            )
    except ValueError as exc:
        return bad(str(exc))
    node.scheduler.configure(
        enabled=enabled,
        interval_seconds=None if interval is None else float(interval),
        batch_limit=batch,
    )
    return scheduler_state(node)


def tick(node: Node, req: Request) -> Reply:
    """One confirm pass now, with the scheduler's batch (or `{"limit": n}`)."""
    data = body_object(req)
    if data is None:
        return bad("JSON object required")
    limit = node.scheduler.batch_limit
    if "limit" in data:
        try:
            limit = int_field(data, "limit", 1, node.settings.pending_confirm_max_limit)
        except ValueError as exc:
            return bad(str(exc))
    node.scheduler.note_run(result := run_confirm(node, limit))
    return json_reply(result)


def fill_pending(node: Node, req: Request) -> Reply:
    """Bulk synthetic history rows. Balances never move and no `ledger` rows are written, so
    conservation holds and /wallet/tx reports a synthetic `confirmed` row as `pending`, as
    the node does for a confirmed row without its ledger pair."""
    data = body_object(req)
    if data is None:
        return bad("JSON object required")
    try:
        count = int_field(data, "count", 1, MAX_FILL)
        amount = (
            int_field(data, "amount_i64", 1, MAX_FAUCET_I64) if "amount_i64" in data else 1_000_000
        )
    except ValueError as exc:
        return bad(str(exc))
    status = data.get("status", "confirmed")
    sender = data.get("from_miner", HISTORY_SENDER)
    receiver = data.get("to_miner", HISTORY_RECEIVER)
    if status not in FILL_STATUSES:
        return bad(f"status must be one of: {list(FILL_STATUSES)}")
    if not all(isinstance(w, str) and w for w in (sender, receiver)):
        return bad("from_miner and to_miner must be non-empty strings")
    now = node.clock.now()
    epoch = node.current_slot()
    due = now + node.confirmation_delay_seconds if status == "pending" else now
    voided = ("admin", "devnet_history") if status == "voided" else (None, None)
    confirmed_at = now if status == "confirmed" else None
    row = (now, epoch, sender, receiver, amount, status, now, due, *voided, confirmed_at)
    conn = node.store.conn
    conn.executemany(
        "INSERT INTO pending_ledger (ts, epoch, from_miner, to_miner, amount_i64, reason, status, "
        "created_at, confirms_at, voided_by, voided_reason, confirmed_at, tx_hash) "
        "VALUES (?, ?, ?, ?, ?, 'devnet_history', ?, ?, ?, ?, ?, ?, ?)",
        ((*row, secrets.token_hex(16)) for _ in range(count)),
    )
    last = conn.execute("SELECT MAX(id) FROM pending_ledger").fetchone()[0]
    return json_reply(
        {
            "ok": True,
            "inserted": count,
            "status": status,
            "first_id": last - count + 1,
            "last_id": last,
        }
    )


def reset(node: Node, req: Request) -> Reply:
    """Wipe all state: tables, minted supply, clock offset, faults, rate buckets, scheduler."""
    node.store.reset()
    node.clock.reset()
    node.reset_runtime()
    return json_reply({"ok": True})
