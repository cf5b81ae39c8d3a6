"""Every success reply's body, built from what the use cases answer.

Field names, float views and messages follow the reference bridge so its clients keep
working; each body is published in `/openapi.json` by the model of the same name in
`api.schemas`, and the contract test checks every reply against it.
"""

from __future__ import annotations

from typing import Any

from otc_bridge.domain.money import RTC_DECIMALS, micro_to_rtc_float, units_to_float
from otc_bridge.domain.order import Order, trade_id
from otc_bridge.domain.pairs import PAIRS
from otc_bridge.domain.states import Status
from otc_bridge.services.results import (
    Book,
    Cancelled,
    Confirmed,
    Created,
    History,
    MarketSnapshot,
    Matched,
    OrderPage,
    RegisteredWebhook,
    Stats,
    Trades,
    WalletWebhooks,
)
from otc_bridge.services.views import (
    NANO_DECIMALS,
    deadlines,
    money_fields,
    order_detail,
    order_summary,
    trade_view,
)
from otc_bridge.settlement.quote_chains import ChainStatus

REFERENCE_RATE_USD = 0.10


def _nano(value: int) -> float:
    return units_to_float(value, NANO_DECIMALS)


def _rtc(value: int) -> float:
    return units_to_float(value, RTC_DECIMALS)


# ---------------------------------------------------------------------- writes


def created(result: Created) -> dict[str, Any]:
    order = result.order
    amount = micro_to_rtc_float(order.amount_micro_rtc)
    body: dict[str, Any] = {
        "ok": True,
        "order_id": order.order_id,
        "side": order.side,
        "pair": order.pair,
        **money_fields(
            order.amount_micro_rtc, order.price_per_rtc_nano_quote, order.total_quote_nano
        ),
        "total_quote_base_units": str(order.total_quote_base),
        "quote_currency": PAIRS[order.pair].quote_currency,
        "status": order.status.value,
        "expires_at": order.expires_at,
        "expires_in_hours": round(order.ttl_seconds / 3600, 1),
        "deadlines": deadlines(order),
    }
    if order.htlc_hash:
        body["htlc_hash"] = order.htlc_hash
    if result.server_secret:
        # Returned once, to the RTC seller who signed this request; never again before
        # completion. Clients that send their own htlc_hash never get one.
        body["htlc_secret"] = result.server_secret
    job = order.escrow_job
    if job is not None:
        body["escrow_job_id"] = job.job_id
        body["escrow_status"] = "locked"
        body["message"] = (
            f"Sell order created. {amount} RTC locked in escrow. "
            "HTLC hash published for buyer verification."
        )
    else:
        body["message"] = "Buy order created. Waiting for a seller to match."
    return body


def matched(result: Matched) -> dict[str, Any]:
    order = result.order
    quote = PAIRS[order.pair].quote_currency
    total = money_fields(
        order.amount_micro_rtc, order.price_per_rtc_nano_quote, order.total_quote_nano
    )
    job = order.escrow_job
    deadline = order.match.deadline if order.match else None
    body: dict[str, Any] = {
        "ok": True,
        "order_id": order.order_id,
        "status": order.status.value,
        "side": order.side,
        "pair": order.pair,
        "amount_rtc": total["amount_rtc"],
        "price_per_rtc": total["price_per_rtc"],
        "total_quote": total["total_quote"],
        "total_quote_base_units": str(order.total_quote_base),
        "maker_wallet": order.maker_wallet,
        "taker_wallet": order.taker_wallet,
        "htlc_hash": order.htlc_hash,
        "escrow_job_id": job.job_id if job else None,
        "seller_quote_address": (
            order.maker_eth_address if order.is_sell else order.taker_eth_address
        ),
        "buyer_refund_address": (
            order.taker_eth_address if order.is_sell else order.maker_eth_address
        ),
        "deadlines": deadlines(order),
    }
    if result.server_secret:
        body["htlc_secret"] = result.server_secret  # once, to the RTC seller who matched
    amount = f"{total['total_quote']} {quote}"
    body["settlement_instructions"] = {
        "step": "Buyer locks the quote currency in the HTLC contract",
        "amount": total["total_quote"],
        "amount_base_units": str(order.total_quote_base),
        "currency": quote,
        "htlc_hash": order.htlc_hash,
        "lock_deadline": deadline,
        "note": (
            f"The RTC buyer locks {amount} in the pair's HTLC contract (GET /api/pairs) "
            f"with hashlock htlc_hash, receiver the seller's quote address, from "
            f"buyer_refund_address, mined before lock_deadline, then reports it: "
            f"POST /api/orders/{order.order_id}/lock. Once it is verified (quote_locked) "
            f"the RTC seller reveals the preimage (confirm, or a claim on-chain) and the "
            f"escrowed RTC is paid to the buyer."
        ),
    }
    return body


