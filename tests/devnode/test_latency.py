"""Simulated latency (`DEVNODE_LATENCY_MS`, `DEVNODE_LATENCY_JITTER_MS`, `/devnet/latency`):
node replies wait at least the latency, control routes do not, and requests in flight
overlap instead of queueing behind each other."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from otc_bridge.devnet.devnode.latency import Latency, is_node_path
from otc_bridge.devnet.devnode.settings import load_settings
from tests.conftest import Devnode, DevnodeFactory

VALID = {"RC_ADMIN_KEY": "k" * 32}


def timed(call: Callable[[], httpx.Response]) -> tuple[float, httpx.Response]:
    start = time.monotonic()
    response = call()
    return time.monotonic() - start, response


def balance(client: httpx.Client) -> httpx.Response:
    return client.get("/wallet/balance", params={"miner_id": "alice"})


def test_every_node_reply_waits_but_control_routes_do_not(devnode_factory: DevnodeFactory) -> None:
    node = devnode_factory(env={"DEVNODE_LATENCY_MS": "1000"})
    node_calls: list[Callable[[], httpx.Response]] = [
        lambda: balance(node.http),  # success
        lambda: node.http.get("/no/such/route"),  # the HTML 404
        lambda: node.http.post("/wallet/transfer", json={}),  # the 401 without a key
    ]
    for call in node_calls:
        elapsed, response = timed(call)
        assert elapsed >= 1.0, (response.status_code, elapsed)
    elapsed, response = timed(lambda: node.http.get("/devnet/ledger"))
    assert response.status_code == 200
    assert elapsed < 1.0  # answered at once, not held for the node's latency


def test_concurrent_requests_overlap_instead_of_queueing(devnode_factory: DevnodeFactory) -> None:
    node = devnode_factory(env={"DEVNODE_LATENCY_MS": "500"})
    clients = [node.client() for _ in range(8)]
    with ThreadPoolExecutor(len(clients)) as pool:
        start = time.monotonic()
        results = list(pool.map(lambda client: timed(lambda: balance(client)), clients))
        total = time.monotonic() - start
    assert all(response.status_code == 200 for _, response in results)
    assert min(elapsed for elapsed, _ in results) >= 0.5
    assert total < 2.0  # one after another, eight holds of 0.5 s would take 4 s


def test_latency_changes_at_run_time_and_reset_restores_it(devnode: Devnode) -> None:
    assert devnode.http.get("/devnet/latency").json() == {
        "ok": True,
        "latency_ms": 0.0,
        "jitter_ms": 0.0,
    }
    changed = devnode.http.post("/devnet/latency", json={"latency_ms": 300, "jitter_ms": 50})
    assert changed.json() == {"ok": True, "latency_ms": 300.0, "jitter_ms": 50.0}
    assert timed(lambda: balance(devnode.http))[0] >= 0.3
    refusals: list[object] = [
        {"latency_ms": -1},
        {"jitter_ms": "x"},
        {"latency_ms": 5, "jitter_ms": 1e9},  # neither changes when one is refused
        [],
    ]
    for bad in refusals:
        refused = devnode.http.post("/devnet/latency", json=bad)
        assert refused.status_code == 400, bad
    assert devnode.http.get("/devnet/latency").json()["latency_ms"] == 300.0  # unchanged
    devnode.control.reset()
    assert devnode.http.get("/devnet/latency").json()["latency_ms"] == 0.0


def test_jitter_adds_a_uniform_draw_to_the_fixed_part() -> None:
    latency = Latency(50, 30, random.Random(7))
    draws = [latency.seconds() for _ in range(500)]
    assert all(0.05 <= draw <= 0.08 for draw in draws)
    assert min(draws) < 0.053  # spread over the whole range
    assert max(draws) > 0.077
    assert Latency(50, 0).seconds() == 0.05


def test_settings_default_to_no_latency_and_bad_values_fall_back() -> None:
    settings = load_settings(VALID)
    assert (settings.latency_ms, settings.latency_jitter_ms) == (0.0, 0.0)
    settings = load_settings(
        {**VALID, "DEVNODE_LATENCY_MS": "12.5", "DEVNODE_LATENCY_JITTER_MS": "3"}
    )
    assert (settings.latency_ms, settings.latency_jitter_ms) == (12.5, 3.0)
    for bad in ("fast", "-5", "inf", "1e9", "nan"):
        assert load_settings({**VALID, "DEVNODE_LATENCY_MS": bad}).latency_ms == 0.0, bad


def test_only_devnet_paths_are_control_routes() -> None:
    assert not is_node_path("/devnet/ledger")
    assert not is_node_path("/devnet")
    assert is_node_path("/devnetx")
    assert is_node_path("/wallet/balance")
