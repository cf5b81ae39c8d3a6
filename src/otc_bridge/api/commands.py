"""The reference's JSON bodies and query strings, parsed into the use cases' commands.

The reference's body rules: no JSON body (a wrong content type, invalid JSON, text no
database can store) counts as `{}` or as `"JSON body required"`; a body that is not an
object is `"JSON object required"`; text fields are `str(value).strip()`. The checks here
are the ones the reference makes first, in its order; the use cases make the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otc_bridge.domain.deadlines import ORDER_TTL_DEFAULT
from otc_bridge.domain.money import MoneyError, parse_decimal, to_units
from otc_bridge.domain.pairs import DEFAULT_PAIR, PAIRS
from otc_bridge.services.commands import (
    MALFORMED,
    CancelOrder,
    ConfirmOrder,
    CreateOrder,
    HashInput,
    ListOrders,
    ListTrades,
    ListWebhooks,
    MatchOrder,
    RegisterWebhook,
    RemoveWebhook,
)
from otc_bridge.services.errors import InvalidRequest
from otc_bridge.services.validation import MAX_ADDRESS_LENGTH

MAX_SQL_INT = 2**62
MAX_SEQ = 2**31 - 1  # history sequence numbers are 32-bit
PAGE_MAX = 200


def json_object(data: object, *, empty_is_missing: bool) -> dict[str, Any]:
    if data is None:
        if empty_is_missing:
            raise InvalidRequest("JSON body required")
        return {}
    if not isinstance(data, dict):
        raise InvalidRequest("JSON object required")
    if empty_is_missing and not data:
        raise InvalidRequest("JSON body required")
    return data


def _text(data: Mapping[str, Any], key: str, default: str = "") -> str:
    value = data.get(key, default)
    return str(value if value is not None else "").strip()


def _hash_input(data: Mapping[str, Any]) -> HashInput:
    raw = data.get("htlc_hash")
    if raw is None or raw == "":
        return None
    return raw if isinstance(raw, str) else MALFORMED


def _ttl(raw: object) -> int:
    if raw is None:
        return ORDER_TTL_DEFAULT
    if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
        raise InvalidRequest("ttl_seconds must be an integer")
    if not isinstance(raw, int | float | str):
        raise InvalidRequest("ttl_seconds must be an integer")
    try:
        return int(raw)
    except (TypeError, ValueError, OverflowError):
        raise InvalidRequest("ttl_seconds must be an integer") from None


def _units(raw: object, decimals: int, field: str) -> int:
    try:
        return to_units(parse_decimal(raw), decimals)
    except MoneyError:
        raise InvalidRequest(f"{field} must be a finite decimal number") from None


# ---------------------------------------------------------------------- bodies


def create_order(body: object) -> CreateOrder:
    data = json_object(body, empty_is_missing=True)
    ttl = _ttl(data.get("ttl_seconds"))
    side = _text(data, "side").lower()
    pair = _text(data, "pair", DEFAULT_PAIR).upper()
    wallet = _text(data, "wallet")
    if side not in {"buy", "sell"}:
        raise InvalidRequest("side must be 'buy' or 'sell'")
    if pair not in PAIRS:
        raise InvalidRequest(f"Unsupported pair. Supported: {list(PAIRS)}")
    if len(wallet) < 3:
        raise InvalidRequest("wallet required (RTC wallet ID)")
    return CreateOrder(
        side=side,
        pair=pair,
        wallet=wallet,
        amount_micro_rtc=_units(data.get("amount_rtc", 0), 6, "amount_rtc"),
        price_nano=_units(data.get("price_per_rtc", 0), 9, "price_per_rtc"),
        ttl_requested=ttl,
        eth_address=_text(data, "eth_address"),
        htlc_hash=_hash_input(data),
        wallet_auth=data.get("wallet_auth"),
    )


def match_order(order_id: str, body: object) -> MatchOrder:
    data = json_object(body, empty_is_missing=False)
    wallet = _text(data, "wallet")
    if not wallet:
        raise InvalidRequest("wallet required")
    return MatchOrder(
        order_id=order_id,
        wallet=wallet,
        eth_address=_text(data, "eth_address"),
        htlc_hash=_hash_input(data),
        wallet_auth=data.get("wallet_auth"),
    )


def cancel_order(order_id: str, body: object) -> CancelOrder:
    data = json_object(body, empty_is_missing=False)
    wallet = _text(data, "wallet")
    if not wallet:
        raise InvalidRequest("wallet required")
    return CancelOrder(order_id=order_id, wallet=wallet, wallet_auth=data.get("wallet_auth"))


def confirm_order(order_id: str, body: object) -> ConfirmOrder:
    data = json_object(body, empty_is_missing=False)
    wallet = _text(data, "wallet")
    quote_tx = _text(data, "quote_tx")
    if not wallet:
        raise InvalidRequest("wallet required")
    if not quote_tx:
        raise InvalidRequest("quote_tx required")
    if len(quote_tx) > MAX_ADDRESS_LENGTH:
        raise InvalidRequest("quote_tx is too long")
    return ConfirmOrder(order_id, wallet, quote_tx, _text(data, "secret"))


# ---------------------------------------------------------------------- query strings


def int_arg(
    args: Mapping[str, str], name: str, default: int, *, minimum: int, cap: int | None = None
) -> int:
    """The reference's query-integer rules and error codes."""
    raw = args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidRequest(f"{name}_must_be_integer") from None
    if value < minimum:
        raise InvalidRequest(
            f"{name}_must_be_positive" if minimum else f"{name}_must_be_non_negative"
        )
    # An offset past every row is an empty page, not a database integer overflow.
    return min(value, cap if cap is not None else MAX_SQL_INT)


