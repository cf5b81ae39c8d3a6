"""After `POST /devnet/clock`, clients still work: every answer carries the bridge's time
(`X-Server-Time`), a refused timestamp carries `server_time`, and `BridgeClient` signs
with the server's time. (Its own module: the devnode's clock only moves forward.)"""

from __future__ import annotations

import time

import httpx

from otc_bridge.clientlib.wallet import Wallet
from otc_bridge.devnet.control import DevnetControl
from tests.support.bridge import RunningBridge
from tests.support.client import TraderClient

HOUR = 3600


def _server_time(response: httpx.Response) -> int:
    return int(response.headers["X-Server-Time"])


def test_every_answer_carries_the_server_time_and_follows_the_devnet_clock(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    http = bridge.client.http
    offset = bridge.container.clock.now() - int(time.time())
    for path in ("/api/pairs", "/api/orders/otc_unknown", "/no/such/route", "/"):
        seen = _server_time(http.get(path))
        assert abs(seen - (int(time.time()) + offset)) <= 2, path
    devnet.advance_clock(2 * HOUR)
    moved = _server_time(http.get("/api/pairs"))
    assert abs(moved - (int(time.time()) + offset + 2 * HOUR)) <= 2
    refused = http.post("/api/orders", content=b"x" * 70_000)  # answered by the size guard
    assert refused.status_code == 413
    assert abs(_server_time(refused) - moved) <= 2


def test_a_client_signs_with_the_server_time_after_the_clock_moves(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    with TraderClient(bridge.url) as client:  # no clock=: it learns the server's
        wallet = Wallet()
        first = client.create_order(wallet, side="buy", amount_rtc="1", price_per_rtc="0.1")
        assert first.status_code == 201, first.text
        devnet.advance_clock(HOUR)  # this client's learned offset is now an hour off
        sent: list[str] = []
        client.http.event_hooks["request"].append(lambda request: sent.append(request.method))
        again = client.create_order(wallet, side="buy", amount_rtc="2", price_per_rtc="0.1")
        assert again.status_code == 201, again.text
        assert len(sent) == 2, "refused once for its time, then signed again and accepted"
        third = client.cancel(wallet, again.json()["order_id"])
        assert third.status_code == 200, third.text
        assert len(sent) == 3, "the offset it learned is kept"


def test_a_client_given_a_clock_uses_it_as_given(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    devnet.advance_clock(HOUR)
    machine = TraderClient(bridge.url, clock=lambda: int(time.time()))
    with machine:
        refused = machine.create_order(Wallet(), side="buy", amount_rtc="1", price_per_rtc="0.1")
    body = refused.json()
    assert (refused.status_code, body["error"]) == (401, "wallet_auth_timestamp_expired")
    assert "behind the server's clock" in body["message"]
    assert abs(body["server_time"] - bridge.container.clock.now()) <= 2
    with TraderClient(bridge.url, clock=bridge.container.clock.now) as server:
        accepted = server.create_order(Wallet(), side="buy", amount_rtc="1", price_per_rtc="0.1")
    assert accepted.status_code == 201, accepted.text
