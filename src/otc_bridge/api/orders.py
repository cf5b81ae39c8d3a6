"""Order routes: create, list, read, history, match, cancel, lock, confirm."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from otc_bridge.api import commands, replies, schemas
from otc_bridge.api.cached_reads import orders_key
from otc_bridge.api.http import answer, container, encode, json_body, write
from otc_bridge.services.snapshots import Built

router = APIRouter(prefix="/api/orders", tags=["orders"])


@router.post(
    "",
    status_code=201,
    summary="Create a buy or sell order (signed by the maker)",
    openapi_extra=schemas.body_doc(schemas.CreateOrderRequest),
    responses=schemas.replies_doc(201, schemas.CreateOrderResponse, 400, 401, 409, 429, 503),
)
async def create_order(request: Request) -> JSONResponse:
    body = await json_body(request)
    exchange = container(request).exchange
    created = await write(request, lambda: exchange.create(commands.create_order(body)))
    return answer(201, replies.created(created))


@router.get(
    "",
    summary="Open orders (sells by price ascending, buys descending, oldest first); with "
    "`wallet`, that wallet's orders as maker or taker, every status, newest first",
    responses=schemas.replies_doc(200, schemas.OrderListResponse, 400),
)
def list_orders(
    request: Request,
    pair: str | None = None,
    side: str | None = None,
    limit: str | None = None,
    offset: str | None = None,
    wallet: Annotated[
        str | None,
        Query(description="A native RTC address: its orders as maker or taker, any status"),
    ] = None,
) -> JSONResponse:
    query = commands.list_orders(request.query_params)
    market = container(request).market
    key = orders_key(query)
    if key is None:  # one wallet's orders: never kept (see orders_key)
        return answer(200, encode(replies.order_page(market.list_orders(query))))

    def build(now: int) -> Built:
        page = market.list_orders(query, now=now)
        return encode(replies.order_page(page)), page.changes_at

    return answer(200, market.snapshots.answer(*key, build))


@router.get(
    "/{order_id}",
    summary="One order, its deadlines, and (once completed) its preimage",
    responses=schemas.replies_doc(200, schemas.OrderDetailResponse, 404),
)
def get_order(request: Request, order_id: str) -> JSONResponse:
    found = container(request)
    return answer(200, replies.one_order(found.market.get_order(order_id), found.clock.now()))


@router.get(
    "/{order_id}/events",
    summary="The order's append-only, hash-chained history",
    responses=schemas.replies_doc(200, schemas.EventsResponse, 400, 404),
)
def order_events(request: Request, order_id: str, after: str | None = None) -> JSONResponse:
    seq = commands.events_after(request.query_params)
    return answer(200, replies.history(container(request).market.order_events(order_id, after=seq)))


@router.post(
    "/{order_id}/match",
    summary="Take an open order (signed by the taker)",
    openapi_extra=schemas.body_doc(schemas.MatchOrderRequest),
    responses=schemas.replies_doc(200, schemas.MatchResponse, 400, 401, 404, 409, 410, 429, 503),
)
async def match_order(request: Request, order_id: str) -> JSONResponse:
    body = await json_body(request)
    exchange = container(request).exchange
    matched = await write(request, lambda: exchange.match(commands.match_order(order_id, body)))
    return answer(200, replies.matched(matched))


@router.post(
    "/{order_id}/lock",
    summary="Report B's quote lock (unsigned); the order is quote_locked once it is verified",
    openapi_extra=schemas.body_doc(schemas.ReportLockRequest),
    responses=schemas.replies_doc(200, schemas.OrderDetailResponse, 400, 404, 409, 422, 429, 503),
)
async def report_lock(request: Request, order_id: str) -> JSONResponse:
    body = await json_body(request)
    found = container(request)
    order = await write(
        request, lambda: found.exchange.report_lock(commands.report_lock(order_id, body))
    )
    return answer(200, replies.one_order(order, found.clock.now()))


@router.post(
    "/{order_id}/confirm",
    summary="Reveal the preimage and settle; ok only once the RTC payout is confirmed",
    openapi_extra=schemas.body_doc(schemas.ConfirmRequest),
    responses=schemas.replies_doc(200, schemas.ConfirmResponse, 400, 403, 404, 409, 429, 503),
)
async def confirm_order(request: Request, order_id: str) -> JSONResponse:
    body = await json_body(request)
    exchange = container(request).exchange
    confirmed = await write(
        request, lambda: exchange.confirm(commands.confirm_order(order_id, body))
    )
    return answer(200, replies.confirmed(confirmed))


@router.post(
    "/{order_id}/cancel",
    summary="Cancel an open order (signed by the maker); refund_pending until refunded",
    openapi_extra=schemas.body_doc(schemas.CancelOrderRequest),
    responses=schemas.replies_doc(200, schemas.CancelResponse, 400, 401, 403, 404, 409, 429),
)
async def cancel_order(request: Request, order_id: str) -> JSONResponse:
    body = await json_body(request)
    exchange = container(request).exchange
    cancelled = await write(request, lambda: exchange.cancel(commands.cancel_order(order_id, body)))
    return answer(200, replies.cancelled(cancelled))