def cancelled(result: Cancelled) -> dict[str, Any]:
    final = result.order
    refunded = final.status is Status.CANCELLED
    return {
        "ok": True,
        "order_id": final.order_id,
        "status": final.status.value,
        "escrow_refunded": refunded if result.held_escrow else True,
        "message": (
            "Order cancelled. Escrow refunded."
            if refunded
            else "Order cancel accepted; escrow refund is pending and will be "
            "retried automatically by settlement reconciliation."
        ),
    }


def _transfer_status(order: Order) -> str:
    status = order.status
    if status is Status.COMPLETED:
        return "confirmed"
    if status is Status.PAYOUT_PENDING:
        return "pending"
    if status is Status.SETTLEMENT_RECOVERY:
        return "manual_recovery_required"
    return "queued" if order.payout else "not_started"


def confirmed(result: Confirmed) -> dict[str, Any]:
    order = result.order
    status = order.status
    completed = status is Status.COMPLETED
    amount = micro_to_rtc_float(order.amount_micro_rtc)
    messages = {
        Status.COMPLETED: f"Trade completed. {amount} RTC payout to {order.rtc_buyer} "
        "confirmed. HTLC secret verified and revealed.",
        Status.PAYOUT_PENDING: f"Escrow released; {amount} RTC payout to {order.rtc_buyer} "
        "is queued and pending confirmation. The HTLC secret is withheld until the payout "
        f"confirms; poll GET /api/orders/{order.order_id} for completion.",
        Status.SETTLEMENT_RECOVERY: "Settlement needs an operator; they were alerted. "
        "This order is not retryable as a fresh confirm.",
    }
    payout = order.payout
    body: dict[str, Any] = {
        "ok": completed,
        "order_id": order.order_id,
        "status": status.value,
        "amount_rtc": amount,
        "rtc_recipient": order.rtc_buyer,
        "rtc_transfer_status": _transfer_status(order),
        "rtc_transfer_pending_id": payout.pending_id if payout else None,
        "rtc_transfer_tx_hash": payout.tx_hash if payout else None,
        "message": messages.get(
            status,
            "Settlement is in progress; it continues automatically. Poll "
            f"GET /api/orders/{order.order_id} for completion.",
        ),
        "deadlines": deadlines(order),
    }
    if completed:
        body["trade_id"] = trade_id(order.order_id)
        body["htlc_secret"] = result.secret
    return body


# ---------------------------------------------------------------------- reads


def order_page(page: OrderPage) -> dict[str, Any]:
    return {
        "ok": True,
        "orders": [order_summary(o) for o in page.orders],
        "total": page.total,
        "pairs": list(PAIRS),
    }


def one_order(order: Order) -> dict[str, Any]:
    return {"ok": True, "order": order_detail(order)}


def history(result: History) -> dict[str, Any]:
    return {
        "ok": True,
        "order_id": result.order_id,
        "events": [e.wire() for e in result.events],
    }


def trades(result: Trades) -> dict[str, Any]:
    return {"ok": True, "trades": [trade_view(t) for t in result.trades]}


def book(result: Book) -> dict[str, Any]:
    def levels(side: list[Any]) -> list[dict[str, Any]]:
        return [
            {
                "price": _nano(lv.price_nano),
                "price_nano": lv.price_nano,
                "total_rtc": _rtc(lv.total_micro_rtc),
                "total_micro_rtc": lv.total_micro_rtc,
                "order_count": lv.order_count,
            }
            for lv in side
        ]

    asks, bids = result.asks, result.bids
    spread = _nano(asks[0].price_nano - bids[0].price_nano) if asks and bids else None
    last = result.last_price_nano
    return {
        "ok": True,
        "pair": result.pair,
        "asks": levels(asks),
        "bids": levels(bids),
        "last_price": None if last is None else _nano(last),
        "volume_24h_rtc": _rtc(result.volume_24h_micro),
        "trades_24h": result.trades_24h,
        "reference_rate": REFERENCE_RATE_USD,
        "spread": spread,
    }


