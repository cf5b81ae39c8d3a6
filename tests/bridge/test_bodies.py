"""One table per signed route of what a request body can be and the answer each gets
(api/commands.py): the reference's strings where its clients rely on them, the same
answer everywhere else, a number too long to read refused as too long, and digits other
than ASCII refused in money fields. Nothing refused changes anything."""

from __future__ import annotations

from typing import Any

import pytest

from otc_bridge.clientlib.wallet import Wallet
from otc_bridge.devnet.control import DevnetControl
from tests.support.bridge import RunningBridge

JSON = "application/json"
LONG = "1" * 5000
BUY = '"side":"buy","pair":"RTC/USDC","wallet":"RTCx"'
# name -> (raw body, content type)
BODIES: dict[str, tuple[bytes, str | None]] = {
    "none": (b"", None),
    "text/plain": (b'{"wallet":"RTCx"}', "text/plain"),
    "not JSON": (b"{oops", JSON),
    "a NUL in a string": (b'{"wallet":"a\\u0000b"}', JSON),
    "null": (b"null", JSON),
    "a list": (b"[]", JSON),
    "zero": (b"0", JSON),
    "{}": (b"{}", JSON),
    # within our limit; deeper than it (yet within what json parses whatever the
    # recursion limit); deeper than any recursion limit leaves room for
    "nested 30 deep": (b'{"wallet":"","n":' + b"[" * 29 + b"]" * 29 + b"}", JSON),
    "nested 600 deep": (b'{"wallet":"","n":' + b"[" * 600 + b"]" * 600 + b"}", JSON),
    "nested 30,000 deep": (b'{"n":' + b"[" * 30_000 + b"]" * 30_000 + b"}", JSON),
    "a 5,000-digit amount": (f'{{{BUY},"amount_rtc":{LONG},"price_per_rtc":1}}'.encode(), JSON),
    "a 5,000-digit price": (f'{{{BUY},"amount_rtc":1,"price_per_rtc":{LONG}.5}}'.encode(), JSON),
    "a 5,000-character amount": (
        f'{{{BUY},"amount_rtc":"{LONG}","price_per_rtc":1}}'.encode(),
        JSON,
    ),
    "a 5,000-digit ttl": (
        f'{{{BUY},"amount_rtc":1,"price_per_rtc":1,"ttl_seconds":{LONG}}}'.encode(),
        JSON,
    ),
    "a 5,000-digit unknown field": (f'{{"wallet":"","n":{LONG}}}'.encode(), JSON),
    "full-width digits": (f'{{{BUY},"amount_rtc":"１０","price_per_rtc":1}}'.encode(), JSON),
    "Arabic-Indic digits": (f'{{{BUY},"amount_rtc":1,"price_per_rtc":"٠٫١"}}'.encode(), JSON),
    "full-width ttl": (
        f'{{{BUY},"amount_rtc":1,"price_per_rtc":1,"ttl_seconds":"３６００"}}'.encode(),
        JSON,
    ),
}
BODY, OBJECT, WALLET = "JSON body required", "JSON object required", "wallet required"
NOT_JSON = "the body is not valid JSON"
UNSTORABLE = "no database column can store"
DIGITS = "ASCII digits"
TOO_LONG = "a number of 5000 characters"
DEEP = "nested deeper than 32 levels"
# route -> body name -> (error, what `message` says, or None for the exact body {"error"})
CREATE: dict[str, tuple[str, str | None]] = {
    "none": (BODY, None),
    "text/plain": (BODY, None),
    "not JSON": (BODY, NOT_JSON),
    "a NUL in a string": (BODY, UNSTORABLE),
    "null": (OBJECT, None),
    "a list": (OBJECT, None),
    "zero": (OBJECT, None),
    "{}": (BODY, None),
    "a 5,000-digit amount": ("amount_rtc is too long", TOO_LONG),
    "a 5,000-digit price": ("price_per_rtc is too long", "a number of 5002 characters"),
    "a 5,000-character amount": ("amount_rtc is too long", TOO_LONG),
    "a 5,000-digit ttl": ("ttl_seconds is too long", TOO_LONG),
    "a 5,000-digit unknown field": ("side must be 'buy' or 'sell'", None),
    "nested 30 deep": ("side must be 'buy' or 'sell'", None),
    "nested 600 deep": (BODY, DEEP),
    "nested 30,000 deep": (BODY, DEEP),
    "full-width digits": ("amount_rtc must be a finite decimal number", DIGITS),
    "Arabic-Indic digits": ("price_per_rtc must be a finite decimal number", DIGITS),
    "full-width ttl": ("ttl_seconds must be an integer", None),
}
ORDER_ROUTE: dict[str, tuple[str, str | None]] = {
    "none": (WALLET, None),  # the reference reads no JSON body as {} on these routes
    "text/plain": (WALLET, None),
    "not JSON": (BODY, NOT_JSON),
    "a NUL in a string": (BODY, UNSTORABLE),
    "null": (OBJECT, None),
    "a list": (OBJECT, None),
    "zero": (OBJECT, None),
    "{}": (WALLET, None),
    "a 5,000-digit unknown field": (WALLET, None),
    "nested 30 deep": (WALLET, None),
    "nested 600 deep": (BODY, DEEP),
    "nested 30,000 deep": (BODY, DEEP),
}
# confirm: the reference answers unreadable JSON with "JSON object required" and its
# suite checks it; everything else as on match and cancel.
CONFIRM = {
    **ORDER_ROUTE,
    "not JSON": (OBJECT, NOT_JSON),
    "a NUL in a string": (OBJECT, UNSTORABLE),
    "nested 600 deep": (OBJECT, DEEP),
    "nested 30,000 deep": (OBJECT, DEEP),
}
EXPECTED = {"create": CREATE, "match": ORDER_ROUTE, "cancel": ORDER_ROUTE, "confirm": CONFIRM}
CASES = [(route, name) for route, table in EXPECTED.items() for name in table]


