"""The bridge's answers and the order's times, in plain words for a person at a terminal."""

from __future__ import annotations

import time
from typing import Any

# What a code means for the trader, where the bridge's own message is not enough on its
# own (the message, with observed and expected values, is always shown too).
MEANINGS: dict[str, str] = {
    "order_not_matched": "the order is not waiting for a quote lock",
    "lock_already_used": "that lock already backs another order",
    "not_final": "the lock is not final yet; it counts once enough blocks follow it",
    "chain_unreachable": "the bridge cannot reach the quote chain right now",
    "claim_deadline_passed": "too late to reveal through the bridge; claim on-chain",
    "quote_locked": "the quote is locked on-chain, so the order cannot be cancelled",
    "pair_disabled": "this pair cannot be traded on this bridge",
    "missing_quote_address": "a quote-chain address is needed",
    "invalid_quote_address": "that quote-chain address is not valid",
    "wallet_auth_invalid_signature": "the signature does not match",
    "wallet_auth_timestamp_expired": "the signature's time is too far from the bridge's",
}


def refusal_words(status: int, body: dict[str, Any], retry_after: str | None) -> list[str]:
    code = str(body.get("error", f"HTTP {status}"))
    message = body.get("message") or body.get("reason") or body.get("details")
    first = f"the bridge refused ({status} {code})"
    meaning = MEANINGS.get(code)
    if meaning:
        first += f": {meaning}"
    lines = [first]
    if message and message != code:
        lines.append(str(message))
    if body.get("hint"):
        lines.append(f"hint: {body['hint']}")
    if retry_after:
        lines.append(f"try again in {retry_after} s")
    return lines


def when(ts: int | None, now: int | None = None) -> str:
    """'2026-12-03 10:15:00 UTC (in 1h 5m)', or '—'."""
    if ts is None:
        return "—"
    text = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts))
    if now is None:
        return text
    delta = ts - now
    span = _span(abs(delta))
    return f"{text} ({'in ' + span if delta >= 0 else span + ' ago'})"


def _span(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def format_units(amount: int, decimals: int) -> str:
    """Base units as a decimal string without float rounding ("0.1", "12")."""
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), 10**decimals)
    text = str(whole)
    if decimals and frac:
        text += "." + str(frac).rjust(decimals, "0").rstrip("0")
    return sign + text