def stats(result: Stats) -> dict[str, Any]:
    prices = [_nano(p) for p in result.recent_prices_nano]
    sells, buys = result.open_sells, result.open_buys
    return {
        "ok": True,
        "stats": {
            "total_trades": result.total_trades,
            "total_volume_rtc": round(_rtc(result.total_volume_micro), 2),
            "volume_24h_rtc": round(_rtc(result.volume_24h_micro), 2),
            "volume_7d_rtc": round(_rtc(result.volume_7d_micro), 2),
            "open_orders": sells.count + buys.count,
            "open_sells": {"count": sells.count, "total_rtc": round(_rtc(sells.micro_rtc), 2)},
            "open_buys": {"count": buys.count, "total_rtc": round(_rtc(buys.micro_rtc), 2)},
            "last_price": prices[0] if prices else REFERENCE_RATE_USD,
            "high_24h": max(prices) if prices else None,
            "low_24h": min(prices) if prices else None,
            "reference_rate_usd": REFERENCE_RATE_USD,
            "supported_pairs": list(PAIRS),
        },
    }


def pairs(infos: list[dict[str, Any]]) -> dict[str, Any]:
    return {"ok": True, "pairs": infos}


# ---------------------------------------------------------------------- operations


def health(*, db: bool, node: bool, chains: list[ChainStatus]) -> dict[str, Any]:
    """Quote chains are reported, and do not fail the bridge's health: a dead RPC only
    stops its pairs' locks from being verified (they answer 503 chain_unreachable)."""
    return {
        "ok": db and node,
        "db": "ok" if db else "unreachable",
        "node": "ok" if node else "unreachable",
        "chains": [
            {
                "pairs": c.name,
                "chain_id": c.chain_id,
                "status": "unreachable"
                if not c.reachable
                else ("misconfigured" if c.problem else "ok"),
                "head": c.head,
                "problem": c.problem,
            }
            for c in chains
        ],
    }


def reconciled(summary: dict[str, object]) -> dict[str, Any]:
    return {"ok": True, "summary": summary}


# ---------------------------------------------------------------------- push


def market_snapshot(snapshot: MarketSnapshot) -> dict[str, Any]:
    """A market stream's `snapshot` event: the orderbook body without `ok`, plus trades."""
    body = book(snapshot.book)
    del body["ok"]
    body["trades"] = trades(snapshot.trades)["trades"]
    return body


def stream_end(order_id: str, status: str, last_seq: int) -> dict[str, Any]:
    return {"order_id": order_id, "status": status, "last_seq": last_seq}


def webhook_registered(result: RegisteredWebhook) -> dict[str, Any]:
    hook = result.webhook
    return {
        "ok": True,
        "webhook_id": hook.webhook_id,
        "wallet": hook.wallet,
        "url": hook.url,
        "created_at": hook.created_at,
        "secret": result.secret,
        "message": "Store the secret now: it is not shown again. Every delivery is signed "
        "with it in X-OTC-Signature (see docs/api.md).",
    }


def webhook_list(result: WalletWebhooks) -> dict[str, Any]:
    return {
        "ok": True,
        "wallet": result.wallet,
        "max_webhooks": result.max_webhooks,
        "webhooks": [
            {
                "webhook_id": f.webhook.webhook_id,
                "url": f.webhook.url,
                "created_at": f.webhook.created_at,
                "pending": f.pending,
                "delivered": f.delivered,
                "failed": f.failed,
                "last_delivered_at": f.last_delivered_at,
                "last_error": f.last_error,
            }
            for f in result.webhooks
        ],
    }


def webhook_removed(webhook_id: str) -> dict[str, Any]:
    return {"ok": True, "webhook_id": webhook_id, "removed": True}
