"""Reading an order's JSON (`GET /api/orders/{id}`) from one party's side, and showing it.

The RTC seller (S) is the maker of a sell order and the taker of a buy order; the RTC
buyer (B) the other one. S's quote address receives the lock; B's sends it (and gets the
refund).
"""

from __future__ import annotations

from typing import Any

from otc_bridge.trader_cli.words import when

TERMINAL = frozenset({"completed", "cancelled", "expired"})
DEADLINE_NAMES = (
    ("expires_at", "order expires"),
    ("match_deadline", "lock by (match deadline)"),
    ("quote_timelock", "quote timelock (T_q)"),
    ("claim_deadline", "reveal by (claim deadline)"),
    ("refundable_at", "seller refundable at"),
    ("escrow_expires_at", "RTC escrow expires"),
)


def is_sell(order: dict[str, Any]) -> bool:
    return order.get("side") == "sell"


def rtc_seller(order: dict[str, Any]) -> str | None:
    found = order.get("maker_wallet") if is_sell(order) else order.get("taker_wallet")
    return str(found) if found else None


def rtc_buyer(order: dict[str, Any]) -> str | None:
    found = order.get("taker_wallet") if is_sell(order) else order.get("maker_wallet")
    return str(found) if found else None


def seller_quote_address(order: dict[str, Any]) -> str | None:
    found = order.get("maker_eth_address") if is_sell(order) else order.get("taker_eth_address")
    return str(found) if found else None


def buyer_quote_address(order: dict[str, Any]) -> str | None:
    found = order.get("taker_eth_address") if is_sell(order) else order.get("maker_eth_address")
    return str(found) if found else None


def role_of(order: dict[str, Any], wallet: str | None) -> str | None:
    """ "rtc_seller", "rtc_buyer" or None (not a party, or no key)."""
    if wallet is None:
        return None
    if wallet == rtc_seller(order):
        return "rtc_seller"
    if wallet == rtc_buyer(order):
        return "rtc_buyer"
    return None


def lock_of(order: dict[str, Any]) -> dict[str, Any] | None:
    found = order.get("quote_lock")
    return found if isinstance(found, dict) and found.get("lock_id") else None


def action_line(order: dict[str, Any], role: str | None, now: int) -> list[str]:
    actions = order.get("next_actions") or {}
    roles = [role] if role else ["rtc_seller", "rtc_buyer"]
    lines = []
    for name in roles:
        action = actions.get(name)
        if not isinstance(action, dict):
            continue
        who = "you" if role else ("seller" if name == "rtc_seller" else "buyer")
        by = f" (by {when(action['deadline'], now)})" if action.get("deadline") else ""
        if action.get("code") == "refund_quote" and action.get("deadline"):
            by = f" (from {when(action['deadline'], now)})"
        lines.append(f"next ({who}): {action.get('label')} [{action.get('code')}]{by}")
    return lines


def describe(order: dict[str, Any], role: str | None, now: int) -> list[str]:
    lines = [
        f"order   {order['order_id']}  {order['side']} {order['amount_rtc']} RTC at "
        f"{order['price_per_rtc']} {order.get('quote_currency', '')} ({order['pair']})",
        f"status  {order['status']}",
        f"total   {order['total_quote']} {order.get('quote_currency', '')} "
        f"({order['total_quote_base_units']} base units)",
        f"seller  {rtc_seller(order) or '—'}  quote address {seller_quote_address(order) or '—'}",
        f"buyer   {rtc_buyer(order) or '—'}  quote address {buyer_quote_address(order) or '—'}",
    ]
    if role:
        lines.append(f"you are the {'RTC seller' if role == 'rtc_seller' else 'RTC buyer'}")
    if order.get("htlc_hash"):
        lines.append(f"hashlock {order['htlc_hash']}")
    lock = lock_of(order)
    if lock:
        lines.append(f"quote lock {lock['lock_id']} (tx {lock.get('tx_hash')})")
    deadlines = order.get("deadlines") or {}
    for key, label in DEADLINE_NAMES:
        if deadlines.get(key):
            lines.append(f"  {label:28} {when(deadlines[key], now)}")
    lines.extend(action_line(order, role, now))
    return lines
