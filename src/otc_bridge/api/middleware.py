"""Pure ASGI middleware: a request-size limit and request ids.

The body is read (up to the limit) before the app sees it, so an oversized request is
refused with a 413 before any parsing, and never half-processed.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from otc_bridge.observability import metrics
from otc_bridge.observability.logs import request_id_var

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Where a layer that answers without routing (api/cached_reads.py) names the route its
# answer stands for, for the request metrics' `route` label.
ROUTE_LABEL = "otc.route_label"


async def _send_json(send: Send, status: int, body: dict[str, Any], request_id: str) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"x-request-id", request_id.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


class RequestGuard:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        supplied = _header(scope, b"x-request-id") or ""
        request_id = supplied if 0 < len(supplied) <= 128 else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        too_large = {"error": "request_too_large", "max_bytes": self.max_body_bytes}
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            await _send_json(send, 413, too_large, request_id)
            return
        chunks: list[bytes] = []
        size = 0
        more = scope["method"] not in {"GET", "HEAD", "OPTIONS"}
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await _send_json(send, 413, too_large, request_id)
                return
            chunks.append(chunk)
            more = bool(message.get("more_body"))
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            await self.app(scope, replay, send_with_id)
        finally:
            request_id_var.reset(token)
            route = scope.get(ROUTE_LABEL) or getattr(scope.get("route"), "path", "unmatched")
            metrics.HTTP_SECONDS.labels(scope["method"], route, str(status)).observe(
                time.perf_counter() - started
            )
