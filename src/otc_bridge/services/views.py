"""Orders and trades as the wire shows them.

Field names and float views follow the reference bridge so its clients keep working;
exact integers (and the quote total in token base units, as a string) sit beside every
float. Nothing secret is ever in a view: the preimage appears only on a completed order,
and there is no IP fingerprint at all.
"""

from __future__ import annotations

from typing import Any

from otc_bridge.adapters.store.queries import Trade
from otc_bridge.domain.money import RTC_DECIMALS, units_to_float
from otc_bridge.domain.order import Order
from otc_bridge.domain.pairs import PAIRS
from otc_bridge.domain.states import Status

NANO_DECIMALS = 9


def money_fields(amount_micro: int, price_nano: int, total_nano: int) -> dict[str, Any]:
    return {
        "amount_micro_rtc": amount_micro,
        "amount_rtc": units_to_float(amount_micro, RTC_DECIMALS),
        "price_per_rtc_nano_quote": price_nano,
        "price_per_rtc": units_to_float(price_nano, NANO_DECIMALS),
        "total_quote_nano": total_nano,
        "total_quote": units_to_float(total_nano, NANO_DECIMALS),
    }


def order_summary(order: Order) -> dict[str, Any]:
    """The `GET /api/orders` row (the reference's columns plus the quote base units)."""
    return {
        "order_id": order.order_id,
        "side": order.side,
        "pair": order.pair,
        "maker_wallet": order.maker_wallet,
        **money_fields(
            order.amount_micro_rtc, order.price_per_rtc_nano_quote, order.total_quote_nano
        ),
        "total_quote_base_units": str(order.total_quote_base),
        "quote_currency": PAIRS[order.pair].quote_currency,
        "status": order.status.value,
        "htlc_hash": order.htlc_hash,
        "created_at": order.created_at,
        "expires_at": order.expires_at,
        "escrow_job_id": order.escrow_job.job_id if order.escrow_job else None,
    }


def deadlines(order: Order) -> dict[str, int | None]:
    job = order.escrow_job
    return {
        "expires_at": order.expires_at,
        "match_deadline": order.match.deadline if order.match else None,
        "quote_timelock": order.quote_timelock,
        "claim_deadline": order.claim_deadline,
        "refundable_at": order.refundable_at,
        "escrow_expires_at": job.expires_at if job else None,
        "next_action_at": order.next_action_at,
    }


def order_detail(order: Order) -> dict[str, Any]:
    """The `GET /api/orders/{id}` body's `order`."""
    view = order_summary(order)
    escrow, job, payout = order.escrow, order.escrow_job, order.payout
    view.update(
        {
            "quote_decimals": PAIRS[order.pair].decimals,
            "maker_eth_address": order.maker_eth_address or None,
            "taker_wallet": order.taker_wallet,
            "taker_eth_address": order.taker_eth_address or None,
            "secret_origin": order.hashlock.origin.value if order.hashlock else None,
            "escrow_poster": escrow.poster if escrow else None,
            "escrow_expires_at": job.expires_at if job else None,
            "settlement_tx": order.reveal.quote_tx if order.reveal else None,
            "created_at": order.created_at,
            "matched_at": order.match.matched_at if order.match else None,
            "settling_at": order.reveal.at if order.reveal else None,
            "completed_at": order.completed_at,
            "closed_at": order.closed_at,
            "payout_tx_hash": payout.tx_hash if payout else None,
            "payout_pending_id": payout.pending_id if payout else None,
            "deadlines": deadlines(order),
            "quote_lock": quote_lock_view(order),
            "version": order.version,
        }
    )
    preimage = order.hashlock.preimage if order.hashlock else None
    if order.status is Status.COMPLETED and preimage:
        view["htlc_secret"] = preimage
    return view


def quote_lock_view(order: Order) -> dict[str, Any] | None:
    lock = order.quote_lock
    if lock is None:
        return None
    return {
        "lock_id": lock.lock_id,
        "tx_hash": lock.tx_hash,
        "block_number": lock.block_number,
        "block_hash": lock.block_hash,
        "amount": str(lock.amount),
        "timelock": lock.timelock,
        "sender": lock.sender,
        "receiver": lock.receiver,
        "verified_at": lock.verified_at,
    }


def trade_view(row: Trade) -> dict[str, Any]:
    return {
        "trade_id": row.trade_id,
        "order_id": row.order_id,
        "pair": row.pair,
        "side": row.side,
        "maker_wallet": row.maker_wallet,
        "taker_wallet": row.taker_wallet,
        **money_fields(row.amount_micro_rtc, row.price_per_rtc_nano_quote, row.total_quote_nano),
        "total_quote_base_units": str(row.total_quote_base),
        "quote_tx": row.quote_tx,
        "rtc_tx": row.rtc_tx,
        "completed_at": row.completed_at,
    }
