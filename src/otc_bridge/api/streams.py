"""Event streams (server-sent events): an order's history as it happens, and a pair's
market.

`GET /api/orders/{id}/stream` sends each event of the order's history (the JSON of one
item of `GET /api/orders/{id}/events`, its SSE `id` the event's `seq`) after the cursor
(`Last-Event-ID`, else `?after=`, else from the start), then every new one as it is
committed, and ends with an `end` event once a terminal state has been sent. A client
that reconnects with the last id it saw gets every later event once, in order; one
that already has the terminal event gets 204 (an EventSource stops reconnecting).

`GET /api/stream?pair=` sends a `snapshot` (the book and the newest trades) on connect
and a fresh one whenever it changes; its id names its content, so a client that
reconnects with the id of the snapshot it holds gets nothing until the market changes.

Both refuse past the process's stream caps (429, Retry-After), send a keep-alive comment
when idle, and end when the client leaves or the server stops.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncGenerator

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from otc_bridge.adapters.store.listen import listener_for
from otc_bridge.api import commands, replies, schemas, sse
from otc_bridge.api.http import container, requester_ip
from otc_bridge.api.server_exit import uvicorn_should_exit
from otc_bridge.api.sse import EventStreamResponse
from otc_bridge.api.stream_hub import MarketFrame, StreamHub, Subscription
from otc_bridge.api.stream_slots import Slot, StreamSlots
from otc_bridge.bootstrap import Container
from otc_bridge.domain.states import Status
from otc_bridge.push_config import StreamSettings
from otc_bridge.services.errors import InvalidRequest
from otc_bridge.services.feed import Feed

log = logging.getLogger(__name__)
router = APIRouter(tags=["streams"])
BATCH = 200  # events read at a time when a stream catches up
ORDER_EVENT, END, SNAPSHOT = "order_event", "end", "snapshot"


def install(app: FastAPI, c: Container) -> APIRouter:
    """The process's hub and caps; the routes to serve them."""
    app.state.stream_hub = StreamHub(
        poll_seconds=c.settings.streams.poll_seconds,
        versions=c.feed.versions,
        snapshot=lambda pair: market_frame(c.feed, pair),
        listener=listener_for(c.store.engine),
        stopping=uvicorn_should_exit,
    )
    hub: StreamHub = app.state.stream_hub
    c.store.observe(lambda order, *_: hub.notified_threadsafe(f"{order.order_id} {order.pair}"))
    app.state.stream_slots = StreamSlots(c.settings.streams)
    return router


def stop_streams(app: FastAPI) -> None:
    """End every open stream (from any thread): for a server embedded in a thread,
    which installs no signal handler, before it is told to exit."""
    hub: StreamHub = app.state.stream_hub
    hub.close_threadsafe()


async def shutdown(app: FastAPI) -> None:
    hub: StreamHub = app.state.stream_hub
    await hub.aclose()


def market_frame(feed: Feed, pair: str) -> MarketFrame:
    data = replies.market_snapshot(feed.snapshot(pair))
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    return MarketFrame(hashlib.sha256(canonical).hexdigest()[:16], data)


def _hub(request: Request) -> StreamHub:
    found: StreamHub = request.app.state.stream_hub
    return found


def _slot(request: Request, kind: str) -> Slot:
    slots: StreamSlots = request.app.state.stream_slots
    return slots.take(requester_ip(request), kind)


@router.get(
    "/api/orders/{order_id}/stream",
    summary="The order's history as server-sent events, live until it ends (resumable)",
    response_class=EventStreamResponse,
    status_code=200,
    responses=schemas.event_stream_doc(
        "Events: `order_event` (id = seq, data = an item of /events), then `end`",
        {ORDER_EVENT: schemas.OrderEvent, END: schemas.StreamEnd},
        204,
        400,
        404,
        429,
    ),
)
async def order_stream(request: Request, order_id: str, after: str | None = None) -> Response:
    c = container(request)
    cursor = commands.stream_cursor(request.query_params, request.headers.get("last-event-id"))
    slot = _slot(request, "order")
    try:
        order = await run_in_threadpool(c.feed.order, order_id)
        if cursor > order.version:
            raise InvalidRequest(
                "cursor_past_history",
                message=f"event {cursor} is past the order's last event ({order.version})",
            )
    except BaseException:
        slot.release()
        raise
    if order.status.is_terminal and cursor == order.version:
        slot.release()
        return Response(status_code=204)
    hub = _hub(request)
    sub = hub.watch_order(order.order_id, cursor)
    frames = _order_frames(c.feed, sub, c.settings.streams)
    return EventStreamResponse(frames, on_close=lambda: _end(hub, sub, slot))


@router.get(
    "/api/stream",
    summary="A pair's book and trades as server-sent events: a snapshot now and on change",
    response_class=EventStreamResponse,
    status_code=200,
    responses=schemas.event_stream_doc(
        "Events: `snapshot` (id = a name of its content), on connect and on every change",
        {SNAPSHOT: schemas.MarketSnapshot},
        400,
        429,
    ),
)
async def market_stream(request: Request, pair: str | None = None) -> Response:
    c = container(request)
    name = commands.stream_pair(request.query_params)
    held = (request.headers.get("last-event-id") or "").strip()[:64]
    slot = _slot(request, "market")
    hub = _hub(request)
    sub = hub.watch_pair(name)
    try:
        first = await hub.refresh(name)  # refuses an unsupported pair
    except BaseException:
        hub.unwatch(sub)
        slot.release()
        raise
    frames = _market_frames(hub, sub, first, held, c.settings.streams)
    return EventStreamResponse(frames, on_close=lambda: _end(hub, sub, slot))


def _end(hub: StreamHub, sub: Subscription, slot: Slot) -> None:
    hub.unwatch(sub)
    slot.release()


async def _order_frames(
    feed: Feed, sub: Subscription, settings: StreamSettings
) -> AsyncGenerator[bytes, None]:
    yield sse.retry(settings.retry_ms)
    while not sub.closed:
        sub.clear()
        try:
            events = await run_in_threadpool(
                lambda: feed.events_after(sub.key, sub.cursor, limit=BATCH)
            )
        except Exception:  # the client resumes from its Last-Event-ID elsewhere or later
            log.exception("order stream %s: reading its events failed", sub.key)
            return
        for event in events:
            yield sse.event(event.wire(), name=ORDER_EVENT, event_id=str(event.seq))
            sub.cursor = event.seq
            if Status(event.to_status).is_terminal:
                yield sse.event(replies.stream_end(sub.key, event.to_status, event.seq), name=END)
                return
        if len(events) == BATCH:
            continue  # catching up: read on at once
        while not await sub.wait(settings.keepalive_seconds):  # idle: no read until woken
            yield sse.comment("keep-alive")


async def _market_frames(
    hub: StreamHub, sub: Subscription, first: MarketFrame, held: str, settings: StreamSettings
) -> AsyncGenerator[bytes, None]:
    yield sse.retry(settings.retry_ms)
    sent = held  # a client that holds the current snapshot is not sent it again
    while not sub.closed:
        sub.clear()  # before reading the newest frame: a change meanwhile wakes the wait
        frame = hub.latest(sub.key) or first
        if frame.frame_id != sent:
            yield sse.event(frame.data, name=SNAPSHOT, event_id=frame.frame_id)
            sent = frame.frame_id
        while not await sub.wait(settings.keepalive_seconds):
            yield sse.comment("keep-alive")
