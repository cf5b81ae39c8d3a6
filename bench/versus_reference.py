"""Issue 14's table for this bridge: reads and settlement under the reference's load shape,
on SQLite and on PostgreSQL.

    .venv/bin/python bench/versus_reference.py [--store sqlite,postgres] [--requests R]
        [--settle-orders N] [--limited-orders N] [--latency-ms 10] [--jitter-ms 5]
        [--workers 2] [--clients 8] [--skip-reads] [--skip-settlement] [--skip-limited]

The load is the one the issue measured the reference bridge with: `otc-bridge serve
--workers 2` (OTC_WORKERS=2) as a subprocess, a fresh devnode per target, 8 client threads
(one keep-alive connection each), and

* reads: 1,000 open orders (then 10,000: 9,000 more in the same database), seeded through
  the store as a create writes them (`bench/bridge_reads.py`'s generator, seed 1: the same
  orders in every run); `GET /api/orderbook` with 1 and 8 clients, `GET /api/orders` with
  8; R requests per row after a warm-up. The devnode has no latency here (reads never call
  it).
* settlement: N fresh sellers, funded before the clock starts; each client thread takes
  one at a time and runs create (a signed sell order: the escrow is locked on the node) →
  match (a fresh buyer) → confirm, which answers once the payout is queued
  (`payout_pending`). The reference confirms on the seller's word that the buyer paid, so
  the orders trade RTC/ERG under its documented `unverified` policy
  (OTC_RTC_ERG_QUOTE_POLICY), which confirms the same way: the RTC leg measured alone, as
  in the issue (an EVM pair adds the lock's verification, `bench/lock_verify.py`). The
  devnode's admin limiter is lifted (as in the issue) and every node reply is delayed
  by DEVNODE_LATENCY_MS plus a uniform draw of 0 to DEVNODE_LATENCY_JITTER_MS (default
  10 + 0..5 ms, 12.5 ms on average: the order of the real node's answers seen by the
  reference's confirm, 4 requests in a p50 of 67 ms). Node requests are counted from the
  bridge's own `otc_node_request_seconds_count` (/metrics), by route.

* under the node's default admin limiter (12 transfers per 60 s; `--limited-orders`, 40):
  the same settlements at once, then, until every payout is queued, the devnet clock moved
  past the window and one reconciler pass (`POST /admin/reconcile`) per window; prints
  what each confirm answered, the passes it took and the node's answers by outcome (a
  `rate_limited` is a 429: pacing by Retry-After and by each process's own count of the
  window, once a 429 has stated the limit, keeps them to the ones the burst meets).

The reference's figures are the issue's (measured in another run against the real node:
the reference bridge and the real node are not on this machine); the ratio column divides
ours by them. Prints figures only; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (
    Call,
    RawClient,
    Run,
    bridge_env,
    cpu_by_role,
    devnode,
    drain,
    machine,
    percentile,
    run_load,
    wait_listening,
)
from bench._service import AMOUNT, BUYER_ETH, PAIR, PRICE, QUOTE_POLICY, SELLER_ETH
from bench.bridge_reads import seed_orders
from otc_bridge.adapters.clock_file import OffsetFileClock
from otc_bridge.clientlib.bridge import BridgeClient
from otc_bridge.clientlib.wallet import Secret, Wallet
from otc_bridge.devnet.bridge_process import BridgeProcess
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.process import DevnodeProcess

# The reference figures: (requests or orders per second, p99 ms).
REFERENCE = {
    "book_1k_1": (645.0, 2.5),
    "book_1k_8": (934.0, 14.5),
    "orders_1k_8": (767.0, 16.3),
    "book_10k_8": (325.0, 34.3),
    "orders_10k_8": (285.0, 50.7),
    "settle": (44.5, 218.0),
}
REFERENCE_CONFIRM = (67.0, 102.0)  # p50, p99 ms
# The node requests of one settlement (the create's escrow post is counted apart).
SETTLE_ROUTES = (
    "/agent/jobs/{id}/claim",
    "/agent/jobs/{id}/deliver",
    "/agent/jobs/{id}/accept",
    "/wallet/transfer",
)


@dataclass(frozen=True)
class Phases:
    """One settlement's three requests, in seconds as its client saw them."""

    create: float
    match: float
    confirm: float


