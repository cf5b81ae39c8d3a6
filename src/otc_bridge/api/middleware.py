"""The one pure ASGI layer in front of the app: request ids, a request-size limit, the
request metrics and the headers every answer carries (`api/headers.py`), with one
wrapper of `send` for all of them.

The body is read (up to the limit) before the app sees it, so an oversized request is
refused with a 413 before any parsing, and never half-processed.

A request with an `Origin` header goes through Starlette's CORS (`JsonCORSMiddleware`
in `api/app.py`), then the market's cached reads (`api/cached_reads.py`), then the app.
One without it (every non-browser client) skips the CORS layer, whose only work for it
would be a `Vary: Origin` on the answer: that header is added here instead, the way CORS
adds it, so the answers are the same either way.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from otc_bridge.api.headers import finisher
from otc_bridge.domain.clock import Clock
from otc_bridge.observability import metrics
from otc_bridge.observability.logs import request_id_var

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
RawHeaders = list[tuple[bytes, bytes]]

# Where a layer that answers without routing (api/cached_reads.py) names the route its
# answer stands for, for the request metrics' `route` label.
ROUTE_LABEL = "otc.route_label"
_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS"})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def vary_origin(headers: RawHeaders) -> None:
    """`Vary: Origin` as Starlette's CORS sets it on an answer to a request without an
    Origin: the Vary values so far and `Origin`, joined into the first Vary header."""
    found = [i for i, (name, _) in enumerate(headers) if name == b"vary"]
    if not found:
        headers.append((b"vary", b"Origin"))
        return
    values = [headers[i][1].decode("latin-1") for i in found]
    for i in reversed(found[1:]):
        del headers[i]
    headers[found[0]] = (b"vary", ", ".join([*values, "Origin"]).encode("latin-1"))


class RequestGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        clock: Clock,
        cors: Callable[[ASGIApp], ASGIApp],
    ) -> None:
        """`app` answers a request without an Origin, `cors(app)` one with it."""
        self.app = app
        self.with_origin = cors(app)
        self.max_body_bytes = max_body_bytes
        self.finish = finisher(clock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        supplied = _header(scope, b"x-request-id") or ""
        request_id = supplied if 0 < len(supplied) <= 128 else uuid.uuid4().hex
        raw_id = request_id.encode()
        scope.setdefault("state", {})["request_id"] = request_id
        has_origin = _header(scope, b"origin") is not None
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                if not has_origin:
                    vary_origin(headers)  # what the CORS layer would have done
                headers.append((b"x-request-id", raw_id))
                self.finish(headers)
                message["headers"] = headers
            await send(message)

        too_large = {"error": "request_too_large", "max_bytes": self.max_body_bytes}
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            await _send_json(send, 413, too_large, raw_id, self.finish)
            return
        chunks: list[bytes] = []
        size = 0
        more = scope["method"] not in _NO_BODY
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await _send_json(send, 413, too_large, raw_id, self.finish)
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

        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            app = self.with_origin if has_origin else self.app
            await app(scope, replay, send_with_headers)
        finally:
            request_id_var.reset(token)
            route = scope.get(ROUTE_LABEL) or getattr(scope.get("route"), "path", "unmatched")
            metrics.HTTP_SECONDS.labels(scope["method"], route, str(status)).observe(
                time.perf_counter() - started
            )


async def _send_json(
    send: Send,
    status: int,
    body: dict[str, Any],
    raw_id: bytes,
    finish: Callable[[RawHeaders], None],
) -> None:
    """A refusal before the app (and CORS) saw the request."""
    payload = json.dumps(body).encode()
    headers: RawHeaders = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"x-request-id", raw_id),
    ]
    finish(headers)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
