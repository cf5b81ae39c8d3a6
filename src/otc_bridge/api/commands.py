"""The reference's JSON bodies and query strings, parsed into the use cases' commands.

What a request body can be, and the answer on each route (the reference's strings; where
its routes differ, the difference its clients rely on is kept, audit §1.4):

| body | create | match, cancel | confirm |
|---|---|---|---|
| none (no JSON content type, empty) | `JSON body required` | read as `{}` | read as `{}` |
| not usable JSON (see `parse_json`) | `JSON body required` | same | `JSON object required` |
| JSON, not an object (`null`, `[]`, …) | `JSON object required` | same | same |
| `{}` | `JSON body required` | read as is | read as is |

Every "not valid JSON" answer carries a `message` saying what is wrong with it. A number
longer than MAX_NUMBER_CHARS is not parsed at all (`LongNumber`): a money field or
`ttl_seconds` holding one is refused as too long, not as unreadable JSON. Text fields are
`str(value).strip()`. The checks here are the ones the reference makes first, in its
order; the use cases make the rest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from otc_bridge.domain.deadlines import ORDER_TTL_DEFAULT
from otc_bridge.domain.money import MAX_NUMBER_CHARS, MoneyError, parse_decimal, to_units
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
    ReportLock,
)
from otc_bridge.services.errors import InvalidRequest
from otc_bridge.services.validation import MAX_ADDRESS_LENGTH
from otc_bridge.settlement.quote_chains import is_hex32

MAX_SQL_INT = 2**62
MAX_SEQ = 2**31 - 1  # history sequence numbers are 32-bit
PAGE_MAX = 200


# ---------------------------------------------------------------------- bodies as sent


@dataclass(frozen=True, slots=True)
class NoBody:
    """No JSON body: no JSON content type, or nothing sent (Flask's `get_json(silent=True)`
    gives None for both)."""


NO_BODY = NoBody()


@dataclass(frozen=True, slots=True)
class InvalidJson:
    """A JSON content type whose text is not JSON a database can store."""

    reason: str


@dataclass(frozen=True, slots=True)
class LongNumber:
    """A JSON number too long to be any value a field accepts, kept unparsed."""

    text: str

    def __str__(self) -> str:
        return self.text


Body = NoBody | InvalidJson | object  # otherwise: the parsed JSON value, `null` included
# Which write a body belongs to: create and webhook registration need a body; match,
# cancel, confirm and the other webhook calls read a missing one as {}.
Write = Literal["create", "match", "cancel", "confirm", "lock", "register_webhook", "webhook"]
_BODY_REQUIRED: frozenset[str] = frozenset({"create", "register_webhook"})


def _number(parse: type[int] | type[float]) -> Any:
    def read(text: str) -> object:
        return LongNumber(text) if len(text) > MAX_NUMBER_CHARS else parse(text)

    return read


def parse_json(raw: bytes) -> Body:
    """A request body with a JSON content type, as the use cases may read it."""
    if not raw.strip():
        return NO_BODY
    try:
        data: object = json.loads(raw, parse_int=_number(int), parse_float=_number(float))
    except RecursionError:
        return InvalidJson(TOO_DEEP)
    except ValueError as err:  # UnicodeDecodeError included
        return InvalidJson(f"the body is not valid JSON: {err}")
    problem = _unusable(data)
    return data if problem is None else InvalidJson(problem)


# No request nests deeper than 3. A limit of our own, so the answer never depends on
# the interpreter's recursion limit (the parser's only bound).
MAX_JSON_DEPTH = 32
TOO_DEEP = f"the body is nested deeper than {MAX_JSON_DEPTH} levels"
UNSTORABLE = (
    "the body holds a NUL character (\\u0000) or a lone surrogate, which no database "
    "column can store"
)


def _unusable(data: object) -> str | None:
    """Why a parsed body cannot be used: nested too deep, or a string no database text
    column can store (a NUL, `\\u0000`, or a lone surrogate, `\\ud800`). A walk with a
    stack, not recursion, whatever the nesting."""
    pending: list[tuple[object, int]] = [(data, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if "\x00" in item or not _encodable(item):
                return UNSTORABLE
        elif isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                return TOO_DEEP
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def json_object(body: Body, *, route: Write) -> dict[str, Any]:
    """The body as an object, or the route's refusal (the table in this module's doc)."""
    if isinstance(body, NoBody):
        if route in _BODY_REQUIRED:
            raise InvalidRequest("JSON body required")
        return {}
    if isinstance(body, InvalidJson):
        error = "JSON object required" if route == "confirm" else "JSON body required"
        raise InvalidRequest(error, message=body.reason)
    if not isinstance(body, dict):
        raise InvalidRequest("JSON object required")
    if route in _BODY_REQUIRED and not body:
        raise InvalidRequest("JSON body required")
    return body


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
    if isinstance(raw, LongNumber):
        raise InvalidRequest("ttl_seconds is too long", message=_too_long(raw.text))
    if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
        raise InvalidRequest("ttl_seconds must be an integer")
    if not isinstance(raw, int | float | str) or (isinstance(raw, str) and not raw.isascii()):
        raise InvalidRequest("ttl_seconds must be an integer")  # int() would read "３６００"
    try:
        return int(raw)
    except (TypeError, ValueError, OverflowError):
        raise InvalidRequest("ttl_seconds must be an integer") from None


def _too_long(text: str) -> str:
    return f"a number of {len(text)} characters; at most {MAX_NUMBER_CHARS} are read"


def _units(raw: object, decimals: int, field: str) -> int:
    if isinstance(raw, LongNumber):
        raise InvalidRequest(f"{field} is too long", message=_too_long(raw.text))
    try:
        return to_units(parse_decimal(raw), decimals)
    except MoneyError as err:
        if err.code == "too_long":
            raise InvalidRequest(f"{field} is too long", message=_too_long(str(raw))) from None
        if err.code == "not_ascii":
            raise InvalidRequest(
                f"{field} must be a finite decimal number",
                message="write amounts with the ASCII digits 0-9 (and . - + e)",
            ) from None
        raise InvalidRequest(f"{field} must be a finite decimal number") from None


# ---------------------------------------------------------------------- bodies


def create_order(body: Body) -> CreateOrder:
    data = json_object(body, route="create")
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


def match_order(order_id: str, body: Body) -> MatchOrder:
    data = json_object(body, route="match")
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


def cancel_order(order_id: str, body: Body) -> CancelOrder:
    data = json_object(body, route="cancel")
    wallet = _text(data, "wallet")
    if not wallet:
        raise InvalidRequest("wallet required")
    return CancelOrder(order_id=order_id, wallet=wallet, wallet_auth=data.get("wallet_auth"))


def confirm_order(order_id: str, body: Body) -> ConfirmOrder:
    data = json_object(body, route="confirm")
    wallet = _text(data, "wallet")
    quote_tx = _text(data, "quote_tx")
    if not wallet:
        raise InvalidRequest("wallet required")
    if not quote_tx:
        raise InvalidRequest("quote_tx required")
    if len(quote_tx) > MAX_ADDRESS_LENGTH:
        raise InvalidRequest("quote_tx is too long")
    return ConfirmOrder(order_id, wallet, quote_tx, _text(data, "secret"))


def report_lock(order_id: str, body: Body) -> ReportLock:
    """`{"quote_tx": "0x…"}` or `{"lock_id": "0x…"}`: exactly one, 0x + 64 hex."""
    data = json_object(body, route="lock")
    given = {key: _text(data, key) for key in ("lock_id", "quote_tx") if _text(data, key)}
    if len(given) != 1:
        raise InvalidRequest(
            "invalid_lock_reference", message="send exactly one of lock_id and quote_tx"
        )
    ((key, value),) = given.items()
    if not is_hex32(value):
        raise InvalidRequest(
            "invalid_lock_reference", message=f"{key} must be 0x followed by 64 hex digits"
        )
    value = value.lower()
    if key == "lock_id":
        return ReportLock(order_id, lock_id=value, quote_tx=None)
    return ReportLock(order_id, lock_id=None, quote_tx=value)


# ---------------------------------------------------------------------- query strings


def int_arg(
    args: Mapping[str, str], name: str, default: int, *, minimum: int, cap: int | None = None
) -> int:
    """The reference's query-integer rules and error codes."""
    raw = args.get(name)
    if raw is None:
        return default
    try:
        if not raw.isascii():
            raise ValueError(raw)  # int() would read "１０"
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
    data = json_object(body, route="register_webhook")
    wallet, url = _text(data, "wallet"), _text(data, "url")
    if not wallet:
        raise InvalidRequest("wallet required")
    if not url:
        raise InvalidRequest("url required")
    return RegisterWebhook(wallet=wallet, url=url, wallet_auth=data.get("wallet_auth"))


def remove_webhook(webhook_id: str, body: object) -> RemoveWebhook:
    data = json_object(body, route="webhook")
    wallet = _text(data, "wallet")
    if not wallet:
        raise InvalidRequest("wallet required")
    return RemoveWebhook(webhook_id, wallet, data.get("wallet_auth"))


def list_webhooks(body: object) -> ListWebhooks:
    data = json_object(body, route="webhook")
    wallet = _text(data, "wallet")
    if not wallet:
        raise InvalidRequest("wallet required")
    return ListWebhooks(wallet, data.get("wallet_auth"))
