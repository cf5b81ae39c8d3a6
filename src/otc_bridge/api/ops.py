"""Operator routes: health, the reconciliation trigger, metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from otc_bridge.adapters.node import Ok, Rejected
from otc_bridge.api import replies, schemas
from otc_bridge.api.http import answer, container, requester_ip
from otc_bridge.observability import metrics

router = APIRouter(tags=["operations"])


@router.get(
    "/healthz",
    summary="Liveness, DB and node reachability (503 when either is down), each quote chain",
    responses=schemas.replies_doc(200, schemas.HealthResponse, (503, schemas.HealthResponse)),
)
def healthz(request: Request) -> JSONResponse:
    c = container(request)
    db = c.store.ping()
    probe = c.node.tx_status("0" * 32)
    chains = c.chains.health()
    body = replies.health(db=db, node=isinstance(probe, Ok | Rejected), chains=chains)
    return answer(200 if body["ok"] else 503, body)


@router.post(
    "/admin/reconcile",
    summary="Run one reconciliation pass now (X-Admin-Key; wrong keys are throttled)",
    responses=schemas.replies_doc(200, schemas.ReconcileResponse, 401, 429),
)
async def reconcile(request: Request) -> JSONResponse:
    c = container(request)
    supplied = request.headers.get("x-admin-key", "")
    client = requester_ip(request)
    await run_in_threadpool(lambda: c.admin.check(supplied, client=client))
    summary = await run_in_threadpool(lambda: c.reconciler.run_pass(actor="admin").as_dict())
    return answer(200, replies.reconciled(summary))


@router.get(
    "/metrics",
    summary="Prometheus metrics (text exposition format)",
    response_class=PlainTextResponse,
    responses=schemas.text_doc(200, "Prometheus text exposition format, version 0.0.4"),
)
def prometheus(request: Request) -> Response:
    c = container(request)
    body, content_type = metrics.render(c.store, c.clock)
    return Response(body, media_type=content_type)
