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
