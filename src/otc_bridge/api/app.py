"""The FastAPI application: routes, error replies (every refusal through
`api.errors`), middleware, lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException

from otc_bridge import __version__
from otc_bridge.api import docs, market, ops, orders, streams, web, webhooks
from otc_bridge.api.cached_reads import CachedReads
from otc_bridge.api.client_ip import parse_proxies
from otc_bridge.api.errors import error_body, refusal
from otc_bridge.api.headers import SERVER_TIME, standard_headers
from otc_bridge.api.middleware import RequestGuard
from otc_bridge.bootstrap import Container
from otc_bridge.services.errors import Refused

log = logging.getLogger(__name__)


class JsonCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, with a refused preflight answered in JSON like every other error."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        return JSONResponse(
            error_body("cors_preflight_refused", message=bytes(response.body).decode()),
            status_code=response.status_code,
        )


def _published(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, less the 422 it adds to every route with parameters: this app
    answers a request it cannot validate with 400 `invalid_request` (see below), which
    each route publishes. (The one 422 it does answer, a quote lock that fails a check,
    is published by its route with the ErrorBody schema and kept.)"""
    if app.openapi_schema is None:
        document = FastAPI.openapi(app)
        paths = [*document.get("paths", {}).values(), *document.get("webhooks", {}).values()]
        for operations in paths:
            for operation in operations.values():
                responses = operation.get("responses", {})
                if "HTTPValidationError" in str(responses.get("422", "")):
                    responses.pop("422")
        schemas = document.get("components", {}).get("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        app.openapi_schema = document
    return app.openapi_schema


def register(app: FastAPI, router: APIRouter) -> None:
    """The router's routes, as the app's own. `include_router` keeps each router as a
    branch that FastAPI walks about four times per request to find the route (its
    matching was a fifth of a write request's event-loop time); the routers here carry
    no prefix, dependency or option of their inclusion (each route already has its full
    path, tags and responses), so the routes alone answer and document the same."""
    app.router.routes.extend(router.routes)


def create_app(container: Container, *, start_worker: bool | None = None) -> FastAPI:
    settings = container.settings
    run_worker = settings.embedded_worker if start_worker is None else start_worker

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if run_worker:
            container.start_reconciler()
            container.start_webhook_delivery()
            container.start_watchers()
        yield
        await streams.shutdown(app)
        container.close()

    app = FastAPI(
        title="otc-bridge",
        version=__version__,
        summary="Peer-to-peer OTC trading of RTC with crash-safe two-leg settlement",
        lifespan=lifespan,
        # The bridge's metrics are Prometheus' (/metrics); FastAPI's native OpenTelemetry
        # would look up its global providers on every request for nothing.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        docs_url=None,
        redoc_url=None,
    )
    app.state.container = container
    app.openapi = lambda: _published(app)  # type: ignore[method-assign]
    app.state.trusted_proxies = parse_proxies(settings.trusted_proxies)
    register(app, web.router)  # first: its `/` (the trading page) wins over ops'
    register(app, docs.router)
    register(app, orders.router)
    register(app, market.router)
    register(app, ops.router)
    register(app, streams.install(app, container))  # the event streams, their hub and caps
    register(app, webhooks.install(app))

    @app.exception_handler(Refused)
    async def _refused(_: Request, err: Refused) -> JSONResponse:
        return refusal(err)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, err: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(error_body(str(err.detail)), status_code=err.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, err: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body("invalid_request"), status_code=400)

    @app.exception_handler(Exception)
    async def _internal(request: Request, err: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        # Answered outside every middleware (Starlette's ServerErrorMiddleware), so the
        # headers every other answer gets are added here.
        return JSONResponse(
            error_body("Internal server error"),
            status_code=500,
            headers=standard_headers(container.clock),
        )

    # Innermost: a current market answer from memory, inside every other middleware.
    app.add_middleware(CachedReads, snapshots=container.market.snapshots)
    # Outermost, every answer: request id, size limit, metrics, standard headers; CORS
    # between the two for a request with an Origin (see api/middleware.py).
    cors_options: dict[str, Any] = {
        "allow_origins": list(settings.cors_origins),
        "allow_methods": ["GET", "POST", "OPTIONS"],
        "allow_headers": ["Content-Type", "X-Request-Id", "Last-Event-ID"],
        "expose_headers": [SERVER_TIME, "Retry-After", "X-Request-Id"],
    }
    app.add_middleware(
        RequestGuard,
        max_body_bytes=settings.max_body_bytes,
        clock=container.clock,
        cors=lambda inner: JsonCORSMiddleware(inner, **cors_options),
    )
    return app