@dataclass
class Settled:
    rate: float
    flow: list[float]  # create -> payout_pending, per order
    phases: list[Phases]  # the same orders' three requests
    statuses: Counter[str]
    node_routes: Counter[str]
    orders: int
    cpu: dict[str, float]  # CPU seconds of the run by process role (`cpu_by_role`)
    gate: tuple[int, float]  # SQLite write gate during the run: writes, seconds queued
    node_wait: float  # seconds the bridge waited for the node's replies during the run
    reply_seconds: float  # the devnode's mean added latency per reply (latency + jitter / 2)
    clients: int
    started: list[float]  # when each of `flow`'s settlements began

    def first_and_rest(self) -> tuple[list[float], list[float]]:
        """`flow` split into each client's first settlement (the `clients` that began
        first, at once, in step with each other: the bridge's first requests since it
        started, which compile its statements and open its connections on first use) and
        the rest."""
        ordered = [took for _, took in sorted(zip(self.started, self.flow, strict=True))]
        return ordered[: self.clients], ordered[self.clients :]

    @property
    def confirm(self) -> list[float]:
        return [p.confirm for p in self.phases]


@contextmanager
def serve(state: Path, env: dict[str, str], workers: int) -> Iterator[BridgeProcess]:
    """`otc-bridge serve --workers W`, given time to start on a busy machine."""
    settings = {**env, "OTC_WORKERS": str(workers)}
    with BridgeProcess(state / "api", env=settings, startup_timeout=180) as api:
        wait_listening(api.port, workers)
        yield api


@contextmanager
def database(store: str, state: Path) -> Iterator[str | None]:
    """None: the bench's SQLite file (bridge_env's default); else a fresh PG database."""
    if store == "sqlite":
        yield None
        return
    from tests.support.databases import create_postgres_database, drop_created

    try:
        yield create_postgres_database()
    finally:
        drop_created()


def read_rows(store: str, args: argparse.Namespace) -> dict[str, Run]:
    runs: dict[str, Run] = {}
    rng = random.Random(1)
    with tempfile.TemporaryDirectory(prefix="vs-reads-") as tmp:
        state = Path(tmp)
        with devnode(state) as node, database(store, state) as url:
            env = bridge_env(node, state / "bridge", OTC_LOG_LEVEL="INFO")
            if url is not None:
                env["OTC_DATABASE_URL"] = url
            seeded = 0
            for size, rows in (
                (
                    1_000,
                    [
                        ("book_1k_1", "/api/orderbook", 1),
                        ("book_1k_8", "/api/orderbook", 8),
                        ("orders_1k_8", "/api/orders", 8),
                    ],
                ),
                (10_000, [("book_10k_8", "/api/orderbook", 8), ("orders_10k_8", "/api/orders", 8)]),
            ):
                seed_orders(env, size - seeded, rng)
                seeded = size
                with serve(state / f"bridge-{size}", env, args.workers) as api:
                    for key, path, clients in rows:
                        clients = clients if clients == 1 else args.clients
                        warm = [Call("GET", path)] * args.warmup
                        run_load(api.url, key, warm, clients, {200})
                        calls = [Call("GET", path)] * args.requests
                        runs[key] = run_load(api.url, key, calls, clients, {200})
    return runs


def scrape(url: str) -> str:
    """The bridge's /metrics (every worker process's samples)."""
    client = RawClient(url)
    try:
        status, body = client.request(Call("GET", "/metrics"))
    finally:
        client.close()
    return body.decode() if status == 200 else ""


def node_series(url: str, series: str) -> list[tuple[dict[str, str], float]]:
    """The bridge's `otc_node_request_seconds_<series>` samples (count or sum): labels
    and value of each."""
    samples = []
    pattern = re.compile(rf"^otc_node_request_seconds_{series}\{{(.*)\}} (\S+)$")  # {id} inside
    for line in scrape(url).splitlines():
        found = pattern.match(line)
        if found:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', found.group(1)))
            samples.append((labels, float(found.group(2))))
    return samples


def node_requests(url: str, label: str = "route") -> Counter[str]:
    """Node requests so far, by route (or outcome), from the bridge's metrics."""
    counts: Counter[str] = Counter()
    for labels, value in node_series(url, "count"):
        counts[labels.get(label, "?")] += int(value)
    return counts


def node_seconds(url: str) -> float:
    """Seconds the bridge has waited so far for the node's replies, every request."""
    return sum(value for _, value in node_series(url, "sum"))


def gate_waits(url: str) -> tuple[int, float]:
    """SQLite's write gate so far: writes that queued for it and their seconds in all
    (`otc_store_write_wait_seconds`; nothing on PostgreSQL)."""
    count, seconds = 0, 0.0
    for line in scrape(url).splitlines():
        if line.startswith("otc_store_write_wait_seconds_count "):
            count = int(float(line.split()[1]))
        elif line.startswith("otc_store_write_wait_seconds_sum "):
            seconds = float(line.split()[1])
    return count, seconds


