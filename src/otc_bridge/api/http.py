"""Small helpers shared by the routes: reference-compatible JSON bodies, answers, the
caller's address, and running a write off the event loop."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from otc_bridge.api.client_ip import client_ip
from otc_bridge.api.commands import NO_BODY, Body, parse_json
from otc_bridge.bootstrap import Container

T = TypeVar("T")


def container(request: Request) -> Container:
    found: Container = request.app.state.container
    return found


async def json_body(request: Request) -> Body:
    """The body as `api.commands` reads it: NO_BODY unless the content type is JSON
    (`application/json` or `application/…+json`, like Flask's `get_json`)."""
    mimetype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if mimetype != "application/json" and not (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    ):
        return NO_BODY
    return parse_json(await request.body())


def encode(body: object) -> bytes:
    """Compact UTF-8 JSON, as Starlette's JSONResponse writes it, by orjson (several
    times faster); the standard library takes what orjson refuses (an integer beyond 64
    bits, a non-string key), so no answer depends on the encoder."""
    try:
        return orjson.dumps(body)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


class Json(JSONResponse):
    """A JSON answer encoded by `encode`, or given as bytes `encode` made earlier (a
    cached market answer)."""

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else encode(content)


def answer(status: int, body: dict[str, Any] | bytes) -> JSONResponse:
    return Json(body, status_code=status)


def requester_ip(request: Request) -> str:
    peer = request.client.host if request.client else None
    return client_ip(peer, request.headers, request.app.state.trusted_proxies)


async def write(request: Request, call: Callable[[], T]) -> T:
    """Count the write against the caller's IP (before anything else, like the reference),
    then run the use case: both off the event loop, in one trip to a worker thread."""
    c = container(request)
    ip = requester_ip(request)

    def counted() -> T:
        c.limiter.check(f"ip:{ip}", c.settings.rate_limits.per_ip, what="writes from this address")
        return call()

    return await run_in_threadpool(counted)
