"""Order routes: create, list, read, history, match, cancel."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from otc_bridge.api import schemas
from otc_bridge.api.http import answer, container, json_body, write

router = APIRouter(prefix="/api/orders", tags=["orders"])


@router.post(
    "",
    status_code=201,
    summary="Create a buy or sell order (signed by the maker)",
    openapi_extra=schemas.body_doc(schemas.CreateOrderRequest),
    responses={
        201: {"model": schemas.CreateOrderResponse},
        **schemas.errors_doc(400, 401, 429, 503),
    },
)
async def create_order(request: Request) -> JSONResponse:
    data = await json_body(request)
    exchange = container(request).exchange
    result = await write(request, lambda: exchange.create_order(data))
    return answer(result.status, result.body)


@router.get(
    "",
    summary="Open orders (sells by price ascending, buys descending, oldest first)",
    response_model=schemas.OrderListResponse,
    responses=schemas.errors_doc(400),
)
def list_orders(
    request: Request,
    pair: str | None = None,
    side: str | None = None,
    limit: str | None = None,
    offset: str | None = None,
) -> JSONResponse:
    return answer(200, container(request).market.list_orders(request.query_params))


@router.get(
    "/{order_id}",
    summary="One order, its deadlines, and (once completed) its preimage",
    response_model=schemas.OrderDetailResponse,
    responses=schemas.errors_doc(404),
)
def get_order(request: Request, order_id: str) -> JSONResponse:
    return answer(200, container(request).market.get_order(order_id))


@router.get(
    "/{order_id}/events",
    summary="The order's append-only, hash-chained history",
    response_model=schemas.EventsResponse,
    responses=schemas.errors_doc(400, 404),
)
def order_events(request: Request, order_id: str, after: str | None = None) -> JSONResponse:
    return answer(200, container(request).market.order_events(order_id, request.query_params))


@router.post(
    "/{order_id}/match",
    summary="Take an open order (signed by the taker)",
    openapi_extra=schemas.body_doc(schemas.MatchOrderRequest),
    responses={
        200: {"model": schemas.MatchResponse},
        **schemas.errors_doc(400, 401, 404, 409, 410, 429, 503),
    },
)
async def match_order(request: Request, order_id: str) -> JSONResponse:
    data = await json_body(request)
    exchange = container(request).exchange
    result = await write(request, lambda: exchange.match_order(order_id, data))
    return answer(result.status, result.body)


@router.post(
    "/{order_id}/confirm",
    summary="Reveal the preimage and settle; ok only once the RTC payout is confirmed",
    openapi_extra=schemas.body_doc(schemas.ConfirmRequest),
    responses={
        200: {"model": schemas.ConfirmResponse},
        **schemas.errors_doc(400, 403, 404, 409, 429, 503),
    },
)
async def confirm_order(request: Request, order_id: str) -> JSONResponse:
    data = await json_body(request, invalid=[])
    exchange = container(request).exchange
    result = await write(request, lambda: exchange.confirm_order(order_id, data))
    return answer(result.status, result.body)


@router.post(
    "/{order_id}/cancel",
    summary="Cancel an open order (signed by the maker); refund_pending until refunded",
    openapi_extra=schemas.body_doc(schemas.CancelOrderRequest),
    responses={
        200: {"model": schemas.CancelResponse},
        **schemas.errors_doc(400, 401, 403, 404, 409, 429),
    },
)
async def cancel_order(request: Request, order_id: str) -> JSONResponse:
    data = await json_body(request)
    exchange = container(request).exchange
    result = await write(request, lambda: exchange.cancel_order(order_id, data))
    return answer(result.status, result.body)


__all__ = ["router", "run_in_threadpool"]
