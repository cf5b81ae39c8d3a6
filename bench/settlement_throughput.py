"""Settlement throughput: orders per second from match to `payout_pending`, with the
devnode at zero latency (no injected delay or fault).

    .venv/bin/python bench/settlement_throughput.py [--orders N] [--concurrency C]
                                                    [--server thread|process]

Setup (not timed): a devnode subprocess (admin rate limiter raised out of the way), the
bridge's database and N matched sell orders, made through the bridge's service layer
(`Exchange.create_order` and `match_order` with real signatures and real node calls: the
escrow is locked on the node). Timed: C client threads, each with its own keep-alive
`BridgeClient`, take orders from a shared queue and `POST /api/orders/{id}/confirm` them
over HTTP; every confirm claims, delivers and accepts the escrow and queues the payout
before it answers `payout_pending`.

The server under load is either
* `thread` (default): uvicorn in a thread of this process, on the same container, whose
  node client counts every HTTP exchange with the node (node requests per settlement);
  the client threads share this process's GIL with the server;
* `process`: `otc-bridge serve` as a subprocess (`BridgeProcess`) on the same database
  file: no GIL sharing with the load generator; node requests are not counted.

Prints orders/s, p50/p99/max confirm latency, node requests per settlement and the
machine. Never asserts timings.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import bridge_env, devnode, drain, machine, percentile
from bench._service import (
    QUOTE_POLICY,
    CallCounter,
    matched_order,
    observed_container,
    thread_server,
)
from otc_bridge.clientlib.bridge import BridgeClient
from otc_bridge.config import Settings
from otc_bridge.devnet.bridge_process import BridgeProcess
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.domain.states import Status


@contextmanager
def process_server(state: Path, env: dict[str, str]) -> Iterator[str]:
    with BridgeProcess(state, env=env) as bridge:
        yield bridge.url


def confirm_all(
    url: str, todo: list[tuple[str, str, str]], concurrency: int
) -> tuple[list[float], Counter[str], float]:
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    lock = threading.Lock()

    def confirm(client: BridgeClient, item: tuple[str, str, str]) -> None:
        order_id, seller, preimage = item
        began = time.perf_counter()
        response = client.confirm(
            order_id, wallet=seller, secret=preimage, quote_tx="0x" + "cd" * 32
        )
        took = time.perf_counter() - began
        status = str(response.json().get("status", response.status_code))
        with lock:
            latencies.append(took)
            statuses[status] += 1

    elapsed = drain(url, todo, concurrency, confirm)
    return latencies, statuses, elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=500, help="matched orders to confirm")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients")
    parser.add_argument("--server", choices=("thread", "process"), default="thread")
    parser.add_argument("--setup-threads", type=int, default=8)
    args = parser.parse_args(argv)

    counter = CallCounter()
    with tempfile.TemporaryDirectory(prefix="throughput-bench-") as tmp:
        state = Path(tmp)
        with devnode(state) as node, DevnetControl(node.url) as control:
            env = bridge_env(
                node,
                state / "bridge",
                OTC_RECONCILE_DISABLED="1",
                **QUOTE_POLICY,
                OTC_LOG_LEVEL="INFO",  # as the published figures were measured
            )
            container = observed_container(Settings.from_env(env), counter)
            try:
                started = time.perf_counter()
                with ThreadPoolExecutor(args.setup_threads) as pool:
                    todo = [
                        (m.order_id, m.seller.address, m.secret.hex)
                        for m in pool.map(
                            lambda i: matched_order(container, control, i), range(args.orders)
                        )
                    ]
                setup = time.perf_counter() - started
                counter.reset()
                server = (
                    thread_server(container)
                    if args.server == "thread"
                    else process_server(state / "bridge", env)
                )
                with server as url:
                    latencies, statuses, elapsed = confirm_all(url, todo, args.concurrency)
                requests = counter.total
                with container.store.read() as uow:
                    pending = uow.orders.count(Status.PAYOUT_PENDING)
                conserved = control.ledger()["conserved"]
            finally:
                container.close()

    print("settlement throughput: confirm (match -> payout_pending) over HTTP")
    print(f"  machine: {machine()}")
    print(
        f"  server={args.server} orders={args.orders} concurrency={args.concurrency}; "
        f"setup (create + match via the service layer) {setup:.1f} s"
    )
    rate = len(latencies) / elapsed
    print(f"  throughput: {rate:,.1f} orders/s ({len(latencies)} confirms in {elapsed:.2f} s)")
    print(
        f"  confirm latency: p50={percentile(latencies, 0.5) * 1000:.1f} ms "
        f"p99={percentile(latencies, 0.99) * 1000:.1f} ms "
        f"mean={statistics.fmean(latencies) * 1000:.1f} ms "
        f"max={max(latencies) * 1000:.1f} ms"
    )
    if args.server == "thread":
        print(
            f"  node requests per settlement: {requests / len(latencies):.2f} "
            f"{dict(sorted(counter.routes.items()))}"
        )
    else:
        print("  node requests per settlement: not counted with --server process")
    print(
        f"  answers: {dict(statuses)}; payout_pending in the database: {pending}; "
        f"ledger conserved: {conserved}"
    )
    return 0 if pending == args.orders and conserved else 1


if __name__ == "__main__":
    raise SystemExit(main())
