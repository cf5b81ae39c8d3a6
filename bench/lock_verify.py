"""Lock verification: the time from B's lock transaction to the order's `quote_locked`,
and the JSON-RPC calls one verification costs the bridge.

    .venv/bin/python bench/lock_verify.py [--locks N] [--pair RTC/ETH|RTC/USDC] [--ref tx|id]

Setup (not timed): a dev chain (anvil, HTLC and DevUSDC deployed, a block per
transaction and otherwise blocks only on demand), a devnode, the bridge in a thread of
this process (its container's chain reader counts every RPC call it makes), and N sell
orders matched over HTTP.

Timed, one lock after another: B sends its `lock` transaction from an unlocked dev account
and waits for its receipt; B reports it at once (`POST /api/orders/{id}/lock`, by
`quote_tx` or `lock_id`): its block is the head, one confirmation of the two the devnet
requires, so the bridge answers `409 not_final`; the bench mines the missing block (on
demand: on a real chain this wait is the chain's finality, which the figure leaves out)
and reports again: `200`, `quote_locked`. The figure is the wall time from sending the
lock to that 200 answer, i.e. the chain's and the bridge's own work.

Prints p50/p99 of the whole, of the lock transaction alone and of each report, and the
RPC calls (by method) of an accepted verification and of a not-final refusal, from
`adapters.evm.rpc.call_counts` on the bridge's own connection. Never asserts timings.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from web3 import Web3

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import bridge_env, devnode, machine, percentile
from bench._service import thread_server
from otc_bridge.adapters.evm.rpc import call_counts
from otc_bridge.adapters.evm.writer import HtlcWriter
from otc_bridge.bootstrap import Container, build
from otc_bridge.clientlib.bridge import BridgeClient
from otc_bridge.clientlib.wallet import Secret, Wallet
from otc_bridge.config import Settings
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.devchain.handoff import bridge_chain_environment
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.devnet.process import DevnodeProcess
from otc_bridge.settlement.evm_quote_chain import EvmQuoteChain

AMOUNT = "10"
PRICES = {"RTC/ETH": "0.001", "RTC/USDC": "0.1"}
LOCK_SPAN = 6 * 3600  # the timelock: this long after the chain's head


def reader_web3(container: Container, pair: str) -> Web3:
    """The bridge's own connection to the pair's chain (its reader's), whose provider
    counts every call."""
    chain = container.chains.for_pair(pair)
    if not isinstance(chain, EvmQuoteChain):
        raise SystemExit(f"{pair} has no EVM quote chain in this bridge")
    return chain.reader.web3


def matched_orders(
    client: BridgeClient, control: DevnetControl, pair: str, seller_eth: str, buyer_eth: str, n: int
) -> list[tuple[str, Secret, int]]:
    """(order id, its secret, its quote total in base units) of n matched sell orders."""
    made = []
    for _ in range(n):
        seller, buyer, secret = Wallet(), Wallet(), Secret()
        control.faucet(seller.address, "100")
        created = client.create_order(
            seller,
            side="sell",
            amount_rtc=AMOUNT,
            price_per_rtc=PRICES[pair],
            pair=pair,
            eth_address=seller_eth,
            htlc_hash=secret.hash,
        )
        if created.status_code != 201:
            raise SystemExit(f"create: {created.status_code} {created.text}")
        order_id = created.json()["order_id"]
        matched = client.match(buyer, order_id, eth_address=buyer_eth)
        if matched.status_code != 200:
            raise SystemExit(f"match: {matched.status_code} {matched.text}")
        total = int(client.order(order_id)["total_quote_base_units"])
        made.append((order_id, secret, total))
    return made


@dataclass
class Figures:
    whole: list[float] = field(default_factory=list)  # lock tx sent -> 200 quote_locked
    sending: list[float] = field(default_factory=list)  # the lock tx, sent to receipt
    early: list[float] = field(default_factory=list)  # the report at 1 confirmation
    final: list[float] = field(default_factory=list)  # the report once final
    accepted_calls: list[Counter[str]] = field(default_factory=list)
    refused_calls: list[Counter[str]] = field(default_factory=list)
    answers: Counter[str] = field(default_factory=Counter)
    setup: float = 0.0
    conserved: bool = False


def measure(args: argparse.Namespace, chain: Devchain, node: DevnodeProcess) -> Figures:
    figures = Figures()
    control = DevnetControl(node.url)
    chain.control.catch_up(control.now())
    env = bridge_env(
        node,
        node.state_dir.parent / "bridge",
        OTC_RECONCILE_DISABLED="1",
        **bridge_chain_environment(chain.info, chain.rpc_url),
    )
    container = build(Settings.from_env(env))
    buyer_eth, seller_eth = chain.info.accounts[1], chain.info.accounts[2]
    writer = HtlcWriter.connect(chain.rpc_url, chain.info.htlc_contract, buyer_eth)
    token = None if args.pair == "RTC/ETH" else chain.info.usdc_token
    if token is not None:  # one approval for every lock, before the clock starts
        writer.approve(token, 2**255)
    finality = chain.info.finality_confirmations
    try:
        with thread_server(container) as url, BridgeClient(url) as client:
            started = time.perf_counter()
            todo = matched_orders(client, control, args.pair, seller_eth, buyer_eth, args.locks)
            figures.setup = time.perf_counter() - started
            web3 = reader_web3(container, args.pair)
            for order_id, secret, total in todo:
                began = time.perf_counter()
                made = writer.lock(
                    receiver=seller_eth,
                    hashlock=secret.hash,
                    timelock=chain.control.head().timestamp + LOCK_SPAN,
                    amount=total,
                    token=token,
                    order_ref=order_id,
                )
                sent = time.perf_counter()
                ref = made.tx.tx_hash if args.ref == "tx" else made.lock_id
                body = {"quote_tx" if args.ref == "tx" else "lock_id": ref}
                path = f"/api/orders/{order_id}/lock"
                calls = call_counts(web3)
                early = client.http.post(path, json=body)  # its block is the head
                reported = time.perf_counter()
                figures.refused_calls.append(call_counts(web3) - calls)
                figures.answers[f"{early.status_code} {early.json().get('error')}"] += 1
                chain.control.mine(finality - 1)  # on demand: a real chain's wait
                calls = call_counts(web3)
                mined = time.perf_counter()
                final = client.http.post(path, json=body)
                done = time.perf_counter()
                figures.accepted_calls.append(call_counts(web3) - calls)
                answer: dict[str, Any] = final.json()
                status = (answer.get("order") or {}).get("status") or answer.get("error")
                figures.answers[f"{final.status_code} {status}"] += 1
                figures.whole.append(done - began)
                figures.sending.append(sent - began)
                figures.early.append(reported - sent)
                figures.final.append(done - mined)
            figures.conserved = bool(control.ledger()["conserved"])
    finally:
        container.close()
        control.close()
    return figures


def line(name: str, values: list[float]) -> str:
    return (
        f"  {name:<38} p50={percentile(values, 0.5) * 1000:7.1f} ms  "
        f"p99={percentile(values, 0.99) * 1000:7.1f} ms  "
        f"mean={statistics.fmean(values) * 1000:7.1f} ms"
    )


def per_verification(samples: list[Counter[str]]) -> str:
    total: Counter[str] = Counter()
    for sample in samples:
        total.update(sample)
    mean = sum(total.values()) / len(samples)
    methods = ", ".join(f"{m} {n / len(samples):.2f}" for m, n in sorted(total.items()))
    return f"{mean:.2f} ({methods})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locks", type=int, default=200, help="locks to verify")
    parser.add_argument("--pair", choices=sorted(PRICES), default="RTC/ETH")
    parser.add_argument("--ref", choices=("tx", "id"), default="tx", help="report by")
    args = parser.parse_args(argv)

    with (
        tempfile.TemporaryDirectory(prefix="lock-verify-bench-") as tmp,
        Devchain(Path(tmp) / "chain") as chain,
        devnode(Path(tmp), {"DEVNODE_CHAIN_RPC_URL": chain.rpc_url}) as node,
    ):
        figures = measure(args, chain, node)

    print("lock verification: B's lock transaction -> quote_locked (finality mined on demand)")
    print(f"  machine: {machine()}")
    print(
        f"  pair={args.pair} locks={args.locks} reported by {args.ref}; "
        f"setup (create + match over HTTP) {figures.setup:.1f} s"
    )
    print(line("lock tx -> quote_locked", figures.whole))
    print(line("lock tx (send + receipt)", figures.sending))
    print(line("report at 1 confirmation (not_final)", figures.early))
    print(line("report once final (quote_locked)", figures.final))
    print(f"  RPC calls per accepted verification: {per_verification(figures.accepted_calls)}")
    print(f"  RPC calls per not_final refusal:     {per_verification(figures.refused_calls)}")
    print(f"  answers: {dict(figures.answers)}; ledger conserved: {figures.conserved}")
    ok = figures.answers.get("200 quote_locked", 0) == args.locks
    return 0 if ok and figures.conserved else 1


if __name__ == "__main__":
    raise SystemExit(main())
