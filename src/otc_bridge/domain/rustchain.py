"""The RustChain node's own formulas, reproduced exactly.

These are facts about the node (see the node spec): the two rounding rules, the RIP-302
fee, the deterministic transfer hash and the self-certifying address. The devnode uses
them to behave like the node; the node adapter uses them to predict what the node will
book, so that the bridge can hold integer µRTC and still send what the node expects.
"""

from __future__ import annotations

import hashlib
import json
import math
from decimal import ROUND_DOWN, Decimal

ESCROW_WALLET = "agent_escrow"
FEE_WALLET = "founder_community"
WORKER_WALLET = "otc_bridge_worker"
BUILTIN_WALLETS = (ESCROW_WALLET, FEE_WALLET, WORKER_WALLET)

PLATFORM_FEE_RATE = 0.05
MIN_REWARD_RTC = 0.01
MAX_REWARD_RTC = 10_000
MAX_REWARD_MICRO = 10_000_000_000
MAX_ACTIVE_JOBS_PER_AGENT = 20
JOB_TTL_DEFAULT = 7 * 86400
JOB_TTL_MIN = 3600
JOB_TTL_MAX = 30 * 86400


def job_reward_i64(reward_rtc: float) -> int:
    """RIP-302's rule: a float multiply, then truncation (2.01 → 2009999)."""
    return int(float(reward_rtc) * 1000000)


def job_fee_i64(reward_i64: int) -> int:
    return int(reward_i64 * PLATFORM_FEE_RATE)


def job_escrow_i64(reward_i64: int) -> int:
    """What the poster pays: the reward plus the 5 % platform fee on top."""
    return reward_i64 + job_fee_i64(reward_i64)


def job_reward_wire(reward_i64: int) -> float:
    """The `reward_rtc` number to send so that the node books exactly `reward_i64`.

    `reward_i64 / 1e6` is the nearest float to the decimal amount, but the node's
    `int(x * 1e6)` may land 1 µRTC low on it. The next float up (at most a few ulps away)
    books the intended amount and still prints as the same decimal to 15 digits.
    """
    candidate = reward_i64 / 1e6
    for _ in range(16):
        if job_reward_i64(candidate) == reward_i64:
            return candidate
        candidate = math.nextafter(candidate, math.inf)
    raise ValueError(f"no float books exactly {reward_i64} µRTC")  # pragma: no cover


def transfer_i64(amount_rtc: object) -> int:
    """The transfer endpoints' rule: `Decimal(str(x))` scaled to µRTC, rounded down."""
    scaled = Decimal(str(amount_rtc)) * 1000000
    return int(scaled.to_integral_value(rounding=ROUND_DOWN))


def idempotent_tx_hash(idempotency_key: str) -> str:
    """`/wallet/transfer`'s tx_hash for a keyed transfer, computable offline."""
    digest = hashlib.sha256(f"wallet_transfer_idempotency:{idempotency_key}".encode())
    return digest.hexdigest()[:32]


def address_from_pubkey(public_key: bytes) -> str:
    """Self-certifying wallet id: 'RTC' + first 40 lower-case hex of sha256(pubkey)."""
    return "RTC" + hashlib.sha256(public_key).hexdigest()[:40]


def signed_transfer_message(
    *,
    from_address: str,
    to_address: str,
    amount_rtc: float,
    fee_rtc: float,
    memo: str,
    nonce: int | str,
    chain_id: str | None,
    legacy: bool = False,
) -> bytes:
    """Canonical bytes a wallet signs for `/wallet/transfer/signed`.

    Amounts are Python floats (1 → 1.0) and the nonce is a string, exactly as the node
    rebuilds the message; `chain_id` is present only when the client sent it. The legacy
    form (no `fee` key) is what older wallets sign; the node accepts it only for fee 0.
    """
    payload: dict[str, object] = {
        "amount": float(amount_rtc),
        "fee": float(fee_rtc),
        "from": from_address,
        "memo": memo,
        "nonce": str(nonce),
        "to": to_address,
    }
    if legacy:
        del payload["fee"]
    if chain_id is not None:
        payload["chain_id"] = chain_id
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def signed_transfer_tx_hash(message: bytes, signature: bytes) -> str:
    return hashlib.sha256(message + signature).hexdigest()[:32]
