"""Every validation and wallet-auth error of the reference contract, with its status, and
proof that a refused request changed nothing."""

from __future__ import annotations

from typing import Any

import pytest

from otc_bridge.clientlib.wallet import Wallet
from otc_bridge.devnet.control import DevnetControl
from tests.support.bridge import RunningBridge

PAIRS_TEXT = "Unsupported pair. Supported: ['RTC/ETH', 'RTC/USDC', 'RTC/ERG']"
BASE: dict[str, Any] = {
    "side": "buy",
    "pair": "RTC/USDC",
    "amount_rtc": "1",
    "price_per_rtc": "0.1",
    "eth_address": "0x" + "11" * 20,  # the buyer's quote address: every order needs one
}


def signed_create(bridge: RunningBridge, wallet: Wallet, **fields: Any) -> dict[str, Any]:
    """A create body whose signature covers exactly the fields the server will read."""
    from otc_bridge.domain.money import parse_decimal, to_units

    body = {**BASE, "wallet": wallet.address, **fields}
    bound: dict[str, object] = {
        "side": str(body["side"]).lower(),
        "pair": str(body["pair"]).upper(),
        "amount_micro_rtc": to_units(parse_decimal(body["amount_rtc"]), 6),
        "price_per_rtc_nano_quote": to_units(parse_decimal(body["price_per_rtc"]), 9),
        "ttl_seconds": min(max(int(body.get("ttl_seconds", 604800)), 3600), 2592000),
        "eth_address": str(body.get("eth_address", "")).strip(),
    }
    body["wallet_auth"] = wallet.wallet_auth(
        "create_order", "create_order", bound, timestamp=bridge.container.clock.now()
    )
    return body


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (BASE, "wallet required (RTC wallet ID)"),
        ({}, "JSON body required"),
        ({**BASE, "ttl_seconds": "abc"}, "ttl_seconds must be an integer"),
        ({**BASE, "ttl_seconds": 3600.5}, "ttl_seconds must be an integer"),
        ({**BASE, "ttl_seconds": True}, "ttl_seconds must be an integer"),
        ({**BASE, "side": "hold"}, "side must be 'buy' or 'sell'"),
        ({**BASE, "pair": "RTC/DOGE"}, PAIRS_TEXT),
        ({**BASE, "wallet": "ab"}, "wallet required (RTC wallet ID)"),
        (
            {**BASE, "wallet": "RTCx", "amount_rtc": "abc"},
            "amount_rtc must be a finite decimal number",
        ),
        (
            {**BASE, "wallet": "RTCx", "amount_rtc": "NaN"},
            "amount_rtc must be a finite decimal number",
        ),
        (
            {**BASE, "wallet": "RTCx", "amount_rtc": "1e999999"},
            "amount_rtc must be a finite decimal number",
        ),
        (
            {**BASE, "wallet": "RTCx", "amount_rtc": [1]},
            "amount_rtc must be a finite decimal number",
        ),
        (
            {**BASE, "wallet": "RTCx", "price_per_rtc": "x"},
            "price_per_rtc must be a finite decimal number",
        ),
        ({**BASE, "wallet": "RTCx", "amount_rtc": "0.001"}, "Minimum order: 0.1 RTC"),
        ({**BASE, "wallet": "RTCx", "amount_rtc": "10000.000001"}, "Maximum order: 10000 RTC"),
        ({**BASE, "wallet": "RTCx", "price_per_rtc": "-0.5"}, "price_per_rtc must be positive"),
        (
            {**BASE, "wallet": "RTCx", "price_per_rtc": "1000.1"},
            "price_per_rtc too high (max $1000)",
        ),
        (
            {**BASE, "wallet": "RTCx", "amount_rtc": "0.1", "price_per_rtc": "0.000000001"},
            "Order total rounds to zero USDC base units",
        ),
        (
            {**BASE, "wallet": "RTCx", "eth_address": "not-an-address"},
            "invalid_quote_address",
        ),
        (
            {**BASE, "wallet": "RTCx", "htlc_hash": "ab" * 32},
            "htlc_hash is only accepted from the RTC seller",
        ),
        (
            {**BASE, "wallet": "RTCx", "side": "sell", "htlc_hash": "xyz"},
            "htlc_hash must be 64 hex characters (sha256 of the preimage)",
        ),
    ],
)
def test_create_validation_errors(
    bridge: RunningBridge, devnet: DevnetControl, body: dict[str, Any], error: str
) -> None:
    response = bridge.client.http.post("/api/orders", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert bridge.client.http.get("/api/stats").json()["stats"]["open_orders"] == 0


def test_create_body_shapes(bridge: RunningBridge) -> None:
    http = bridge.client.http
    assert http.post("/api/orders").json() == {"error": "JSON body required"}
    text = http.post("/api/orders", content=b"{", headers={"content-type": "application/json"})
    assert text.json()["error"] == "JSON body required"
    assert text.json()["message"].startswith("the body is not valid JSON")
    form = http.post(
        "/api/orders", content=b'{"side":"buy"}', headers={"content-type": "text/plain"}
    )
    assert form.json() == {"error": "JSON body required"}  # Flask's get_json(silent=True)
    listed = http.post("/api/orders", json=[1, 2])
    assert (listed.status_code, listed.json()) == (400, {"error": "JSON object required"})


def test_ttl_beyond_the_escrow_window_is_refused_after_the_reference_clamp(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    wallet = Wallet()
    body = signed_create(bridge, wallet, ttl_seconds=30 * 86400)
    response = bridge.client.http.post("/api/orders", json=body)
    assert response.status_code == 400
    assert response.json()["error"].startswith("ttl_seconds exceeds the maximum of ")
    assert response.json()["max_ttl_seconds"] == 30 * 86400 - (3600 + 86400 + 21600)


def _auth_cases(now: int, wallet: Wallet, other: Wallet) -> list[tuple[str, dict[str, Any]]]:
    good = wallet.wallet_auth("create_order", "create_order", {}, timestamp=now)
    return [
        ("wallet_must_be_native_rtc_address", {"wallet": "named_maker", "wallet_auth": good}),
        ("wallet_auth_required", {"wallet": wallet.address}),
        ("wallet_auth_required", {"wallet": wallet.address, "wallet_auth": "sig"}),
        (
            "wallet_auth_public_key_signature_timestamp_required",
            {"wallet": wallet.address, "wallet_auth": {"public_key": good["public_key"]}},
        ),
        (
            "wallet_auth_invalid_timestamp",
            {"wallet": wallet.address, "wallet_auth": {**good, "timestamp": "soon"}},
        ),
        (
            "wallet_auth_timestamp_expired",
            {"wallet": wallet.address, "wallet_auth": {**good, "timestamp": now - 301}},
        ),
        (
            "wallet_auth_timestamp_expired",
            {"wallet": wallet.address, "wallet_auth": {**good, "timestamp": now + 120}},
        ),
        (
            "wallet_auth_public_key_does_not_match_wallet",
            {
                "wallet": wallet.address,
                "wallet_auth": {**good, "public_key": other.public_key.hex()},
            },
        ),
        (
            "wallet_auth_invalid_encoding",
            {"wallet": wallet.address, "wallet_auth": {**good, "public_key": "zz" * 32}},
        ),
        (
            "wallet_auth_invalid_signature",  # hex of the wrong length: the reference's code
            {"wallet": wallet.address, "wallet_auth": {**good, "signature": "00" * 10}},
        ),
        ("wallet_auth_invalid_signature", {"wallet": wallet.address, "wallet_auth": good}),
    ]


@pytest.mark.parametrize("case", range(11))
def test_every_wallet_auth_error_code(bridge: RunningBridge, case: int) -> None:
    wallet, other = Wallet(), Wallet()
    code, fields = _auth_cases(bridge.container.clock.now(), wallet, other)[case]
    response = bridge.client.http.post("/api/orders", json={**BASE, **fields})
    assert response.status_code == 401
    assert response.json()["error"] == code
    assert bridge.client.http.get("/api/orders").json()["total"] == 0


def test_a_replayed_signature_is_refused_and_creates_nothing(bridge: RunningBridge) -> None:
    body = signed_create(bridge, Wallet())
    first = bridge.client.http.post("/api/orders", json=body)
    assert first.status_code == 201, first.text
    replay = bridge.client.http.post("/api/orders", json=body)
    assert replay.status_code == 401
    assert replay.json()["error"] == "wallet_auth_replayed"
    assert bridge.client.http.get("/api/orders").json()["total"] == 1


def test_match_and_cancel_errors(bridge: RunningBridge, devnet: DevnetControl) -> None:
    maker, stranger = Wallet(), Wallet()
    order_id = bridge.client.create_order(
        maker, side="buy", amount_rtc="1", price_per_rtc="1"
    ).json()["order_id"]
    http = bridge.client.http
    url = f"/api/orders/{order_id}"
    assert http.post(f"{url}/match", json=[1]).json() == {"error": "JSON object required"}
    assert http.post(f"{url}/match", json={}).json() == {"error": "wallet required"}
    unsigned = http.post(f"{url}/match", json={"wallet": stranger.address})
    assert (unsigned.status_code, unsigned.json()["error"]) == (401, "wallet_auth_required")
    missing = bridge.client.match(stranger, "otc_doesnotexist")
    assert (missing.status_code, missing.json()) == (404, {"error": "Order not found"})

    # Self-match through another spelling of the same key (audit D18) is still a self-match.
    upper = "RTC" + maker.address[3:].upper()
    auth = maker.wallet_auth(
        "match_order",
        order_id,
        {"eth_address": ""},
        wallet=upper,
        timestamp=bridge.container.clock.now(),
    )
    own = http.post(f"{url}/match", json={"wallet": upper, "wallet_auth": auth})
    assert (own.status_code, own.json()) == (400, {"error": "Cannot match your own order"})

    not_mine = bridge.client.cancel(stranger, order_id)
    assert (not_mine.status_code, not_mine.json()) == (
        403,
        {"error": "Only the order creator can cancel"},
    )
    gone = bridge.client.cancel(maker, "otc_doesnotexist")
    assert (gone.status_code, gone.json()) == (404, {"error": "Order not found"})
    assert http.post(f"{url}/cancel", json={}).json() == {"error": "wallet required"}
    assert bridge.client.order(order_id)["status"] == "open"
    assert len(bridge.client.events(order_id)) == 1


def test_reads_reject_bad_pagination_with_reference_codes(bridge: RunningBridge) -> None:
    http = bridge.client.http
    for route in ("/api/orders", "/api/trades"):
        assert http.get(route, params={"limit": "abc"}).json() == {"error": "limit_must_be_integer"}
        assert http.get(route, params={"limit": "0"}).json() == {"error": "limit_must_be_positive"}
        assert http.get(route, params={"offset": "x"}).json() == {"error": "offset_must_be_integer"}
        assert http.get(route, params={"offset": "-1"}).json() == {
            "error": "offset_must_be_non_negative"
        }
        assert http.get(route, params={"limit": "500"}).status_code == 200
    assert http.get("/api/trades", params={"pair": "BOGUS"}).json() == {"error": "unsupported pair"}
    assert http.get("/api/orderbook", params={"pair": "X"}).json() == {"error": "Unsupported pair"}
    # a NUL byte no PostgreSQL text can hold: refused like any unknown pair, not a 500
    nul = http.get("/api/orderbook", params={"pair": "\x00"})
    assert (nul.status_code, nul.json()) == (400, {"error": "Unsupported pair"})
    assert http.get("/api/orders/nope").json() == {"error": "Order not found"}
    assert http.get("/no/such/route").status_code == 404
    assert http.get("/no/such/route").json() == {"error": "Not Found"}


def test_oversized_bodies_are_refused_before_parsing(bridge: RunningBridge) -> None:
    response = bridge.client.http.post(
        "/api/orders",
        content=b"{" + b" " * 70_000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"] == "request_too_large"


def test_admin_reconcile_needs_the_admin_key(bridge: RunningBridge) -> None:
    http = bridge.client.http
    assert http.post("/admin/reconcile").status_code == 401
    assert http.post("/admin/reconcile", headers={"X-Admin-Key": "wrong"}).status_code == 401
    key = bridge.container.settings.admin_key
    assert key is not None
    ok = http.post("/admin/reconcile", headers={"X-Admin-Key": key})
    assert ok.status_code == 200
    assert ok.json()["ok"] is True


def test_every_response_carries_a_request_id(bridge: RunningBridge) -> None:
    echoed = bridge.client.http.get("/api/stats", headers={"X-Request-Id": "trace-1"})
    assert echoed.headers["x-request-id"] == "trace-1"
    assert len(bridge.client.http.get("/api/stats").headers["x-request-id"]) == 32


def test_offsets_past_the_database_integer_range_are_empty_pages(bridge: RunningBridge) -> None:
    huge = str(2**63)
    assert bridge.client.http.get("/api/orders", params={"offset": huge}).json()["orders"] == []
    assert bridge.client.http.get("/api/trades", params={"offset": huge}).json()["trades"] == []


def test_text_no_database_can_store_is_refused_and_creates_nothing(
    bridge: RunningBridge,
) -> None:
    http = bridge.client.http
    for body in (b'{"side":"sell","wallet":"a\\u0000b"}', b'{"side":"sell","x\\ud800":1}'):
        sent = http.post("/api/orders", content=body, headers={"content-type": "application/json"})
        assert (sent.status_code, sent.json()["error"]) == (400, "JSON body required")
        assert "no database column can store" in sent.json()["message"]
    assert http.get("/api/orders/otc_a%00b").status_code == 404
    assert http.get("/api/orders/otc_a%00b/events").status_code == 404
    assert http.post("/api/orders/otc_a%00b/cancel", json={}).status_code == 400  # wallet first
    taker = Wallet()
    auth = taker.wallet_auth(
        "match_order", "otc_a\x00b", {"eth_address": ""}, timestamp=bridge.container.clock.now()
    )
    signed = http.post(
        "/api/orders/otc_a%00b/match", json={"wallet": taker.address, "wallet_auth": auth}
    )
    assert (signed.status_code, signed.json()) == (404, {"error": "Order not found"})
    assert http.get("/api/stats").json()["stats"]["open_orders"] == 0
    # A sequence number past the history's 32-bit range is an empty page, not a 500.
    assert http.get("/api/orders/none/events", params={"after": str(2**40)}).status_code == 404
