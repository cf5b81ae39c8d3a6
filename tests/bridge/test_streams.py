"""Order event streams (`GET /api/orders/{id}/stream`): every event of an order's history
once, in order, across disconnections and API processes; keep-alives; the end of the
stream; refusals; the caps on open streams; a prompt stop on shutdown.

Orders are driven through their states by `tests.support.push.BookOrder` (create, match,
time-out, cancel), which acts on whatever status the order is in. The suite runs on
SQLite and, in the PostgreSQL suite, on PostgreSQL (where LISTEN/NOTIFY wakes streams).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from otc_bridge.clientlib.sse import Comment, ServerEvent
from otc_bridge.devnet.bridge_process import BridgeProcess
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.process import DevnodeProcess
from tests.support.bridge import RunningBridge, bridge_env, running_bridge
from tests.support.client import TraderClient
from tests.support.contract import Contract
from tests.support.databases import store_kind
from tests.support.forked import ForkedBridgeProcess
from tests.support.push import (
    BookOrder,
    admin_reconcile,
    json_error,
    next_event,
    node_clock,
    read_through,
    read_to_end,
)

STREAM = "/api/orders/{order_id}/stream"


def book_order(bridge: RunningBridge, devnet: DevnetControl) -> BookOrder:
    return BookOrder.create(bridge.client, devnet, bridge.run_worker)


def assert_history(seen: list[ServerEvent], history: list[dict[str, object]]) -> None:
    """Exactly the order's history: each event once, in order, as GET /events has it."""
    assert [e.id for e in seen] == [str(h["seq"]) for h in history]
    assert [e.json() for e in seen] == history
    assert [h["seq"] for h in history] == list(range(1, len(history) + 1))


def test_a_client_that_reconnects_with_last_event_id_sees_every_event_once_in_order(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    order = book_order(bridge, devnet)
    client = bridge.client
    with client.order_stream(order.order_id) as stream:
        assert stream.status_code == 200
        assert stream.response.headers["content-type"].startswith("text/event-stream")
        assert stream.response.headers["cache-control"] == "no-cache"
        items = iter(stream)
        first = read_through(items, 1)
        order.match()  # while the client listens: the match's events arrive live
        matched = len(order.history())
        seen = first + read_through(items, matched)
        assert stream.parser.retry_ms == 3000
    # The client is gone mid-swap; the swap goes on without it.
    final = order.drive_to_end()
    history = order.history()
    assert len(history) > matched
    with client.order_stream(order.order_id, last_event_id=seen[-1].id) as stream:
        rest, end = read_to_end(stream)
    assert_history(seen + rest, history)
    assert end.json() == {"order_id": order.order_id, "status": final, "last_seq": len(history)}
    assert end.id is None  # the end is not an event of the history: Last-Event-ID stays

    # A client that has every event is told not to come back: 204, no body.
    with client.order_stream(order.order_id, last_event_id=str(len(history))) as stream:
        assert stream.status_code == 204
        assert stream.response.read() == b""
    # ?after= resumes the same way (for clients that cannot set headers)...
    with client.order_stream(order.order_id, after=matched) as stream:
        assert [e.json() for e in read_to_end(stream)[0]] == history[matched:]
    # ...and Last-Event-ID, which an EventSource sends on reconnecting, wins over it.
    with client.order_stream(order.order_id, after=0, last_event_id=str(matched)) as stream:
        assert [e.json() for e in read_to_end(stream)[0]] == history[matched:]


def test_an_idle_stream_gets_keep_alive_comments_and_no_event_twice(
    node: DevnodeProcess, devnet: DevnetControl, tmp_path: Path
) -> None:
    env = bridge_env(node, tmp_path, OTC_STREAM_KEEPALIVE_SECONDS="0.2")
    with running_bridge(env) as bridge:
        order = book_order(bridge, devnet)
        with bridge.client.order_stream(order.order_id) as stream:
            items = iter(stream)
            assert next_event(items).id == "1"
            quiet = [next(items) for _ in range(3)]  # nothing happens: keep-alives only
            assert quiet == [Comment("keep-alive")] * 3
            order.match()
            assert [e.id for e in read_through(items, len(order.history()))] == ["2", "3"]


def test_refusals_are_json_and_hold_no_stream(bridge: RunningBridge, devnet: DevnetControl) -> None:
    order = book_order(bridge, devnet)
    http = bridge.client.http
    contract = Contract(http.get("/openapi.json").json())

    def refused(status: int, error: str, path: str, **kwargs: object) -> None:
        answer = http.get(path, **kwargs)  # type: ignore[arg-type]
        assert answer.status_code == status, answer.text
        assert json_error(answer)["error"] == error
        contract.check("GET", STREAM, answer)

    path = f"/api/orders/{order.order_id}/stream"
    refused(404, "Order not found", "/api/orders/otc_ffffffffffffffff/stream")
    refused(400, "after_must_be_non_negative", path, params={"after": "-1"})
    refused(400, "after_must_be_integer", path, params={"after": "x"})
    refused(400, "last_event_id_must_be_integer", path, headers={"Last-Event-ID": "1; x"})
    refused(400, "cursor_past_history", path, headers={"Last-Event-ID": "2"})
    assert metrics_streams(bridge) == 0  # none of them holds a stream slot


def metrics_streams(bridge: RunningBridge) -> float:
    text = bridge.client.http.get("/metrics").text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("otc_streams_open{")
    )