@dataclass
class Limited:
    orders: int
    at_confirm: Counter[str]  # what each confirm answered (a status, or a failure)
    passes: int  # reconciler passes, each after the devnet clock left the limiter's window
    final: Counter[str]  # each order's status after the last pass
    outcomes: Counter[str]  # the bridge's node requests by outcome (rate_limited: a 429)
    refused: list[int]  # 429s during the burst of confirms, then during each pass


@dataclass
class SettleRun:
    elapsed: float
    flow: list[float]  # create -> payout_pending, per order that got there at once
    phases: list[Phases]
    statuses: Counter[str]
    order_ids: list[str]
    started: list[float]  # when each of `flow`'s settlements began (perf_counter)


def node_env(args: argparse.Namespace, **extra: str) -> dict[str, str]:
    return {
        "DEVNODE_LATENCY_MS": str(args.latency_ms),
        "DEVNODE_LATENCY_JITTER_MS": str(args.jitter_ms),
        **extra,
    }


def run_settlements(
    url: str, clock: OffsetFileClock, sellers: list[Wallet], clients: int
) -> SettleRun:
    """Each client thread takes one funded seller at a time and settles an order."""
    done = SettleRun(0.0, [], [], Counter(), [], [])
    lock = threading.Lock()

    def settle(client: BridgeClient, seller: Wallet) -> None:
        began = time.perf_counter()
        order_id, status, took, phases = one_settlement(client, seller)
        with lock:
            done.statuses[status] += 1
            if order_id:
                done.order_ids.append(order_id)
            if status == "payout_pending":
                done.flow.append(took)
                done.phases.append(phases)
                done.started.append(began)

    done.elapsed = drain(url, sellers, clients, settle, clock=clock.now)
    return done


def funded(control: DevnetControl, count: int) -> list[Wallet]:
    sellers = [Wallet() for _ in range(count)]
    for seller in sellers:  # funded before the clock starts
        control.faucet(seller.address, "20")
    return sellers


@dataclass
class Target:
    node: DevnodeProcess
    control: DevnetControl
    env: dict[str, str]  # the bridge's settings
    clock: OffsetFileClock
    state: Path


@contextmanager
def settlement_target(store: str, args: argparse.Namespace, **node_extra: str) -> Iterator[Target]:
    """A fresh devnode (replies delayed as --latency-ms/--jitter-ms say) and database,
    and the bridge's settings for them: RTC/ERG under its unverified policy."""
    with tempfile.TemporaryDirectory(prefix="vs-settle-") as tmp:
        state = Path(tmp)
        with (
            devnode(state, node_env(args, **node_extra)) as node,
            DevnetControl(node.url) as control,
            database(store, state) as url,
        ):
            env = bridge_env(node, state / "bridge", **QUOTE_POLICY, OTC_LOG_LEVEL="INFO")
            if url is not None:
                env["OTC_DATABASE_URL"] = url
            clock = OffsetFileClock(node.state_dir / "clock.json")
            yield Target(node, control, env, clock, state)
            control.assert_conserved()


def settle_row(store: str, args: argparse.Namespace) -> Settled:
    with settlement_target(store, args) as target:
        sellers = funded(target.control, args.settle_orders)
        with serve(target.state / "bridge", target.env, args.workers) as api:
            before, gate_before = node_requests(api.url), gate_waits(api.url)
            waited_before = node_seconds(api.url)
            roots = {"API": api.pid, "devnode": target.node.pid}
            cpu_before = cpu_by_role(roots)
            run = run_settlements(api.url, target.clock, sellers, args.clients)
            cpu_after = cpu_by_role(roots)
            after, gate_after = node_requests(api.url), gate_waits(api.url)
            node_wait = node_seconds(api.url) - waited_before
    rate = len(run.flow) / run.elapsed
    cpu = {role: cpu_after[role] - cpu_before.get(role, 0.0) for role in cpu_after}
    if store == "sqlite":  # the server's CPU counts any database's: none is this run's
        cpu.pop("postgres", None)
    gate = (gate_after[0] - gate_before[0], gate_after[1] - gate_before[1])
    reply = (args.latency_ms + args.jitter_ms / 2) / 1000
    return Settled(
        rate,
        run.flow,
        run.phases,
        run.statuses,
        after - before,
        len(sellers),
        cpu,
        gate,
        node_wait,
        reply,
        args.clients,
        run.started,
    )


