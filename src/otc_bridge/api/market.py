"""Market routes: trades, order book, statistics, pairs. Reads only."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from otc_bridge.api import schemas
from otc_bridge.api.http import answer, container

router = APIRouter(prefix="/api", tags=["market"])


@router.get(
    "/trades",
    summary="Completed trades, newest first",
    response_model=schemas.TradesResponse,
    responses=schemas.errors_doc(400),
)
def trades(
    request: Request, pair: str | None = None, limit: str | None = None, offset: str | None = None
) -> JSONResponse:
    return answer(200, container(request).market.trades(request.query_params))


@router.get(
    "/orderbook",
    summary="Aggregated price levels (20 per side)",
    response_model=schemas.OrderbookResponse,
    responses=schemas.errors_doc(400),
)
def orderbook(request: Request, pair: str | None = None) -> JSONResponse:
    return answer(200, container(request).market.orderbook(request.query_params))


@router.get("/stats", summary="Market statistics", response_model=schemas.StatsResponse)
def stats(request: Request) -> JSONResponse:
    return answer(200, container(request).market.stats())


@router.get(
    "/pairs",
    summary="Per pair: quote currency, decimals, chain, contracts, timelock window, limits",
    response_model=schemas.PairsResponse,
)
def pairs(request: Request) -> JSONResponse:
    return answer(200, container(request).market.pairs())
