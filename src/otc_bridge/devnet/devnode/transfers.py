"""`GET /wallet/balance`, `POST /wallet/transfer` (admin, two-phase) and `GET /wallet/tx/<h>`.

Choices where the node spec gives no exact rule:
* `/wallet/balance` checks each given id's format first, then that both agree, then that
  one was given; an empty value counts as not given.
* a replay's `confirms_in_hours` is the configured delay in hours, as on a first call.
* `/wallet/tx` answers `confirmations: 0, block_height: null` unless confirmed; its 400
  body is `{"ok": false, "error": ...}`.
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import TYPE_CHECKING

from otc_bridge.devnet.devnode.admin import admin_gate
from otc_bridge.devnet.devnode.preflight import AdminTransfer, PreflightError, admin_transfer
from otc_bridge.devnet.devnode.wire import Reply, Request, json_reply
from otc_bridge.domain.rustchain import idempotent_tx_hash

if TYPE_CHECKING:
    from otc_bridge.devnet.devnode.node import Node

WALLET_ID = re.compile(r"[A-Za-z0-9._:-]{1,80}")
IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._:-]{1,128}")
TX_HASH = re.compile(r"[0-9a-fA-F]{32}")
TRANSFER_UNAUTHORIZED: dict[str, object] = {
    "error": "Unauthorized - admin key required",
    "hint": "Use /wallet/transfer/signed for user transfers",
}


def bad_request(error: str) -> Reply:
    return json_reply({"ok": False, "error": error}, 400)


def balance(node: Node, req: Request) -> Reply:
    miner_id = req.arg("miner_id") or ""
    address = req.arg("address") or ""
    if any(value and not WALLET_ID.fullmatch(value) for value in (miner_id, address)):
        return bad_request("invalid miner_id")
    if miner_id and address and miner_id != address:
        return bad_request("miner_id and address must match when both are provided")
    wallet = miner_id or address
    if not wallet:
        return bad_request("miner_id or address required")
    amount = node.store.balance(wallet)
    # The settled balance only; success has no "ok" field.
    return json_reply({"miner_id": wallet, "amount_i64": amount, "amount_rtc": amount / 1000000})


def idempotency_key(data: dict[str, object]) -> str | None:
    """The stripped key; None when absent (`null` and "" count as absent)."""
    raw = data.get("idempotency_key")
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or not IDEMPOTENCY_KEY.fullmatch(raw.strip()):
        raise ValueError("invalid_idempotency_key")
    return raw.strip()


def random_tx_hash(transfer: AdminTransfer, now: int) -> str:
    nonce = os.urandom(8).hex()
    seed = f"{transfer.from_miner}:{transfer.to_miner}:{transfer.amount_i64}:{now}:{nonce}"
    return hashlib.sha256(seed.encode()).hexdigest()[:32]


def refuse_if_short(node: Node, wallet: str, amount_i64: int, requested_rtc: float) -> Reply | None:
    """The node's 400 when balance minus pending debits cannot cover a transfer, else None."""
    settled = node.store.balance(wallet)
    debits = node.store.pending_debits(wallet)
    if settled - debits >= amount_i64:
        return None
    return json_reply(
        {
            "error": "Insufficient available balance",
            "balance_rtc": settled / 1000000,
            "pending_debits_rtc": debits / 1000000,
            "available_rtc": (settled - debits) / 1000000,
            "requested_rtc": requested_rtc,
        },
        400,
    )


def pending_message(delay_seconds: int) -> str:
    return f"Transfer pending. Will confirm in {delay_seconds // 3600} hours unless voided."


