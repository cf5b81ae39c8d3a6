"""CPU per settlement in the bridge's own process, by thread kind: what the HTTP stack
costs on the event loop next to the use cases in the worker threads.

    .venv/bin/python bench/api_cpu.py [--store sqlite|postgres] [--settlements 100]
        [--rounds 5] [--warmup 20] [--profile out.pstat]

A devnode subprocess with no latency and its admin limiter lifted; the bridge built in
this process (`bootstrap.build`, `api.app.create_app`) and served by uvicorn in a thread
(uvicorn's defaults, as `otc-bridge serve` runs it: uvloop, httptools, no access log);
one client (`BridgeClient` on a keep-alive connection, in the main thread) settles
RTC/ERG orders under its `unverified` quote policy one after another: create → match →
confirm (3 signed POSTs; `payout_pending`), sellers funded before the clock starts.
Each round prints, per settlement, the CPU psutil counts for each kind of thread:

* client: the main thread (signing, the HTTP client);
* event loop: uvicorn's thread (the ASGI stack: middleware, routing, JSON, the
  socket), also shown per write request (a third of it);
* workers: anyio's worker threads (rate count and use case: store, node calls);
* other: every other thread of this process (e.g. the store's helpers);

and the wall time per settlement; then the median of the rounds. `--profile` runs the
measured rounds under yappi (CPU clock) and saves the event loop thread's functions as
a pstats file (`python -m pstats out.pstat`, or snakeviz), and prints its top entries.
yappi is not a dependency of the bridge: `.venv/bin/pip install yappi` first.
Prints figures only; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import KeepAliveTransport, machine
from bench._service import SERVER_THREAD, thread_server
from bench.versus_reference import funded, one_settlement, settlement_target
from otc_bridge.bootstrap import build
from otc_bridge.clientlib.bridge import BridgeClient
from otc_bridge.config import Settings

KINDS = ("client", "event loop", "workers", "other")
WORKER_THREAD = "AnyIO worker thread"  # anyio's name for its threadpool's threads


@dataclass
class Served:
    url: str
    loop_thread: threading.Thread


@contextmanager
def serve_in_thread(env: dict[str, str]) -> Iterator[Served]:
    """The bridge in this process, under uvicorn in a thread."""
    container = build(Settings.from_env(env))
    try:
        with thread_server(container) as url:
            loop = next(t for t in threading.enumerate() if t.name == SERVER_THREAD)
            yield Served(url, loop)
    finally:
        container.close()


def thread_kinds(loop_thread: threading.Thread) -> dict[int, str]:
    """Native thread id -> kind, for the Python threads alive now."""
    kinds: dict[int, str] = {}
    for thread in threading.enumerate():
        if thread.native_id is None:
            continue
        if thread is threading.main_thread():
            kinds[thread.native_id] = "client"
        elif thread is loop_thread:
            kinds[thread.native_id] = "event loop"
        elif thread.name.startswith(WORKER_THREAD):
            kinds[thread.native_id] = "workers"
    return kinds


def thread_cpu() -> dict[int, float]:
    """CPU seconds (user + system) of each thread of this process, by native id."""
    return {t.id: t.user_time + t.system_time for t in psutil.Process().threads()}


@dataclass
class Round:
    settlements: int
    wall: float
    cpu: dict[str, float]  # seconds by thread kind
    node_cpu: float  # the devnode process's seconds
    failures: list[str]


def run_round(
    client: BridgeClient, sellers: list[Any], served: Served, node: psutil.Process
) -> Round:
    before, node_before = thread_cpu(), node.cpu_times()
    failures = []
    began = time.perf_counter()
    for seller in sellers:
        _, status, _, _ = one_settlement(client, seller)
        if status != "payout_pending":
            failures.append(status)
    wall = time.perf_counter() - began
    after, node_after = thread_cpu(), node.cpu_times()
    kinds = thread_kinds(served.loop_thread)
    cpu = dict.fromkeys(KINDS, 0.0)
    # A thread that ended during the round takes its CPU with it (anyio's idle workers
    # end after 10 s; none is idle that long in a round).
    for tid, seconds in after.items():
        cpu[kinds.get(tid, "other")] += seconds - before.get(tid, 0.0)
    node_seconds = sum(node_after[:2]) - sum(node_before[:2])
    return Round(len(sellers), wall, cpu, node_seconds, failures)


def print_round(label: str, r: Round) -> None:
    n = max(1, r.settlements)
    parts = ", ".join(f"{kind} {r.cpu[kind] / n * 1000:.2f}" for kind in KINDS)
    print(
        f"  {label}: {r.settlements} settlements, wall {r.wall / n * 1000:.2f} ms each; CPU ms "
        f"per settlement: {parts}; event loop per write request "
        f"{r.cpu['event loop'] / n / 3 * 1000:.3f}; devnode {r.node_cpu / n * 1000:.2f}"
        + (f"; failed: {r.failures[:5]}" if r.failures else "")
    )


def median_round(rounds: list[Round]) -> Round:
    n = rounds[0].settlements
    return Round(
        n,
        statistics.median(r.wall for r in rounds),
        {kind: statistics.median(r.cpu[kind] for r in rounds) for kind in KINDS},
        statistics.median(r.node_cpu for r in rounds),
        [f for r in rounds for f in r.failures],
    )


class Profile:
    """yappi over the measured rounds (CPU clock), if asked for."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.yappi: Any = None
        if path is not None:
            try:
                import yappi  # type: ignore[import-untyped,import-not-found,unused-ignore]
            except ImportError:
                raise SystemExit("--profile needs yappi: .venv/bin/pip install yappi") from None
            self.yappi = yappi

    def start(self) -> None:
        if self.yappi is not None:
            self.yappi.set_clock_type("cpu")
            self.yappi.start(builtins=True, profile_threads=True)

    def save(self, loop_thread: threading.Thread) -> None:
        if self.yappi is None or self.path is None:
            return
        self.yappi.stop()
        loop_ids = [
            t.id
            for t in self.yappi.get_thread_stats()
            if t.tid in (loop_thread.ident, loop_thread.native_id)
        ]
        if not loop_ids:
            print("  yappi did not see the event loop thread: nothing saved")
            return
        stats = self.yappi.get_func_stats(ctx_id=loop_ids[0])
        stats.save(self.path, type="pstat")
        print(f"  event loop thread's profile saved to {self.path}; its top by own time:")
        stats.sort("tsub", "desc")
        for entry in list(stats)[:25]:
            where = f"{Path(entry.module).name}:{entry.lineno}"
            print(
                f"    {entry.tsub * 1000:9.1f} ms own {entry.ttot * 1000:9.1f} ms total "
                f"{entry.ncall:8d} calls  {entry.name} ({where})"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--settlements", type=int, default=100, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=20, help="untimed settlements first")
    parser.add_argument("--profile", metavar="OUT.pstat", help="yappi profile of the rounds")
    args = parser.parse_args(argv)
    # settlement_target's knobs: no node latency (the CPU is what is measured).
    args.latency_ms, args.jitter_ms = 0.0, 0.0
    profile = Profile(args.profile)

    print("CPU of the bridge's process per sequential settlement (create → match → confirm)")
    print(f"  machine: {machine()}")
    print(
        f"  store {args.store}; {args.rounds} rounds of {args.settlements} settlements after "
        f"{args.warmup}; devnode without latency, admin limiter lifted"
    )
    rounds: list[Round] = []
    with settlement_target(args.store, args) as target:
        total = args.warmup + args.rounds * args.settlements
        sellers = funded(target.control, total)
        node = psutil.Process(target.node.pid)
        with (
            serve_in_thread(target.env) as served,
            BridgeClient(
                served.url,
                timeout=120,
                clock=target.clock.now,
                transport=KeepAliveTransport(served.url),
            ) as client,
        ):
            warm = run_round(client, sellers[: args.warmup], served, node)
            if warm.failures:
                print(f"  warm-up failures: {warm.failures[:5]}")
            profile.start()
            for i in range(args.rounds):
                start = args.warmup + i * args.settlements
                chosen = sellers[start : start + args.settlements]
                rounds.append(run_round(client, chosen, served, node))
                print_round(f"round {i + 1}", rounds[-1])
            profile.save(served.loop_thread)
    median = median_round(rounds)
    print_round("median", median)
    return 1 if median.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
