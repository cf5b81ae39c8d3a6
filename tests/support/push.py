"""Helpers for the push-channel suites (event streams, webhooks): orders driven through
their states with no dependence on the settlement path's details, and stream readers.

`BookOrder` drives a buy order: created (open), matched by a funded seller (whose escrow
is locked), left to time out (the worker undoes the match), then cancelled by its maker
once it is open again, whatever states the bridge passes through on the way: the driver
only looks at the status and acts on `open`, else moves the clock and runs a worker pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from otc_bridge.adapters.clock_file import OffsetFileClock
from otc_bridge.clientlib.bridge import BridgeClient
from otc_bridge.clientlib.sse import Comment, EventStream, ServerEvent
from otc_bridge.clientlib.wallet import Secret, Wallet
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.process import DevnodeProcess

TERMINAL = {"completed", "cancelled", "expired"}
PAST_THE_MATCH_DEADLINE = 4000  # seconds: more than the default lock window (3600)


@dataclass
class BookOrder:
    client: BridgeClient
    devnet: DevnetControl
    run_worker: Callable[[], object]
    maker: Wallet
    order_id: str = ""

    @classmethod
    def create(
        cls,
        client: BridgeClient,
        devnet: DevnetControl,
        run_worker: Callable[[], object],
        maker: Wallet | None = None,
    ) -> BookOrder:
        order = cls(client, devnet, run_worker, maker or Wallet())
        created = client.create_order(order.maker, side="buy", amount_rtc="1", price_per_rtc="0.1")
        assert created.status_code == 201, created.text
        order.order_id = created.json()["order_id"]
        return order

    def match(self, client: BridgeClient | None = None, seller: Wallet | None = None) -> None:
        seller = seller or Wallet()
        self.devnet.faucet(seller.address, "10")
        matched = (client or self.client).match(seller, self.order_id, htlc_hash=Secret().hash)
        assert matched.status_code == 200, matched.text

    def status(self) -> str:
        return str(self.client.order(self.order_id)["status"])

    def drive_to_end(self, client: BridgeClient | None = None) -> str:
        """Until the order is terminal: cancel it when open, else let time pass."""
        for _ in range(20):
            status = self.status()
            if status in TERMINAL:
                return status
            if status == "open":
                cancelled = (client or self.client).cancel(self.maker, self.order_id)
                assert cancelled.status_code == 200, cancelled.text
                continue
            self.devnet.advance_clock(PAST_THE_MATCH_DEADLINE)
            self.devnet.tick()
            self.run_worker()
        raise AssertionError(f"{self.order_id} did not end: {self.status()}")

    def history(self) -> list[dict[str, Any]]:
        return self.client.events(self.order_id)


def next_event(items: Iterator[ServerEvent | Comment]) -> ServerEvent:
    for item in items:
        if isinstance(item, ServerEvent):
            return item
    raise AssertionError("the stream ended")


def read_through(items: Iterator[ServerEvent | Comment], seq: int) -> list[ServerEvent]:
    """Order events up to and including `seq`."""
    seen: list[ServerEvent] = []
    while not seen or int(seen[-1].id or 0) < seq:
        event = next_event(items)
        assert event.event == "order_event", event
        seen.append(event)
    return seen


def read_to_end(stream: EventStream) -> tuple[list[ServerEvent], ServerEvent]:
    """Every order event, then the `end` event; the stream must close after it."""
    events: list[ServerEvent] = []
    items = iter(stream)
    while (event := next_event(items)).event == "order_event":
        events.append(event)
    assert event.event == "end", event
    assert list(stream.events()) == [], "the stream went on after its end event"
    return events, event


def admin_reconcile(client: BridgeClient, admin_key: str) -> Callable[[], object]:
    def run() -> object:
        answer = client.http.post("/admin/reconcile", headers={"X-Admin-Key": admin_key})
        assert answer.status_code == 200, answer.text
        return answer.json()

    return run


def json_error(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body: dict[str, Any] = response.json()
    return body


def node_clock(node: DevnodeProcess) -> Callable[[], int]:
    """The devnet's clock (the devnode's offset file), which every bridge process reads:
    signatures must carry its time."""
    return OffsetFileClock(node.state_dir / "clock.json").now


def docs_verifier() -> Callable[[str, str, bytes], bool]:
    """The signature check docs/api.md shows receivers, run as written there."""
    text = (Path(__file__).parents[2] / "docs" / "api.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    snippet = next(b for b in blocks if "def verify_otc_signature" in b)
    assert len(snippet.strip().splitlines()) <= 10, "the docs promise ten lines"
    scope: dict[str, Any] = {}
    exec(compile(snippet, "docs/api.md", "exec"), scope)  # noqa: S102 (our own docs)
    verify: Callable[[str, str, bytes], bool] = scope["verify_otc_signature"]
    return verify