def test_the_caps_on_open_streams_answer_429_with_retry_after(
    node: DevnodeProcess, devnet: DevnetControl, tmp_path: Path
) -> None:
    env = bridge_env(
        node,
        tmp_path,
        OTC_STREAMS_PER_IP="2",
        OTC_STREAMS_MAX="3",
        OTC_STREAMS_RETRY_AFTER_SECONDS="7",
        OTC_TRUSTED_PROXIES="127.0.0.1",  # the test speaks for several client addresses
    )
    with running_bridge(env) as bridge, ExitStack() as held:
        order = book_order(bridge, devnet)
        client = bridge.client
        streams: list[Iterator[ServerEvent | Comment]] = []  # a dropped reader closes

        def open_stream(address: str) -> int:
            stream = held.enter_context(
                client.order_stream(order.order_id, headers={"X-Forwarded-For": address})
            )
            if stream.status_code == 200:
                streams.append(iter(stream))
                assert next_event(streams[-1]).id == "1"
            return stream.status_code

        def refusal(address: str) -> dict[str, object]:
            answer = client.http.get(
                f"/api/orders/{order.order_id}/stream", headers={"X-Forwarded-For": address}
            )
            assert answer.status_code == 429, answer.text
            assert answer.headers["retry-after"] == "7"
            return json_error(answer)

        assert [open_stream("10.0.0.1"), open_stream("10.0.0.1")] == [200, 200]
        per_address = refusal("10.0.0.1")
        assert per_address["error"] == "too_many_streams_from_address"
        assert (per_address["limit"], per_address["retry_after_seconds"]) == (2, 7)
        assert open_stream("10.0.0.2") == 200
        total = refusal("10.0.0.3")
        assert (total["error"], total["limit"]) == ("too_many_streams", 3)
        assert metrics_streams(bridge) == 3

        streams.clear()
        held.close()  # every client leaves: their slots come back as the server notices
        deadline = time.monotonic() + 10
        while metrics_streams(bridge) and time.monotonic() < deadline:
            time.sleep(0.05)  # polling the server's gauge, bounded: not a synchronisation
        assert metrics_streams(bridge) == 0
        assert open_stream("10.0.0.3") == 200


# ---------------------------------------------------------------------- many processes


@pytest.fixture
def two_apis(node: DevnodeProcess, tmp_path: Path) -> Iterator[list[BridgeProcess]]:
    env = bridge_env(node, tmp_path / "shared", OTC_LOG_LEVEL="WARNING")
    with (
        ForkedBridgeProcess(tmp_path / "api0", env=env) as first,
        ForkedBridgeProcess(tmp_path / "api1", env=env) as second,
    ):
        yield [first, second]


def test_two_api_processes_one_stream_resumed_on_the_other(
    node: DevnodeProcess, devnet: DevnetControl, two_apis: list[BridgeProcess]
) -> None:
    """The stream is served by one process while another writes; the client reconnects
    to the other process mid-swap and still sees every event once, in order."""
    clock = node_clock(node)
    first, second = (TraderClient(api.url, clock=clock) for api in two_apis)
    with first, second:
        order = BookOrder.create(second, devnet, admin_reconcile(second, node.admin_key))
        with first.order_stream(order.order_id) as stream:
            items = iter(stream)
            seen = read_through(items, 1)
            order.match(second)  # written by the other process
            matched = len(order.history())
            seen += read_through(items, matched)
        order.drive_to_end(second)
        with second.order_stream(order.order_id, last_event_id=seen[-1].id) as stream:
            rest, _ = read_to_end(stream)
        assert_history(seen + rest, order.history())


@pytest.mark.skipif(store_kind() != "postgres", reason="SQLite has no LISTEN/NOTIFY: it polls")
def test_on_postgresql_a_commit_wakes_streams_long_before_their_poll(
    node: DevnodeProcess, devnet: DevnetControl, tmp_path: Path
) -> None:
    env = bridge_env(
        node,
        tmp_path / "shared",
        OTC_STREAM_POLL_SECONDS="3600",
        OTC_STREAM_KEEPALIVE_SECONDS="3600",
    )
    with (
        ForkedBridgeProcess(tmp_path / "api0", env=env) as listening,
        ForkedBridgeProcess(tmp_path / "api1", env=env) as writing,
    ):
        clock = node_clock(node)
        reader, writer = (
            TraderClient(listening.url, clock=clock),
            TraderClient(writing.url, clock=clock),
        )
        with reader, writer:
            order = BookOrder.create(writer, devnet, admin_reconcile(writer, node.admin_key))
            # Polls are an hour apart: only the NOTIFY can bring these within the timeout.
            with reader.order_stream(order.order_id, read_timeout=20) as stream:
                items = iter(stream)
                read_through(items, 1)
                order.match(writer)
                assert [e.id for e in read_through(items, 3)] == ["2", "3"]


def test_a_server_told_to_stop_ends_its_streams_and_exits_promptly(
    node: DevnodeProcess, devnet: DevnetControl, tmp_path: Path
) -> None:
    env = bridge_env(node, tmp_path / "shared", OTC_LOG_LEVEL="WARNING")
    with ForkedBridgeProcess(tmp_path / "api", env=env) as api:
        client = TraderClient(api.url, clock=node_clock(node))
        with client:
            order = BookOrder.create(client, devnet, admin_reconcile(client, node.admin_key))
            with client.order_stream(order.order_id) as stream:
                items = iter(stream)
                read_through(items, 1)
                assert api.pid is not None
                os.kill(api.pid, signal.SIGTERM)
                # Not held by the open stream: uvicorn shuts down, then re-raises the
                # signal it caught (so the exit status is "terminated by SIGTERM").
                assert api.wait(20) in {0, -signal.SIGTERM}, api.log_tail()
                assert list(items) == []  # the stream ended (no end event: it may resume)
