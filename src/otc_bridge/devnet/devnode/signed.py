"""`POST /wallet/transfer/signed`: Ed25519-signed user transfers into the same pending pool.

Order of checks: body preflight (`preflight.py`), then the credential, chain, key,
signature and fee checks (`signed_checks.py`), then nonce replay, nonce order and the
available balance (here). A nonce is consumed only when the transfer is queued.

Nonces are kept as decimal strings (the node's `transfer_nonces.nonce` is TEXT), so any
nonce Python can parse is stored. "Latest" is `MAX(CAST(nonce AS INTEGER))`, the query the
node's transfer code uses; SQLite caps a nonce beyond its integer range at 2^63 - 1 there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from otc_bridge.devnet.devnode.preflight import PreflightError, SignedTransfer, signed_transfer
from otc_bridge.devnet.devnode.signed_checks import (
    Refused,
    check_chain,
    check_signature,
    credential_strings,
    sender_key,
)
from otc_bridge.devnet.devnode.transfers import pending_message, refuse_if_short
from otc_bridge.devnet.devnode.wire import Reply, Request, json_reply
from otc_bridge.domain.rustchain import signed_transfer_tx_hash

if TYPE_CHECKING:
    from otc_bridge.devnet.devnode.node import Node


def transfer_signed(node: Node, req: Request) -> Reply:
    data = req.get_json()
    try:
        checked = signed_transfer(data)
    except PreflightError as exc:
        return exc.reply()
    assert isinstance(data, dict)
    try:
        signature_hex, public_key_hex = credential_strings(data)
        check_chain(checked.chain_id, node.settings.chain_id)
        public_key = sender_key(checked.from_address, public_key_hex)
        memo = str(data.get("memo", ""))
        message, signature = check_signature(checked, memo, public_key, signature_hex)
    except Refused as refused:
        return refused.reply
    return queue_signed(node, checked, memo, signed_transfer_tx_hash(message, signature))


def queue_signed(node: Node, checked: SignedTransfer, memo: str, tx_hash: str) -> Reply:
    """Nonce checks, balance check, then the pending row; the nonce is spent only here."""
    conn = node.store.conn
    sender, nonce, amount_i64 = checked.from_address, checked.nonce, checked.amount_i64
    amount_rtc = float(checked.amount)
    used = conn.execute(
        "SELECT 1 FROM transfer_nonces WHERE from_address = ? AND nonce = ?", (sender, str(nonce))
    ).fetchone()
    if used is not None:
        return json_reply(
            {
                "error": "Nonce already used (replay attack detected)",
                "code": "REPLAY_DETECTED",
                "nonce": str(nonce),
            },
            400,
        )
    latest = conn.execute(
        "SELECT MAX(CAST(nonce AS INTEGER)) FROM transfer_nonces WHERE from_address = ?",
        (sender,),
    ).fetchone()[0]
    if latest is not None and nonce <= int(latest):
        return json_reply(
            {
                "error": "Signed transfer nonce must increase for this wallet",
                "code": "OUT_OF_ORDER_NONCE",
                "nonce": str(nonce),
                "latest_nonce": int(latest),
            },
            400,
        )
    refused = refuse_if_short(node, sender, amount_i64, amount_rtc)
    if refused is not None:
        return refused
    now = node.clock.now()
    delay = node.confirmation_delay_seconds
    conn.execute(
        "INSERT INTO transfer_nonces (from_address, nonce, used_at) VALUES (?, ?, ?)",
        (sender, str(nonce), now),
    )
    pending_id = node.store.queue_transfer(
        now=now,
        epoch=node.current_slot(),
        from_miner=sender,
        to_miner=checked.to_address,
        amount_i64=amount_i64,
        reason=f"signed_transfer:{memo[:80]}",
        confirms_at=now + delay,
        tx_hash=tx_hash,
    )
    reply = json_reply(
        {
            "ok": True,
            "verified": True,
            "signature_type": "Ed25519",
            "replay_protected": True,
            "phase": "pending",
            "pending_id": pending_id,
            "tx_hash": tx_hash,
            "from_address": sender,
            "to_address": checked.to_address,
            "amount_rtc": amount_rtc,
            "chain_id": checked.chain_id or node.settings.chain_id,
            "confirms_at": now + delay,
            "confirms_in_hours": delay / 3600,
            "message": pending_message(delay),
        }
    )
    return Reply(reply.status, reply.body, created_pending_id=pending_id)
