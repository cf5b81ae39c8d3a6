"""The chain watcher: its cost per block with many orders in flight, and how soon an
on-chain claim settles the order once the claim's block is final.

    .venv/bin/python bench/watcher.py [--orders N] [--idle-blocks B] [--claims K]
                                      [--poll SECONDS] [--finality F]

Setup (not timed): a devnode subprocess, a dev chain (anvil, a block per transaction),
the bridge's API as `otc-bridge serve` on a fresh SQLite database configured for that
chain, N RTC/ETH sell orders created and matched over HTTP, and B's N locks on the chain.
The watcher runs in this process on the same database (`build(settings).watchers`), as
a worker runs it.

Measured, printing figures and never asserting them:

1. catch-up: the N locks made final, then polls until the watcher is idle: the blocks it
   covered, its own RPC calls, the RPC calls of the `report_lock` verifications it made
   (one per lock), and the CPU time (this process) per block and per lock;
2. steady state: with the N orders `quote_locked`, B blocks mined with no HTLC event and
   polled one poll per block: RPC calls and CPU time per block;
3. claim to settle: the watcher running in its thread (a poll every `--poll` seconds), K
   orders claimed on chain one at a time; for each, the time from mining the block that
   makes the claim final to the order's `payout_pending` (escrow released and B's payout
   queued on the node), in seconds and in polls.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import bridge_env, bridge_server, devnode, machine, percentile
from otc_bridge.adapters.clock_file import OffsetFileClock
from otc_bridge.adapters.evm.rpc import call_counts
from otc_bridge.adapters.evm.writer import HtlcWriter
from otc_bridge.bootstrap import build
from otc_bridge.clientlib.bridge import BridgeClient
from otc_bridge.clientlib.wallet import Secret, Wallet
from otc_bridge.config import Settings
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.devchain.handoff import bridge_chain_environment
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.settlement.evm_quote_chain import EvmQuoteChain
from otc_bridge.settlement.watch.follower import PollResult
from otc_bridge.settlement.watch.watcher import ChainWatcher


def order_status(store: object, order_id: str) -> str:
    with store.read() as uow:  # type: ignore[attr-defined]
        order = uow.orders.get(order_id)
    return str(order.status.value)


def quote_rpc_calls(container: object) -> int:
    """RPC calls of the quote chains' readers (report_lock's verifications)."""
    total = 0
    seen: set[int] = set()
    for chain in container.chains.chains():  # type: ignore[attr-defined]
        if isinstance(chain, EvmQuoteChain) and id(chain.reader) not in seen:
            seen.add(id(chain.reader))
            total += sum(call_counts(chain.reader.web3).values())
    return total


def poll_until_idle(watcher: ChainWatcher) -> tuple[int, int, int]:
    """(polls, blocks covered, the follower's RPC calls)."""
    polls = blocks = calls = 0
    while True:
        report = watcher.poll_once()
        assert report is not None
        polls, blocks, calls = polls + 1, blocks + report.blocks, calls + report.rpc_calls
        if report.result is PollResult.IDLE:
            return polls, blocks, calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--idle-blocks", type=int, default=200)
    parser.add_argument("--claims", type=int, default=20)
    parser.add_argument("--poll", type=float, default=2.0)
    parser.add_argument("--finality", type=int, default=2)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="bench-watcher-") as tmp:
        state = Path(tmp)
        with devnode(state) as node, Devchain(state / "chain") as chain:
            devnet = DevnetControl(node.url)
            clock = OffsetFileClock(node.state_dir / "clock.json")
            chain.control.catch_up(clock.now())
            settings = {
                **bridge_chain_environment(chain.info, chain.rpc_url),
                "OTC_EVM_FINALITY_CONFIRMATIONS": str(args.finality),
                "OTC_WATCHER_POLL_SECONDS": str(args.poll),
                "OTC_RECONCILE_DISABLED": "1",
            }
            env = bridge_env(node, state, **settings)
            with bridge_server(state, env, workers=1) as api:
                return run(args, api.url, env, chain, devnet, clock)


