"""Fixtures for suites that run the bridge against a devnode. Import them into a suite's
conftest.py: `from tests.support.fixtures import bridge, devnet, node`.

* `node`: one devnode subprocess per test module (state accumulates within the module;
  its clock only moves forward), with its own dev chain (`devchain`), whose clock it moves.
* `devnet`: its /devnet control, with faults cleared around each test and the ledger's
  conservation checks asserted after it.
* `bridge`: a fresh bridge (new database) per test, served by uvicorn in a thread, with
  RTC/ETH and RTC/USDC verified on the node's dev chain and the reconciler run by hand
  (lock the quote leg with `tests.support.chain.lock_quote`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.devnet.process import DevnodeProcess
from tests.support.bridge import RunningBridge, bridge_env, running_bridge
from tests.support.chain import node_env, register, unregister


@pytest.fixture(scope="module")
def devchain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devchain]:
    with Devchain(tmp_path_factory.mktemp("chain")) as chain:
        yield chain


@contextmanager
def chained_node(
    state: Path, chain: Devchain, env: Mapping[str, str] | None = None
) -> Iterator[DevnodeProcess]:
    """A devnode that moves `chain`'s clock with its own; bridges on it verify locks there."""
    with DevnodeProcess(state, env={**node_env(chain), **(env or {})}) as proc:
        register(proc.url, chain)
        try:
            yield proc
        finally:
            unregister(proc.url)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, devchain: Devchain) -> Iterator[DevnodeProcess]:
    with chained_node(tmp_path_factory.mktemp("devnode"), devchain) as proc:
        yield proc


@pytest.fixture
def devnet(node: DevnodeProcess) -> Iterator[DevnetControl]:
    with DevnetControl(node.url) as control:
        control.clear_faults()
        yield control
        control.clear_faults()
        control.assert_conserved()


@pytest.fixture
def bridge(node: DevnodeProcess, devnet: DevnetControl, tmp_path: Path) -> Iterator[RunningBridge]:
    with running_bridge(bridge_env(node, tmp_path)) as running:
        yield running