def limited_row(store: str, args: argparse.Namespace) -> Limited:
    """The node's default admin limiter (12 transfers per 60 s): settle N orders at once,
    then move the devnet clock past the window and ask for a reconciler pass, until every
    order's payout is queued (or 10 passes)."""
    limiter = {"RC_ADMIN_RATE_LIMIT_MAX": "12", "RC_ADMIN_RATE_LIMIT_WINDOW_SECONDS": "60"}
    reached = {"payout_pending", "completed"}
    with settlement_target(store, args, **limiter) as target:
        sellers = funded(target.control, args.limited_orders)
        with serve(target.state / "bridge", target.env, args.workers) as api:
            before = node_requests(api.url, "outcome")
            run = run_settlements(api.url, target.clock, sellers, args.clients)
            seen = node_requests(api.url, "outcome")
            refused = [(seen - before)["rate_limited"]]  # 429s of the burst, then of each pass
            passes, final = 0, Counter(statuses(api.url, run.order_ids))
            while set(final) - reached and passes < 10:
                target.control.advance_clock(61)
                reconcile(api.url, target.node.admin_key)
                passes += 1
                final = Counter(statuses(api.url, run.order_ids))
                now = node_requests(api.url, "outcome")
                refused.append((now - seen)["rate_limited"])
                seen = now
    return Limited(len(sellers), run.statuses, passes, final, seen - before, refused)


def statuses(url: str, order_ids: list[str]) -> list[str]:
    with BridgeClient(url, timeout=60) as client:
        return [str(client.order(order_id)["status"]) for order_id in order_ids]


def reconcile(url: str, admin_key: str) -> None:
    answer = httpx.post(f"{url}/admin/reconcile", headers={"X-Admin-Key": admin_key}, timeout=300)
    if answer.status_code != 200:
        raise RuntimeError(f"/admin/reconcile answered {answer.status_code}: {answer.text[:200]}")


def one_settlement(client: BridgeClient, seller: Wallet) -> tuple[str, str, float, Phases]:
    """create -> match -> confirm; (order id, final status or failure, seconds, each
    request's seconds)."""
    failed = Phases(0.0, 0.0, 0.0)
    buyer, secret = Wallet(), Secret()
    began = time.perf_counter()
    created = client.create_order(
        seller,
        side="sell",
        amount_rtc=AMOUNT,
        price_per_rtc=PRICE,
        pair=PAIR,
        htlc_hash=secret.hash,
        eth_address=SELLER_ETH,
    )
    if created.status_code != 201:
        return "", f"create {created.status_code}", 0.0, failed
    order_id = created.json()["order_id"]
    match_began = time.perf_counter()
    matched = client.match(buyer, order_id, eth_address=BUYER_ETH)
    if matched.status_code != 200:
        return order_id, f"match {matched.status_code}", 0.0, failed
    confirm_began = time.perf_counter()
    confirmed = client.confirm(
        order_id, wallet=seller.address, secret=secret.hex, quote_tx="0x" + "cd" * 32
    )
    done = time.perf_counter()
    if confirmed.status_code != 200:
        return order_id, f"confirm {confirmed.status_code}", 0.0, failed
    phases = Phases(match_began - began, confirm_began - match_began, done - confirm_began)
    return order_id, str(confirmed.json().get("status")), done - began, phases


def cell(rate: float, p99_ms: float, unit: str = "req/s") -> str:
    return f"{rate:,.0f} {unit}, p99 {p99_ms:.1f} ms"


