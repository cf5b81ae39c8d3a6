"""Read-only market use cases: open orders, one order, its history, book, trades, stats,
pairs. No writes, no node calls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otc_bridge.adapters.store.store import Store
from otc_bridge.domain.clock import Clock
from otc_bridge.domain.order import Order
from otc_bridge.domain.pairs import PAIRS
from otc_bridge.services.commands import ListOrders, ListTrades
from otc_bridge.services.errors import InvalidRequest, NotFound
from otc_bridge.services.results import Book, History, OrderPage, SideTotals, Stats, Trades
from otc_bridge.services.snapshots import Snapshots

BOOK_DEPTH = 20
DAY = 86400


def list_filters(query: ListOrders) -> tuple[str | None, str | None]:
    """The (pair, side) an open-order query filters on; None for anything unknown."""
    return (
        query.pair if query.pair in PAIRS else None,
        query.side if query.side in {"buy", "sell"} else None,
    )


def _after(last_second: int | None) -> int | None:
    """The second after the last one something is shown in (an open order is shown while
    now <= expires_at)."""
    return None if last_second is None else last_second + 1


class Market:
    def __init__(self, *, store: Store, clock: Clock, pair_info: Mapping[str, dict[str, Any]]):
        self.store = store
        self.clock = clock
        self.pair_info = pair_info
        # the book and the open-order pages, serialized, while current (snapshots.py)
        self.snapshots = Snapshots(versions=store.read_version, clock=clock)

    def list_orders(self, query: ListOrders, *, now: int | None = None) -> OrderPage:
        """Open orders; an unknown pair or side filters nothing (as the reference does).
        With a wallet: that wallet's orders as maker or taker, every status."""
        pair, side = list_filters(query)
        if query.wallet is not None:
            with self.store.read() as uow:
                found, total = uow.market.wallet_orders(
                    wallet=query.wallet,
                    pair=pair,
                    side=side,
                    limit=query.limit,
                    offset=query.offset,
                )
            return OrderPage(found, total)
        now = self.clock.now() if now is None else now
        with self.store.read() as uow:
            orders, total = uow.market.open_orders(
                now=now, pair=pair, side=side, limit=query.limit, offset=query.offset
            )
            expiry = uow.market.next_open_expiry(now=now, pair=pair, side=side)
        return OrderPage(orders, total, changes_at=_after(expiry))

    def get_order(self, order_id: str) -> Order:
        with self.store.read() as uow:
            order = uow.orders.get(order_id)
        if order is None:
            raise NotFound("Order not found")
        return order

    def order_events(self, order_id: str, *, after: int) -> History:
        with self.store.read() as uow:
            if uow.orders.get(order_id) is None:
                raise NotFound("Order not found")
            events = uow.orders.events(order_id, after_seq=after)
        return History(order_id, events)

    def trades(self, query: ListTrades) -> Trades:
        if query.pair and query.pair not in PAIRS:
            raise InvalidRequest("unsupported pair")
        with self.store.read() as uow:
            rows = uow.market.trades(
                pair=query.pair or None, limit=query.limit, offset=query.offset
            )
        return Trades(rows)

    def orderbook(self, pair: str, *, now: int | None = None) -> Book:
        if pair not in PAIRS:
            raise InvalidRequest("Unsupported pair")
        now = self.clock.now() if now is None else now
        with self.store.read() as uow:
            asks = uow.market.book_side(now=now, pair=pair, side="sell", depth=BOOK_DEPTH)
            bids = uow.market.book_side(now=now, pair=pair, side="buy", depth=BOOK_DEPTH)
            last = uow.market.last_price_nano(pair)
            volume, count = uow.market.volume_since(since=now - DAY, pair=pair)
            expiry = uow.market.next_open_expiry(now=now, pair=pair)
            oldest = uow.market.first_trade_since(since=now - DAY, pair=pair)
        leaves = None if oldest is None else oldest + DAY  # in the window while now <= it
        changes = [t for t in (_after(expiry), _after(leaves)) if t is not None]
        return Book(pair, asks, bids, last, volume, count, changes_at=min(changes, default=None))

    def stats(self) -> Stats:
        now = self.clock.now()
        with self.store.read() as uow:
            total_trades, total_volume = uow.market.trade_totals()
            vol_24h, _ = uow.market.volume_since(since=now - DAY)
            vol_7d, _ = uow.market.volume_since(since=now - 7 * DAY)
            sells = uow.market.open_side_totals(now=now, side="sell")
            buys = uow.market.open_side_totals(now=now, side="buy")
            prices = uow.market.recent_prices(since=now - DAY)
        return Stats(
            total_trades=total_trades,
            total_volume_micro=total_volume,
            volume_24h_micro=vol_24h,
            volume_7d_micro=vol_7d,
            open_sells=SideTotals(*sells),
            open_buys=SideTotals(*buys),
            recent_prices_nano=prices,
        )

    def pairs(self) -> list[dict[str, Any]]:
        return [self.pair_info[name] for name in PAIRS]
