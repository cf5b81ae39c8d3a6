"""Three API processes and three workers at once on one database (PostgreSQL in the
PostgreSQL suite): concurrent swaps, confirm races across processes, node faults, API
processes killed at every settlement boundary, and workers killed mid-pass. Every order
ends right, each buyer is paid exactly once, and the devnode's ledger stays conserved."""

from __future__ import annotations

from functools import partial

import httpx
import pytest

from otc_bridge.clientlib.wallet import Wallet
from otc_bridge.devnet.control import FaultKind
from otc_bridge.domain.money import format_units
from tests.cluster.conftest import (
    AMOUNT_I64,
    APIS,
    Cluster,
    Swap,
    in_parallel,
    open_matched_swap,
)
from tests.crash.scenarios import CONFIRM_BOUNDARIES

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("cluster")]


def confirm(cluster: Cluster, swap: Swap, index: int) -> httpx.Response:
    return cluster.client(index).confirm(
        swap.order_id, wallet=swap.seller.address, secret=swap.secret.hex, quote_tx="0x1"
    )


def completed(cluster: Cluster, *swaps: Swap) -> bool:
    return all(cluster.order(s.order_id)["status"] == "completed" for s in swaps)


def assert_paid_once(cluster: Cluster, swap: Swap, voided: int = 0) -> None:
    rows = cluster.payouts_to(swap.buyer.address)
    assert [r["status"] for r in rows].count("confirmed") == 1, rows
    assert [r["status"] for r in rows].count("voided") == voided, rows
    assert cluster.devnet.balance_i64(swap.buyer.address) == AMOUNT_I64
    order = cluster.order(swap.order_id)
    assert order["htlc_secret"] == swap.secret.hex
    trades = cluster.client(0).http.get("/api/trades", params={"limit": 200}).json()["trades"]
    assert [t["order_id"] for t in trades].count(swap.order_id) == 1


def test_swaps_from_every_api_settle_once_with_three_workers(cluster: Cluster) -> None:
    swaps = in_parallel([partial(open_matched_swap, cluster, i) for i in range(12)])
    assert all(isinstance(s, Swap) for s in swaps), swaps
    answers = in_parallel([partial(confirm, cluster, s, i) for i, s in enumerate(swaps)])
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    cluster.settle_until(lambda: completed(cluster, *swaps), what="every swap completed")
    for swap in swaps:
        assert_paid_once(cluster, swap)
    cluster.devnet.assert_conserved()


def test_parallel_confirms_on_three_apis_make_one_payout(cluster: Cluster) -> None:
    for round_ in range(3):
        swap = open_matched_swap(cluster, round_)
        answers = in_parallel([partial(confirm, cluster, swap, i) for i in range(APIS)])
        codes = sorted(a.status_code for a in answers)
        assert codes == [200, 409, 409], [a.text for a in answers]
        won = next(a for a in answers if a.status_code == 200).json()
        assert won["status"] in {"settling", "payout_pending", "completed"}
        cluster.settle_until(partial(completed, cluster, swap), what="completed")
        assert_paid_once(cluster, swap)


@pytest.mark.parametrize(
    ("endpoint", "kind", "voided"),
    [
        ("POST /agent/jobs/*/claim", "drop", 0),
        ("POST /agent/jobs/*/deliver", "gateway_error", 0),
        ("POST /agent/jobs/*/accept", "drop", 0),
        ("POST /wallet/transfer", "drop", 0),
        ("POST /wallet/transfer", "html_500", 0),
        ("POST /wallet/transfer", "rate_limit", 0),
        ("POST /wallet/transfer", "void", 2),  # two voids in a row: two re-drives
        ("GET /wallet/tx/*", "gateway_error", 0),
    ],
)
def test_node_faults_with_the_cluster_running(
    cluster: Cluster, endpoint: str, kind: FaultKind, voided: int
) -> None:
    swap = open_matched_swap(cluster, 0)
    cluster.devnet.add_fault(endpoint, kind, times=2)
    try:
        answer = confirm(cluster, swap, 1)
        assert answer.status_code == 200, answer.text
        cluster.settle_until(lambda: completed(cluster, swap), what=f"completed after {kind}")
    finally:
        cluster.devnet.clear_faults()
    assert_paid_once(cluster, swap, voided=voided)


