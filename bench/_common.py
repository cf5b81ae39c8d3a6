"""Shared pieces of the HTTP benchmarks: the devnode + `otc-bridge serve` stack, a small
keep-alive HTTP/1.1 client, a threaded load runner, and the figures table.

The bridge under load is a real subprocess (`BridgeProcess`), so the load generator never
shares a GIL with the server; the client is a minimal socket client (one keep-alive
connection per thread) so that it costs little CPU next to the server on a small machine.
Nothing here asserts timings.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import queue
import socket
import sqlite3
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx

from otc_bridge.adapters.store.engine import sqlite_url
from otc_bridge.clientlib.bridge import BridgeClient
from otc_bridge.devnet.bridge_process import BridgeProcess
from otc_bridge.devnet.process import DevnodeProcess

UNLIMITED = str(10**9)


@dataclass(frozen=True)
class Call:
    """One request to send: method, path (with query) and an optional JSON body."""

    method: str
    path: str
    body: bytes | None = None


class RawClient:
    """One keep-alive HTTP/1.1 connection. Reconnects when the server closes it."""

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        host, _, port = url.removeprefix("http://").partition(":")
        self.address = (host, int(port))
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.buffer = b""

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""

    def _connect(self) -> socket.socket:
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=self.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.sock

    def _read(self, sock: socket.socket) -> None:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buffer += chunk

    def _line(self, sock: socket.socket) -> bytes:
        while b"\r\n" not in self.buffer:
            self._read(sock)
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        return line

    def _exactly(self, sock: socket.socket, n: int) -> bytes:
        while len(self.buffer) < n:
            self._read(sock)
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def request(self, call: Call) -> tuple[int, bytes]:
        try:
            return self._request(call)
        except (ConnectionError, OSError):
            self.close()  # a stale keep-alive connection: one retry on a fresh one
            return self._request(call)

    def _request(self, call: Call) -> tuple[int, bytes]:
        sock = self._connect()
        head = [f"{call.method} {call.path} HTTP/1.1", "Host: bench"]
        if call.body is not None:
            head += ["Content-Type: application/json", f"Content-Length: {len(call.body)}"]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + (call.body or b""))
        status = int(self._line(sock).split()[1])
        headers: dict[bytes, bytes] = {}
        while line := self._line(sock):
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if headers.get(b"transfer-encoding") == b"chunked":
            body = b""
            while size := int(self._line(sock), 16):
                body += self._exactly(sock, size)
                self._line(sock)
            self._line(sock)
        else:
            body = self._exactly(sock, int(headers.get(b"content-length", b"0")))
        if headers.get(b"connection") == b"close":
            self.close()
        return status, body


@dataclass
class Run:
    """What one timed batch of requests gave."""

    label: str
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0


def run_load(url: str, label: str, calls: Sequence[Call], concurrency: int, ok: set[int]) -> Run:
    """Send `calls` from `concurrency` threads, each over its own keep-alive connection;
    time each request and the whole batch."""
    run = Run(label)
    lock = threading.Lock()
    cursor = iter(range(len(calls)))
    clients = [RawClient(url) for _ in range(concurrency)]
    for client in clients:  # connect before the clock starts
        client._connect()

    def worker(client: RawClient) -> None:
        latencies: list[float] = []
        statuses: Counter[int] = Counter()
        errors: list[str] = []
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                break
            started = time.perf_counter()
            try:
                status, body = client.request(calls[index])
            except OSError as err:
                errors.append(f"{calls[index].path}: {err!r}")
                continue
            latencies.append(time.perf_counter() - started)
            statuses[status] += 1
            if status not in ok and len(errors) < 5:
                errors.append(f"{calls[index].path}: {status} {body[:120]!r}")
        with lock:
            run.latencies += latencies
            run.statuses.update(statuses)
            run.errors += errors

    threads = [threading.Thread(target=worker, args=(client,)) for client in clients]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run.elapsed = time.perf_counter() - started
    for client in clients:
        client.close()
    return run


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def table(runs: Sequence[Run], unit: str = "req/s") -> str:
    width = max(len(run.label) for run in runs)
    lines = [
        f"  {'':<{width}}  {'n':>6}  {unit:>9}  {'p50 ms':>8}  {'p99 ms':>8}  {'max ms':>8}"
        "  statuses"
    ]
    for run in runs:
        p50, p99 = percentile(run.latencies, 0.50), percentile(run.latencies, 0.99)
        worst = max(run.latencies, default=0.0)
        codes = " ".join(f"{code}x{n}" for code, n in sorted(run.statuses.items()))
        lines.append(
            f"  {run.label:<{width}}  {len(run.latencies):>6}  {run.rate:>9.1f}  "
            f"{p50 * 1000:>8.2f}  {p99 * 1000:>8.2f}  {worst * 1000:>8.2f}  {codes}"
        )
    return "\n".join(lines)


def machine() -> str:
    system = f"{platform.machine()}, {platform.system()} {platform.release()}"
    python = f"Python {sys.version.split()[0]} ({platform.python_implementation()})"
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs, {system}; {python}; SQLite {sqlite3.sqlite_version}; "
        f"load average at start {load}"
    )


def report_errors(runs: Sequence[Run]) -> int:
    errors = [error for run in runs for error in run.errors]
    for error in errors[:10]:
        print(f"    {error}")
    return len(errors)


def bridge_env(node: DevnodeProcess, state: Path, **overrides: str) -> dict[str, str]:
    """The bridge's settings for a bench: this devnode, a SQLite file, no reconciler, and
    the write rate limits out of the way."""
    env = {
        "RUSTCHAIN_NODE": node.url,
        "RC_ADMIN_KEY": node.admin_key,
        "OTC_DATABASE_URL": sqlite_url(state / "bridge.sqlite3"),
        "OTC_DATA_DIR": str(state),
        "OTC_CLOCK_FILE": str(node.state_dir / "clock.json"),
        "OTC_EMBEDDED_WORKER": "0",
        "OTC_RATE_LIMIT_PER_IP": UNLIMITED,
        "OTC_RATE_LIMIT_PER_WALLET": UNLIMITED,
        "OTC_LOG_LEVEL": "WARNING",
    }
    env.update(overrides)
    return env


@contextmanager
def devnode(state: Path, env: Mapping[str, str] | None = None) -> Iterator[DevnodeProcess]:
    node_env = {"RC_ADMIN_RATE_LIMIT_MAX": UNLIMITED, **(env or {})}
    with DevnodeProcess(state / "devnode", env=node_env) as node:
        yield node


def wait_listening(port: int, count: int, timeout: float = 180.0) -> None:
    """Until `count` sockets listen on `port`: every worker of `serve --workers N` binds its
    own once its app is loaded, and a load started before the last one has would all land
    on the others."""
    import psutil

    deadline = time.monotonic() + timeout
    while True:
        listening = [
            c
            for c in psutil.net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
        ]
        if len(listening) >= count:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(listening)} of {count} workers listen on {port}")
        time.sleep(0.05)  # polling for a state, not synchronising threads


@contextmanager
def bridge_server(state: Path, env: Mapping[str, str], workers: int) -> Iterator[BridgeProcess]:
    """`otc-bridge serve` with `workers` processes, ready when every one listens."""
    with BridgeProcess(state / "api", env={**env, "OTC_WORKERS": str(workers)}) as api:
        wait_listening(api.port, workers)
        yield api


T = TypeVar("T")


class KeepAliveTransport(httpx.BaseTransport):
    """A bench client's httpx transport: one keep-alive `http.client` connection (each
    client thread has its own `BridgeClient`), about a fifth of httpcore's CPU per request
    (measured: 161 against 845 µs), so the load generator takes less of the two cores it
    shares with the servers. Not for the bridge itself: no pool, no TLS, no retries."""

    def __init__(self, url: str, timeout: float = 120.0) -> None:
        parsed = httpx.URL(url)
        self._host, self._port = parsed.host, parsed.port or 80
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.headers.raw}
        try:
            self._conn.request(
                request.method, request.url.raw_path.decode("ascii"), request.read(), headers
            )
            reply = self._conn.getresponse()
            content = reply.read()
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise httpx.ConnectError(f"{type(exc).__name__}: {exc}", request=request) from exc
        if reply.will_close:
            self.close()
        return httpx.Response(reply.status, headers=reply.getheaders(), content=content)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def drain(
    url: str,
    items: Sequence[T],
    clients: int,
    handle: Callable[[BridgeClient, T], None],
    *,
    clock: Callable[[], int] | None = None,
) -> float:
    """`clients` threads, each with its own keep-alive `BridgeClient` (connected before
    the clock starts, on a `KeepAliveTransport`), take the items one at a time and
    `handle` each; the seconds from the start to the last item done. `handle` records its
    own results (under a lock)."""
    work: queue.SimpleQueue[T] = queue.SimpleQueue()
    for item in items:
        work.put(item)
    start = threading.Barrier(clients + 1)

    def client_thread() -> None:
        transport = KeepAliveTransport(url)
        with BridgeClient(url, timeout=120, clock=clock, transport=transport) as client:
            client.http.get("/api/pairs")  # the keep-alive connection, untimed
            start.wait()
            while True:
                try:
                    item = work.get_nowait()
                except queue.Empty:
                    return
                handle(client, item)

    threads = [threading.Thread(target=client_thread) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


def _proc_stats() -> dict[int, tuple[int, str, float]]:
    """Every process: pid -> (parent pid, command name, CPU seconds so far, user + system)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        stats[int(entry.name)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / tick)
    return stats


def cpu_by_role(roots: Mapping[str, int | None]) -> dict[str, float]:
    """CPU seconds used so far by each named process with its descendants (`roots`), by
    every `postgres` process ("postgres": the server's backends; other databases' too), and
    by this one ("load generator": its client threads). Linux (/proc); {} elsewhere. Take
    it before and after a run: the difference is where the run's CPU went."""
    if not Path("/proc/self/stat").exists():
        return {}
    stats = _proc_stats()
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in stats.items():
        children.setdefault(parent, []).append(pid)

    def tree(pid: int) -> float:
        total, todo = 0.0, [pid]
        while todo:
            here = todo.pop()
            total += stats[here][2] if here in stats else 0.0
            todo += children.get(here, [])
        return total

    used = {role: tree(pid) for role, pid in roots.items() if pid is not None}
    used["postgres"] = sum(cpu for _, name, cpu in stats.values() if name == "postgres")
    used["load generator"] = stats.get(os.getpid(), (0, "", 0.0))[2]
    return used


def dumps(body: object) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()
