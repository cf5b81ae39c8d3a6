"""What an operator sees: Prometheus metrics and structured logs."""

from __future__ import annotations

import json
import logging

from prometheus_client.parser import text_string_to_metric_families

from otc_bridge.clientlib.wallet import Secret, Wallet
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.observability.logs import ContextFilter, JsonFormatter, order_id_var
from tests.support.bridge import RunningBridge
from tests.support.chain import locked
from tests.support.databases import store_kind


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample of a metric in Prometheus text format."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    return None


WRITE_WAITS = "otc_store_write_wait_seconds_count"


def test_metrics_show_orders_transitions_node_calls_and_phases(
    bridge: RunningBridge, devnet: DevnetControl, devchain: Devchain
) -> None:
    # The bridge runs in this test process, whose metrics every bridge an earlier test
    # ran here added to (on either store): this test's write waits are the difference.
    waits_before = sample(bridge.client.http.get("/metrics").text, WRITE_WAITS) or 0
    seller, buyer, secret = Wallet(), Wallet(), Secret()
    devnet.faucet(seller.address, "50")
    order_id = bridge.client.create_order(
        seller, side="sell", amount_rtc="5", price_per_rtc="1", htlc_hash=secret.hash
    ).json()["order_id"]
    bridge.client.match(buyer, order_id)
    locked(bridge.client, devchain, order_id)
    bridge.client.confirm(order_id, wallet=seller.address, secret=secret.hex, quote_tx="0x1")

    response = bridge.client.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert sample(text, "otc_orders", state="payout_pending") == 1
    assert sample(text, "otc_orders", state="open") == 0
    assert (
        sample(
            text,
            "otc_transitions_total",
            from_state="quote_locked",
            to_state="settling",
            cause="confirm",
        )
        or 0
    ) >= 1
    assert "otc_node_request_seconds_bucket" in text
    assert 'otc_settlement_step_seconds_count{step="escrow.accept"}' in text
    assert 'otc_settlement_phase_seconds_count{phase="confirm_to_payout_queued"}' in text
    assert 'otc_settlement_phase_seconds_count{phase="match_to_quote_lock"}' in text
    assert sample(text, "otc_alerts_pending") == 0
    assert (
        'otc_http_request_seconds_count{method="POST",route="/api/orders/{order_id}/confirm"'
        in text
    )
    # SQLite: each unit of work that wrote (signatures, the order, each settlement step)
    # queued for the write gate and said how long; PostgreSQL has no gate.
    waits = sample(text, WRITE_WAITS)
    if store_kind() == "sqlite":
        assert waits is not None
        assert waits - waits_before >= 8
    else:
        assert (waits or 0) == waits_before


def test_json_log_lines_carry_the_order_in_context() -> None:
    record = logging.makeLogRecord(
        {
            "name": "otc_bridge.test",
            "levelno": logging.WARNING,
            "levelname": "WARNING",
            "msg": "payout %s voided",
            "args": ("k",),
        }
    )
    token = order_id_var.set("otc_abc")
    try:
        ContextFilter().filter(record)
    finally:
        order_id_var.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "payout k voided"
    assert line["order_id"] == "otc_abc"
    assert line["level"] == "warning"


def test_the_trading_page_is_served_for_browsers(bridge: RunningBridge) -> None:
    page = bridge.client.http.get("/")  # api/web.py; tests/browser drives it in chromium
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<title>RustChain OTC Bridge" in page.text
    assert '<script type="module" src="/app/main-' in page.text
