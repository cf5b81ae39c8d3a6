"""Operator routes: health and the reconciliation trigger."""

from __future__ import annotations

import hmac
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from otc_bridge.adapters.node import Ok, Rejected
from otc_bridge.api import schemas
from otc_bridge.api.http import answer, container
from otc_bridge.observability import metrics

router = APIRouter(tags=["operations"])


@router.get(
    "/healthz",
    summary="Liveness plus DB and node reachability",
    response_model=schemas.HealthResponse,
)
def healthz(request: Request) -> JSONResponse:
    c = container(request)
    try:
        with c.store.read() as tx:
            tx.conn.execute(text("SELECT 1"))
        db = "ok"
    except Exception:  # reported, not raised: this is the health check
        db = "unreachable"
    probe = c.node.tx_status("0" * 32)
    node = "ok" if isinstance(probe, Ok | Rejected) else "unreachable"
    healthy = db == "ok" and node == "ok"
    return answer(200 if healthy else 503, {"ok": healthy, "db": db, "node": node, "chain": None})


@router.post(
    "/admin/reconcile",
    summary="Run one reconciliation pass now (X-Admin-Key)",
    response_model=schemas.ReconcileResponse,
    responses=schemas.errors_doc(401),
)
async def reconcile(request: Request) -> JSONResponse:
    c = container(request)
    key = c.settings.admin_key or ""
    supplied = request.headers.get("x-admin-key", "")
    if not key or not hmac.compare_digest(supplied.encode(), key.encode()):
        return answer(401, {"error": "unauthorized"})
    summary = await run_in_threadpool(lambda: c.reconciler.run_pass(actor="admin").as_dict())
    return answer(200, {"ok": True, "summary": summary})


@router.get("/metrics", summary="Prometheus metrics (text exposition format)")
def prometheus(request: Request) -> Response:
    c = container(request)
    body, content_type = metrics.render(c.store, c.clock)
    return Response(body, media_type=content_type)


_INDEX = Path(__file__).parent / "static" / "index.html"


@router.get("/", include_in_schema=False)
def index() -> HTMLResponse:
    """A read-only page of the book, open orders and trades (the API is the product)."""
    return HTMLResponse(_INDEX.read_text(), headers={"Cache-Control": "no-cache"})
