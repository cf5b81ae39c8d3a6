"""Event streams: how many one API process holds, and how soon a status change reaches
the clients that stream its order.

    .venv/bin/python bench/streams.py [--streams N] [--orders O] [--changes M]
                                       [--poll SECONDS] [--writer] [--database-url URL]

Setup (not timed): a devnode subprocess, the bridge as `otc-bridge serve` (one uvicorn
process) on a fresh SQLite database (or `--database-url`, e.g. a PostgreSQL database,
where LISTEN/NOTIFY wakes streams), its stream caps raised above N and its stream poll
at `--poll` seconds (the default setting, 1 s); O buy orders created over HTTP.

Held: N streams (`GET /api/orders/{id}/stream`, spread round-robin over the O orders)
opened from one asyncio client, each until it has read its order's first event. Prints
how many the process accepted, how long opening them all took, and the server's resident
memory and threads before and after (psutil), then how many are still open after a few
idle seconds.

Timed: M of the orders are cancelled one at a time (a signed `POST .../cancel`: one
status change, committed before the answer), sent to the streaming process itself (its
own commits wake its streams at once) or, with `--writer`, to a second API process (the
streams learn of it from their process's poll on SQLite, from NOTIFY on PostgreSQL).
For every stream of that order the delay from sending the request to reading the
`cancelled` event is recorded, printed as p50/p99/max together with the cancel requests'
own latency (the commit happens inside it, so the change-to-event delay is at most the
first figure). Never asserts timings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import bridge_env, bridge_server, devnode, machine, percentile
from otc_bridge.adapters.clock_file import OffsetFileClock
from otc_bridge.clientlib.bridge import BridgeClient
from otc_bridge.clientlib.sse import EventParser, ServerEvent
from otc_bridge.clientlib.wallet import Wallet
from otc_bridge.devnet.bridge_process import BridgeProcess


@dataclass
class Watcher:
    """One stream: when it was open, and when the terminal event arrived."""

    order_id: str
    opened: asyncio.Event = field(default_factory=asyncio.Event)
    ended_at: float | None = None
    status: int | None = None
    error: str | None = None


async def watch(http: httpx.AsyncClient, watcher: Watcher) -> None:
    parser = EventParser()
    try:
        async with http.stream("GET", f"/api/orders/{watcher.order_id}/stream") as response:
            watcher.status = response.status_code
            if response.status_code != 200:
                return
            async for line in response.aiter_lines():
                item = parser.feed(line)
                if not isinstance(item, ServerEvent) or item.event != "order_event":
                    continue
                watcher.opened.set()
                if json.loads(item.data)["to"] == "cancelled":
                    watcher.ended_at = time.perf_counter()
                    return
    except httpx.HTTPError as err:
        watcher.error = f"{type(err).__name__}: {err}"
    finally:
        watcher.opened.set()  # a refused or failed stream is counted, not waited for


def server_figures(pid: int) -> str:
    proc = psutil.Process(pid)
    return f"RSS {proc.memory_info().rss / 2**20:.0f} MiB, {proc.num_threads()} threads"


def figures(label: str, values: list[float]) -> str:
    p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
    worst = max(values, default=0.0)
    return (
        f"  {label:<38} n={len(values):<6} p50 {p50 * 1000:8.1f} ms  "
        f"p99 {p99 * 1000:8.1f} ms  max {worst * 1000:8.1f} ms"
    )


async def run(url: str, pid: int, client: BridgeClient, orders: dict[str, Wallet], args) -> None:
    limits = httpx.Limits(max_connections=args.streams + 10, max_keepalive_connections=0)
    timeout = httpx.Timeout(30.0, read=None)
    order_ids = list(orders)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout) as http:
        print(f"  server before the streams: {server_figures(pid)}")
        watchers = [Watcher(order_ids[i % len(order_ids)]) for i in range(args.streams)]
        started = time.perf_counter()
        tasks = [asyncio.create_task(watch(http, w)) for w in watchers]
        await asyncio.gather(*(w.opened.wait() for w in watchers))
        took = time.perf_counter() - started
        statuses = Counter(w.status for w in watchers)
        errors = [w.error for w in watchers if w.error]
        print(
            f"  {statuses.get(200, 0)} of {args.streams} streams open in {took:.2f} s "
            f"(statuses {dict(statuses)}, {len(errors)} errors)"
        )
        for error in errors[:3]:
            print(f"    {error}")
        print(f"  server holding them:       {server_figures(pid)}")
        await asyncio.sleep(args.idle)
        alive = sum(1 for t in tasks if not t.done())
        print(f"  after {args.idle:.0f} s idle: {alive} still open; {server_figures(pid)}")

        by_order: dict[str, list[Watcher]] = {}
        for w in watchers:
            by_order.setdefault(w.order_id, []).append(w)
        delays: list[float] = []
        requests: list[float] = []
        for order_id in order_ids[: args.changes]:
            sent = time.perf_counter()
            answer = await asyncio.to_thread(client.cancel, orders[order_id], order_id)
            requests.append(time.perf_counter() - sent)
            if answer.status_code != 200:
                print(f"    cancel {order_id}: {answer.status_code} {answer.text[:120]}")
                continue
            mine = [w for w in by_order.get(order_id, []) if w.status == 200]
            done = [t for t, w in zip(tasks, watchers, strict=True) if w in mine]
            await asyncio.wait_for(asyncio.gather(*done), 60)
            delays += [w.ended_at - sent for w in mine if w.ended_at is not None]
            # A random pause: changes must not fall into step with the process's poll.
            await asyncio.sleep(args.gap + random.uniform(0, args.poll))
        print()
        print(figures("cancel request (commit inside)", requests))
        print(figures("request sent -> event at the client", delays))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--orders", type=int, default=50)
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--poll", type=float, default=1.0, help="OTC_STREAM_POLL_SECONDS")
    parser.add_argument("--idle", type=float, default=3.0, help="seconds held idle")
    parser.add_argument("--gap", type=float, default=0.2, help="seconds between changes")
    parser.add_argument("--writer", action="store_true", help="write through another process")
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    args = parser.parse_args()
    args.changes = min(args.changes, args.orders)
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory(prefix="otc-bench-streams-") as tmp:
        state = Path(tmp)
        with devnode(state) as node:
            overrides = {
                "OTC_STREAMS_MAX": str(args.streams + 10),
                "OTC_STREAMS_PER_IP": str(args.streams + 10),
                "OTC_STREAM_POLL_SECONDS": str(args.poll),
            }
            if args.database_url:
                overrides["OTC_DATABASE_URL"] = args.database_url
            env = bridge_env(node, state / "bridge", **overrides)
            store = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
            print(
                f"{args.streams} streams over {args.orders} orders, {args.changes} changes, "
                f"poll {args.poll} s, {store}"
            )
            with ExitStack() as stack:
                api = stack.enter_context(bridge_server(state, env, workers=1))
                writer = api
                if args.writer:
                    writer = stack.enter_context(BridgeProcess(state / "writer", env=env))
                print(
                    f"status changes written by {'another' if args.writer else 'the same'} process"
                )
                clock = OffsetFileClock(node.state_dir / "clock.json").now
                with BridgeClient(writer.url, clock=clock) as client:
                    orders: dict[str, Wallet] = {}
                    for _ in range(args.orders):
                        maker = Wallet()
                        created = client.create_order(
                            maker, side="buy", amount_rtc="1", price_per_rtc="0.1"
                        )
                        created.raise_for_status()
                        orders[created.json()["order_id"]] = maker
                    assert api.pid is not None
                    asyncio.run(run(api.url, api.pid, client, orders, args))


if __name__ == "__main__":
    main()
