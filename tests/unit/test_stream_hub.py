"""Unit tests of the stream hub (fake reads in place of the database) and of the client's
event-stream parser."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from otc_bridge.api.stream_hub import MarketFrame, StreamHub
from otc_bridge.clientlib.sse import Comment, EventParser, ServerEvent


class Reads:
    """What the database would answer, and how often it was asked."""

    def __init__(self) -> None:
        self.versions: dict[str, int] = {}
        self.frames: dict[str, MarketFrame] = {}
        self.version_reads: list[list[str]] = []

    def read_versions(self, order_ids: list[str]) -> dict[str, int]:
        self.version_reads.append(sorted(order_ids))
        return {i: self.versions[i] for i in order_ids if i in self.versions}

    def snapshot(self, pair: str) -> MarketFrame:
        return self.frames[pair]


def hub_for(reads: Reads, **kwargs: Any) -> StreamHub:
    return StreamHub(
        poll_seconds=0.02, versions=reads.read_versions, snapshot=reads.snapshot, **kwargs
    )


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), 10))


def test_a_stream_is_woken_only_when_its_order_went_past_its_cursor() -> None:
    reads = Reads()
    reads.versions = {"otc_a": 3, "otc_b": 1}

    async def scenario() -> None:
        hub = hub_for(reads)
        behind, current = hub.watch_order("otc_a", 2), hub.watch_order("otc_b", 1)
        assert await behind.wait(1)
        assert not await current.wait(0.1)  # several polls, nothing new for it
        reads.versions["otc_b"] = 2
        assert await current.wait(1)
        assert all(read == ["otc_a", "otc_b"] for read in reads.version_reads)  # one read
        await hub.aclose()

    run(scenario)


def test_a_notification_wakes_its_order_streams_without_a_read() -> None:
    reads = Reads()
    reads.versions = {"otc_a": 1}

    async def scenario() -> None:
        hub = StreamHub(poll_seconds=3600, versions=reads.read_versions, snapshot=reads.snapshot)
        sub, other = hub.watch_order("otc_a", 1), hub.watch_order("otc_b", 0)
        hub.notified("otc_a RTC/USDC")  # what a NOTIFY carries
        assert await sub.wait(1)
        assert len(reads.version_reads) <= 1  # at most the first poll: no read per wake
        assert not await other.wait(0.05)  # another order's stream is left alone
        hub.unwatch(sub)
        hub.unwatch(other)
        assert hub.watched == 0
        await hub.aclose()

    run(scenario)


def test_market_subscribers_are_woken_when_the_snapshot_changes() -> None:
    reads = Reads()
    reads.frames["RTC/USDC"] = MarketFrame("aaaa", {"n": 1})

    async def scenario() -> None:
        hub = hub_for(reads)
        sub = hub.watch_pair("RTC/USDC")
        first = await hub.refresh("RTC/USDC")
        assert hub.latest("RTC/USDC") == first
        sub.clear()
        assert not await sub.wait(0.1)  # polled, unchanged
        reads.frames["RTC/USDC"] = MarketFrame("bbbb", {"n": 2})
        assert await sub.wait(1)
        assert hub.latest("RTC/USDC") == reads.frames["RTC/USDC"]
        hub.unwatch(sub)
        assert hub.latest("RTC/USDC") is None  # nobody watches: the frame is forgotten
        await hub.aclose()

    run(scenario)


def test_closing_or_a_stopping_server_wakes_every_stream_for_good() -> None:
    reads = Reads()
    reads.versions = {"otc_a": 1}
    stopping = [False]

    async def scenario() -> None:
        hub = hub_for(reads, stopping=lambda: stopping[0])
        sub = hub.watch_order("otc_a", 1)
        assert not await sub.wait(0.1)
        stopping[0] = True  # uvicorn was told to exit
        assert await sub.wait(1)
        assert sub.closed
        late = hub.watch_order("otc_a", 1)  # a stream opened after: ends at once too
        assert await late.wait(0.1)
        await hub.aclose()

    run(scenario)


def test_the_parser_reads_events_comments_ids_and_retry() -> None:
    parser = EventParser()
    lines = [
        "retry: 3000",
        "",
        "id: 7",
        "event: order_event",
        'data: {"seq":7}',
        "",
        ": keep-alive",
        "event: end",
        "data: line one",
        "data: line two",
        "",
        "data:no space",
        "",
    ]
    items = [item for line in lines if (item := parser.feed(line)) is not None]
    assert items == [
        ServerEvent("order_event", '{"seq":7}', "7"),
        Comment("keep-alive"),
        ServerEvent("end", "line one\nline two", None),
        ServerEvent("message", "no space", None),
    ]
    assert parser.retry_ms == 3000
    assert parser.last_event_id == "7"  # an event without id keeps the last one
