"""One reconciler pass over 1,000 `payout_pending` orders with 100,000 rows in the node's
pending pool: node requests made and wall time.

    .venv/bin/python bench/reconcile_pass.py [--orders N] [--history H] [--threads T]
                                             [--fill-status confirmed|voided|pending]
                                             [--batch B]

Setup (not timed): a devnode subprocess (admin rate limiter raised out of the way) and an
in-process bridge container (`otc_bridge.bootstrap.build`, SQLite, the devnet's shared
clock) whose node client counts every HTTP exchange with the node (the adapter's
`observer` hook). N sell orders are driven to `payout_pending` through the bridge's
service layer, the same `Exchange` objects the HTTP routes call, with real signatures and
real node calls, from T threads: a funded seller creates (escrow locked on the node), a
fresh buyer matches, the seller confirms (escrow claimed, delivered, accepted; payout
queued). Then H history rows are added to the pending pool *after* the payouts, so none of
the payouts is among the newest rows, and the node confirms the payouts (clock past its
24 h confirmation delay, then scheduler ticks).

Timed: `container.reconciler.run_pass()`, once, then more passes only if the reconciler's
batch limit left orders due. Printed per pass: orders due and promoted, node requests (by
route), wall time, requests/s and orders/s; then the machine. Never asserts timings.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import bridge_env, devnode, machine
from bench._service import QUOTE_POLICY, CallCounter, matched_order, observed_container
from otc_bridge.api import commands
from otc_bridge.bootstrap import Container
from otc_bridge.clientlib.wallet import Wallet
from otc_bridge.config import Settings
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.process import DevnodeProcess
from otc_bridge.domain.states import Status

DAY = 86400


def settle_to_payout_pending(
    container: Container, control: DevnetControl, index: int
) -> tuple[str, Wallet]:
    """Create (seller), match (buyer), confirm (seller): through the service layer."""
    matched = matched_order(container, control, index)
    order_id, seller, buyer = matched.order_id, matched.seller, matched.buyer
    body = {"wallet": seller.address, "secret": matched.secret.hex, "quote_tx": f"0x{index:064x}"}
    confirmed = container.exchange.confirm(commands.confirm_order(order_id, body))
    assert confirmed.order.status is Status.PAYOUT_PENDING, (index, confirmed.order)
    return order_id, buyer


def node_pending_rows(node: DevnodeProcess) -> Counter[str]:
    """The pending pool by status, read from the devnode's own tables."""
    path = node.state_dir / "devnode.sqlite3"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT status, COUNT(*) FROM pending_ledger GROUP BY status")
        return Counter({str(status): int(count) for status, count in rows})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1000, help="payout_pending orders")
    parser.add_argument("--history", type=int, default=100_000, help="pending-pool rows")
    parser.add_argument(
        "--fill-status", choices=("confirmed", "voided", "pending"), default="confirmed"
    )
    parser.add_argument("--threads", type=int, default=8, help="setup threads")
    parser.add_argument(
        "--batch", type=int, default=0, help="reconciler batch (0: the bridge's default)"
    )
    args = parser.parse_args(argv)

    counter = CallCounter()
    with tempfile.TemporaryDirectory(prefix="reconcile-bench-") as tmp:
        state = Path(tmp)
        with devnode(state) as node, DevnetControl(node.url) as control:
            env = bridge_env(node, state / "bridge", **QUOTE_POLICY)
            container = observed_container(Settings.from_env(env), counter)
            try:
                return run(args, node, control, container, counter)
            finally:
                container.close()


def run(
    args: argparse.Namespace,
    node: DevnodeProcess,
    control: DevnetControl,
    container: Container,
    counter: CallCounter,
) -> int:
    if args.batch:
        container.reconciler.batch = args.batch
    print(f"reconciler pass over {args.orders} payout_pending orders")
    print(f"  machine: {machine()}")

    started = time.perf_counter()
    with ThreadPoolExecutor(args.threads) as pool:
        settled = list(
            pool.map(lambda i: settle_to_payout_pending(container, control, i), range(args.orders))
        )
    setup_requests = counter.total
    setup = time.perf_counter() - started
    print(
        f"  setup: {args.orders} orders to payout_pending via the service layer in "
        f"{setup:.1f} s ({setup_requests} node requests, "
        f"{setup_requests / args.orders:.1f} per order, {args.threads} threads)"
    )
    filled: dict[str, Any] = control.fill_pending(args.history, args.fill_status)
    control.advance_clock(DAY + 60)  # past the node's confirmation delay and our poll time
    while node_pending_rows(node).get("pending", 0):
        control.tick(limit=500)
    pool_rows = node_pending_rows(node)
    print(
        f"  node pending pool: {sum(pool_rows.values()):,} rows {dict(pool_rows)} "
        f"(history rows {filled['first_id']}..{filled['last_id']}, newer than every payout)"
    )
    with container.store.read() as uow:
        waiting = uow.orders.count(Status.PAYOUT_PENDING)
    print(f"  orders payout_pending before the pass: {waiting}")

    passes = 0
    total_promoted = 0
    total_requests = 0
    total_seconds = 0.0
    while True:
        counter.reset()
        started = time.perf_counter()
        summary = container.reconciler.run_pass()
        elapsed = time.perf_counter() - started
        passes += 1
        requests = counter.total
        total_promoted += summary.promoted
        total_requests += requests
        total_seconds += elapsed
        label = "the pass" if passes == 1 else f"pass {passes}"
        print(
            f"  {label}: due {summary.due} (batch {container.reconciler.batch}), "
            f"promoted {summary.promoted}, left {summary.left}, errors {summary.errors}"
        )
        print(
            f"    node requests: {requests} ({requests / max(summary.due, 1):.2f} per order "
            f"due) {dict(counter.routes)} outcomes {dict(counter.outcomes)}"
        )
        print(
            f"    wall time: {elapsed:.3f} s; {requests / elapsed:,.0f} requests/s; "
            f"{summary.promoted / elapsed:,.0f} orders/s"
        )
        with container.store.read() as uow:
            waiting = uow.orders.count(Status.PAYOUT_PENDING)
        if not waiting or summary.due == 0 or passes >= 10:
            break
    if passes > 1:
        print(
            f"  all passes: {passes} passes, promoted {total_promoted}, node requests "
            f"{total_requests}, {total_seconds:.3f} s"
        )
    ledger = control.ledger()
    balances: dict[str, int] = ledger["balances"]
    buyers_paid = sum(1 for _, buyer in settled if balances.get(buyer.address, 0) > 0)
    conserved = ledger["conserved"]
    print(
        f"  after: payout_pending {waiting}, buyers paid {buyers_paid}/{len(settled)}, "
        f"ledger conserved: {conserved}"
    )
    return 0 if conserved and not waiting else 1


if __name__ == "__main__":
    raise SystemExit(main())
