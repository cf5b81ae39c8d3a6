"""Fixtures for the quote leg's integration suite: one real anvil and one devnode per
module (the devnode moves the chain's clock with its own), and a fresh bridge per test
on a fresh database, configured for the chain as `make run` configures it.

Tests never share a chain account or an RTC wallet (each `Trade` makes fresh ones), so
the chain needs no snapshot between tests: exact balances hold per account.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.devnet.process import DevnodeProcess
from tests.quote.world import quote_bridge_env
from tests.support.bridge import RunningBridge, running_bridge
from tests.support.fixtures import devnet

__all__ = ["bridge", "chain", "devnet", "node"]


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devchain]:
    """anvil with the HTLC and DevUSDC deployed; a block per transaction, otherwise
    blocks only when a test mines them (finality is the test's to decide)."""
    with Devchain(tmp_path_factory.mktemp("chain")) as running:
        yield running


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, chain: Devchain) -> Iterator[DevnodeProcess]:
    # A payout confirms a minute after it is queued (not the node's 24 h), so that a
    # swap completes while B's lock is still claimable on the chain, which shares the clock.
    env = {"DEVNODE_CHAIN_RPC_URL": chain.rpc_url, "RC_CONFIRMATION_DELAY_SECONDS": "60"}
    with DevnodeProcess(tmp_path_factory.mktemp("devnode"), env=env) as proc:
        # One clock from here on: the chain starts level with the node.
        with DevnetControl(proc.url) as control:
            chain.control.catch_up(control.now())
        yield proc


@pytest.fixture
def bridge(
    node: DevnodeProcess, devnet: DevnetControl, chain: Devchain, tmp_path: Path
) -> Iterator[RunningBridge]:
    with running_bridge(quote_bridge_env(node, tmp_path, chain)) as running:
        yield running
