"""The HTTP contract as pydantic models, published at /openapi.json.

Request bodies are parsed by hand with the reference bridge's rules (`api.commands`: a
wrong content type or invalid JSON counts as no body; fields are coerced the way the
reference coerces them), so the request models document the contract rather than gate it.
Every reply model is closed (`additionalProperties: false`) and lists every member a
reply can have, so a client generated from the document never meets an undocumented
shape; `tests/bridge/test_contract.py` checks every reply of every route against them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------- requests


class WalletAuth(BaseModel):
    public_key: str = Field(description="Ed25519 public key, 64 hex characters")
    signature: str = Field(description="Ed25519 signature of the canonical message, 128 hex")
    timestamp: int = Field(description="Unix seconds; accepted within the validity window")


class CreateOrderRequest(BaseModel):
    side: str = Field(description="buy | sell")
    pair: str = Field("RTC/USDC", description="RTC/USDC | RTC/ETH | RTC/ERG")
    wallet: str = Field(description="The maker's native RTC wallet (RTC + 40 hex)")
    amount_rtc: str | float = Field(description="Decimal RTC amount, 0.1 to 10000")
    price_per_rtc: str | float = Field(description="Decimal quote units per RTC, up to 1000")
    eth_address: str | None = Field(None, description="The maker's quote-chain address")
    ttl_seconds: int | None = Field(None, description="Order lifetime; default 7 days")
    htlc_hash: str | None = Field(
        None, description="Sell orders: sha256 of the seller's own preimage (64 hex)"
    )
    wallet_auth: WalletAuth


class MatchOrderRequest(BaseModel):
    wallet: str
    eth_address: str | None = None
    htlc_hash: str | None = Field(
        None, description="Buy orders: the matching RTC seller's own hashlock (64 hex)"
    )
    wallet_auth: WalletAuth


class CancelOrderRequest(BaseModel):
    wallet: str
    wallet_auth: WalletAuth


class ReportLockRequest(BaseModel):
    """Exactly one of the two. Unsigned: anyone may report a lock (the chain is the
    authority; the checks bind it to the order)."""

    quote_tx: str | None = Field(None, description="The transaction that made the lock, 0x+64 hex")
    lock_id: str | None = Field(None, description="The lock's id in the pair's HTLC, 0x+64 hex")


class ConfirmRequest(BaseModel):
    wallet: str = Field(description="The RTC seller's wallet")
    quote_tx: str = Field(description="The quote-leg transaction (lock or claim)")
    secret: str = Field(description="The preimage p, 64 hex; sha256(p) must be the hashlock")


# ---------------------------------------------------------------------- errors


class ErrorBody(_Reply):
    """Every refusal: `error` always, the other members where that refusal has them."""

    error: str = Field(description="A stable code or the reference's message")
    message: str | None = Field(None, description="The error in words")
    details: str | None = Field(None, description="The node's own refusal (escrow)")
    hint: str | None = None
    order_id: str | None = Field(None, description="Escrow lock outcome unknown: the order")
    status: str | None = Field(None, description="Escrow lock outcome unknown: its status")
    max_ttl_seconds: int | None = None
    balance_rtc: float | None = None
    required_rtc: float | None = None
    retry_after_seconds: int | None = Field(
        None, description="429: seconds until a retry may succeed (also the Retry-After header)"
    )
    server_time: int | None = Field(
        None, description="wallet_auth_timestamp_expired: the server's clock, Unix seconds"
    )
    rtc_recipient: str | None = None
    reason: str | None = Field(None, description="Why the quote leg cannot be verified")
    policy: str | None = Field(None, description="The quote-leg verification policy")
    claim_deadline: int | None = None
    refundable_at: int | None = Field(
        None, description="quote_locked (cancel refused): when S's escrow becomes refundable"
    )
    observed: str | None = Field(None, description="A refused quote lock: what the chain shows")
    expected: str | None = Field(None, description="A refused quote lock: what the order needs")
    pair: str | None = Field(None, description="pair_disabled: the pair")
    max_bytes: int | None = Field(None, description="413: the largest body accepted")
    limit: int | None = Field(
        None, description="429: the cap that was reached (open streams, webhooks per wallet)"
    )


# ---------------------------------------------------------------------- orders


class Deadlines(_Reply):
    """Unix seconds; null until known (design §2)."""

    expires_at: int = Field(description="The order leaves the book (unmatched) then")
    match_deadline: int | None = Field(
        description="B's quote lock must be mined (block timestamp) and reported by then"
    )
    quote_timelock: int | None = Field(description="T_q, from the verified quote lock")
    claim_deadline: int | None = Field(
        description="T_q - claim margin: S's reveal (confirm) is refused from then"
    )
    refundable_at: int | None = Field(
        description="T_q + finality wait: the earliest S's escrow may be refunded, once the "
        "chain's final view shows the lock unclaimed"
    )
    escrow_expires_at: int | None = Field(description="The RTC escrow job's expiry")
    next_action_at: int | None = Field(description="When the bridge looks at the order next")


class QuoteLockView(_Reply):
    """B's verified lock on the quote chain."""

    lock_id: str
    tx_hash: str
    block_number: int
    block_hash: str
    amount: str = Field(description="In the quote token's base units (a decimal string)")
    timelock: int
    sender: str = Field(description="B's quote address (refunded there after T_q)")
    receiver: str = Field(description="S's quote address (paid by the claim)")
    verified_at: int


