"""Read-only market use cases: open orders, one order, its history, book, trades, stats,
pairs. No writes, no node calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otc_bridge.adapters.store import queries
from otc_bridge.adapters.store.store import Store
from otc_bridge.domain.clock import Clock
from otc_bridge.domain.money import RTC_DECIMALS, units_to_float
from otc_bridge.domain.pairs import DEFAULT_PAIR, PAIRS
from otc_bridge.services.errors import Refusal
from otc_bridge.services.views import NANO_DECIMALS, order_detail, order_summary, trade_view

REFERENCE_RATE_USD = 0.10
BOOK_DEPTH = 20
DAY = 86400
MAX_SQL_INT = 2**62
MAX_SEQ = 2**31 - 1  # history sequence numbers are 32-bit


def _int_arg(
    args: Mapping[str, str], name: str, default: int, *, minimum: int, cap: int | None = None
) -> int:
    """The reference's query-integer rules and error codes."""
    raw = args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Refusal(400, f"{name}_must_be_integer") from None
    if value < minimum:
        raise Refusal(
            400, f"{name}_must_be_positive" if minimum else f"{name}_must_be_non_negative"
        )
    # An offset past every row is an empty page, not a database integer overflow.
    return min(value, cap if cap is not None else MAX_SQL_INT)


def _nano(value: int) -> float:
    return units_to_float(value, NANO_DECIMALS)


def _rtc(value: int) -> float:
    return units_to_float(value, RTC_DECIMALS)


class Market:
    def __init__(self, *, store: Store, clock: Clock, pair_info: Mapping[str, dict[str, Any]]):
        self.store = store
        self.clock = clock
        self.pair_info = pair_info

    def list_orders(self, args: Mapping[str, str]) -> dict[str, Any]:
        pair = args.get("pair", "").strip().upper()
        side = args.get("side", "").strip().lower()
        limit = _int_arg(args, "limit", 50, minimum=1, cap=200)
        offset = _int_arg(args, "offset", 0, minimum=0)
        with self.store.read() as tx:
            orders, total = queries.open_orders(
                tx.conn,
                now=self.clock.now(),
                pair=pair if pair in PAIRS else None,
                side=side if side in {"buy", "sell"} else None,
                limit=limit,
                offset=offset,
            )
        return {
            "ok": True,
            "orders": [order_summary(o) for o in orders],
            "total": total,
            "pairs": list(PAIRS),
        }

    def get_order(self, order_id: str) -> dict[str, Any]:
        with self.store.read() as tx:
            order = tx.get(order_id)
        if order is None:
            raise Refusal(404, "Order not found")
        return {"ok": True, "order": order_detail(order)}

    def order_events(self, order_id: str, args: Mapping[str, str]) -> dict[str, Any]:
        after = _int_arg(args, "after", 0, minimum=0, cap=MAX_SEQ)
        with self.store.read() as tx:
            if tx.get(order_id) is None:
                raise Refusal(404, "Order not found")
            events = tx.events(order_id, after_seq=after)
        return {
            "ok": True,
            "order_id": order_id,
            "events": [
                {
                    "seq": e.seq,
                    "from": e.from_status,
                    "to": e.to_status,
                    "cause": e.cause,
                    "actor": e.actor,
                    "refs": e.refs,
                    "at": e.at,
                    "prev_hash": e.prev_hash,
                    "hash": e.hash,
                }
                for e in events
            ],
        }

    def trades(self, args: Mapping[str, str]) -> dict[str, Any]:
        pair = args.get("pair", "").strip().upper()
        limit = _int_arg(args, "limit", 50, minimum=1, cap=200)
        offset = _int_arg(args, "offset", 0, minimum=0)
        if pair and pair not in PAIRS:
            raise Refusal(400, "unsupported pair")
        with self.store.read() as tx:
            rows = queries.trades(tx.conn, pair=pair or None, limit=limit, offset=offset)
        return {"ok": True, "trades": [trade_view(r) for r in rows]}

    def orderbook(self, args: Mapping[str, str]) -> dict[str, Any]:
        pair = args.get("pair", DEFAULT_PAIR).strip().upper()
        if pair not in PAIRS:
            raise Refusal(400, "Unsupported pair")
        now = self.clock.now()
        with self.store.read() as tx:
            asks = queries.book_side(tx.conn, now=now, pair=pair, side="sell", depth=BOOK_DEPTH)
            bids = queries.book_side(tx.conn, now=now, pair=pair, side="buy", depth=BOOK_DEPTH)
            last = queries.last_price_nano(tx.conn, pair)
            volume, count = queries.volume_since(tx.conn, since=now - DAY, pair=pair)

        def levels(side: list[queries.Level]) -> list[dict[str, Any]]:
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

        spread = _nano(asks[0].price_nano - bids[0].price_nano) if asks and bids else None
        return {
            "ok": True,
            "pair": pair,
            "asks": levels(asks),
            "bids": levels(bids),
            "last_price": None if last is None else _nano(last),
            "volume_24h_rtc": _rtc(volume),
            "trades_24h": count,
            "reference_rate": REFERENCE_RATE_USD,
            "spread": spread,
        }

    def stats(self) -> dict[str, Any]:
        now = self.clock.now()
        with self.store.read() as tx:
            total_trades, total_volume = queries.trade_totals(tx.conn)
            vol_24h, _ = queries.volume_since(tx.conn, since=now - DAY)
            vol_7d, _ = queries.volume_since(tx.conn, since=now - 7 * DAY)
            sells = queries.open_side_totals(tx.conn, now=now, side="sell")
            buys = queries.open_side_totals(tx.conn, now=now, side="buy")
            prices = queries.recent_prices(tx.conn, since=now - DAY)
        floats = [_nano(p) for p in prices]
        return {
            "ok": True,
            "stats": {
                "total_trades": total_trades,
                "total_volume_rtc": round(_rtc(total_volume), 2),
                "volume_24h_rtc": round(_rtc(vol_24h), 2),
                "volume_7d_rtc": round(_rtc(vol_7d), 2),
                "open_orders": sells[0] + buys[0],
                "open_sells": {"count": sells[0], "total_rtc": round(_rtc(sells[1]), 2)},
                "open_buys": {"count": buys[0], "total_rtc": round(_rtc(buys[1]), 2)},
                "last_price": floats[0] if floats else REFERENCE_RATE_USD,
                "high_24h": max(floats) if floats else None,
                "low_24h": min(floats) if floats else None,
                "reference_rate_usd": REFERENCE_RATE_USD,
                "supported_pairs": list(PAIRS),
            },
        }

    def pairs(self) -> dict[str, Any]:
        return {"ok": True, "pairs": [self.pair_info[name] for name in PAIRS]}
