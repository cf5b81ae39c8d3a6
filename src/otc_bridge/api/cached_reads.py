"""The market reads traders poll most, answered from memory on the event loop.

`GET /api/orderbook` and `GET /api/orders` (the market's pages, not one wallet's) are kept
serialized while current by `services/snapshots.py`. Their routes build and store them;
this pure ASGI layer answers a request whose answer is already current without routing,
parameter binding or a hop to a worker thread (most of a cached read's cost). It sits
innermost of the middleware, so the answer gets the same headers, request id, CORS
handling and metrics as the route's. Anything it cannot answer from memory (a stale or
missing entry, a parameter the route refuses, a wallet's orders) goes to the route
unchanged. The query is parsed and keyed by the same functions the routes use.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping

from starlette.datastructures import QueryParams

from otc_bridge.api import commands
from otc_bridge.api.middleware import ROUTE_LABEL, ASGIApp, Receive, Scope, Send
from otc_bridge.domain.pairs import PAIRS
from otc_bridge.services.commands import ListOrders
from otc_bridge.services.market import list_filters
from otc_bridge.services.snapshots import Snapshots

# (pair or None for every pair, the query's shape): what a snapshot is kept under.
SnapshotKey = tuple[str | None, Hashable]

BOOK_PATH = "/api/orderbook"
ORDERS_PATH = "/api/orders"


def book_key(params: Mapping[str, str]) -> tuple[str, str] | None:
    """The book of a supported pair; None for anything else (the route refuses it, and
    no database is asked about a pair it cannot hold: PostgreSQL refuses a NUL byte)."""
    pair = commands.book_pair(params)
    return (pair, "book") if pair in PAIRS else None


def orders_key(query: ListOrders) -> SnapshotKey | None:
    """The market's open-order page `query` asks for; None for one wallet's orders, which
    moves the market's read version does not count (settling, payout_pending, ...)
    change, so they are never kept."""
    if query.wallet is not None:
        return None
    pair, side = list_filters(query)
    return pair, ("orders", side, query.limit, query.offset)


KEYS: dict[str, Callable[[Mapping[str, str]], SnapshotKey | None]] = {
    BOOK_PATH: book_key,
    ORDERS_PATH: lambda params: orders_key(commands.list_orders(params)),
}


class CachedReads:
    def __init__(self, app: ASGIApp, *, snapshots: Snapshots) -> None:
        self.app = app
        self.snapshots = snapshots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] in KEYS:
            body = self._cached(scope)
            if body is not None:
                scope[ROUTE_LABEL] = scope["path"]  # a route's path, as the metrics name it
                await send(
                    {
                        "type": "http.response.start",
                        "status": 200,
                        "headers": [
                            (b"content-length", str(len(body)).encode()),
                            (b"content-type", b"application/json"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    def _cached(self, scope: Scope) -> bytes | None:
        try:
            key = KEYS[scope["path"]](QueryParams(scope["query_string"]))
            return None if key is None else self.snapshots.cached(*key)
        except Exception:  # a refused parameter or a database fault: the route answers
            return None