def print_table(
    stores: list[str],
    reads: dict[str, dict[str, Run]],
    settled: dict[str, Settled],
    limited: dict[str, Limited],
) -> None:
    labels = {
        "book_1k_1": "`GET /api/orderbook`, 1,000 open orders, 1 client",
        "book_1k_8": "same, 8 clients",
        "orders_1k_8": "`GET /api/orders`, 1,000 open, 8 clients",
        "book_10k_8": "`GET /api/orderbook`, 10,000 open, 8 clients",
        "orders_10k_8": "`GET /api/orders`, 10,000 open, 8 clients",
    }
    head = (
        "| | reference (issue 14) | " + " | ".join(f"ours, {s} | ours / ref" for s in stores) + " |"
    )
    print(head)
    print("|---|---:|" + "---:|---:|" * len(stores))
    for key, label in labels.items():
        ref_rate, ref_p99 = REFERENCE[key]
        cells = [cell(ref_rate, ref_p99)]
        for store in stores:
            run = reads[store].get(key)
            if run is None:
                cells += ["not run", ""]
                continue
            p99 = percentile(run.latencies, 0.99) * 1000
            cells += [cell(run.rate, p99), f"{run.rate / ref_rate:.2f}"]
        print(f"| {label} | " + " | ".join(cells) + " |")
    ref_rate, ref_p99 = REFERENCE["settle"]
    cells = [cell(ref_rate, ref_p99, "orders/s")]
    confirm_cells = [f"p50 {REFERENCE_CONFIRM[0]:.0f} ms, p99 {REFERENCE_CONFIRM[1]:.0f} ms"]
    requests_cells = ["4"]
    for store in stores:
        s = settled.get(store)
        if s is None:
            cells += ["not run", ""]
            confirm_cells += ["not run", ""]
            requests_cells += ["not run", ""]
            continue
        cells += [
            cell(s.rate, percentile(s.flow, 0.99) * 1000, "orders/s"),
            f"{s.rate / ref_rate:.2f}",
        ]
        confirm_cells += [
            f"p50 {percentile(s.confirm, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(s.confirm, 0.99) * 1000:.0f} ms",
            "",
        ]
        per = sum(s.node_routes[route] for route in SETTLE_ROUTES) / max(1, len(s.flow))
        requests_cells += [f"{per:.2f}", ""]
    label = "settlement create → match → confirm → `payout_pending`, 8 clients, limiter lifted"
    print(f"| {label} | " + " | ".join(cells) + " |")
    print("| confirm alone, same run | " + " | ".join(confirm_cells) + " |")
    print(
        "| node requests per settlement (claim, deliver, accept, transfer) | "
        + " | ".join(requests_cells)
        + " |"
    )
    for store in stores:
        lim = limited.get(store)
        if lim is not None:
            print(
                f"  {store}, node's default limiter (12 transfers / 60 s): {lim.orders} orders; "
                f"confirm answered {dict(lim.at_confirm)}; after {lim.passes} reconciler "
                f"pass(es), one per window: {dict(lim.final)}; node requests by outcome "
                f"{dict(sorted(lim.outcomes.items()))}; 429s in the burst {lim.refused[0]}, "
                f"in each pass {lim.refused[1:]}"
            )
    for store in stores:
        s = settled.get(store)
        if s is not None:
            print(
                f"  {store}: {s.orders} orders, answers {dict(s.statuses)}; node requests by "
                f"route {dict(sorted(s.node_routes.items()))}"
            )
            if s.flow:
                print(f"  {store}: {time_line(s)}")
                print(f"  {store}: {cold_line(s)}")
            if s.cpu:
                print(f"  {store}: {cpu_line(s)}")
                print(f"  {store}: {floor_line(s)}")
            writes, queued = s.gate
            if writes:
                print(
                    f"  {store}: write gate: {writes / max(1, s.orders):.1f} writes per "
                    f"settlement queued {queued / writes * 1000:.2f} ms each on average, "
                    f"{queued / max(1, s.orders) * 1000:.1f} ms per settlement"
                )


def time_line(s: Settled) -> str:
    """Where a settlement's time went, on average: its three requests, and how much of it
    the bridge spent waiting for the node. With C clients each running one settlement at a
    time, the rate is C / (mean settlement time); 2x the reference needs that mean under
    C / 89 s whatever the node takes."""
    n = len(s.flow)
    mean = sum(s.flow) / n
    create, match, confirm = (
        sum(getattr(p, name) for p in s.phases) / n for name in ("create", "match", "confirm")
    )
    node = s.node_wait / n
    return (
        f"a settlement took {mean * 1000:.1f} ms on average (create {create * 1000:.1f}, match "
        f"{match * 1000:.1f}, confirm {confirm * 1000:.1f}); {node * 1000:.1f} ms of it waiting "
        f"for the node's replies, {(mean - node) * 1000:.1f} ms everything else (the bridge's "
        f"work and queues, the client's, the loopback)"
    )


def cold_line(s: Settled) -> str:
    """The p99 with and without the bridge's first requests since it started."""
    cold, rest = s.first_and_rest()
    return (
        f"p99 create → payout_pending {percentile(s.flow, 0.99) * 1000:.1f} ms; without each "
        f"client's first settlement (all {s.clients} begun at once, and the bridge's first since "
        f"it started: statements compiled, connections opened) "
        f"{percentile(rest, 0.99) * 1000:.1f} ms; those "
        f"{len(cold)} took {min(cold) * 1000:.0f} to {max(cold) * 1000:.0f} ms"
        if rest and cold
        else "too few settlements for a p99 without the first ones"
    )