def run(
    args: argparse.Namespace,
    url: str,
    env: dict[str, str],
    chain: Devchain,
    devnet: DevnetControl,
    clock: OffsetFileClock,
) -> int:
    container = build(Settings.from_env(env))
    (watcher,) = container.watchers.chains
    client = BridgeClient(url, clock=clock.now)
    s_address, b_address = chain.info.accounts[2], chain.info.accounts[1]
    buyer_chain = HtlcWriter.connect(chain.rpc_url, chain.info.htlc_contract, b_address)
    seller_chain = HtlcWriter.connect(chain.rpc_url, chain.info.htlc_contract, s_address)
    poll_until_idle(watcher)  # the first checkpoint

    started = time.perf_counter()
    orders: list[tuple[str, Secret, str]] = []  # order id, secret, lock id
    for n in range(args.orders):
        seller, buyer, secret = Wallet(), Wallet(), Secret()
        devnet.faucet(seller.address, "20")
        created = client.create_order(
            seller,
            side="sell",
            pair="RTC/ETH",
            amount_rtc="10",
            price_per_rtc="0.001",
            htlc_hash=secret.hash,
            eth_address=s_address,
        )
        assert created.status_code == 201, created.text
        order_id = created.json()["order_id"]
        matched = client.match(buyer, order_id, eth_address=b_address)
        assert matched.status_code == 200, matched.text
        made = buyer_chain.lock(
            receiver=s_address,
            hashlock=bytes.fromhex(secret.hash),
            timelock=chain.control.head().timestamp + 3 * 3600,
            amount=int(matched.json()["total_quote_base_units"]),
        )
        orders.append((order_id, secret, made.lock_id))
        if (n + 1) % 100 == 0:
            print(f"  {n + 1} orders matched and locked ({time.perf_counter() - started:.0f} s)")
    chain.control.mine(args.finality)

    # 1. catch-up over the N locks
    quote_before = quote_rpc_calls(container)
    cpu = time.process_time()
    wall = time.perf_counter()
    polls, blocks, calls = poll_until_idle(watcher)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    verify_calls = quote_rpc_calls(container) - quote_before
    locked = sum(order_status(container.store, oid) == "quote_locked" for oid, _, _ in orders)
    print(
        f"\ncatch-up: {args.orders} locks over {blocks} blocks, {polls} polls; "
        f"{locked}/{args.orders} orders quote_locked in {wall:.1f} s"
    )
    print(
        f"  watcher's own RPC calls: {calls} ({calls / max(blocks, 1):.3f} per block); "
        f"report_lock verifications: {verify_calls} calls "
        f"({verify_calls / max(locked, 1):.1f} per lock)"
    )
    print(
        f"  CPU (this process, incl. the effects' commits): {cpu * 1000:.0f} ms, "
        f"{cpu * 1000 / max(blocks, 1):.2f} ms per block, "
        f"{cpu * 1000 / max(locked, 1):.2f} ms per lock"
    )

    # 2. steady state: N orders in flight, blocks with no event
    cpu = time.process_time()
    calls = 0
    times: list[float] = []
    for _ in range(args.idle_blocks):
        chain.control.mine(1)
        began = time.perf_counter()
        report = watcher.poll_once()
        times.append(time.perf_counter() - began)
        assert report is not None
        calls += report.rpc_calls
    cpu = time.process_time() - cpu
    print(
        f"\nsteady state, {args.orders} orders quote_locked: "
        f"{args.idle_blocks} blocks, one poll each: "
        f"{calls / args.idle_blocks:.2f} RPC calls per block, "
        f"{cpu * 1000 / args.idle_blocks:.2f} ms CPU per block; poll wall time "
        f"p50 {percentile(times, 0.5) * 1000:.1f} ms, p99 {percentile(times, 0.99) * 1000:.1f} ms"
    )

    # 3. claim → payout_pending, the watcher in its own thread as a worker runs it
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run_forever, args=(stop,), daemon=True)
    thread.start()
    delays: list[float] = []
    try:
        for order_id, secret, lock_id in orders[: args.claims]:
            seller_chain.claim(lock_id, secret.preimage)  # its own block
            chain.control.mine(args.finality - 1)  # the claim's block is final from here
            final_at = time.perf_counter()
            deadline = final_at + 60
            while order_status(container.store, order_id) != "payout_pending":
                if time.perf_counter() > deadline:
                    raise SystemExit(f"{order_id} did not settle within 60 s")
                time.sleep(0.01)  # observing, not synchronising: the figure is measured
            delays.append(time.perf_counter() - final_at)
    finally:
        stop.set()
        thread.join(timeout=30)
    print(
        f"\nclaim final → payout_pending, {len(delays)} claims, poll every {args.poll} s: "
        f"p50 {percentile(delays, 0.5):.2f} s ({percentile(delays, 0.5) / args.poll:.2f} polls), "
        f"p99 {percentile(delays, 0.99):.2f} s ({percentile(delays, 0.99) / args.poll:.2f} polls), "
        f"max {max(delays):.2f} s"
    )
    container.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
