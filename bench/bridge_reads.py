"""Read throughput of the bridge: the order book and the open-order list, 10,000 open orders.

    .venv/bin/python bench/bridge_reads.py [--orders N] [--requests R] [--concurrency C]
                                            [--workers W] [--seed S]

Setup (not timed): a devnode subprocess (the bridge reads its clock file; reads never call
the node), then the bridge's SQLite database seeded with N open orders straight through
the store, as a create writes them (`Store.write()` + `orders.insert`: the order row and
its first history row, 1,000 per transaction): three pairs, both sides, prices spread
around each pair's reference, amounts log-uniform over the order limits, ages over six
days. Sell orders are written `open` with an escrow job id, as after their lock. Then the
bridge itself as a subprocess, `otc-bridge serve` with W uvicorn workers (default 1), on
that database, so the load generator never shares a GIL with the server.

Timed: for each query variant, R requests from C threads, each over its own keep-alive
connection (a minimal HTTP/1.1 client: cheap next to the server on a small machine), after
a short warm-up. Prints requests/s and p50/p99/max latency per variant, and the machine.
Never asserts timings.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (
    Call,
    RawClient,
    Run,
    bridge_env,
    bridge_server,
    devnode,
    machine,
    report_errors,
    run_load,
    table,
)
from otc_bridge.bootstrap import build
from otc_bridge.clientlib.wallet import Wallet
from otc_bridge.config import Settings
from otc_bridge.domain.order import Escrow, EscrowJob, Hashlock, Order, SecretOrigin
from otc_bridge.domain.pairs import PAIRS, total_quote_base, total_quote_nano
from otc_bridge.domain.states import Status

DAY = 86400
# Reference price per RTC in each pair's quote currency, and the spread around it.
REFERENCE = {"RTC/USDC": 0.10, "RTC/ETH": 0.00004, "RTC/ERG": 0.08}
PAIR_WEIGHTS = {"RTC/USDC": 6, "RTC/ETH": 3, "RTC/ERG": 1}
VARIANTS = [
    ("orderbook (RTC/USDC)", "/api/orderbook"),
    ("orderbook pair=RTC/ETH", "/api/orderbook?pair=RTC/ETH"),
    ("orders (default, 50)", "/api/orders"),
    ("orders pair=RTC/ETH", "/api/orders?pair=RTC/ETH"),
    ("orders side=buy", "/api/orders?side=buy"),
    ("orders limit=200", "/api/orders?limit=200"),
    ("orders offset=9000", "/api/orders?offset=9000&limit=50"),
]


def seed_orders(env: dict[str, str], count: int, rng: random.Random) -> tuple[int, float]:
    """Write `count` open orders through the store; returns (count, seconds)."""
    container = build(Settings.from_env(env))
    makers = [Wallet.from_seed(rng.randbytes(32)).address for _ in range(200)]
    pairs = [name for name, weight in PAIR_WEIGHTS.items() for _ in range(weight)]
    now = container.clock.now()
    started = time.perf_counter()
    try:
        written = 0
        while written < count:
            batch = min(1000, count - written)
            with container.store.write() as uow:
                for _ in range(batch):
                    uow.orders.insert(
                        random_order(rng, now, rng.choice(pairs), makers),
                        actor="bench",
                        at=now,
                        refs={},
                    )
            written += batch
    finally:
        container.close()
    return written, time.perf_counter() - started


def random_order(rng: random.Random, now: int, pair_name: str, makers: list[str]) -> Order:
    pair = PAIRS[pair_name]
    side = rng.choice(("buy", "sell"))
    # Asks sit above the reference, bids below; prices on a 1/1000-of-reference grid so
    # the book aggregates several orders per level.
    offset = rng.uniform(0.001, 0.5) * (1 if side == "sell" else -1)
    step = REFERENCE[pair_name] / 1000
    price = round(REFERENCE[pair_name] * (1 + offset) / step) * step
    price_nano = max(1, round(price * 10**9))
    amount = int(math.exp(rng.uniform(math.log(100_000), math.log(10_000 * 10**6))))
    created = now - rng.randint(0, 6 * DAY)
    ttl = 7 * DAY
    maker = rng.choice(makers)
    order_id = "otc_" + rng.randbytes(8).hex()
    sell = side == "sell"
    return Order(
        order_id=order_id,
        side=side,
        pair=pair_name,
        maker_wallet=maker,
        maker_eth_address="0x" + rng.randbytes(20).hex() if pair.chain == "evm" else None,
        amount_micro_rtc=amount,
        price_per_rtc_nano_quote=price_nano,
        total_quote_nano=total_quote_nano(amount, price_nano),
        total_quote_base=total_quote_base(pair, amount, price_nano),
        status=Status.OPEN,
        version=0,
        history_hash="",
        created_at=created,
        ttl_seconds=ttl,
        expires_at=created + ttl,
        next_action_at=created + ttl + 1,
        escrow=Escrow(
            poster=maker,
            title=f"OTC Bridge Escrow: {order_id}",
            requested_at=created,
            job=EscrowJob(
                job_id="job_" + rng.randbytes(8).hex(),
                state="open",
                expires_at=created + ttl + 31 * 3600,
                reward_i64=amount,
                total_i64=amount + amount // 20,
            ),
        )
        if sell
        else None,
        hashlock=Hashlock(rng.randbytes(32).hex(), SecretOrigin.CLIENT) if sell else None,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="bridge read throughput")
    parser.add_argument("--orders", type=int, default=10_000, help="open orders to seed")
    parser.add_argument("--requests", type=int, default=150, help="requests per variant")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--warmup", type=int, default=16, help="untimed requests per variant")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    print("bridge reads")
    print(f"  machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="bridge-reads-") as tmp:
        state = Path(tmp)
        with devnode(state) as node:
            env = bridge_env(node, state / "bridge")
            seeded, seconds = seed_orders(env, args.orders, random.Random(args.seed))
            print(f"  seeded {seeded} open orders through the store in {seconds:.1f} s")
            with bridge_server(state / "bridge", env, args.workers) as api:
                probe = RawClient(api.url)
                status, body = probe.request(Call("GET", "/api/orders?limit=1"))
                probe.close()
                total = json.loads(body)["total"] if status == 200 else f"HTTP {status}"
                print(
                    f"  server: `otc-bridge serve` subprocess, {args.workers} uvicorn worker(s), "
                    f"SQLite WAL; GET /api/orders reports total={total}"
                )
                print(
                    f"  client: {args.concurrency} threads, one keep-alive connection each; "
                    f"{args.requests} requests per variant after {args.warmup} warm-up"
                )
                runs: list[Run] = []
                for label, path in VARIANTS:
                    run_load(
                        api.url, label, [Call("GET", path)] * args.warmup, args.concurrency, {200}
                    )
                    calls = [Call("GET", path)] * args.requests
                    runs.append(run_load(api.url, label, calls, args.concurrency, {200}))
    print(table(runs))
    failures = report_errors(runs)
    bad = sum(n for run in runs for code, n in run.statuses.items() if code != 200)
    print(f"  non-200 answers: {bad}; transport errors and samples above: {failures}")
    return 1 if bad or failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
