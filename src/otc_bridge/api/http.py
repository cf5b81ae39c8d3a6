"""Small helpers shared by the routes: reference-compatible JSON bodies, answers, the
caller's address, and running a write off the event loop."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from otc_bridge.api.client_ip import client_ip
from otc_bridge.bootstrap import Container

T = TypeVar("T")


def container(request: Request) -> Container:
    found: Container = request.app.state.container
    return found


async def json_body(request: Request, *, invalid: object = None) -> object:
    """Flask's `get_json(silent=True)`: None unless a JSON content type carries valid JSON
    (`invalid` is returned for a JSON content type whose body does not parse)."""
    mimetype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if mimetype != "application/json" and not (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    ):
        return None
    raw = await request.body()
    if not raw:
        return None
    try:
        data = json.loads(raw)
        storable = _storable(data)
    except (ValueError, RecursionError):
        return invalid if raw.strip() else None
    return data if storable else invalid


def _storable(data: object) -> bool:
    """False when a string holds what no database text column can: a NUL (`\\u0000`) or
    a lone surrogate (`\\ud800`). Such a body is not usable JSON text."""
    if isinstance(data, str):
        try:
            data.encode()
        except UnicodeEncodeError:
            return False
        return "\x00" not in data
    if isinstance(data, dict):
        return all(_storable(k) and _storable(v) for k, v in data.items())
    if isinstance(data, list):
        return all(_storable(v) for v in data)
    return True


def answer(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def requester_ip(request: Request) -> str:
    peer = request.client.host if request.client else None
    return client_ip(peer, request.headers, request.app.state.trusted_proxies)


async def write(request: Request, call: Callable[[], T]) -> T:
    """Count the write against the caller's IP (before anything else, like the reference),
    then run the use case off the event loop."""
    c = container(request)
    ip = requester_ip(request)
    await run_in_threadpool(c.limiter.check, f"ip:{ip}", c.settings.rate_limits.per_ip)
    return await run_in_threadpool(call)