class OrderSummary(_Reply):
    order_id: str
    side: str
    pair: str
    maker_wallet: str
    amount_micro_rtc: int
    amount_rtc: float
    price_per_rtc_nano_quote: int
    price_per_rtc: float
    total_quote_nano: int
    total_quote: float
    total_quote_base_units: str
    quote_currency: str
    status: str
    htlc_hash: str | None
    created_at: int
    expires_at: int
    escrow_job_id: str | None


class OrderDetail(OrderSummary):
    quote_decimals: int
    maker_eth_address: str | None
    taker_wallet: str | None
    taker_eth_address: str | None
    secret_origin: str | None = Field(description="client | server (who made the preimage)")
    escrow_poster: str | None
    escrow_expires_at: int | None
    settlement_tx: str | None = Field(description="The quote tx named when settling")
    matched_at: int | None
    settling_at: int | None
    completed_at: int | None
    closed_at: int | None
    payout_tx_hash: str | None
    payout_pending_id: int | None
    deadlines: Deadlines
    quote_lock: QuoteLockView | None = Field(
        description="B's verified quote lock; null until one is verified"
    )
    version: int
    htlc_secret: str | None = Field(None, description="Only once the order is completed")


class CreateOrderResponse(_Reply):
    ok: bool
    order_id: str
    side: str
    pair: str
    amount_micro_rtc: int
    amount_rtc: float
    price_per_rtc_nano_quote: int
    price_per_rtc: float
    total_quote_nano: int
    total_quote: float
    total_quote_base_units: str
    quote_currency: str
    status: str
    expires_at: int
    expires_in_hours: float
    deadlines: Deadlines
    htlc_hash: str | None = Field(None, description="Sell orders")
    htlc_secret: str | None = Field(
        None, description="Only for a sell order created without htlc_hash, returned once"
    )
    escrow_job_id: str | None = Field(None, description="Sell orders: the node's escrow job")
    escrow_status: str | None = Field(None, description="Sell orders: locked")
    message: str


class OrderListResponse(_Reply):
    ok: bool
    orders: list[OrderSummary]
    total: int
    pairs: list[str]


class OrderDetailResponse(_Reply):
    ok: bool
    order: OrderDetail


class SettlementInstructions(_Reply):
    step: str
    amount: float
    amount_base_units: str
    currency: str
    htlc_hash: str | None
    lock_deadline: int | None
    note: str