def _path(route: str, order_id: str) -> str:
    return "/api/orders" if route == "create" else f"/api/orders/{order_id}/{route}"


@pytest.mark.parametrize(("route", "body"), CASES, ids=[f"{r}: {n}" for r, n in CASES])
def test_each_body_gets_its_answer_and_changes_nothing(
    bridge: RunningBridge, devnet: DevnetControl, route: str, body: str
) -> None:
    created = bridge.client.create_order(Wallet(), side="buy", amount_rtc="1", price_per_rtc="1")
    order_id = created.json()["order_id"]
    raw, content_type = BODIES[body]
    headers = {"content-type": content_type} if content_type else {}
    before = bridge.client.events(order_id)
    answer = bridge.client.http.post(_path(route, order_id), content=raw, headers=headers)
    error, message = EXPECTED[route][body]
    reply: dict[str, Any] = answer.json()
    assert (answer.status_code, reply["error"]) == (400, error), answer.text
    if message is None:
        assert reply == {"error": error}
    else:
        assert message in reply["message"]
    assert bridge.client.events(order_id) == before
    assert bridge.client.http.get("/api/orders").json()["total"] == 1


def test_the_reference_lenient_number_forms_still_work(bridge: RunningBridge) -> None:
    """What the reference's clients send: numbers, numeric strings with blanks, signs and
    exponents (a float's str() can be '1e-05')."""
    wallet = Wallet()
    for amount, price in (("  2 ", "+0.5"), ("1.5e0", "5e-1"), ("3", "0.50")):
        created = bridge.client.create_order(
            wallet, side="buy", amount_rtc=amount, price_per_rtc=price
        )
        assert created.status_code == 201, created.text
    assert bridge.client.http.get("/api/orders", params={"limit": "１０"}).json() == {
        "error": "limit_must_be_integer"
    }
