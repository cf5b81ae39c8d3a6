"""The admin rate limiter: 12 per 60 s per client IP and bucket, before auth and routing."""

from __future__ import annotations

import httpx

from tests.conftest import Devnode, DevnodeFactory

LIMITED = {
    "ok": False,
    "error": "rate_limited",
    "code": "ADMIN_RATE_LIMIT",
    "limit": 12,
    "window_seconds": 60,
}


def hit(devnode: Devnode, path: str, ip: str, method: str = "POST") -> httpx.Response:
    # A wrong key: 401s count toward the limit like successes.
    return devnode.http.request(
        method, path, json={}, headers={"X-Admin-Key": "wrong", "X-Real-IP": ip}
    )


def test_thirteenth_call_is_429_with_retry_after(devnode: Devnode) -> None:
    for _ in range(12):
        assert hit(devnode, "/wallet/transfer", "10.1.0.1").status_code == 401
    limited = hit(devnode, "/wallet/transfer", "10.1.0.1")
    assert limited.status_code == 429
    assert limited.json() == LIMITED
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert limited.headers["x-request-id"]
    # the right key does not help: the limiter runs before auth
    admin = devnode.http.post(
        "/wallet/transfer", json={}, headers={**devnode.admin(), "X-Real-IP": "10.1.0.1"}
    )
    assert admin.status_code == 429


def test_buckets_and_ips_are_separate(devnode: Devnode) -> None:
    ip = "10.1.0.2"
    for _ in range(12):
        hit(devnode, "/wallet/transfer", ip)
    assert hit(devnode, "/wallet/transfer", ip).status_code == 429
    assert hit(devnode, "/pending/list", ip, "GET").status_code == 401  # its own bucket
    assert hit(devnode, "/wallet/transfer", "10.1.0.3").status_code == 401  # another client
    # list, confirm, void, integrity and even unknown /pending/* paths share one bucket
    for path, method in [
        ("/pending/confirm", "POST"),
        ("/pending/void", "POST"),
        ("/pending/nope", "GET"),
    ] * 3 + [("/pending/integrity", "GET")] * 2:
        assert hit(devnode, path, ip, method).status_code in (401, 404)
    assert hit(devnode, "/pending/confirm", ip).status_code == 429
    # the bridge's own loopback address is yet another client
    assert devnode.http.post("/wallet/transfer", json={}).status_code == 401


def test_x_forwarded_for_is_not_a_client_ip(devnode: Devnode) -> None:
    """Only X-Real-IP from a trusted peer counts; X-Forwarded-For never rewrites the peer."""
    for n in range(12):
        headers = {"X-Forwarded-For": f"10.9.9.{n}"}
        assert devnode.http.post("/pending/void", json={}, headers=headers).status_code == 401
    assert (
        devnode.http.post(
            "/pending/void", json={}, headers={"X-Forwarded-For": "10.9.9.99"}
        ).status_code
        == 429
    )


def test_unlimited_endpoints(devnode: Devnode) -> None:
    for _ in range(20):
        headers = {"X-Real-IP": "10.1.0.4"}
        assert devnode.http.get("/wallet/balance?miner_id=a", headers=headers).status_code == 200
        assert devnode.http.get("/agent/jobs", headers=headers).status_code == 200
        assert devnode.http.get(f"/wallet/tx/{'a' * 32}", headers=headers).status_code == 404
        assert (
            devnode.http.post("/devnet/faucet", json={"wallet": "a", "amount_rtc": 1}).status_code
            == 200
        )


def test_sliding_window_on_the_devnet_clock(devnode: Devnode) -> None:
    ip = "10.1.0.5"
    for _ in range(6):
        assert hit(devnode, "/wallet/transfer", ip).status_code == 401
    devnode.control.advance_clock(40)
    for _ in range(6):
        assert hit(devnode, "/wallet/transfer", ip).status_code == 401
    for _ in range(3):  # rejected calls do not count
        limited = hit(devnode, "/wallet/transfer", ip)
        assert limited.status_code == 429
        assert 15 <= int(limited.headers["retry-after"]) <= 20
    devnode.control.advance_clock(25)  # the first six have left the window, the rest have not
    for _ in range(6):
        assert hit(devnode, "/wallet/transfer", ip).status_code == 401
    assert hit(devnode, "/wallet/transfer", ip).status_code == 429


def test_x_real_ip_counts_only_from_a_trusted_proxy(devnode_factory: DevnodeFactory) -> None:
    """With no trusted proxy, X-Real-IP is ignored and the peer address is the client."""
    node = devnode_factory(
        env={"RC_TRUSTED_PROXY_IPS": "192.0.2.1", "RC_ADMIN_RATE_LIMIT_MAX": "3"}
    )
    for n in range(3):
        assert hit(node, "/wallet/transfer", f"10.2.0.{n}").status_code == 401
    limited = hit(node, "/wallet/transfer", "10.2.0.99")
    assert limited.status_code == 429
    assert limited.json() == {**LIMITED, "limit": 3}
