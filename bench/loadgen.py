"""Load generator: many simulated traders run full swaps against the devnet.

Starts a devnode (zero confirmation delay, scheduler on), the bridge as N API processes
(`otc-bridge serve`) plus M workers (`otc-bridge worker`) on SQLite or PostgreSQL, then
runs, from this process, C concurrent traders that each repeat a full swap: the seller
creates a sell order with its own hashlock, the buyer matches it, the seller confirms, and
the trader polls until the order is `completed` (the payout confirmed on the node). Every
request is signed. Reports swaps per second, p50/p99 per phase, and the peak memory of the
server processes. Prints figures only; asserts nothing about speed.

    .venv/bin/python bench/loadgen.py --store sqlite --swaps 200 --traders 16
    .venv/bin/python bench/loadgen.py --store postgres --api 3 --workers 3 --swaps 300
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._service import BUYER_ETH, PAIR, QUOTE_POLICY, SELLER_ETH
from otc_bridge.adapters.clock_file import OffsetFileClock
from otc_bridge.adapters.store.engine import sqlite_url
from otc_bridge.clientlib.bridge import BridgeClient
from otc_bridge.clientlib.wallet import Secret, Wallet
from otc_bridge.devnet.bridge_process import BridgeProcess
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.process import DevnodeProcess

PHASES = ("create", "match", "confirm", "confirm_to_completed", "swap")


@dataclass
class Results:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    completed: int = 0
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, phase: str, seconds: float) -> None:
        with self.lock:
            self.latencies[phase].append(seconds)

    def fail(self, why: str) -> None:
        with self.lock:
            self.failures[why] += 1


class MemoryWatch(threading.Thread):
    """Samples the summed RSS of the server processes; keeps the peak."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.procs = [psutil.Process(pid) for pid in pids]
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            total = 0
            for proc in self.procs:
                try:
                    total += proc.memory_info().rss
                    total += sum(c.memory_info().rss for c in proc.children(recursive=True))
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)
            self.stop.wait(0.2)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def one_swap(client: BridgeClient, devnet_url: str, results: Results, poll_limit: float) -> None:
    seller, buyer, secret = Wallet(), Wallet(), Secret()
    with DevnetControl(devnet_url) as devnet:
        devnet.faucet(seller.address, "20")
    start = time.perf_counter()
    t = time.perf_counter()
    created = client.create_order(
        seller,
        side="sell",
        amount_rtc="2.01",
        price_per_rtc="0.1",
        htlc_hash=secret.hash,
        pair=PAIR,
        eth_address=SELLER_ETH,
    )
    results.add("create", time.perf_counter() - t)
    if created.status_code != 201:
        results.fail(f"create {created.status_code}")
        return
    order_id = created.json()["order_id"]
    t = time.perf_counter()
    matched = client.match(buyer, order_id, eth_address=BUYER_ETH)
    results.add("match", time.perf_counter() - t)
    if matched.status_code != 200:
        results.fail(f"match {matched.status_code}")
        return
    t = time.perf_counter()
    confirmed = client.confirm(order_id, wallet=seller.address, secret=secret.hex, quote_tx="0x1")
    results.add("confirm", time.perf_counter() - t)
    if confirmed.status_code != 200:
        results.fail(f"confirm {confirmed.status_code}")
        return
    t = time.perf_counter()
    status = confirmed.json()["status"]
    deadline = time.monotonic() + poll_limit
    while status != "completed":
        if status == "settlement_recovery" or time.monotonic() > deadline:
            results.fail(f"ended {status}")
            return
        time.sleep(0.1)  # a trader polling its order, as a real client would
        status = client.order(order_id)["status"]
    results.add("confirm_to_completed", time.perf_counter() - t)
    results.add("swap", time.perf_counter() - start)
    with results.lock:
        results.completed += 1


def trader(
    urls: list[str],
    index: int,
    clock_file: Path,
    devnet_url: str,
    swaps: int,
    results: Results,
    poll_limit: float,
) -> None:
    clock = OffsetFileClock(clock_file)
    with BridgeClient(urls[index % len(urls)], clock=clock.now) as client:
        for _ in range(swaps):
            try:
                one_swap(client, devnet_url, results, poll_limit)
            except Exception as exc:  # a failed swap is a figure, not a crash of the bench
                results.fail(type(exc).__name__)


