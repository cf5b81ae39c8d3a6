"""Payouts under a small node admin limiter (3 per 60 s): the burst meets the node's 429
once, and every reconciler pass after it sends no request the node refuses.

The real devnode counts the bridge's admin requests on the devnet clock; the bridge's
own answers from the node are read from its metrics (`otc_node_request_seconds_count`
by outcome: `rate_limited` is a 429 the node sent). Issue 14's third goal.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.devnet.process import DevnodeProcess
from tests.settlement.conftest import confirm, db_order, open_trade, worker_payouts
from tests.support.bridge import RunningBridge
from tests.support.fixtures import chained_node

LIMIT, WINDOW = 3, 60
ORDERS = 8  # the burst queues 3; then two passes queue 3 and 2
SAMPLE = re.compile(r"^otc_node_request_seconds_count\{(.*)\} (\S+)$")


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, devchain: Devchain) -> Iterator[DevnodeProcess]:
    env = {
        "RC_ADMIN_RATE_LIMIT_MAX": str(LIMIT),
        "RC_ADMIN_RATE_LIMIT_WINDOW_SECONDS": str(WINDOW),
    }
    with chained_node(tmp_path_factory.mktemp("devnode"), devchain, env) as proc:
        yield proc


def node_answers(bridge: RunningBridge) -> Counter[tuple[str, str]]:
    """The bridge's node requests so far by (route, outcome), from its /metrics."""
    response = httpx.get(f"{bridge.url}/metrics")
    response.raise_for_status()
    counts: Counter[tuple[str, str]] = Counter()
    for line in response.text.splitlines():
        found = SAMPLE.match(line)
        if found:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', found.group(1)))
            counts[(labels["route"], labels["outcome"])] += int(float(found.group(2)))
    return counts


def refused(answers: Counter[tuple[str, str]]) -> int:
    return sum(n for (_, outcome), n in answers.items() if outcome == "rate_limited")


def test_reconciler_passes_queue_every_payout_without_a_429(
    bridge: RunningBridge, devnet: DevnetControl, node: DevnodeProcess
) -> None:
    trades = [open_trade(bridge.client, devnet, f"{i + 1}.5") for i in range(ORDERS)]
    store = bridge.container.store
    before = node_answers(bridge)
    answers = [confirm(bridge.client, trade) for trade in trades]
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    burst = node_answers(bridge) - before
    # The 4th transfer of the window meets the node's 429, which states the limit; the
    # rest are answered by the bridge without a request and their orders rescheduled.
    assert refused(burst) == 1
    assert burst[("/wallet/transfer", "2xx")] == LIMIT
    assert Counter(a.json()["status"] for a in answers) == {
        "payout_pending": LIMIT,
        "settling": ORDERS - LIMIT,
    }

    per_pass: list[int] = []
    queued_per_pass: list[int] = []
    seen = node_answers(bridge)
    while len(per_pass) < 5:
        pending = sum(db_order(store, t.order_id).status.value == "payout_pending" for t in trades)
        if pending == ORDERS:
            break
        devnet.advance_clock(WINDOW + 1)  # the node's window (and the bridge's) has moved
        bridge.run_worker()
        now = node_answers(bridge)
        per_pass.append(refused(now - seen))
        queued_per_pass.append((now - seen)[("/wallet/transfer", "2xx")])
        seen = now

    assert per_pass == [0, 0]  # not one request spent on a refusal in any pass
    assert queued_per_pass == [LIMIT, ORDERS - 2 * LIMIT]
    assert {db_order(store, t.order_id).status.value for t in trades} == {"payout_pending"}
    payouts = worker_payouts(node)
    for trade in trades:  # exactly one transfer of the amount per buyer
        rows = payouts.get(trade.buyer.address, [])
        assert [(r["status"], r["amount_rtc"]) for r in rows] == [
            ("pending", trade.amount_i64 / 1e6)
        ]
    devnet.assert_conserved()
