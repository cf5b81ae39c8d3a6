"""The error contract against the reference bridge, where its clients and its own test
suite compare answers: the wallet-auth refusals' exact bodies on its three signed routes,
its codes for a timestamp ahead of the clock and a signature of the wrong length, a
replay's explanation, `null` on confirm, and the page's name."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from otc_bridge.clientlib.wallet import Wallet
from otc_bridge.devnet.control import DevnetControl
from tests.support.bridge import RunningBridge

BUY = {"side": "buy", "pair": "RTC/USDC", "amount_rtc": "1", "price_per_rtc": "0.1",
       "eth_address": "0x" + "11" * 20}  # fmt: skip


def _open_order(bridge: RunningBridge) -> str:
    created = bridge.client.create_order(Wallet(), side="buy", amount_rtc="1", price_per_rtc="1")
    assert created.status_code == 201, created.text
    return str(created.json()["order_id"])


def _routes(bridge: RunningBridge) -> dict[str, tuple[str, str, str]]:
    """route name -> (path, action, signed order id) for the reference's signed routes."""
    order_id = _open_order(bridge)
    return {
        "create": ("/api/orders", "create_order", "create_order"),
        "match": (f"/api/orders/{order_id}/match", "match_order", order_id),
        "cancel": (f"/api/orders/{order_id}/cancel", "cancel_order", order_id),
    }


def _auth_cases(wallet: Wallet, other: Wallet, good: dict[str, Any]) -> list[tuple[str, object]]:
    """(the reference's code, the wallet_auth that earns it) for a native wallet."""
    return [
        ("wallet_auth_required", None),
        ("wallet_auth_required", "a signature"),
        ("wallet_auth_public_key_signature_timestamp_required", {"public_key": good["public_key"]}),
        ("wallet_auth_invalid_timestamp", {**good, "timestamp": "soon"}),
        (
            "wallet_auth_public_key_does_not_match_wallet",
            {**good, "public_key": other.public_key.hex()},
        ),
        ("wallet_auth_invalid_encoding", {**good, "public_key": "zz" * 32}),
        ("wallet_auth_invalid_encoding", {**good, "signature": "not hex"}),
        ("wallet_auth_invalid_signature", {**good, "signature": "00" * 10}),  # wrong length
        ("wallet_auth_invalid_signature", {**good, "signature": "00" * 64}),
    ]


@pytest.mark.parametrize("route", ["create", "match", "cancel"])
def test_wallet_auth_refusals_have_the_reference_exact_bodies(
    bridge: RunningBridge, devnet: DevnetControl, route: str
) -> None:
    path, action, order_id = _routes(bridge)[route]
    wallet, other = Wallet(), Wallet()
    now = bridge.container.clock.now()
    good = wallet.wallet_auth(action, order_id, {}, timestamp=now)
    before = bridge.client.http.get("/api/stats").json()["stats"]
    foreign = bridge.client.http.post(path, json={**BUY, "wallet": "named_maker"})
    assert (foreign.status_code, foreign.json()) == (
        401,
        {"error": "wallet_must_be_native_rtc_address"},
    )
    for code, auth in _auth_cases(wallet, other, good):
        body: dict[str, Any] = {**BUY, "wallet": wallet.address}
        if auth is not None:
            body["wallet_auth"] = auth
        answer = bridge.client.http.post(path, json=body)
        assert (answer.status_code, answer.json()) == (401, {"error": code}), (code, auth)
    assert bridge.client.http.get("/api/stats").json()["stats"] == before


@pytest.mark.parametrize(("offset", "direction"), [(-301, "behind"), (120, "in the future")])
def test_a_timestamp_outside_the_window_either_way_is_expired_with_the_server_time(
    bridge: RunningBridge, offset: int, direction: str
) -> None:
    wallet = Wallet()
    now = bridge.container.clock.now()
    sent = bridge.client.create_order(
        wallet, side="buy", amount_rtc="1", price_per_rtc="0.1", timestamp=now + offset
    )
    body = sent.json()
    assert sent.status_code == 401
    assert set(body) == {"error", "message", "server_time"}
    assert body["error"] == "wallet_auth_timestamp_expired"
    assert direction in body["message"]
    # The message names how far off the timestamp was, as the server saw it: the clock may
    # have ticked between `now` and the check.
    elapsed = body["server_time"] - now
    stated = int(re.search(r"(\d+) s", body["message"]).group(1))  # type: ignore[union-attr]
    assert abs(offset) - elapsed <= stated <= abs(offset) + elapsed
    assert now <= body["server_time"] <= bridge.container.clock.now()
    assert bridge.client.http.get("/api/orders").json()["total"] == 0


def test_two_identical_creates_in_one_second_are_a_replay_that_says_how_to_avoid_it(
    bridge: RunningBridge,
) -> None:
    """Ed25519 is deterministic: the same terms signed at the same second are the same
    signature. docs/api.md says so; a new timestamp (or any other field) makes it new."""
    wallet = Wallet()
    now = bridge.container.clock.now()

    def create(timestamp: int) -> httpx.Response:
        return bridge.client.create_order(
            wallet, side="buy", amount_rtc="1", price_per_rtc="0.1", timestamp=timestamp
        )

    first = create(now)
    assert first.status_code == 201, first.text
    again = create(now)
    assert again.status_code == 401
    assert again.json()["error"] == "wallet_auth_replayed"
    assert "another timestamp" in again.json()["message"]
    other_second = create(now - 1)
    assert other_second.status_code == 201, other_second.text
    assert bridge.client.http.get("/api/orders").json()["total"] == 2


def test_confirm_with_a_json_null_body_is_json_object_required(bridge: RunningBridge) -> None:
    answer = bridge.client.http.post(
        f"/api/orders/{_open_order(bridge)}/confirm",
        content=b"null",
        headers={"content-type": "application/json"},
    )
    assert (answer.status_code, answer.json()) == (400, {"error": "JSON object required"})


def test_the_page_says_rustchain_otc_bridge(bridge: RunningBridge) -> None:
    page = bridge.client.http.get("/")
    assert page.status_code == 200
    assert "RustChain OTC Bridge" in page.text
