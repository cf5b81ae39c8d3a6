"""What every answer carries (security headers, the server's time), how a 429 says when
to retry, and the throttle on wrong admin keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest

from otc_bridge.api.app import create_app
from otc_bridge.api.headers import API_CSP
from otc_bridge.clientlib.wallet import Wallet
from otc_bridge.devnet.process import DevnodeProcess
from tests.support.bridge import RunningBridge, bridge_env, running_bridge

SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def assert_secured(response: httpx.Response, where: str) -> None:
    for name, value in SECURITY.items():
        assert response.headers.get(name) == value, (where, name)
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp, where
    assert "frame-ancestors 'none'" in csp, where
    assert "unsafe" not in csp, where
    assert response.headers["x-server-time"].isdigit(), where


@pytest.fixture
def strict(node: DevnodeProcess, tmp_path: Path) -> Iterator[RunningBridge]:
    """A bridge with small limits, behind a proxy (loopback) that names client addresses."""
    env = bridge_env(
        node,
        tmp_path,
        OTC_RATE_LIMIT_PER_IP="2",
        OTC_RATE_LIMIT_PER_WALLET="2",
        OTC_RATE_LIMIT_ADMIN_FAILURES="3",
        OTC_TRUSTED_PROXIES="127.0.0.1",
    )
    with running_bridge(env) as running:
        yield running


def test_every_answer_carries_the_security_headers(bridge: RunningBridge) -> None:
    http = bridge.client.http
    answers = {
        "the page": http.get("/"),
        "the API docs": http.get("/docs"),
        "a Swagger UI file": http.get("/docs/swagger-ui-bundle.js"),
        "a read": http.get("/api/pairs"),
        "the contract": http.get("/openapi.json"),
        "metrics": http.get("/metrics"),
        "a 400": http.post("/api/orders", json={}),
        "a 401": http.post("/admin/reconcile"),
        "a 404": http.get("/no/such/route"),
        "a 413": http.post("/api/orders", content=b"x" * 70_000),
        "a refused preflight": http.options(
            "/api/orders",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        ),
    }
    for where, response in answers.items():
        assert_secured(response, where)
    assert answers["a read"].headers["content-security-policy"] == API_CSP
    for document in ("the page", "the API docs"):
        csp = answers[document].headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "connect-src 'self'" in csp


def test_an_unhandled_error_answers_500_with_the_same_headers(bridge: RunningBridge) -> None:
    app = create_app(bridge.container, start_worker=False)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    async def ask() -> httpx.Response:
        # Not through the app's lifespan, which would close the shared container.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://bridge") as client:
            return await client.get("/boom")

    response = anyio.run(ask)
    assert (response.status_code, response.json()) == (500, {"error": "Internal server error"})
    assert_secured(response, "a 500")


def test_cross_origin_clients_may_read_the_server_time_and_retry_after(
    bridge: RunningBridge,
) -> None:
    origin = bridge.container.settings.cors_origins[0]
    answer = bridge.client.http.get("/api/pairs", headers={"Origin": origin})
    exposed = answer.headers["access-control-expose-headers"].lower()
    for name in ("x-server-time", "retry-after", "x-request-id"):
        assert name in exposed


def test_a_429_says_when_to_retry_in_the_header_and_in_words(strict: RunningBridge) -> None:
    http = strict.client.http
    for _ in range(2):
        assert http.post("/api/orders", json={}).status_code == 400  # counted all the same
    limited = http.post("/api/orders", json={})
    body = limited.json()
    assert limited.status_code == 429
    assert body["error"] == "Rate limit exceeded"  # the reference's
    wait = int(limited.headers["Retry-After"])
    assert wait == body["retry_after_seconds"]
    assert 1 <= wait <= 60
    assert f"try again in {wait} s" in body["message"]
    assert "writes from this address" in body["message"]
    other = http.post("/api/orders", json={}, headers={"X-Real-IP": "10.9.9.9"})
    assert other.status_code == 400, "the limit is per client address"


def test_the_per_wallet_limit_says_when_to_retry(strict: RunningBridge) -> None:
    wallet = Wallet()
    answers = [
        strict.client.create_order(
            wallet,
            side="buy",
            amount_rtc=str(n + 1),  # not the same terms: that would be a replay
            price_per_rtc="0.1",
            headers={"X-Real-IP": f"10.8.0.{n}"},
        )
        for n in range(3)
    ]
    assert [a.status_code for a in answers] == [201, 201, 429]
    limited = answers[-1]
    assert limited.headers["Retry-After"] == str(limited.json()["retry_after_seconds"])
    assert "signed writes from this wallet" in limited.json()["message"]


def test_wrong_admin_keys_are_throttled_per_client_address(strict: RunningBridge) -> None:
    http = strict.client.http
    key = strict.container.settings.admin_key or ""
    guesser = {"X-Real-IP": "10.7.7.7"}
    for _ in range(3):
        wrong = http.post("/admin/reconcile", headers={**guesser, "X-Admin-Key": "guess"})
        assert (wrong.status_code, wrong.json()) == (401, {"error": "unauthorized"})
    throttled = http.post("/admin/reconcile", headers={**guesser, "X-Admin-Key": "guess"})
    assert throttled.status_code == 429
    wait = int(throttled.headers["Retry-After"])
    assert wait == throttled.json()["retry_after_seconds"]
    assert 1 <= wait <= 300
    assert "wrong admin keys from this address" in throttled.json()["message"]
    # While throttled, even the right key is not compared: a guess learns nothing.
    right = http.post("/admin/reconcile", headers={**guesser, "X-Admin-Key": key})
    assert right.status_code == 429
    operator = http.post("/admin/reconcile", headers={"X-Real-IP": "10.7.7.8", "X-Admin-Key": key})
    assert operator.status_code == 200, operator.text


def test_answers_vary_by_origin_for_shared_caches(bridge: RunningBridge) -> None:
    """A cache in front of the bridge keeps a browser's answer (with its CORS headers)
    apart from a script's: every answer names Origin in Vary, whether the request had
    an Origin, an unknown one or none, cached market reads and refusals included."""
    allowed = bridge.container.settings.cors_origins[0]
    http = bridge.client.http
    for path in ("/api/pairs", "/api/orderbook", "/api/orderbook", "/api/orders/nope"):
        for origin in (None, allowed, "https://elsewhere.example"):
            headers = {} if origin is None else {"Origin": origin}
            answer = http.get(path, headers=headers)
            assert answer.headers.get_list("vary") == ["Origin"], (path, origin)
    refused = http.post("/api/orders", content=b"{", headers={"Content-Type": "application/json"})
    assert refused.status_code == 400
    assert refused.headers.get_list("vary") == ["Origin"]
