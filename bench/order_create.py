"""Order-creation throughput over HTTP: signed buy orders (no escrow) and signed sell
orders (each locks an escrow job on the devnode).

    .venv/bin/python bench/order_create.py [--orders N] [--wallets K] [--concurrency C]
                                            [--workers W]

Setup (not timed): a devnode subprocess (admin rate limiter raised), the bridge as
`otc-bridge serve` with W uvicorn workers (default 1) on a fresh SQLite database with its
per-IP and per-wallet write limits raised out of the way, and K wallets funded from the
devnet faucet. The node allows 20 active escrow jobs per wallet, so N sells need at least
N/20 wallets (K is raised to that). Each phase's N bodies are signed just before it
starts (real Ed25519 signatures over distinct terms, timestamps from the shared clock).

Timed, one phase per side: C client threads, each over its own keep-alive connection,
`POST /api/orders` the N bodies. A buy is a signature check and three short write
transactions; a sell adds a balance read and an escrow job on the node. Prints orders/s
and p50/p99/max per side, then checks every order is in the bridge and the node's ledger
is conserved. Never asserts timings.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import (
    Call,
    RawClient,
    Run,
    bridge_env,
    bridge_server,
    devnode,
    dumps,
    machine,
    report_errors,
    run_load,
    table,
)
from otc_bridge.adapters.clock_file import OffsetFileClock
from otc_bridge.clientlib.wallet import Wallet
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.domain.deadlines import DeadlinePolicy
from otc_bridge.domain.money import parse_decimal, to_units
from otc_bridge.domain.rustchain import MAX_ACTIVE_JOBS_PER_AGENT

EVM = "0x" + "ab" * 20
TTL = 7 * 86400


def signed_create(wallet: Wallet, side: str, amount: str, price: str, now: int) -> bytes:
    """A `POST /api/orders` body signed over the terms as the bridge reads them."""
    bound: dict[str, object] = {
        "side": side,
        "pair": "RTC/USDC",
        "amount_micro_rtc": to_units(parse_decimal(amount), 6),
        "price_per_rtc_nano_quote": to_units(parse_decimal(price), 9),
        "ttl_seconds": DeadlinePolicy().clamp_reference_ttl(TTL),
        "eth_address": EVM,
    }
    body = {
        "side": side,
        "pair": "RTC/USDC",
        "wallet": wallet.address,
        "amount_rtc": amount,
        "price_per_rtc": price,
        "ttl_seconds": TTL,
        "eth_address": EVM,
        "wallet_auth": wallet.wallet_auth("create_order", "create_order", bound, timestamp=now),
    }
    return dumps(body)


def phase_calls(side: str, wallets: list[Wallet], count: int, now: int) -> list[Call]:
    """`count` distinct orders spread round-robin over the wallets (distinct terms: equal
    terms signed in the same second would be one signature, refused as a replay)."""
    calls = []
    for i in range(count):
        amount = f"{1 + i / 1000:.3f}"
        price = f"{0.1 + (i % 97) / 10_000:.4f}"
        body = signed_create(wallets[i % len(wallets)], side, amount, price, now)
        calls.append(Call("POST", "/api/orders", body))
    return calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="order-creation throughput")
    parser.add_argument("--orders", type=int, default=400, help="orders per side")
    parser.add_argument("--wallets", type=int, default=64, help="funded signing wallets")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--warmup", type=int, default=16, help="untimed orders per side")
    args = parser.parse_args(argv)
    per_side = args.orders + args.warmup
    wallet_count = max(args.wallets, math.ceil(per_side / MAX_ACTIVE_JOBS_PER_AGENT))

    print("order creation")
    print(f"  machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="order-create-") as tmp:
        state = Path(tmp)
        with devnode(state) as node, DevnetControl(node.url) as devnet:
            env = bridge_env(node, state / "bridge")
            wallets = [Wallet() for _ in range(wallet_count)]
            for wallet in wallets:
                devnet.faucet(wallet.address, 100_000)
            clock = OffsetFileClock(node.state_dir / "clock.json")
            with bridge_server(state / "bridge", env, args.workers) as api:
                print(
                    f"  server: `otc-bridge serve` subprocess, {args.workers} uvicorn worker(s), "
                    f"SQLite WAL, devnode subprocess for the escrow"
                )
                print(
                    f"  client: {args.concurrency} threads, one keep-alive connection each; "
                    f"{args.orders} orders per side after {args.warmup} warm-up, "
                    f"from {wallet_count} funded wallets"
                )
                runs: list[Run] = []
                for side, label in (("buy", "buy (no escrow)"), ("sell", "sell (escrow on node)")):
                    calls = phase_calls(side, wallets, per_side, clock.now())
                    run_load(api.url, label, calls[: args.warmup], args.concurrency, {201})
                    runs.append(
                        run_load(api.url, label, calls[args.warmup :], args.concurrency, {201})
                    )
                probe = RawClient(api.url)
                status, body = probe.request(Call("GET", "/api/orders?limit=1"))
                probe.close()
                listed = json.loads(body)["total"] if status == 200 else f"HTTP {status}"
            ledger = devnet.ledger()
    print(table(runs, unit="orders/s"))
    created = sum(run.statuses[201] for run in runs)
    failures = report_errors(runs)
    jobs = ledger["escrow"]["active_jobs"]
    print(
        f"  created {created}/{2 * args.orders} timed (+{2 * args.warmup} warm-up); "
        f"open orders listed by the bridge: {listed}; "
        f"escrow jobs on the node: {jobs}; ledger conserved: {ledger['conserved']}"
    )
    ok = created == 2 * args.orders and not failures and ledger["conserved"]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