class MatchResponse(_Reply):
    ok: bool
    order_id: str
    status: str = Field(description="matched")
    side: str
    pair: str
    amount_rtc: float
    price_per_rtc: float
    total_quote: float
    total_quote_base_units: str
    maker_wallet: str
    taker_wallet: str | None
    htlc_hash: str | None
    escrow_job_id: str | None
    seller_quote_address: str | None
    buyer_refund_address: str | None
    deadlines: Deadlines
    htlc_secret: str | None = Field(
        None, description="Buy orders matched without htlc_hash: the preimage, once"
    )
    settlement_instructions: SettlementInstructions


class CancelResponse(_Reply):
    ok: bool
    order_id: str
    status: str = Field(description="cancelled, or refund_pending until the refund lands")
    escrow_refunded: bool
    message: str


class ConfirmResponse(_Reply):
    ok: bool = Field(description="True only once the RTC payout is confirmed on the node")
    order_id: str
    status: str = Field(description="completed | payout_pending | settling | ...")
    amount_rtc: float
    rtc_recipient: str | None
    rtc_transfer_status: str = Field(
        description="not_started | queued | pending | confirmed | manual_recovery_required"
    )
    rtc_transfer_pending_id: int | None
    rtc_transfer_tx_hash: str | None
    message: str
    deadlines: Deadlines
    htlc_secret: str | None = Field(None, description="Only when completed")
    trade_id: str | None = Field(None, description="Only when completed")


class OrderEvent(_Reply):
    seq: int
    from_: str | None = Field(alias="from")
    to: str
    cause: str
    actor: str
    refs: dict[str, Any]
    at: int
    prev_hash: str
    hash: str


class EventsResponse(_Reply):
    ok: bool
    order_id: str
    events: list[OrderEvent]


# ---------------------------------------------------------------------- market


class TradeView(_Reply):
    trade_id: str
    order_id: str
    pair: str
    side: str
    maker_wallet: str
    taker_wallet: str
    amount_micro_rtc: int
    amount_rtc: float
    price_per_rtc_nano_quote: int
    price_per_rtc: float
    total_quote_nano: int
    total_quote: float
    total_quote_base_units: str
    quote_tx: str | None
    rtc_tx: str | None
    completed_at: int


class TradesResponse(_Reply):
    ok: bool
    trades: list[TradeView]


class BookLevel(_Reply):
    price: float
    price_nano: int
    total_rtc: float
    total_micro_rtc: int
    order_count: int


class OrderbookResponse(_Reply):
    ok: bool
    pair: str
    asks: list[BookLevel]
    bids: list[BookLevel]
    last_price: float | None
    volume_24h_rtc: float
    trades_24h: int
    reference_rate: float
    spread: float | None


class SideStats(_Reply):
    count: int
    total_rtc: float


class Stats(_Reply):
    total_trades: int
    total_volume_rtc: float
    volume_24h_rtc: float
    volume_7d_rtc: float
    open_orders: int
    open_sells: SideStats
    open_buys: SideStats
    last_price: float
    high_24h: float | None
    low_24h: float | None
    reference_rate_usd: float
    supported_pairs: list[str]


class StatsResponse(_Reply):
    ok: bool
    stats: Stats


class TimelockWindow(_Reply):
    min_seconds: int
    max_seconds: int
    claim_margin_seconds: int
    settlement_margin_seconds: int


class PairLimits(_Reply):
    min_amount_rtc: float
    max_amount_rtc: float
    max_price: float
    max_ttl_seconds: int