@contextmanager
def database(store: str, state: Path) -> Iterator[str]:
    if store == "sqlite":
        yield sqlite_url(state / "bridge.sqlite3")
        return
    from tests.support.databases import create_postgres_database, drop_created

    try:
        yield create_postgres_database()
    finally:
        drop_created()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--api", type=int, default=1, help="API processes")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--traders", type=int, default=16, help="concurrent traders")
    parser.add_argument("--swaps", type=int, default=160, help="swaps in total")
    parser.add_argument("--poll-limit", type=float, default=60.0)
    args = parser.parse_args()

    state = Path(tempfile.mkdtemp(prefix="otc-loadgen-"))
    with ExitStack() as stack:
        node = stack.enter_context(
            DevnodeProcess(
                state / "node",
                env={
                    "RC_CONFIRMATION_DELAY_SECONDS": "0",
                    "DEVNODE_SCHEDULER": "on",
                    "DEVNODE_SCHEDULER_INTERVAL_SECONDS": "0.5",
                    "DEVNODE_SCHEDULER_BATCH": "500",
                    "RC_ADMIN_RATE_LIMIT_MAX": "100000000",
                },
            )
        )
        db_url = stack.enter_context(database(args.store, state))
        env = {
            "RUSTCHAIN_NODE": node.url,
            "RC_ADMIN_KEY": node.admin_key,
            "OTC_DATABASE_URL": db_url,
            "OTC_DATA_DIR": str(state / "api"),
            "OTC_CLOCK_FILE": str(node.state_dir / "clock.json"),
            **QUOTE_POLICY,
            "OTC_RATE_LIMIT_PER_IP": "100000000",
            "OTC_RATE_LIMIT_PER_WALLET": "100000000",
            "OTC_RECONCILE_INTERVAL_SECONDS": "1",
            "OTC_PAYOUT_POLL_SECONDS": "1",
            "OTC_LOG_LEVEL": "WARNING",
            "OTC_DB_POOL_SIZE": "8",
            "PROMETHEUS_MULTIPROC_DIR": str(state / "metrics"),
        }
        (state / "metrics").mkdir()
        apis = [
            stack.enter_context(BridgeProcess(state / f"api{i}", env=env)) for i in range(args.api)
        ]
        workers = [
            stack.enter_context(BridgeProcess(state / f"worker{i}", env=env, command="worker"))
            for i in range(args.workers)
        ]
        watch = MemoryWatch([p.pid for p in apis + workers if p.pid is not None])
        watch.start()
        results = Results()
        per_trader = [args.swaps // args.traders] * args.traders
        for i in range(args.swaps % args.traders):
            per_trader[i] += 1
        threads = [
            threading.Thread(
                target=trader,
                args=(
                    [a.url for a in apis],
                    i,
                    node.state_dir / "clock.json",
                    node.url,
                    n,
                    results,
                    args.poll_limit,
                ),
            )
            for i, n in enumerate(per_trader)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        watch.stop.set()
        watch.join()
        conserved = DevnetControl(node.url).ledger()["conserved"]

    print(
        f"\nloadgen: {args.store}, {args.api} API process(es), {args.workers} worker(s), "
        f"{args.traders} traders, {args.swaps} swaps"
    )
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}"
    )
    print(
        f"completed {results.completed}/{args.swaps} swaps in {elapsed:.1f} s "
        f"= {results.completed / elapsed:.1f} swaps/s; failures: {dict(results.failures) or 0}"
    )
    peak = watch.peak / 2**20
    print(f"server peak RSS (API + workers): {peak:.0f} MiB; ledger conserved: {conserved}")
    print(f"{'phase':24} {'p50 ms':>10} {'p99 ms':>10} {'mean ms':>10}")
    for phase in PHASES:
        values = results.latencies.get(phase, [])
        if values:
            print(
                f"{phase:24} {pct(values, 0.5) * 1000:>10.1f} {pct(values, 0.99) * 1000:>10.1f} "
                f"{statistics.fmean(values) * 1000:>10.1f}"
            )


if __name__ == "__main__":
    main()
