"""Body checks of the two transfer endpoints, in the node's order (node/payout_preflight.py).

Each failure is `400 {"error": <code>, "details": {...}}`. Amounts are read as
`Decimal(str(x))` and rounded down to µRTC. Codes beyond the node spec's list (for the
signed endpoint, from the node's code): `fee_must_be_non_negative`,
`invalid_chain_id_format`. A positive fee passes the preflight: the node refuses it only
after the signature check (see `signed_checks.py`).

One deliberate difference: an amount so large that scaling it to µRTC overflows
`Decimal`'s exponent range (`"1e999999"`) would raise inside the node (an HTML 500); the
devnode answers `amount_exceeds_i64`, the node's own code for an amount it cannot hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, Overflow

from otc_bridge.devnet.devnode.wire import Reply, json_reply
from otc_bridge.domain.rustchain import transfer_i64

MAX_I64 = 2**63 - 1
MIN_RTC = 0.000001
RTC_ADDRESS = re.compile(r"RTC[0-9a-fA-F]{40}")
CHAIN_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
SIGNED_REQUIRED = ("from_address", "to_address", "amount_rtc", "nonce", "signature")


class PreflightError(Exception):
    def __init__(self, code: str, details: dict[str, object] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.details = details or {}

    def reply(self) -> Reply:
        return json_reply({"error": self.code, "details": self.details}, 400)


def _decimal(value: object, field: str | None = None) -> Decimal:
    details: dict[str, object] = {} if field is None else {"field": field}
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise PreflightError("amount_not_number", details) from None
    if not amount.is_finite():
        raise PreflightError("amount_not_finite", details)
    return amount


def amount_field(value: object) -> tuple[Decimal, int]:
    amount = _decimal(value)
    if amount <= 0:
        raise PreflightError("amount_must_be_positive")
    try:
        amount_i64 = transfer_i64(amount)
    except Overflow:  # beyond Decimal's exponent range, so far beyond i64 too
        raise PreflightError("amount_exceeds_i64") from None
    if amount_i64 <= 0:
        raise PreflightError(
            "amount_too_small_after_quantization", {"amount_rtc": float(amount), "min_rtc": MIN_RTC}
        )
    if amount_i64 > MAX_I64:
        raise PreflightError("amount_exceeds_i64")
    return amount, amount_i64


def _miner_id(value: object) -> tuple[str, str]:
    """(stripped id, "") or ("", error code)."""
    if value is None or value == "":
        return "", "missing_from_or_to"
    if not isinstance(value, str):
        return "", "invalid_from_or_to_type"
    if not value.strip():
        return "", "missing_from_or_to"
    return value.strip(), ""


@dataclass(frozen=True)
class AdminTransfer:
    from_miner: str
    to_miner: str
    amount: Decimal
    amount_i64: int


def admin_transfer(data: object) -> AdminTransfer:
    if not isinstance(data, dict):
        raise PreflightError("invalid_json_body")
    from_miner, from_err = _miner_id(data.get("from_miner"))
    to_miner, to_err = _miner_id(data.get("to_miner"))
    if from_err or to_err:
        raise PreflightError(from_err or to_err)
    amount, amount_i64 = amount_field(data.get("amount_rtc", 0))
    return AdminTransfer(from_miner, to_miner, amount, amount_i64)


def is_bcn_address(value: str) -> bool:
    return value.startswith("bcn_") and len(value) >= 8


@dataclass(frozen=True)
class SignedTransfer:
    from_address: str
    to_address: str
    amount: Decimal
    amount_i64: int
    fee: Decimal
    nonce: int
    chain_id: str | None


def signed_transfer(data: object) -> SignedTransfer:
    if not isinstance(data, dict):
        raise PreflightError("invalid_json_body")
    missing = [k for k in SIGNED_REQUIRED if k not in data or data.get(k) in (None, "")]
    if missing:
        raise PreflightError("missing_required_fields", {"missing": missing})
    from_address = str(data.get("from_address", "")).strip()
    to_address = str(data.get("to_address", "")).strip()
    amount, amount_i64 = amount_field(data.get("amount_rtc", 0))
    fee = _decimal(data.get("fee_rtc", 0), "fee_rtc")
    if fee < 0:
        raise PreflightError("fee_must_be_non_negative")
    for address, code in (
        (from_address, "invalid_from_address_format"),
        (to_address, "invalid_to_address_format"),
    ):
        if not (RTC_ADDRESS.fullmatch(address) or is_bcn_address(address)):
            raise PreflightError(code)
    if from_address == to_address:
        raise PreflightError("from_to_must_differ")
    if RTC_ADDRESS.fullmatch(from_address) and not data.get("public_key"):
        raise PreflightError("missing_required_fields", {"missing": ["public_key"]})
    try:
        nonce = int(str(data.get("nonce")))
    except (TypeError, ValueError):
        raise PreflightError("nonce_not_int") from None
    if nonce <= 0:
        raise PreflightError("nonce_must_be_gt_zero")
    chain_id = str(data.get("chain_id", "")).strip()
    if chain_id and not CHAIN_ID.fullmatch(chain_id):
        raise PreflightError("invalid_chain_id_format")
    return SignedTransfer(
        from_address, to_address, amount, amount_i64, fee, nonce, chain_id or None
    )
