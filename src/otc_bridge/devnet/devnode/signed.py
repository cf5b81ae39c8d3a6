"""`POST /wallet/transfer/signed`: Ed25519-signed user transfers into the same pending pool.

Order of checks: body preflight (see `preflight.py`), `chain_id`, sender key/address,
signature, nonce replay, nonce order, available balance. A nonce is consumed only when
the transfer is queued.

Error bodies the node spec does not spell out, taken from the node's code or chosen here:
* `400 {"error": "chain_id does not match active network", "expected_chain_id", "got_chain_id"}`
* `400 {"error": "Public key does not match from_address", "expected", "got"}`
* `401 {"error": "Invalid signature"}` (also for non-hex or wrong-length signatures/keys)
* `400 {"error": "Nonce already used (replay attack detected)", "code": "REPLAY_DETECTED", "nonce"}`
* `400 {"error": "Nonce must be greater than the latest nonce for this wallet",
  "code": "OUT_OF_ORDER_NONCE", "nonce", "latest_nonce"}` (chosen here)
* `404 {"error": "Beacon ID not registered in Atlas: beacon_id_not_registered", "hint"}` for a
  `bcn_…` sender: the devnode has no Beacon Atlas, so no beacon wallet can spend.
* a `public_key` that is not hex makes the node's address derivation raise: HTML 500.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from otc_bridge.devnet.devnode.preflight import (
    PreflightError,
    SignedTransfer,
    is_bcn_address,
    signed_transfer,
)
from otc_bridge.devnet.devnode.transfers import pending_message, refuse_if_short
from otc_bridge.devnet.devnode.wire import Reply, Request, json_reply
from otc_bridge.domain.rustchain import (
    address_from_pubkey,
    signed_transfer_message,
    signed_transfer_tx_hash,
)

if TYPE_CHECKING:
    from otc_bridge.devnet.devnode.node import Node


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def transfer_signed(node: Node, req: Request) -> Reply:
    data = req.get_json()
    try:
        checked = signed_transfer(data)
    except PreflightError as exc:
        return exc.reply()
    assert isinstance(data, dict)
    chain_id = checked.chain_id
    expected_chain = node.settings.chain_id
    if chain_id and chain_id != expected_chain:
        return json_reply(
            {
                "error": "chain_id does not match active network",
                "expected_chain_id": expected_chain,
                "got_chain_id": chain_id,
            },
            400,
        )
    sender, receiver = checked.from_address, checked.to_address
    if is_bcn_address(sender):
        return json_reply(
            {
                "error": "Beacon ID not registered in Atlas: beacon_id_not_registered",
                "hint": "Register your agent first: beacon atlas register",
            },
            404,
        )
    public_key = bytes.fromhex(str(data.get("public_key", "")).strip())  # non-hex: HTML 500
    expected_address = address_from_pubkey(public_key)
    if sender != expected_address:
        return json_reply(
            {
                "error": "Public key does not match from_address",
                "expected": expected_address,
                "got": sender,
            },
            400,
        )
    memo = str(data.get("memo", ""))
    try:
        signature = bytes.fromhex(str(data.get("signature", "")).strip())
    except ValueError:
        return json_reply({"error": "Invalid signature"}, 401)
    # The node rebuilds the message with Python floats (1 → 1.0) and a string nonce. The
    # legacy form without "fee" is accepted only for a zero fee, which preflight enforces.
    message = b""
    for legacy in (False, True):
        candidate = signed_transfer_message(
            from_address=sender,
            to_address=receiver,
            amount_rtc=float(checked.amount),
            fee_rtc=float(checked.fee),
            memo=memo,
            nonce=checked.nonce,
            chain_id=chain_id,
            legacy=legacy,
        )
        if verify(public_key, candidate, signature):
            message = candidate
            break
    if not message:
        return json_reply({"error": "Invalid signature"}, 401)
    return queue_signed(node, checked, memo, signed_transfer_tx_hash(message, signature))


def queue_signed(node: Node, checked: SignedTransfer, memo: str, tx_hash: str) -> Reply:
    """Nonce checks, balance check, then the pending row; the nonce is spent only here."""
    conn = node.store.conn
    sender, nonce, amount_i64 = checked.from_address, checked.nonce, checked.amount_i64
    amount_rtc = float(checked.amount)
    used = conn.execute(
        "SELECT 1 FROM transfer_nonces WHERE from_address = ? AND nonce = ?", (sender, nonce)
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
        "SELECT MAX(nonce) FROM transfer_nonces WHERE from_address = ?", (sender,)
    ).fetchone()[0]
    if latest is not None and nonce <= latest:
        return json_reply(
            {
                "error": "Nonce must be greater than the latest nonce for this wallet",
                "code": "OUT_OF_ORDER_NONCE",
                "nonce": str(nonce),
                "latest_nonce": latest,
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
        (sender, nonce, now),
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
