"""CPU per node request: the node client's HTTP path, before and after (issue 14).

    .venv/bin/python bench/node_transport.py [--calls N] [--rounds R]

Starts a devnode subprocess (zero latency), then sends N sequential requests per client
path, one thread, keep-alive, cycling through the kinds a settlement makes: a GET with a
query (`/wallet/balance?miner_id=`), a GET by hash (`/wallet/tx/<hash>`, a JSON 404) and a
POST with a JSON body (`/agent/jobs/<id>/claim` on a job that does not exist, a JSON 404:
nothing changes on the node). Each request is timed with `time.process_time()` (this
process's CPU: building the request, the socket calls, reading and parsing the reply)
and `time.perf_counter()`. The paths:

* `httpx.Client`: the first `NodeTransport._send`, as it was;
* `httpcore pool`: today's `NodeTransport` with its exchange swapped for
  `httpcore.ConnectionPool` used directly (an option not taken: httpx's own pool and
  h11 parser, without httpx.Client's layers);
* `http.client` (before): today's `NodeTransport` with its exchange swapped for one
  keep-alive `http.client` connection driven as the previous `KeepAlivePool` drove it
  (putrequest, a putheader per header, getresponse, read; its pool bookkeeping, the same
  few µs as today's, left out, which flatters it slightly);
* `http11 pool` (now): today's `NodeTransport` as production builds it (http_pool.py
  over http11.py: one sendall, the reply parsed by httptools).

Paths are interleaved in R rounds so a change in the machine's load touches all alike.
Prints mean and median CPU µs per request and median wall time; asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import select
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpcore
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import devnode, machine
from otc_bridge.adapters.node import wire
from otc_bridge.adapters.node.transport import NodeTransport
from otc_bridge.domain.rustchain import idempotent_tx_hash

Send = Callable[[str, str, dict[str, Any] | None, dict[str, str | int] | None], int]

CALLS: list[tuple[str, str, dict[str, Any] | None, dict[str, str | int] | None]] = [
    ("GET", "/wallet/balance", None, {"miner_id": "RTCbench"}),
    ("GET", "/wallet/tx/" + idempotent_tx_hash("otc_payout:bench"), None, None),
    ("POST", "/agent/jobs/job_missing/claim", {"worker_wallet": "otc_bridge_worker"}, None),
]


def httpx_client_path(url: str) -> tuple[Send, Callable[[], None]]:
    """The previous transport's send: httpx.Client configured as it was, its reply read
    as it was."""
    client = httpx.Client(
        base_url=url.rstrip("/"),
        timeout=httpx.Timeout(15.0, connect=5.0),
        verify=True,
        follow_redirects=False,
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=32, keepalive_expiry=2.0),
    )

    def send(
        method: str, path: str, json: dict[str, Any] | None, params: dict[str, str | int] | None
    ) -> int:
        headers = {"X-Request-Id": uuid.uuid4().hex}
        response = client.request(method, path, json=json, params=params, headers=headers)
        if "json" in response.headers.get("content-type", ""):
            with contextlib.suppress(ValueError):
                response.json()
        _ = (response.text, response.headers.get("x-request-id"))
        _ = response.headers.get("retry-after")
        return response.status_code

    return send, client.close


class HttpcoreExchange:
    """The exchange through httpcore's pool, configured as httpx configured it."""

    def __init__(self, url: str) -> None:
        self._origin = url.rstrip("/").encode()
        self._pool = httpcore.ConnectionPool(
            ssl_context=wire.ssl_context(True),
            max_connections=64,
            max_keepalive_connections=32,
            keepalive_expiry=2.0,
        )
        self._extensions = {"timeout": {"connect": 5.0, "read": 15.0, "write": 15.0, "pool": 15.0}}

    def send(self, request: Any) -> Any:
        response = self._pool.request(
            request.method.encode(),
            self._origin + request.target.encode(),
            headers=[(k.encode(), v.encode()) for k, v in request.headers],
            content=request.body,
            extensions=self._extensions,
        )
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in response.headers]
        return wire.RawReply(response.status, headers, response.content)

    def close(self) -> None:
        self._pool.close()


