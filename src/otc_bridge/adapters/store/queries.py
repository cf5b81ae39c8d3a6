"""Read models: the order book, open orders, trades and statistics.

Reads never write and never call the node. Open orders past their expiry are hidden
here (the worker expires them and refunds their escrow), so a stale order is never shown
as matchable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Connection

from otc_bridge.adapters.store import read_versions
from otc_bridge.adapters.store.rows import order_from_row
from otc_bridge.adapters.store.tables import ORDERS, TRADES
from otc_bridge.domain.order import Order


@dataclass(frozen=True, slots=True)
class Trade:
    trade_id: str
    order_id: str
    pair: str
    side: str
    maker_wallet: str
    taker_wallet: str
    amount_micro_rtc: int
    price_per_rtc_nano_quote: int
    total_quote_nano: int
    total_quote_base: int
    quote_tx: str | None
    rtc_tx: str | None
    completed_at: int


@dataclass(frozen=True, slots=True)
class Level:
    price_nano: int
    total_micro_rtc: int
    order_count: int


DEEP_PAGE = 200  # from this offset on, a page of open orders seeks to its first key
_KEY = (ORDERS.c.price_per_rtc_nano_quote, ORDERS.c.created_at, ORDERS.c.order_id)


def _sort_key(side: str) -> list[Any]:
    """Buys by price descending, sells ascending; then oldest first, then by id (the index
    order of ix_orders_book / ix_orders_side_book)."""
    price, created, order_id = _KEY
    return [price.desc() if side == "buy" else price.asc(), created.asc(), order_id.asc()]


def _from_key(side: str, price: int, created: int, order_id: str) -> Any:
    """Rows at or after (price, created, order_id) in `_sort_key(side)` order."""
    price_col, created_col, id_col = _KEY
    beyond = price_col < price if side == "buy" else price_col > price
    later = or_(created_col > created, and_(created_col == created, id_col >= order_id))
    return or_(beyond, and_(price_col == price, later))


def _visible_open(now: int, pair: str | None = None, side: str | None = None) -> Any:
    clauses = [ORDERS.c.status == "open", ORDERS.c.expires_at >= now]
    if pair is not None:
        clauses.append(ORDERS.c.pair == pair)
    if side is not None:
        clauses.append(ORDERS.c.side == side)
    return and_(*clauses)


class MarketQueries:
    """The read models over one unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def open_orders(
        self, *, now: int, pair: str | None, side: str | None, limit: int, offset: int
    ) -> tuple[list[Order], int]:
        """Open orders, buys first (price descending) then sells (price ascending), oldest
        first at a price: the order the reference's single query produced on SQLite, here as
        one index range per side so the database never sorts the whole book. A deep page
        (offset from DEEP_PAGE on) first finds its first row's sort key in the index alone,
        then reads the page from that key on, instead of stepping over the rows before."""
        sides = ["buy", "sell"] if side is None else [side]
        counts = {
            s: int(
                self._conn.execute(
                    select(func.count()).select_from(ORDERS).where(_visible_open(now, pair, s))
                ).scalar_one()
            )
            for s in sides
        }
        orders: list[Order] = []
        skip = offset
        for s in sides:
            if skip >= counts[s]:
                skip -= counts[s]
                continue
            take = limit - len(orders)
            if take <= 0:
                break
            visible = _visible_open(now, pair, s)
            sort = _sort_key(s)
            page = select(ORDERS).order_by(*sort).limit(take)
            if skip >= DEEP_PAGE:
                first = self._conn.execute(
                    select(*_KEY).where(visible).order_by(*sort).limit(1).offset(skip)
                ).first()
                if first is None:  # PostgreSQL: the side shrank since it was counted
                    skip = 0
                    continue
                page = page.where(and_(visible, _from_key(s, *first)))
            else:
                page = page.where(visible).offset(skip)
            orders.extend(order_from_row(r._mapping) for r in self._conn.execute(page))
            skip = 0
        return orders, sum(counts.values())

    def wallet_orders(
        self, *, wallet: str, pair: str | None, side: str | None, limit: int, offset: int
    ) -> tuple[list[Order], int]:
        """One wallet's orders as maker or taker, any status, newest first (the maker and
        taker indexes serve the two halves of the OR)."""
        clauses = [or_(ORDERS.c.maker_wallet == wallet, ORDERS.c.taker_wallet == wallet)]
        if pair is not None:
            clauses.append(ORDERS.c.pair == pair)
        if side is not None:
            clauses.append(ORDERS.c.side == side)
        where = and_(*clauses)
        total = int(
            self._conn.execute(select(func.count()).select_from(ORDERS).where(where)).scalar_one()
        )
        rows = self._conn.execute(
            select(ORDERS)
            .where(where)
            .order_by(ORDERS.c.created_at.desc(), ORDERS.c.order_id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [order_from_row(r._mapping) for r in rows], total

    def read_version(self, pair: str | None) -> int:
        """The market's read version for a pair, or for every pair (`read_versions.py`)."""
        return read_versions.current(self._conn, pair)

    def book_side(self, *, now: int, pair: str, side: str, depth: int) -> list[Level]:
        price = ORDERS.c.price_per_rtc_nano_quote
        rows = self._conn.execute(
            select(price, func.sum(ORDERS.c.amount_micro_rtc), func.count())
            .where(_visible_open(now, pair, side))
            .group_by(price)
            .order_by(price.asc() if side == "sell" else price.desc())
            .limit(depth)
        )
        return [Level(int(p), int(total), int(count)) for p, total, count in rows]

    def trades(self, *, pair: str | None, limit: int, offset: int) -> list[Trade]:
        stmt = select(TRADES)
        if pair is not None:
            stmt = stmt.where(TRADES.c.pair == pair)
        stmt = stmt.order_by(TRADES.c.completed_at.desc(), TRADES.c.trade_id).limit(limit)
        return [Trade(**r._mapping) for r in self._conn.execute(stmt.offset(offset))]

    def last_price_nano(self, pair: str) -> int | None:
        value = self._conn.execute(
            select(TRADES.c.price_per_rtc_nano_quote)
            .where(TRADES.c.pair == pair)
            .order_by(TRADES.c.completed_at.desc())
            .limit(1)
        ).scalar()
        return None if value is None else int(value)

    def next_open_expiry(
        self, *, now: int, pair: str | None, side: str | None = None
    ) -> int | None:
        """The earliest `expires_at` among the open orders visible at `now` (the first to
        leave the book and the open-order list as time passes), or None: one seek in
        ix_orders_open_expiry."""
        value = self._conn.execute(
            select(func.min(ORDERS.c.expires_at)).where(_visible_open(now, pair, side))
        ).scalar()
        return None if value is None else int(value)

    def first_trade_since(self, *, since: int, pair: str) -> int | None:
        """The earliest completion time among a pair's trades from `since` on (the first to
        leave a window that starts at `since`), or None."""
        value = self._conn.execute(
            select(func.min(TRADES.c.completed_at)).where(
                and_(TRADES.c.pair == pair, TRADES.c.completed_at >= since)
            )
        ).scalar()
        return None if value is None else int(value)

    def volume_since(self, *, since: int, pair: str | None = None) -> tuple[int, int]:
        """(µRTC traded, number of trades) since a time."""
        where = [TRADES.c.completed_at >= since]
        if pair is not None:
            where.append(TRADES.c.pair == pair)
        row = self._conn.execute(
            select(func.coalesce(func.sum(TRADES.c.amount_micro_rtc), 0), func.count()).where(
                and_(*where)
            )
        ).one()
        return int(row[0]), int(row[1])

    def trade_totals(self) -> tuple[int, int]:
        row = self._conn.execute(
            select(func.count(), func.coalesce(func.sum(TRADES.c.amount_micro_rtc), 0))
        ).one()
        return int(row[0]), int(row[1])

    def open_side_totals(self, *, now: int, side: str) -> tuple[int, int]:
        row = self._conn.execute(
            select(func.count(), func.coalesce(func.sum(ORDERS.c.amount_micro_rtc), 0)).where(
                _visible_open(now, side=side)
            )
        ).one()
        return int(row[0]), int(row[1])

    def recent_prices(self, *, since: int, limit: int = 100) -> list[int]:
        rows = self._conn.execute(
            select(TRADES.c.price_per_rtc_nano_quote)
            .where(TRADES.c.completed_at >= since)
            .order_by(TRADES.c.completed_at.desc())
            .limit(limit)
        )
        return [int(r[0]) for r in rows]

    def counts_by_status(self) -> dict[str, int]:
        rows = self._conn.execute(select(ORDERS.c.status, func.count()).group_by(ORDERS.c.status))
        return {status: int(count) for status, count in rows}

    def oldest_due(self, now: int) -> int | None:
        """The earliest next_action_at that is already due, if any."""
        value = self._conn.execute(
            select(func.min(ORDERS.c.next_action_at)).where(ORDERS.c.next_action_at <= now)
        ).scalar()
        return None if value is None else int(value)
