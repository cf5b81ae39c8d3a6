"""Shared fixtures: a real devnode subprocess per test worker, reset before every test.

`devnode` yields a `Devnode` (process, `/devnet/*` control client, plain HTTP client) on a
wiped node, and after the test asserts that `GET /devnet/ledger` still reports
`conserved: true`. Tests that need their own process (restarts, other settings) use
`devnode_factory`, which applies the same check to every node it started.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.process import DevnodeProcess

_client_ips = itertools.count(1)


def scaffold_ip() -> str:
    """A fresh client IP (sent as X-Real-IP from loopback, which the devnode trusts)."""
    n = next(_client_ips)
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


@dataclass
class Devnode:
    process: DevnodeProcess
    control: DevnetControl
    http: httpx.Client
    extra_clients: list[httpx.Client] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def admin_key(self) -> str:
        return self.process.admin_key

    def admin(self, ip: str | None = None) -> dict[str, str]:
        """Admin headers. Each call gets its own client IP unless `ip` is given, so test
        scaffolding never spends the rate-limit budget of the code under test (which calls
        from 127.0.0.1 without X-Real-IP)."""
        return {"X-Admin-Key": self.admin_key, "X-Real-IP": ip or scaffold_ip()}

    def client(self, *, timeout: float = 10, headers: dict[str, str] | None = None) -> httpx.Client:
        """Another HTTP client on this node (closed after the test)."""
        extra = httpx.Client(base_url=self.url, timeout=timeout, headers=headers)
        self.extra_clients.append(extra)
        return extra

    def close(self) -> None:
        for extra in self.extra_clients:
            extra.close()
        self.http.close()
        self.control.close()


def open_devnode(process: DevnodeProcess) -> Devnode:
    return Devnode(
        process, DevnetControl(process.url), httpx.Client(base_url=process.url, timeout=10)
    )


@pytest.fixture(scope="session")
def devnode_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnodeProcess]:
    """One devnode per test worker (pytest-xdist gives each worker its own session)."""
    with DevnodeProcess(tmp_path_factory.mktemp("devnode")) as process:
        yield process


@pytest.fixture
def devnode(devnode_process: DevnodeProcess) -> Iterator[Devnode]:
    if not devnode_process.running:  # a previous test crashed it
        devnode_process.start()
    node = open_devnode(devnode_process)
    node.control.reset()
    try:
        yield node
        node.control.assert_conserved()
    finally:
        node.close()


DevnodeFactory = Callable[..., Devnode]


@pytest.fixture
def devnode_factory(tmp_path: Path) -> Iterator[DevnodeFactory]:
    """Start dedicated devnodes: `devnode_factory(env={...})`; stopped after the test."""
    started: list[Devnode] = []

    def start(env: Mapping[str, str] | None = None, name: str = "node") -> Devnode:
        process = DevnodeProcess(tmp_path / f"{name}{len(started)}", env=env).start()
        node = open_devnode(process)
        started.append(node)
        return node

    try:
        yield start
        for node in started:
            if node.process.running:
                node.control.assert_conserved()
    finally:
        for node in started:
            node.close()
            node.process.stop()


def pytest_configure(config: pytest.Config) -> None:
    """With OTC_TEST_STORE=postgres the suites run against PostgreSQL. Under CI an
    unreachable server is an error (the suite must not silently not run); on a developer
    machine without a server the run stops with the reason."""
    from tests.support.databases import drop_leftovers, postgres_reachable, store_kind

    if store_kind() != "postgres":
        return
    problem = postgres_reachable()
    if problem is not None:
        pytest.exit(f"OTC_TEST_STORE=postgres but PostgreSQL is unreachable: {problem}", 3)
    if os.environ.get("PYTEST_XDIST_WORKER") is None:  # the controller, once per run
        drop_leftovers()


# The longest modules first (measured on a whole-suite run, longest single tests first):
# xdist hands tests out in collection order, so a long test collected last would run
# alone at the end while the other worker idles. Only the order changes, and it is the
# same on every worker (xdist requires identical collections); each module stays whole,
# so its module-scoped chain and devnode still start once per worker.
LONG_FIRST = (
    "tests/contracts/test_htlc_model.py",
    "tests/model/test_model.py",
    "tests/trader/test_trader_walkthrough.py",
    "tests/walkthrough/test_readme.py",
    "tests/trader/test_trader_swaps.py",
    "tests/cli/test_operator_commands.py",
    "tests/cli/test_serve_workers.py",
    "tests/watch/test_devnet_watcher.py",
    "tests/settlement/test_races.py",
    "tests/watch/test_watcher_crash.py",
    "tests/crash/test_crash_matrix.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {module: n for n, module in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(LONG_FIRST)))
