"""The devnode's ASGI application.

Per request, in the node's hook order: the 1 MB body limit (413, request id `-`), the
request id, the admin rate limiter (before routing and auth), then an injected fault if
one matches, then the route. Handlers are plain synchronous functions run on the event
loop inside one SQLite transaction; only the simulated latency (`latency.py`, held after
the handler, before the reply goes out) and fault delays and hangs await.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from otc_bridge.devnet.devnode.admin import bucket_for, client_ip, rate_limited
from otc_bridge.devnet.devnode.faults import BEFORE_HANDLER, Fault, wait_for_disconnect
from otc_bridge.devnet.devnode.node import Node, open_node
from otc_bridge.devnet.devnode.routes import build_router
from otc_bridge.devnet.devnode.settings import Settings
from otc_bridge.devnet.devnode.wire import (
    Reply,
    Request,
    internal_error_html,
    internal_error_json,
    method_not_allowed,
    nginx_error,
    not_found,
    options_reply,
    too_large,
)

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
AFTER_REPLY_KINDS = frozenset({"delay", "gateway_error", "drop"})
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def reply_headers(reply: Reply, request_id: str) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-type", reply.content_type.encode()),
        (b"content-length", str(len(reply.body)).encode()),
    ]
    headers += [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in reply.headers
    ]
    if reply.with_request_id:
        headers.append((b"x-request-id", request_id.encode("latin-1")))
    return headers


async def send_reply(send: Send, reply: Reply, request_id: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": reply.status,
            "headers": reply_headers(reply, request_id),
        }
    )
    await send({"type": "http.response.body", "body": reply.body})


async def deliver(
    send: Send, receive: Receive, reply: Reply, request_id: str, fault: Fault | None
) -> None:
    """Send `reply`, or lose, delay or replace it as the fault says (the handler has run)."""
    kind = fault.kind if fault is not None else None
    if fault is None or kind not in AFTER_REPLY_KINDS:
        await send_reply(send, reply, request_id)  # no fault, `void`, or a before-handler fault
    elif kind == "delay":
        await asyncio.sleep(fault.delay_seconds)
        await send_reply(send, reply, request_id)
    elif kind == "gateway_error":
        await send_reply(send, nginx_error(fault.status), request_id)
    else:  # drop
        if fault.drop_mode == "hang" and await wait_for_disconnect(receive, fault.delay_seconds):
            return  # the client gave up first: nothing left to close
        log.info("fault %s: dropping the %s response after commit", fault.id, reply.status)
        start = {"type": "http.response.start", "status": reply.status}
        await send({**start, "headers": reply_headers(reply, request_id)})
        # Returning without the body makes uvicorn close the connection mid-response, so the
        # client gets a transport error and no usable answer.


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None once it exceeds `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def parse_headers(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
    return headers


def parse_args(query: bytes) -> dict[str, str]:
    """werkzeug's `request.args.get`: UTF-8 (bad bytes replaced), blanks kept, first wins."""
    pairs = parse_qsl(query.decode("utf-8", "replace"), keep_blank_values=True, errors="replace")
    return dict(reversed(pairs))


def declared_length(headers: dict[str, str]) -> int:
    try:
        return int(headers.get("content-length", "0"))
    except ValueError:
        return 0


class DevnodeApp:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.router = build_router()
        self._node: Node | None = None

    @property
    def node(self) -> Node:
        assert self._node is not None, "the lifespan startup has not run"
        return self._node

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self._node = open_node(self.settings)
                    self._node.scheduler.start()
                except Exception as exc:
                    log.exception("devnode startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._node is not None:
                    await self._node.scheduler.stop()
                    self._node.store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = parse_headers(scope)
        body = (
            None
            if declared_length(headers) > MAX_BODY_BYTES
            else await read_body(receive, MAX_BODY_BYTES)
        )
        if body is None:
            await self.node.latency.hold(scope["path"])
            await send_reply(send, too_large(), "-")  # the size check runs before the id hook
            return
        peer = (scope.get("client") or ("", 0))[0]
        req = Request(
            method=scope["method"],
            path=scope["path"],
            args=parse_args(scope.get("query_string", b"")),
            headers=headers,
            body=body,
            client_ip=client_ip(peer, headers.get("x-real-ip"), self.settings.trusted_proxies),
            request_id=headers.get("x-request-id") or uuid.uuid4().hex,
        )
        reply, fault = self.handle(req)
        await self.node.latency.hold(req.path)
        await deliver(send, receive, reply, req.request_id, fault)

    def handle(self, req: Request) -> tuple[Reply, Fault | None]:
        node = self.node
        bucket = bucket_for(req.path)
        if bucket is not None:
            retry_after = node.limiter.hit(req.client_ip, bucket, node.clock.now())
            if retry_after is not None:
                return rate_limited(node.settings, retry_after), None
        fault = node.faults.take(req.method, req.path)
        if fault is not None and fault.kind in BEFORE_HANDLER:
            log.info("fault %s (%s) on %s %s", fault.id, fault.kind, req.method, req.path)
            return fault.reply_instead(node.settings), fault
        reply = self.dispatch(req)
        if fault is not None and fault.kind == "void" and reply.created_pending_id is not None:
            with node.store.tx():
                node.store.void_pending(reply.created_pending_id, fault.voided_by, fault.reason)
        return reply, fault

    def dispatch(self, req: Request) -> Reply:
        match = self.router.resolve(req.method, req.path)
        if match.route is None:
            if not match.allowed:
                return not_found()
            if req.method == "OPTIONS":
                return options_reply(match.allowed)
            return method_not_allowed(match.allowed)
        req.params = match.params
        try:
            with self.node.store.tx():
                return match.route.handler(self.node, req)
        except Exception:
            log.exception("%s %s failed", req.method, req.path)
            return internal_error_json() if match.route.json_errors else internal_error_html()
