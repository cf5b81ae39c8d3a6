"""Devnode throughput: keyed `POST /wallet/transfer` + `GET /wallet/tx/<hash>` in a loop.

    .venv/bin/python bench/devnode_transfer_loop.py [--iterations N --concurrency C]
                                                     [--client raw|httpx]

Starts a devnode subprocess (rate limiter raised out of the way), funds one wallet, then
runs N iterations spread over C concurrent keep-alive connections from one asyncio client:
`raw` (default) is a minimal HTTP/1.1 client, so the figures are the devnode's; `httpx` is
the project's client library, which costs more CPU than the server on a small machine.
Prints requests per second and p50/p99 latencies with the machine; it never asserts timings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.process import DevnodeProcess
from otc_bridge.domain.rustchain import idempotent_tx_hash

SENDER = "bench_sender"
AMOUNT = "0.000001"

# (method, path, JSON body or None, headers) -> (status, body)
Call = Callable[[str, str, object, dict[str, str]], Awaitable[tuple[int, bytes]]]


@dataclass
class Samples:
    transfer: list[float] = field(default_factory=list)
    lookup: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class RawConnection:
    """One keep-alive HTTP/1.1 connection; the devnode always sends Content-Length."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, url: str) -> RawConnection:
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer)

    async def call(
        self, method: str, path: str, body: object, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        payload = b"" if body is None else json.dumps(body).encode()
        lines = [f"{method} {path} HTTP/1.1", "Host: devnode", f"Content-Length: {len(payload)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body is not None:
            lines.append("Content-Type: application/json")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def worker(call: Call, admin_key: str, run: str, todo: list[int], out: Samples) -> None:
    headers = {"X-Admin-Key": admin_key}
    while todo:
        i = todo.pop()
        key = f"bench:{run}:{i}"
        body = {
            "from_miner": SENDER,
            "to_miner": f"bench_receiver_{i % 16}",
            "amount_rtc": AMOUNT,
            "idempotency_key": key,
        }
        started = time.perf_counter()
        status, text = await call("POST", "/wallet/transfer", body, headers)
        out.transfer.append(time.perf_counter() - started)
        if status != 200:
            out.failures.append(f"transfer {i}: {status} {text[:80]!r}")
            continue
        started = time.perf_counter()
        status, text = await call("GET", f"/wallet/tx/{idempotent_tx_hash(key)}", None, {})
        out.lookup.append(time.perf_counter() - started)
        if status != 200 or json.loads(text)["status"] != "pending":
            out.failures.append(f"lookup {i}: {status} {text[:80]!r}")


async def run_loop(
    url: str, admin_key: str, iterations: int, concurrency: int, client: str
) -> tuple[Samples, float]:
    samples = Samples()
    todo = list(range(iterations, 0, -1))
    run = uuid.uuid4().hex[:8]
    async with AsyncExitStack() as stack:
        calls: list[Call] = []
        if client == "raw":
            for _ in range(concurrency):
                connection = await RawConnection.open(url)
                stack.push_async_callback(connection.close)
                calls.append(connection.call)
        else:
            limits = httpx.Limits(
                max_connections=concurrency, max_keepalive_connections=concurrency
            )
            pool = await stack.enter_async_context(
                httpx.AsyncClient(base_url=url, limits=limits, timeout=30)
            )

            async def via_httpx(
                method: str, path: str, body: object, headers: dict[str, str]
            ) -> tuple[int, bytes]:
                response = await pool.request(method, path, json=body, headers=headers)
                return response.status_code, response.content

            calls = [via_httpx] * concurrency
        started = time.perf_counter()
        await asyncio.gather(*(worker(call, admin_key, run, todo, samples) for call in calls))
        elapsed = time.perf_counter() - started
    return samples, elapsed


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def describe(name: str, values: list[float]) -> str:
    if not values:
        return f"  {name:<22} n=0"
    p50, p99 = percentile(values, 0.50) * 1000, percentile(values, 0.99) * 1000
    mean = statistics.fmean(values) * 1000
    figures = f"p50={p50:7.2f} ms  p99={p99:7.2f} ms  mean={mean:7.2f} ms"
    return f"  {name:<22} n={len(values):>6}  {figures}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="devnode transfer-and-lookup loop")
    parser.add_argument("--iterations", type=int, default=5000, help="transfer+lookup pairs")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent connections")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="devnode-bench-") as state:
        env = {"RC_ADMIN_RATE_LIMIT_MAX": str(10**9)}
        with DevnodeProcess(Path(state), env=env) as node, DevnetControl(node.url) as control:
            control.faucet(SENDER, args.iterations + 1)
            samples, elapsed = asyncio.run(
                run_loop(node.url, node.admin_key, args.iterations, args.concurrency, args.client)
            )
            conserved = control.ledger()["conserved"]

    requests = len(samples.transfer) + len(samples.lookup)
    system = f"{platform.machine()}, {platform.system()} {platform.release()}"
    python = f"Python {sys.version.split()[0]} ({platform.python_implementation()})"
    print("devnode transfer loop")
    print(f"  machine: {os.cpu_count()} CPUs, {system}; {python}")
    print(
        f"  client={args.client} iterations={args.iterations} "
        f"concurrency={args.concurrency} elapsed={elapsed:.2f} s"
    )
    rate = f"{requests / elapsed:,.0f} requests/s ({args.iterations / elapsed:,.0f} iterations/s)"
    print(f"  throughput: {rate}")
    print(describe("POST /wallet/transfer", samples.transfer))
    print(describe("GET /wallet/tx/<hash>", samples.lookup))
    print(describe("all requests", samples.transfer + samples.lookup))
    print(f"  failures: {len(samples.failures)}; ledger conserved: {conserved}")
    for failure in samples.failures[:5]:
        print(f"    {failure}")
    return 1 if samples.failures or not conserved else 0


if __name__ == "__main__":
    raise SystemExit(main())
