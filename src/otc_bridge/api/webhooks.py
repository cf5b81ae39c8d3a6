"""Webhook routes: a wallet registers, lists and removes its callback URLs (signed), and
the delivery a receiver gets is published under `webhooks` in /openapi.json."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from otc_bridge.api import commands, replies, schemas
from otc_bridge.api.http import answer, container, json_body, write

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])


def install(app: FastAPI) -> APIRouter:
    """The delivery's documentation; the routes to serve."""

    @app.webhooks.post(
        "order.event",
        summary="Every event of an order the wallet is maker or taker of (signed POST)",
        description=(
            "Headers: `X-OTC-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "
            "t + '.' + body)>`, `X-OTC-Event-Id` (`<order_id>:<seq>`: de-duplicate on it), "
            "`X-OTC-Webhook-Id`, `X-OTC-Delivery-Attempt`. Any 2xx accepts the delivery; "
            "anything else, or no answer within the timeout, is retried with backoff."
        ),
        responses={200: {"description": "Any 2xx: accepted"}},
    )
    def order_event(body: schemas.WebhookDelivery) -> None:
        """Documentation only: the bridge sends this; it serves nothing here."""

    return router


@router.post(
    "",
    status_code=201,
    summary="Register a callback URL for the wallet's orders (signed: register_webhook)",
    openapi_extra=schemas.body_doc(schemas.RegisterWebhookRequest),
    responses=schemas.replies_doc(201, schemas.WebhookRegisteredResponse, 400, 401, 429, 503),
)
async def register(request: Request) -> JSONResponse:
    body = await json_body(request)
    registry = container(request).webhooks
    done = await write(request, lambda: registry.register(commands.register_webhook(body)))
    return answer(201, replies.webhook_registered(done))


@router.post(
    "/list",
    summary="The wallet's webhooks and how their deliveries go (signed: list_webhooks)",
    openapi_extra=schemas.body_doc(schemas.WalletSignedRequest),
    responses=schemas.replies_doc(200, schemas.WebhookListResponse, 400, 401, 429),
)
async def list_webhooks(request: Request) -> JSONResponse:
    body = await json_body(request)
    registry = container(request).webhooks
    found = await write(request, lambda: registry.list(commands.list_webhooks(body)))
    return answer(200, replies.webhook_list(found))


@router.post(
    "/{webhook_id}/remove",
    summary="Remove a webhook; deliveries not yet made are dropped (signed: remove_webhook)",
    openapi_extra=schemas.body_doc(schemas.WalletSignedRequest),
    responses=schemas.replies_doc(200, schemas.WebhookRemovedResponse, 400, 401, 404, 429),
)
async def remove(request: Request, webhook_id: str) -> JSONResponse:
    body = await json_body(request)
    registry = container(request).webhooks
    removed = await write(
        request, lambda: registry.remove(commands.remove_webhook(webhook_id, body))
    )
    return answer(200, replies.webhook_removed(removed))
