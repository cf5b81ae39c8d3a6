"""Market routes: trades, order book, statistics, pairs. Reads only."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from otc_bridge.api import commands, replies, schemas
from otc_bridge.api.cached_reads import book_key
from otc_bridge.api.http import answer, container, encode
from otc_bridge.services.errors import InvalidRequest
from otc_bridge.services.snapshots import Built

router = APIRouter(prefix="/api", tags=["market"])


@router.get(
    "/trades",
    summary="Completed trades, newest first",
    responses=schemas.replies_doc(200, schemas.TradesResponse, 400),
)
def trades(
    request: Request, pair: str | None = None, limit: str | None = None, offset: str | None = None
) -> JSONResponse:
    query = commands.list_trades(request.query_params)
    return answer(200, replies.trades(container(request).market.trades(query)))


@router.get(
    "/orderbook",
    summary="Aggregated price levels (20 per side)",
    responses=schemas.replies_doc(200, schemas.OrderbookResponse, 400),
)
def orderbook(request: Request, pair: str | None = None) -> JSONResponse:
    market = container(request).market
    key = book_key(request.query_params)
    if key is None:  # an unsupported pair: refused before any read
        raise InvalidRequest("Unsupported pair")
    pair, query = key

    def build(now: int) -> Built:
        book = market.orderbook(pair, now=now)
        return encode(replies.book(book)), book.changes_at

    return answer(200, market.snapshots.answer(pair, query, build))


@router.get(
    "/stats",
    summary="Market statistics",
    responses=schemas.replies_doc(200, schemas.StatsResponse),
)
def stats(request: Request) -> JSONResponse:
    return answer(200, replies.stats(container(request).market.stats()))


@router.get(
    "/pairs",
    summary="Per pair: quote currency, decimals, chain, contracts, timelock window, limits",
    responses=schemas.replies_doc(200, schemas.PairsResponse),
)
def pairs(request: Request) -> JSONResponse:
    return answer(200, replies.pairs(container(request).market.pairs()))
