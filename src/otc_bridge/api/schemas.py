"""The HTTP contract as pydantic models, published at /openapi.json.

Request bodies are parsed by hand with the reference bridge's rules (a wrong content type
or invalid JSON counts as no body; fields are coerced the way the reference coerces them),
so these models document the contract rather than gate it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


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


class ConfirmRequest(BaseModel):
    wallet: str = Field(description="The RTC seller's wallet")
    quote_tx: str = Field(description="The quote-leg transaction (lock or claim)")
    secret: str = Field(description="The preimage p, 64 hex; sha256(p) must be the hashlock")


class ConfirmResponse(_Open):
    ok: bool = Field(description="True only once the RTC payout is confirmed on the node")
    order_id: str
    status: str = Field(description="completed | payout_pending | settling | ...")
    rtc_recipient: str | None
    rtc_transfer_status: str
    rtc_transfer_tx_hash: str | None
    htlc_secret: str | None = Field(None, description="Only when completed")
    trade_id: str | None = Field(None, description="Only when completed")


class ErrorBody(_Open):
    error: str = Field(description="A stable code or the reference's message")


class Deadlines(BaseModel):
    expires_at: int
    match_deadline: int | None
    quote_timelock: int | None
    claim_deadline: int | None
    refundable_at: int | None
    escrow_expires_at: int | None
    next_action_at: int | None


class OrderSummary(_Open):
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
    taker_wallet: str | None
    deadlines: Deadlines
    version: int
    htlc_secret: str | None = Field(None, description="Only once the order is completed")


class CreateOrderResponse(_Open):
    ok: bool
    order_id: str
    status: str
    expires_at: int
    htlc_hash: str | None = None
    htlc_secret: str | None = Field(
        None, description="Only for a sell order created without htlc_hash, returned once"
    )
    escrow_job_id: str | None = None
    message: str


class OrderListResponse(BaseModel):
    ok: bool
    orders: list[OrderSummary]
    total: int
    pairs: list[str]


class OrderDetailResponse(BaseModel):
    ok: bool
    order: OrderDetail


class MatchResponse(_Open):
    ok: bool
    order_id: str
    status: str
    htlc_hash: str | None
    settlement_instructions: dict[str, Any]


class CancelResponse(BaseModel):
    ok: bool
    order_id: str
    status: str = Field(description="cancelled, or refund_pending until the refund lands")
    escrow_refunded: bool
    message: str


class OrderEvent(BaseModel):
    seq: int
    from_: str | None = Field(alias="from")
    to: str
    cause: str
    actor: str
    refs: dict[str, Any]
    at: int
    prev_hash: str
    hash: str


class EventsResponse(BaseModel):
    ok: bool
    order_id: str
    events: list[OrderEvent]


class TradesResponse(BaseModel):
    ok: bool
    trades: list[dict[str, Any]]


class BookLevel(BaseModel):
    price: float
    price_nano: int
    total_rtc: float
    total_micro_rtc: int
    order_count: int


class OrderbookResponse(BaseModel):
    ok: bool
    pair: str
    asks: list[BookLevel]
    bids: list[BookLevel]
    last_price: float | None
    volume_24h_rtc: float
    trades_24h: int
    reference_rate: float
    spread: float | None


class StatsResponse(BaseModel):
    ok: bool
    stats: dict[str, Any]


class PairsResponse(BaseModel):
    ok: bool
    pairs: list[dict[str, Any]]


class HealthResponse(_Open):
    ok: bool
    db: str
    node: str
    chain: str | None


class ReconcileResponse(BaseModel):
    ok: bool
    summary: dict[str, Any]


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


def errors_doc(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorBody} for status in statuses}