class HttpClientExchange:
    """The previous production exchange: a keep-alive `http.client` connection, driven
    as the previous `KeepAlivePool.send` drove it, its idle checks included."""

    def __init__(self, url: str) -> None:
        base = httpx.URL(url)
        self._connection = http.client.HTTPConnection(base.host, base.port, timeout=5.0)
        self._since = 0.0

    def send(self, request: Any) -> Any:
        connection = self._connection
        if connection.sock is not None:  # the previous pool's _usable
            poller = select.poll()
            poller.register(connection.sock, select.POLLIN)
            if time.monotonic() - self._since > 2.0 or poller.poll(0):
                connection.close()  # reopened below
        connection.putrequest(
            request.method, request.target, skip_host=True, skip_accept_encoding=True
        )
        for name, value in request.headers:
            connection.putheader(name, value)
        connection.endheaders(request.body)
        response = connection.getresponse()
        content = response.read()
        if response.will_close:
            connection.close()  # reopened by the next request
        self._since = time.monotonic()
        headers = [(name.lower(), value) for name, value in response.getheaders()]
        return wire.RawReply(response.status, headers, content)

    def close(self) -> None:
        self._connection.close()


def node_transport_path(
    url: str, exchange: Callable[[str], Any] | None = None
) -> tuple[Send, Callable[[], None]]:
    """Today's NodeTransport, its exchange swapped for `exchange(url)` when given."""
    node = NodeTransport(url, timeout_seconds=15.0, connect_timeout_seconds=5.0, verify=True)
    if exchange is not None:
        node._exchange.close()
        node._exchange = exchange(url)

    def send(
        method: str, path: str, json: dict[str, Any] | None, params: dict[str, str | int] | None
    ) -> int:
        reply = node.call(method, path, route=path, json=json, params=params)
        if not hasattr(reply, "status"):
            raise SystemExit(f"lost: {reply}")
        return int(reply.status)

    return send, node.close


def run(send: Send, calls: int, cpu: list[float], wall: list[float]) -> None:
    for i in range(calls):
        method, path, json, params = CALLS[i % len(CALLS)]
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        status = send(method, path, json, params)
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started_wall)
        if status not in {200, 404}:
            raise SystemExit(f"unexpected status {status} for {method} {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=3000, help="requests per path per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as state, devnode(Path(state)) as node:
        paths: dict[str, tuple[Send, Callable[[], None]]] = {
            "httpx.Client": httpx_client_path(node.url),
            "httpcore pool": node_transport_path(node.url, HttpcoreExchange),
            "http.client (before)": node_transport_path(node.url, HttpClientExchange),
            "http11 pool (now)": node_transport_path(node.url),
        }
        cpu: dict[str, list[float]] = {name: [] for name in paths}
        wall: dict[str, list[float]] = {name: [] for name in paths}
        for send, _ in paths.values():
            run(send, 200, [], [])  # warm up: connections, imports, caches
        for _ in range(args.rounds):
            for name, (send, _) in paths.items():
                run(send, args.calls, cpu[name], wall[name])
        for _, close in paths.values():
            close()
    count = args.calls * args.rounds
    print(f"{count} sequential requests per path (GET query, GET by hash, POST JSON), devnode")
    print(f"{'path':<28} {'CPU µs/req mean':>16} {'median':>8} {'wall median':>12}")
    for name in paths:
        mean = statistics.fmean(cpu[name]) * 1e6
        median = statistics.median(cpu[name]) * 1e6
        wall_median = statistics.median(wall[name]) * 1e6
        print(f"{name:<28} {mean:>16,.0f} {median:>8,.0f} {wall_median:>10,.0f} µs")


if __name__ == "__main__":
    main()
