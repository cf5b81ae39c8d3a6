"""The market stream (`GET /api/stream?pair=`): a snapshot of the book and trades on
connect, a fresh one when the pair's market changes (and only then), nothing resent to a
client that reconnects holding the current snapshot; every event's data matches the
schema /openapi.json publishes for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from otc_bridge.clientlib.sse import Comment, ServerEvent
from otc_bridge.clientlib.wallet import Wallet
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.process import DevnodeProcess
from tests.support.bridge import RunningBridge, bridge_env, running_bridge
from tests.support.push import next_event

PAIR = "RTC/ETH"


@pytest.fixture
def quick(node: DevnodeProcess, devnet: DevnetControl, tmp_path: Path) -> Iterator[RunningBridge]:
    env = bridge_env(
        node, tmp_path, OTC_STREAM_POLL_SECONDS="0.1", OTC_STREAM_KEEPALIVE_SECONDS="0.3"
    )
    with running_bridge(env) as bridge:
        yield bridge


def snapshot_schema(bridge: RunningBridge) -> Draft202012Validator:
    document = bridge.client.http.get("/openapi.json").json()
    media = document["paths"]["/api/stream"]["get"]["responses"]["200"]["content"]
    return Draft202012Validator(
        media["text/event-stream"]["itemSchema"]["properties"]["data"]["contentSchema"]
    )


def snapshot(items: Iterator[ServerEvent | Comment], schema: Draft202012Validator) -> ServerEvent:
    event = next_event(items)
    assert event.event == "snapshot", event
    schema.validate(event.json())
    return event


def buy(bridge: RunningBridge, wallet: Wallet, pair: str = PAIR) -> str:
    created = bridge.client.create_order(
        wallet, side="buy", amount_rtc="2", price_per_rtc="0.5", pair=pair
    )
    assert created.status_code == 201, created.text
    return str(created.json()["order_id"])


def test_a_snapshot_on_connect_then_one_per_change_and_none_resent(
    quick: RunningBridge, devnet: DevnetControl
) -> None:
    schema = snapshot_schema(quick)
    client, maker = quick.client, Wallet()
    with client.market_stream(PAIR) as stream:
        assert stream.status_code == 200
        items = iter(stream)
        empty = snapshot(items, schema)
        assert (empty.json()["pair"], empty.json()["bids"], empty.json()["trades"]) == (
            PAIR,
            [],
            [],
        )
        book = client.http.get("/api/orderbook", params={"pair": PAIR}).json()
        assert empty.json() == {**{k: v for k, v in book.items() if k != "ok"}, "trades": []}

        order_id = buy(quick, maker)
        listed = snapshot(items, schema)
        [level] = listed.json()["bids"]
        assert (level["price"], level["total_rtc"], level["order_count"]) == (0.5, 2.0, 1)
        assert listed.id != empty.id

        buy(quick, Wallet(), pair="RTC/USDC")  # another pair's market: nothing here
        assert [next(items), next(items)] == [Comment("keep-alive")] * 2

    # Reconnecting with the snapshot it holds, the client is sent nothing new...
    with client.market_stream(PAIR, last_event_id=listed.id) as stream:
        items = iter(stream)
        assert next(items) == Comment("keep-alive")
        cancelled = client.cancel(maker, order_id)  # ...until the market changes.
        assert cancelled.status_code == 200, cancelled.text
        after = snapshot(items, schema)
        assert after.json()["bids"] == []
        assert after.id == empty.id  # the same market as at first: the same name

    # With an old snapshot, it gets the current one at once.
    with client.market_stream(PAIR, last_event_id=listed.id) as stream:
        assert snapshot(iter(stream), schema).id == empty.id


def test_an_unsupported_pair_is_refused_before_any_stream(bridge: RunningBridge) -> None:
    answer = bridge.client.http.get("/api/stream", params={"pair": "RTC/BTC"})
    assert answer.status_code == 400
    assert answer.json() == {"error": "Unsupported pair"}
    metrics = bridge.client.http.get("/metrics").text
    assert 'otc_streams_open{kind="market"} 0.0' in metrics
