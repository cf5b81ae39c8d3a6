"""The alert outbox: an alert is a database row first (one per order and condition, however
often the condition is met), then a POST to `RC_SOPHIACHECK_WEBHOOK` in the Discord-embed
shape, retried with backoff until the webhook accepts it.

The webhook is a real HTTP server on loopback that records what it receives. The alert
comes from a real condition: the bridge's admin key is wrong, so the node refuses every
payout with 401 and every pass that retries it raises "Payout refused by the node" again.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.process import DevnodeProcess, free_port
from tests.settlement.conftest import (
    Trade,
    confirm,
    db_order,
    node_payouts,
    open_trade,
    settle_on_node,
    wait_for,
)
from tests.support.bridge import RunningBridge, bridge_env, running_bridge

WRONG_KEY = "not-the-node-admin-key-0123456789abcdef0123"
TITLE = "Payout refused by the node"
RETRY = 15  # OTC_RETRY_SECONDS' default
FIRST_BACKOFF = 30  # then 60, 120, ... (MAX_BACKOFF 3600)


class Webhook:
    """A webhook endpoint: records each POST, answers with the next scripted status
    (204 once the script runs out)."""

    def __init__(
        self,
        *,
        port: int = 0,
        statuses: tuple[int, ...] = (),
        hold_first: threading.Event | None = None,
    ) -> None:
        self.posts: list[dict[str, Any]] = []
        self._script = list(statuses)
        self._lock = threading.Lock()
        self._hold_first = hold_first  # the first POST is answered only once it is set
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with hook._lock:
                    hook.posts.append(
                        {
                            "path": self.path,
                            "content_type": self.headers.get("Content-Type"),
                            "body": json.loads(raw),
                        }
                    )
                    status = hook._script.pop(0) if hook._script else 204
                    first = len(hook.posts) == 1
                if first and hook._hold_first is not None:
                    hook._hold_first.wait(timeout=30)
                reply = b"webhook unavailable" if status >= 300 else b""
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output quiet

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/otc"

    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [post["body"] for post in self.posts]

    def start(self) -> Webhook:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> Webhook:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def bridge_alerting_to(
    node: DevnodeProcess, state: Path, webhook: str, *, admin_key: str = WRONG_KEY
) -> Iterator[RunningBridge]:
    env = bridge_env(node, state, RC_ADMIN_KEY=admin_key, RC_SOPHIACHECK_WEBHOOK=webhook)
    with running_bridge(env) as running:
        yield running


def refused_payout(bridge: RunningBridge, devnet: DevnetControl, amount: str = "4") -> Trade:
    """Escrow released to the worker wallet, payout refused by the node (401): the order
    stays `settling` and the refusal is alerted."""
    trade = open_trade(bridge.client, devnet, amount)
    answer = confirm(bridge.client, trade)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "settling"
    return trade


def alert_rows(bridge: RunningBridge) -> list[Any]:
    with bridge.container.store.read() as uow:
        return list(reversed(uow.alerts.newest(limit=100)))


def only_row(bridge: RunningBridge) -> Any:
    rows = alert_rows(bridge)
    assert len(rows) == 1, rows
    return rows[0]


def next_action_at(bridge: RunningBridge, order_id: str) -> int | None:
    return db_order(bridge.container.store, order_id).next_action_at


def test_an_alert_met_on_every_pass_is_one_row_delivered_once_as_a_discord_embed(
    node: DevnodeProcess, devnet: DevnetControl, tmp_path: Path
) -> None:
    with Webhook() as hook, bridge_alerting_to(node, tmp_path, hook.url) as bridge:
        trades = [refused_payout(bridge, devnet, amount) for amount in ("4", "2")]
        rows = alert_rows(bridge)
        # A row per order, written when the condition was met, before any delivery.
        assert [(r.level, r.title) for r in rows] == [("critical", TITLE)] * 2
        assert [r.fields["order_id"] for r in rows] == [t.order_id for t in trades]
        assert [(r.attempts, r.delivered_at) for r in rows] == [(0, None)] * 2
        assert hook.posts == []

        schedule = [next_action_at(bridge, trades[0].order_id)]
        for _ in range(3):
            bridge.run_worker()
            devnet.advance_clock(RETRY + 1)
            schedule.append(next_action_at(bridge, trades[0].order_id))
        bridge.run_worker()
        # The refusal was met (and alerted) again on each later pass: the order was
        # rescheduled each time. Still one row per order, each delivered once.
        assert len(set(schedule)) >= 3, schedule
        rows = alert_rows(bridge)
        assert len(rows) == 2
        assert all(r.attempts == 1 and r.delivered_at is not None for r in rows)
        assert all(r.last_error is None for r in rows)
        assert len(hook.posts) == 2
        assert {p["content_type"] for p in hook.posts} == {"application/json"}
        assert {p["path"] for p in hook.posts} == {"/hooks/otc"}

        body = next(
            b for b in hook.bodies() if trades[0].order_id in json.dumps(b)
        )  # the first order's alert
        assert list(body) == ["embeds"]
        assert len(body["embeds"]) == 1
        embed = body["embeds"][0]
        assert set(embed) == {"title", "description", "color", "fields", "timestamp"}
        assert embed["title"] == "OTC Bridge CRITICAL"
        assert embed["description"] == TITLE
        assert embed["color"] == 0xFF0000
        assert all(set(f) == {"name", "value", "inline"} for f in embed["fields"])
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert fields["order_id"] == trades[0].order_id
        assert fields["key"] == f"otc_payout:{trades[0].order_id}"
        assert fields["error"].startswith("Unauthorized")
        row = rows[0]
        assert datetime.fromisoformat(embed["timestamp"]) == datetime.fromtimestamp(
            row.created_at, UTC
        )
        assert all(node_payouts(node, t.buyer.address) == [] for t in trades)  # nothing paid


@pytest.mark.parametrize("failure", ["http_500", "connection_refused"])
def test_a_failing_webhook_keeps_the_alert_pending_with_backoff_until_it_accepts(
    node: DevnodeProcess, devnet: DevnetControl, tmp_path: Path, failure: str
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks/otc"
    failing = failure == "http_500"
    # Refused: nothing listens on the port until the webhook "comes up" below.
    hook = Webhook(port=port, statuses=(500, 500)).start() if failing else None
    try:
        with bridge_alerting_to(node, tmp_path, url) as bridge:
            trade = refused_payout(bridge, devnet)
            clock = bridge.container.clock

            def attempt() -> tuple[int, int]:
                before = clock.now()
                bridge.run_worker()
                return before, clock.now()

            before, after = attempt()
            row = only_row(bridge)
            assert (row.attempts, row.delivered_at) == (1, None)
            if failing:
                assert row.last_error == "http 500: webhook unavailable"
            else:
                assert row.last_error.startswith("ConnectError")
            assert before + FIRST_BACKOFF <= row.next_attempt_at <= after + FIRST_BACKOFF

            attempt()  # inside the backoff: not tried again
            assert only_row(bridge).attempts == 1
            devnet.advance_clock(FIRST_BACKOFF + 1)
            if failing:
                before, after = attempt()  # the webhook fails once more: the backoff doubles
                row = only_row(bridge)
                assert (row.attempts, row.delivered_at) == (2, None)
                doubled = 2 * FIRST_BACKOFF
                assert before + doubled <= row.next_attempt_at <= after + doubled
                devnet.advance_clock(FIRST_BACKOFF + 1)
                attempt()  # still inside the doubled backoff
                assert only_row(bridge).attempts == 2
                devnet.advance_clock(FIRST_BACKOFF)
            else:
                hook = Webhook(port=port).start()  # the webhook comes up

            before, after = attempt()
            row = only_row(bridge)
            assert row.delivered_at is not None
            assert before <= row.delivered_at <= after
            assert row.last_error is None
            assert row.attempts == (3 if failing else 2)
            assert hook is not None
            bodies = hook.bodies()
            assert len(bodies) == (3 if failing else 1)
            assert all(b == bodies[0] for b in bodies)  # the same alert, re-sent as it was
            assert bodies[0]["embeds"][0]["description"] == TITLE
            assert trade.order_id in json.dumps(bodies[0])
            attempt()
            assert len(hook.bodies()) == len(bodies)  # delivered means done
    finally:
        if hook is not None:
            hook.stop()


def test_a_pending_alert_survives_a_restart_and_a_later_process_delivers_it(
    node: DevnodeProcess, devnet: DevnetControl, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hooks/otc"
    with bridge_alerting_to(node, tmp_path, url) as bridge:
        trade = refused_payout(bridge, devnet, "3")
        bridge.run_worker()  # nobody listens on the webhook's port
        row = only_row(bridge)
        assert (row.attempts, row.delivered_at) == (1, None)
        with bridge.container.store.read() as uow:
            assert uow.alerts.pending_count() == 1

    # A new process on the same database, with the right admin key this time.
    with (
        Webhook(port=port) as hook,
        bridge_alerting_to(node, tmp_path, url, admin_key=node.admin_key) as bridge,
    ):
        devnet.advance_clock(FIRST_BACKOFF + 1)
        bridge.run_worker()  # the payout goes out, and the old alert is delivered
        row = only_row(bridge)
        assert row.delivered_at is not None
        assert row.attempts == 2
        assert [b["embeds"][0]["description"] for b in hook.bodies()] == [TITLE]
        assert bridge.client.order(trade.order_id)["status"] == "payout_pending"
        settle_on_node(devnet)
        bridge.run_worker()
        assert bridge.client.order(trade.order_id)["status"] == "completed"
        assert devnet.balance_i64(trade.buyer.address) == trade.amount_i64
        assert [p["status"] for p in node_payouts(node, trade.buyer.address)] == ["confirmed"]
        assert len(alert_rows(bridge)) == 1  # no new alert: the condition is gone


def test_two_passes_in_a_row_do_not_deliver_the_same_alert_twice(
    node: DevnodeProcess, devnet: DevnetControl, tmp_path: Path
) -> None:
    """Pass A releases the lease and starts delivering; the webhook is slow to answer.
    Pass B (another process) takes the lease, runs, and delivers what is due: the alert
    A is still posting must not go out a second time."""
    answer = threading.Event()
    with (
        Webhook(hold_first=answer) as hook,
        bridge_alerting_to(node, tmp_path, hook.url) as first,
        bridge_alerting_to(node, tmp_path, hook.url) as second,
    ):
        refused_payout(first, devnet)
        slow_pass = threading.Thread(target=first.run_worker)
        slow_pass.start()
        try:
            wait_for(lambda: hook.posts, timeout=30, what="pass A's POST to reach the webhook")
            assert len(hook.posts) == 1
            second.run_worker()  # today A has released the lease: B runs and delivers
        finally:
            answer.set()
            slow_pass.join(timeout=30)
        descriptions = [b["embeds"][0]["description"] for b in hook.bodies()]
        assert descriptions == [TITLE], descriptions
