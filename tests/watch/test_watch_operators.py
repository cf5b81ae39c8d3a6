"""What operators see of the chain watcher: `orders explain` (the order's chain, its
checkpoint and lag, its lock seen but not final), `otc-bridge watcher status`, the
Prometheus gauges and counters, and settings that fall back with a warning."""

from __future__ import annotations

import json
import logging

import pytest

from otc_bridge.observability import metrics
from otc_bridge.settlement.watch.build import build_watchers
from otc_bridge.settlement.watch.config import WatcherSettings
from tests.settlement.conftest import otc_cli
from tests.watch.conftest import Swaps


def test_explain_shows_the_watcher_and_a_lock_not_yet_final(swaps: Swaps) -> None:
    swap = swaps.open()
    made = swaps.lock(swap)
    swaps.watch()
    explained = swaps.bridge.container.operators.explain(swap.order_id)
    watcher = explained["watcher"]
    head = swaps.devchain.control.head().number
    assert watcher["chain_id"] == swaps.devchain.info.chain_id
    assert watcher["pairs"] == ["RTC/ETH", "RTC/USDC"]
    assert watcher["head_block"] == head
    assert watcher["checkpoint_block"] == head - 1  # finality 2: the head is not final
    assert watcher["lag_blocks"] == 1
    assert [(s["kind"], s["lock_id"], s["confirmations"]) for s in watcher["sightings"]] == [
        ("locked", made.lock_id, 1)
    ]
    swaps.devchain.control.mine(1)
    swaps.watch()
    explained = swaps.bridge.container.operators.explain(swap.order_id)
    assert explained["watcher"]["sightings"] == []  # final now, and acted on
    assert explained["order"]["status"] == "quote_locked"


def test_watcher_status_command_and_metrics(swaps: Swaps) -> None:
    swap = swaps.open()
    swaps.lock(swap)
    swaps.watch()
    done = otc_cli(swaps.env, "watcher", "status", "--json")
    assert done.returncode == 0, done.stderr
    (chain,) = json.loads(done.stdout)["chains"]
    head = swaps.devchain.control.head().number
    assert (chain["checkpoint_block"], chain["head_block"], chain["lag_blocks"]) == (
        head - 1,
        head,
        1,
    )
    assert chain["lease_holder"] is None  # the test polled and let go; no worker runs
    assert [s["kind"] for s in chain["sightings"]] == ["locked"]
    words = otc_cli(swaps.env, "watcher", "status")
    assert words.returncode == 0, words.stderr
    assert f"checkpoint block {head - 1}, head {head}, lag 1 block(s)" in words.stdout
    assert "seen, not final: locked" in words.stdout
    body, _ = metrics.render(swaps.bridge.container.store, swaps.bridge.container.clock)
    text = body.decode()
    label = f'chain="{swaps.devchain.info.chain_id}"'
    assert f"otc_watcher_checkpoint_block{{{label}}} {float(head - 1)}" in text
    assert f"otc_watcher_head_block{{{label}}} {float(head)}" in text
    assert f"otc_watcher_lag_blocks{{{label}}} 1.0" in text
    assert f'otc_watcher_polls_total{{{label},result="idle"}}' in text
    assert "otc_watcher_rpc_calls_total" in text


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [
        ("OTC_WATCHER_POLL_SECONDS", "soon", "poll_seconds"),
        ("OTC_WATCHER_POLL_SECONDS", "0", "poll_seconds"),
        ("OTC_WATCHER_LEASE_SECONDS", "1", "lease_seconds"),
        ("OTC_WATCHER_MAX_RANGE_BLOCKS", "0", "max_range_blocks"),
        ("OTC_WATCHER_KEEP_MARKS", "1", "keep_marks"),
        ("OTC_WATCHER_DRIVE_BUDGET_SECONDS", "-3", "drive_budget_seconds"),
        ("OTC_WATCHER_DISABLED", "perhaps", "enabled"),
    ],
)
def test_bad_settings_fall_back_to_the_default_with_a_warning(
    caplog: pytest.LogCaptureFixture, name: str, value: str, field: str
) -> None:
    with caplog.at_level(logging.WARNING):
        settings = WatcherSettings.from_env({name: value})
    assert getattr(settings, field) == getattr(WatcherSettings(), field)
    assert name in caplog.text


def test_settings_are_read() -> None:
    settings = WatcherSettings.from_env(
        {
            "OTC_WATCHER_POLL_SECONDS": "0.5",
            "OTC_WATCHER_MAX_RANGE_BLOCKS": "50",
            "OTC_WATCHER_DISABLED": "1",
        }
    )
    assert (settings.poll_seconds, settings.max_range_blocks, settings.enabled) == (
        0.5,
        50,
        False,
    )


def test_a_disabled_watcher_watches_nothing(swaps: Swaps) -> None:
    container = swaps.bridge.container
    assert len(container.watchers.chains) == 1  # one chain for RTC/ETH and RTC/USDC
    off = build_watchers(
        container.settings.evm,
        WatcherSettings(enabled=False),
        store=container.store,
        clock=container.clock,
        settlement=container.settlement,
    )
    assert off.chains == []