def transfer(node: Node, req: Request) -> Reply:
    denied = admin_gate(node, req, TRANSFER_UNAUTHORIZED)
    if denied is not None:
        return denied
    data = req.get_json()
    try:
        checked = admin_transfer(data)
    except PreflightError as exc:
        return exc.reply()
    assert isinstance(data, dict)
    try:
        key = idempotency_key(data)
    except ValueError:
        return json_reply({"error": "invalid_idempotency_key"}, 400)
    reason = str(data.get("reason", "admin_transfer"))
    amount_rtc = float(checked.amount)  # responses echo the request's amount
    delay = node.confirmation_delay_seconds
    now = node.clock.now()
    tx_hash = idempotent_tx_hash(key) if key else random_tx_hash(checked, now)
    if key:
        row = node.store.pending_by_hash(tx_hash)
        if row is not None:
            same = (row["from_miner"], row["to_miner"], row["amount_i64"], row["reason"]) == (
                checked.from_miner,
                checked.to_miner,
                checked.amount_i64,
                reason,
            )
            if not same:
                return json_reply({"error": "idempotency_key_conflict", "tx_hash": tx_hash}, 409)
            # Replays report the row's current status, `voided` included, and never re-queue.
            return json_reply(
                {
                    "ok": True,
                    "phase": row["status"],
                    "pending_id": row["id"],
                    "tx_hash": tx_hash,
                    "from_miner": checked.from_miner,
                    "to_miner": checked.to_miner,
                    "amount_rtc": amount_rtc,
                    "confirms_at": row["confirms_at"],
                    "confirms_in_hours": delay / 3600,
                    "message": "Transfer already pending for idempotency key.",
                }
            )
    refused = refuse_if_short(node, checked.from_miner, checked.amount_i64, amount_rtc)
    if refused is not None:
        return refused
    confirms_at = now + delay
    pending_id = node.store.queue_transfer(
        now=now,
        epoch=node.current_slot(),
        from_miner=checked.from_miner,
        to_miner=checked.to_miner,
        amount_i64=checked.amount_i64,
        reason=reason,
        confirms_at=confirms_at,
        tx_hash=tx_hash,
    )
    reply = json_reply(
        {
            "ok": True,
            "phase": "pending",  # never "confirmed" on a first call, even with delay 0
            "pending_id": pending_id,
            "tx_hash": tx_hash,
            "from_miner": checked.from_miner,
            "to_miner": checked.to_miner,
            "amount_rtc": amount_rtc,
            "confirms_at": confirms_at,
            "confirms_in_hours": delay / 3600,
            "message": pending_message(delay),
        }
    )
    return Reply(reply.status, reply.body, created_pending_id=pending_id)


def tx_status(node: Node, req: Request) -> Reply:
    raw = req.params["tx_hash"]
    if not TX_HASH.fullmatch(raw):
        return bad_request("tx_hash must be exactly 32 hexadecimal characters")
    tx_hash = raw.lower()
    row = node.store.pending_by_hash(tx_hash)
    if row is None:
        return json_reply(
            {
                "ok": False,
                "tx_hash": tx_hash,
                "status": "not_found",
                "error": "transaction_not_found",
            },
            404,
        )
    status, confirmations, height = "pending", 0, None
    if row["status"] == "voided":
        status = "failed"
    elif row["status"] == "confirmed" and ledger_matches(
        node, row["from_miner"], row["to_miner"], row["amount_i64"], tx_hash
    ):
        status, confirmations, height = "confirmed", 1, row["epoch"]
    return json_reply(
        {
            "ok": True,
            "tx_hash": tx_hash,
            "status": status,
            "confirmations": confirmations,
            "block_height": height,
        }
    )


def ledger_matches(node: Node, sender: str, receiver: str, amount: int, tx_hash: str) -> bool:
    """Both ledger rows of a confirmed transfer exist with the right wallets and deltas."""
    rows = node.store.conn.execute(
        "SELECT miner_id, delta_i64, reason FROM ledger WHERE reason IN (?, ?)",
        (f"transfer_out:{receiver}:{tx_hash}", f"transfer_in:{sender}:{tx_hash}"),
    ).fetchall()
    found = {(r["miner_id"], r["delta_i64"], r["reason"].split(":", 1)[0]) for r in rows}
    return found == {(sender, -amount, "transfer_out"), (receiver, amount, "transfer_in")}