def floor_line(s: Settled) -> str:
    """The rate this load shape allows at best, queueing aside: each client runs one
    settlement at a time and every step of it waits for the one before (its requests, the
    node's replies, each in turn), so a settlement takes at least its replies' added
    latency plus the CPU spent on it (by every process, counted whole: an estimate, as a
    little of it is off any client's path)."""
    replies = sum(s.node_routes.values()) / max(1, s.orders)
    latency = replies * s.reply_seconds
    cpu = sum(s.cpu.values()) / max(1, s.orders)
    floor = latency + cpu
    goal = 2 * REFERENCE["settle"][0]
    return (
        f"floor without any queueing: {replies:.1f} node replies x {s.reply_seconds * 1000:.1f} "
        f"ms of latency = {latency * 1000:.1f} ms, plus {cpu * 1000:.1f} ms of CPU = "
        f"{floor * 1000:.1f} ms per settlement: {s.clients} clients could reach at most "
        f"{s.clients / floor:,.0f} orders/s (2x the reference is {goal:.0f})"
    )


def cpu_line(s: Settled) -> str:
    """Where a settlement's CPU went, and the rate the machine's cores would cap it at
    if nothing but this run used them."""
    each = {role: seconds / max(1, s.orders) for role, seconds in s.cpu.items()}
    total = sum(each.values())
    parts = ", ".join(f"{role} {seconds * 1000:.1f} ms" for role, seconds in each.items())
    cores = os.cpu_count() or 1
    ceiling = cores / total if total else 0.0
    return (
        f"CPU per settlement: {parts}; {total * 1000:.1f} ms in all: {cores} cores cap the "
        f"run at {ceiling:,.0f} orders/s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", default="sqlite,postgres")
    parser.add_argument("--requests", type=int, default=2_000, help="requests per read row")
    parser.add_argument("--warmup", type=int, default=100, help="untimed requests per read row")
    parser.add_argument("--settle-orders", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="otc-bridge serve workers")
    parser.add_argument("--latency-ms", type=float, default=10.0, help="DEVNODE_LATENCY_MS")
    parser.add_argument("--jitter-ms", type=float, default=5.0, help="DEVNODE_LATENCY_JITTER_MS")
    parser.add_argument("--skip-reads", action="store_true")
    parser.add_argument("--skip-settlement", action="store_true")
    parser.add_argument(
        "--limited-orders", type=int, default=40, help="orders under the default limiter"
    )
    parser.add_argument("--skip-limited", action="store_true")
    args = parser.parse_args(argv)
    stores = [s.strip() for s in args.store.split(",") if s.strip()]
    if "postgres" in stores:
        from tests.support.databases import postgres_reachable

        why = postgres_reachable()
        if why is not None:
            print(f"** PostgreSQL is not reachable ({why}): its columns are not run **")
            stores.remove("postgres")

    print("issue 14's load shape against this bridge")
    print(f"  machine: {machine()}")
    print(
        f"  otc-bridge serve --workers {args.workers}; {args.clients} client threads; reads: "
        f"{args.requests} requests per row after {args.warmup}; settlement: "
        f"{args.settle_orders} orders, DEVNODE_LATENCY_MS={args.latency_ms:g} "
        f"DEVNODE_LATENCY_JITTER_MS={args.jitter_ms:g}, admin limiter lifted"
    )
    reads: dict[str, dict[str, Run]] = {}
    settled: dict[str, Settled] = {}
    limited: dict[str, Limited] = {}
    for store in stores:
        reads[store] = {} if args.skip_reads else read_rows(store, args)
        if not args.skip_settlement:
            settled[store] = settle_row(store, args)
        if not args.skip_limited:
            limited[store] = limited_row(store, args)
    print_table(stores, reads, settled, limited)
    bad = sum(
        n
        for runs in reads.values()
        for run in runs.values()
        for code, n in run.statuses.items()
        if code != 200
    )
    failed = sum(
        n for s in settled.values() for st, n in s.statuses.items() if st != "payout_pending"
    ) + sum(
        n
        for lim in limited.values()
        for st, n in lim.final.items()
        if st not in {"payout_pending", "completed"}
    )
    print(f"  non-200 reads: {bad}; settlements not ending payout_pending: {failed}")
    return 1 if bad or failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