class PairInfo(_Reply):
    pair: str
    quote_currency: str
    decimals: int
    chain: str = Field(description="evm | ergo")
    enabled: bool = Field(description="false: the pair takes no orders and no matches")
    disabled_reason: str | None = Field(description="Why the pair is disabled")
    chain_id: int | None = Field(description="null: no quote chain configured")
    htlc_contract: str | None
    token_address: str | None = Field(description="null for ETH")
    rpc_url: str | None = Field(description="A public RPC to lock with")
    finality_confirmations: int | None
    timelock_min_seconds: int = Field(description="T_q - the lock's block time, at least")
    timelock_max_seconds: int = Field(description="T_q - the lock's block time, at most")
    quote_verification: str = Field(
        description="verified (EVM, read from the chain) | unverified (RTC/ERG only, "
        "trusts the seller) | none (disabled)"
    )
    timelock_window: TimelockWindow
    lock_window_seconds: int
    limits: PairLimits


class PairsResponse(_Reply):
    ok: bool
    pairs: list[PairInfo]


# ---------------------------------------------------------------------- operations


class ChainHealth(_Reply):
    pairs: str = Field(description="The pairs on this chain, comma-separated")
    chain_id: int
    status: str = Field(description="ok | unreachable | misconfigured")
    head: int | None = Field(description="The chain's latest block number")
    problem: str | None


class HealthResponse(_Reply):
    ok: bool
    db: str = Field(description="ok | unreachable")
    node: str = Field(description="ok | unreachable")
    chains: list[ChainHealth] = Field(description="Each configured quote chain")


class ReconcileSummary(_Reply):
    promoted: int
    recovered: int
    refunded: int
    expired: int
    advanced: int
    left: int
    errors: int
    due: int
    skipped_locked: int
    lease_lost: int
    seconds: float
    by_status: dict[str, int]


class ReconcileResponse(_Reply):
    ok: bool
    summary: ReconcileSummary


# ---------------------------------------------------------------------- route documents

ERRORS = {
    400: "Bad input (nothing changed)",
    401: "Missing, invalid or replayed signature (or admin key)",
    403: "Not the party who may do this",
    404: "Order not found",
    409: "The order's state does not allow this (or it changed meanwhile)",
    410: "The order has expired",
    422: "The quote lock does not back the order (error names the check; nothing changed)",
    413: "Request body larger than OTC_MAX_BODY_BYTES",
    429: "Rate limited (Retry-After), or the node's active-escrow cap",
    503: "A dependency cannot serve this now; nothing was lost",
}
Reply = int | tuple[int, type[BaseModel]]
# On every answer (api/headers.py); published so a generated client can read them.
HEADERS = {
    "X-Server-Time": {
        "description": "The server's clock, Unix seconds: sign wallet_auth with it",
        "schema": {"type": "integer"},
    },
    "X-Request-Id": {
        "description": "The request's id, as sent or made",
        "schema": {"type": "string"},
    },
}
RETRY = {
    "Retry-After": {
        "description": "Seconds until a retry may succeed (as retry_after_seconds)",
        "schema": {"type": "integer"},
    }
}


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    return node


def body_doc(model: type[BaseModel]) -> dict[str, Any]:
    """An OpenAPI requestBody entry for a hand-parsed JSON body (nested models inlined)."""
    schema = model.model_json_schema()
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _inline(schema, schema.get("$defs", {}))}},
        }
    }


def replies_doc(
    status: int, model: type[BaseModel], *others: Reply
) -> dict[int | str, dict[str, Any]]:
    """A route's replies: its success model, then each other status it answers (an
    `ErrorBody` unless a model is given). Every route may answer 413 (the size limit is
    checked before routing)."""
    doc: dict[int | str, dict[str, Any]] = {status: {"model": model, "headers": HEADERS}}
    for other in (*others, 413):
        code, body = other if isinstance(other, tuple) else (other, ErrorBody)
        headers = {**HEADERS, **RETRY} if code == 429 else HEADERS
        doc[code] = {"model": body, "description": ERRORS.get(code, ""), "headers": headers}
    return doc


