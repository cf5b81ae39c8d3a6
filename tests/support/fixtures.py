"""Fixtures for suites that run the bridge against a devnode. Import them into a suite's
conftest.py: `from tests.support.fixtures import bridge, devnet, node`.

* `node`: one devnode subprocess per test module (state accumulates within the module;
  its clock only moves forward).
* `devnet`: its /devnet control, with faults cleared around each test and the ledger's
  conservation checks asserted after it.
* `bridge`: a fresh bridge (new database) per test, served by uvicorn in a thread, with
  the quote leg on the devnet's `unverified` policy and the reconciler run by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.process import DevnodeProcess
from tests.support.bridge import RunningBridge, bridge_env, running_bridge


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnodeProcess]:
    with DevnodeProcess(tmp_path_factory.mktemp("devnode")) as proc:
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
