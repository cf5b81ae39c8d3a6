"""The book and the market's order pages answered from memory (`api/cached_reads.py`,
`services/snapshots.py`): the same bytes and headers the route gives, fresh after any
write and the second an order expires, never kept for a wallet or a refused query, and
counted in the request metrics like any other answer."""

from __future__ import annotations

import re

import httpx

from otc_bridge.clientlib.wallet import Secret, Wallet
from otc_bridge.devnet.control import DevnetControl
from tests.support.bridge import RunningBridge

USDC_ADDR = "0x" + "11" * 20
ORIGIN = "https://rustchain.org"  # one of the default CORS origins
VARYING = {"x-request-id", "x-server-time", "date"}


def sell(bridge: RunningBridge, devnet: DevnetControl, ttl: int | None = None) -> str:
    seller = Wallet()
    devnet.faucet(seller.address, "10")
    created = bridge.client.create_order(
        seller, side="sell", amount_rtc="1", price_per_rtc="0.1", htlc_hash=Secret().hash,
        eth_address=USDC_ADDR, ttl_seconds=ttl,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    return str(created.json()["order_id"])


def get(bridge: RunningBridge, path: str) -> httpx.Response:
    answer = bridge.client.http.get(path, headers={"Origin": ORIGIN})
    assert answer.status_code == 200, answer.text
    return answer


def counts(bridge: RunningBridge) -> tuple[int, int]:
    snapshots = bridge.container.market.snapshots
    return snapshots.builds, snapshots.hits


def test_a_cached_answer_is_the_routes_answer_with_the_same_headers(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    sell(bridge, devnet)
    for path in ("/api/orderbook?pair=RTC/USDC", "/api/orders?pair=RTC/USDC&limit=10"):
        builds, hits = counts(bridge)
        built = get(bridge, path)
        assert counts(bridge) == (builds + 1, hits)
        cached = get(bridge, path)
        assert counts(bridge) == (builds + 1, hits + 1)  # from memory, not the route
        assert cached.content == built.content
        assert cached.headers["access-control-allow-origin"] == ORIGIN
        assert {(k, v) for k, v in cached.headers.items() if k not in VARYING} == {
            (k, v) for k, v in built.headers.items() if k not in VARYING
        }
        assert VARYING - {"date"} <= set(cached.headers)


def test_a_write_is_seen_at_once_and_an_expiry_the_second_it_happens(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    def listed() -> set[str]:
        return {o["order_id"] for o in get(bridge, "/api/orders?pair=RTC/USDC").json()["orders"]}

    lasting = sell(bridge, devnet)
    assert listed() == {lasting}
    assert listed() == {lasting}
    short = sell(bridge, devnet, ttl=3600)
    assert listed() == {lasting, short}  # the create's write, seen by the next read
    expires_at = get(bridge, f"/api/orders/{short}").json()["order"]["expires_at"]
    devnet.advance_clock(expires_at - devnet.now() - 30)  # half a minute before it expires
    builds, _ = counts(bridge)
    assert listed() == {lasting, short}
    assert listed() == {lasting, short}
    assert counts(bridge)[0] == builds  # time passing rebuilds nothing until an expiry
    devnet.advance_clock(31)
    assert listed() == {lasting}  # gone at once, though nothing was written
    book = get(bridge, "/api/orderbook?pair=RTC/USDC").json()
    assert sum(level["order_count"] for level in book["asks"]) == 1


def test_refused_queries_and_wallet_pages_still_reach_the_route(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    sell(bridge, devnet)
    get(bridge, "/api/orders")
    get(bridge, "/api/orderbook")
    for path, code in (
        ("/api/orders?limit=many", "limit_must_be_integer"),
        ("/api/orderbook?pair=RTC/DOGE", "Unsupported pair"),
        ("/api/orders?wallet=0xnot-native", "wallet_must_be_native_rtc_address"),
    ):
        answer = bridge.client.http.get(path)
        assert answer.status_code == 400, (path, answer.text)
        assert code in answer.text, (path, answer.text)
    builds, hits = counts(bridge)
    mine = get(bridge, f"/api/orders?wallet={Wallet().address}").json()
    assert mine["orders"] == []
    assert counts(bridge) == (builds, hits)  # a wallet's page is never kept


def test_answers_from_memory_are_counted_in_the_request_metrics(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    def served() -> float:
        text = bridge.client.http.get("/metrics").text
        pattern = r'otc_http_request_seconds_count\{[^}]*route="/api/orderbook"[^}]*\} (\S+)'
        return sum(float(n) for n in re.findall(pattern, text))

    before = served()
    get(bridge, "/api/orderbook")
    get(bridge, "/api/orderbook")
    assert served() == before + 2
