"""What the use cases answer, before any wire format: the HTTP layer builds the reply
bodies from these (`otc_bridge.api.replies`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from otc_bridge.adapters.store.queries import Level, Trade
from otc_bridge.adapters.store.webhooks import Webhook, WebhookFigures
from otc_bridge.domain.order import Order, OrderEvent


@dataclass(frozen=True, slots=True)
class Created:
    order: Order
    server_secret: str | None  # the preimage the bridge made for this request, once


@dataclass(frozen=True, slots=True)
class Matched:
    order: Order
    server_secret: str | None


@dataclass(frozen=True, slots=True)
class Cancelled:
    order: Order  # as stored after the request drove it
    held_escrow: bool


@dataclass(frozen=True, slots=True)
class Confirmed:
    order: Order  # as stored after the request drove it
    secret: str  # the preimage, lower-case hex; public only once completed


@dataclass(frozen=True, slots=True)
class OrderPage:
    orders: list[Order]
    total: int
    # The first second at which time alone may change this page (an order on it or
    # counted by it expires); None: only a write can. What a cached copy is good until.
    changes_at: int | None = None


@dataclass(frozen=True, slots=True)
class History:
    order_id: str
    events: list[OrderEvent]


@dataclass(frozen=True, slots=True)
class Book:
    pair: str
    asks: list[Level]
    bids: list[Level]
    last_price_nano: int | None
    volume_24h_micro: int
    trades_24h: int
    # The first second at which time alone may change this book (an order expires, a
    # trade leaves the last 24 hours); None: only a write can.
    changes_at: int | None = None


@dataclass(frozen=True, slots=True)
class SideTotals:
    count: int
    micro_rtc: int


@dataclass(frozen=True, slots=True)
class Stats:
    total_trades: int
    total_volume_micro: int
    volume_24h_micro: int
    volume_7d_micro: int
    open_sells: SideTotals
    open_buys: SideTotals
    recent_prices_nano: list[int] = field(default_factory=list)  # newest first, last 24 h


@dataclass(frozen=True, slots=True)
class Trades:
    trades: list[Trade]


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """A pair's book and newest trades, as the market stream sends them."""

    book: Book
    trades: Trades


@dataclass(frozen=True, slots=True)
class RegisteredWebhook:
    webhook: Webhook
    secret: str  # in clear, this once: the bridge never shows it again


@dataclass(frozen=True, slots=True)
class WalletWebhooks:
    wallet: str
    webhooks: list[WebhookFigures]
    max_webhooks: int