def text_doc(status: int, description: str) -> dict[int | str, dict[str, Any]]:
    """A plain-text reply (the route's response_class publishes its media type); its
    errors are JSON like every other."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    return {
        status: {"description": description},
        413: {"description": ERRORS[413], "content": error},
    }


# ---------------------------------------------------------------------- push: streams


class StreamEnd(_Reply):
    """The `end` event: the order reached a terminal state and the stream closes."""

    order_id: str
    status: str = Field(description="completed | cancelled | expired")
    last_seq: int = Field(description="The terminal event's seq")


class MarketSnapshot(_Reply):
    """A `snapshot` event: `GET /api/orderbook`'s body (without `ok`) and the pair's 20
    newest trades (as `GET /api/trades` shows them)."""

    pair: str
    asks: list[BookLevel]
    bids: list[BookLevel]
    last_price: float | None
    volume_24h_rtc: float
    trades_24h: int
    reference_rate: float
    spread: float | None
    trades: list[TradeView]


STREAM_ERRORS = {
    **ERRORS,
    400: "Bad input: a cursor (after, Last-Event-ID) that is not an integer or is past the "
    "order's history, or an unsupported pair",
    429: "Too many open streams (in total, or from this address): Retry-After",
}


def event_stream_doc(
    description: str, events: dict[str, type[BaseModel]], *others: int
) -> dict[int | str, dict[str, Any]]:
    """A `text/event-stream` route: its events (OpenAPI 3.2's `itemSchema` for SSE, each
    event's `data` a JSON document of the named model), then its other replies: JSON
    errors, and a 204 without a body."""
    data = []
    for name, model in events.items():
        schema = model.model_json_schema()
        data.append({**_inline(schema, schema.get("$defs", {})), "title": name})
    item = {
        "type": "object",
        "properties": {
            "event": {"type": "string", "enum": list(events)},
            "id": {"type": "string"},
            "retry": {"type": "integer", "minimum": 0},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": {"oneOf": data},
            },
        },
    }
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    doc: dict[int | str, dict[str, Any]] = {
        200: {
            "description": description,
            "content": {"text/event-stream": {"schema": {"type": "string"}, "itemSchema": item}},
        }
    }
    for code in (*others, 413):
        if code == 204:
            doc[code] = {"description": "The order has ended and the client has every event"}
        else:
            doc[code] = {"description": STREAM_ERRORS.get(code, ""), "content": error}
    return doc


# ---------------------------------------------------------------------- push: webhooks


class RegisterWebhookRequest(BaseModel):
    wallet: str = Field(description="The wallet whose orders (as maker or taker) are told")
    url: str = Field(
        description="http(s), at most 2048 characters, no credentials; outside the devnet "
        "it must resolve only to public addresses"
    )
    wallet_auth: WalletAuth


class WalletSignedRequest(BaseModel):
    wallet: str
    wallet_auth: WalletAuth


class WebhookRegisteredResponse(_Reply):
    ok: bool
    webhook_id: str
    wallet: str
    url: str
    created_at: int
    secret: str = Field(description="The HMAC key for X-OTC-Signature: shown this once")
    message: str


class WebhookView(_Reply):
    webhook_id: str
    url: str
    created_at: int
    pending: int = Field(description="Deliveries not yet accepted (retrying with backoff)")
    delivered: int = Field(description="Accepted in the last 7 days")
    failed: int = Field(description="Given up after every attempt, in the last 30 days")
    last_delivered_at: int | None
    last_error: str | None = Field(description="Of the latest delivery that failed an attempt")


class WebhookListResponse(_Reply):
    ok: bool
    wallet: str
    max_webhooks: int
    webhooks: list[WebhookView]


class WebhookRemovedResponse(_Reply):
    ok: bool
    webhook_id: str
    removed: bool


class WebhookDelivery(_Reply):
    """What a webhook receives: a POST of this JSON, signed in `X-OTC-Signature`."""

    id: str = Field(description="<order_id>:<seq>, also in X-OTC-Event-Id: de-duplicate on it")
    type: str = Field(description="order.event")
    webhook_id: str
    order_id: str
    event: OrderEvent
