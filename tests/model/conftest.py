"""Fixtures for the model test: one devnode subprocess per test module (per xdist worker),
reset by the state machine at the start of every example."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from otc_bridge.devnet.process import DevnodeProcess


@pytest.fixture(scope="module")
def model_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnodeProcess]:
    # The admin limiter is raised out of the way so that fault-free answers are
    # predictable; the model injects 429s itself (`rate_limit` faults). The scheduler
    # stays off: the model ticks it.
    env = {"RC_ADMIN_RATE_LIMIT_MAX": "100000"}
    with DevnodeProcess(tmp_path_factory.mktemp("model-node"), env=env) as process:
        yield process