def list_orders(args: Mapping[str, str]) -> ListOrders:
    return ListOrders(
        pair=args.get("pair", "").strip().upper(),
        side=args.get("side", "").strip().lower(),
        limit=int_arg(args, "limit", 50, minimum=1, cap=PAGE_MAX),
        offset=int_arg(args, "offset", 0, minimum=0),
    )


def list_trades(args: Mapping[str, str]) -> ListTrades:
    pair = args.get("pair", "").strip().upper()
    limit = int_arg(args, "limit", 50, minimum=1, cap=PAGE_MAX)
    offset = int_arg(args, "offset", 0, minimum=0)
    return ListTrades(pair=pair, limit=limit, offset=offset)


def events_after(args: Mapping[str, str]) -> int:
    return int_arg(args, "after", 0, minimum=0, cap=MAX_SEQ)


def book_pair(args: Mapping[str, str]) -> str:
    return args.get("pair", DEFAULT_PAIR).strip().upper()


# ---------------------------------------------------------------------- push


def stream_cursor(args: Mapping[str, str], last_event_id: str | None) -> int:
    """Where an order stream resumes: after `Last-Event-ID` (what an EventSource sends
    when it reconnects) or else after `?after=` (0: from the start)."""
    raw = (last_event_id or "").strip()
    if not raw:
        return events_after(args)
    if not (raw.isascii() and raw.isdigit()):
        raise InvalidRequest("last_event_id_must_be_integer")
    return MAX_SEQ if len(raw) > 10 else min(int(raw), MAX_SEQ)


def stream_pair(args: Mapping[str, str]) -> str:
    return book_pair(args)


def register_webhook(body: object) -> RegisterWebhook:
    data = json_object(body, empty_is_missing=True)
    wallet, url = _text(data, "wallet"), _text(data, "url")
    if not wallet:
        raise InvalidRequest("wallet required")
    if not url:
        raise InvalidRequest("url required")
    return RegisterWebhook(wallet=wallet, url=url, wallet_auth=data.get("wallet_auth"))


def remove_webhook(webhook_id: str, body: object) -> RemoveWebhook:
    data = json_object(body, empty_is_missing=False)
    wallet = _text(data, "wallet")
    if not wallet:
        raise InvalidRequest("wallet required")
    return RemoveWebhook(webhook_id, wallet, data.get("wallet_auth"))


def list_webhooks(body: object) -> ListWebhooks:
    data = json_object(body, empty_is_missing=False)
    wallet = _text(data, "wallet")
    if not wallet:
        raise InvalidRequest("wallet required")
    return ListWebhooks(wallet, data.get("wallet_auth"))