# The crash matrix confirms RTC/ERG straight from `matched`; the cluster's swaps are
# quote-locked on the chain first, so their confirm commits from `quote_locked`.
LOCKED_CONFIRM_BOUNDARIES = [
    b.replace("commit:matched->", "commit:quote_locked->") for b in CONFIRM_BOUNDARIES
]


@pytest.mark.parametrize("boundary", LOCKED_CONFIRM_BOUNDARIES)
def test_an_api_killed_at_each_settlement_boundary(cluster: Cluster, boundary: str) -> None:
    swap = open_matched_swap(cluster, 1)
    victim = cluster.apis[0]
    victim.restart({"OTC_CRASH_AT": boundary})
    try:
        with pytest.raises(httpx.TransportError):
            confirm(cluster, swap, 0)
        assert victim.wait(30) == -9  # SIGKILLed itself at the boundary
    finally:
        victim.restart()
    if cluster.order(swap.order_id, 1)["status"] == "quote_locked":
        # Killed before the intent was durable: the seller's client retries elsewhere.
        assert confirm(cluster, swap, 2).status_code == 200
    assert "htlc_secret" not in cluster.order(swap.order_id, 1)
    cluster.settle_until(lambda: completed(cluster, swap), what=f"completed after {boundary}")
    assert_paid_once(cluster, swap)
    cluster.devnet.assert_conserved()


def test_a_worker_killed_mid_pass_changes_nothing(cluster: Cluster) -> None:
    swaps = [open_matched_swap(cluster, i) for i in range(6)]
    cluster.devnet.add_fault("POST /agent/jobs/*/accept", "delay", delay_seconds=2, times=6)
    try:
        for i, swap in enumerate(swaps):
            assert confirm(cluster, swap, i).status_code == 200
        for worker in cluster.workers:  # wherever the lease is, its holder dies mid-pass
            worker.kill()
            worker.start()
        cluster.settle_until(lambda: completed(cluster, *swaps), what="completed")
    finally:
        cluster.devnet.clear_faults()
    for swap in swaps:
        assert_paid_once(cluster, swap)


def market_view(cluster: Cluster, index: int) -> tuple[set[int], set[str]]:
    """What one API process answers now: its RTC/USDC bid prices and open buy orders."""
    http = cluster.client(index).http
    book = http.get("/api/orderbook", params={"pair": "RTC/USDC"}).json()
    listed = http.get("/api/orders", params={"pair": "RTC/USDC", "side": "buy", "limit": 200})
    return {level["price_nano"] for level in book["bids"]}, {
        o["order_id"] for o in listed.json()["orders"]
    }


def test_every_api_shows_a_write_at_once_despite_its_read_snapshots(cluster: Cluster) -> None:
    """I8 with the market answers cached in each API process: once one process has answered
    a write, the book and the open-order list of every process show it, however warm
    their snapshots were."""
    maker = Wallet()
    for round_ in range(3):
        price_nano = 99_000_000 - round_ * 1_000_000  # a bid level no other order has
        for index in range(APIS):  # warm every process's snapshots
            market_view(cluster, index)
            market_view(cluster, index)
        created = cluster.client(round_).create_order(
            maker,
            side="buy",
            amount_rtc="1",
            price_per_rtc=format_units(price_nano, 9),
            eth_address="0x" + "11" * 20,
        )
        assert created.status_code == 201, created.text
        order_id = created.json()["order_id"]
        for index in range(APIS):
            bids, listed = market_view(cluster, index)
            assert price_nano in bids, (round_, index)
            assert order_id in listed, (round_, index)
        cancelled = cluster.client(round_ + 1).cancel(maker, order_id)
        assert cancelled.status_code == 200, cancelled.text
        for index in range(APIS):
            bids, listed = market_view(cluster, index)
            assert price_nano not in bids, (round_, index)
            assert order_id not in listed, (round_, index)
