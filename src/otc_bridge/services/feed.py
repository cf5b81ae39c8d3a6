"""What the event streams read: an order's history after a cursor, how far many orders'
histories have gone (one query for every stream of a process), a pair's market."""

from __future__ import annotations

from collections.abc import Iterable

from otc_bridge.adapters.store.store import Store
from otc_bridge.domain.order import Order, OrderEvent
from otc_bridge.services.commands import ListTrades
from otc_bridge.services.market import Market
from otc_bridge.services.results import MarketSnapshot

SNAPSHOT_TRADES = 20


class Feed:
    def __init__(self, *, store: Store, market: Market) -> None:
        self.store = store
        self.market = market

    def order(self, order_id: str) -> Order:
        return self.market.get_order(order_id)  # NotFound for no such order

    def events_after(self, order_id: str, seq: int, *, limit: int) -> list[OrderEvent]:
        with self.store.read() as uow:
            return uow.orders.events(order_id, after_seq=seq, limit=limit)

    def versions(self, order_ids: Iterable[str]) -> dict[str, int]:
        with self.store.read() as uow:
            return uow.feed.versions(order_ids)

    def snapshot(self, pair: str) -> MarketSnapshot:
        book = self.market.orderbook(pair)  # InvalidRequest for an unsupported pair
        trades = self.market.trades(ListTrades(pair=pair, limit=SNAPSHOT_TRADES, offset=0))
        return MarketSnapshot(book, trades)
