"""A real anvil per test (0.4 s to start and deploy): the dev chain harness, a reader with
the devnet's finality (2 confirmations) and writers for its unlocked accounts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from otc_bridge.adapters.evm.config import EvmChain
from otc_bridge.adapters.evm.reader import EvmReader
from otc_bridge.adapters.evm.writer import HtlcWriter
from otc_bridge.devnet.devchain.harness import Devchain
from tests.contracts.evm import Secret

__all__ = ["FINALITY", "Secret", "chain_now"]

FINALITY = 2


@pytest.fixture
def devchain(tmp_path: Path) -> Iterator[Devchain]:
    with Devchain(tmp_path / "chain") as chain:
        yield chain


@pytest.fixture
def reader(devchain: Devchain) -> EvmReader:
    return EvmReader(
        EvmChain(
            rpc_url=devchain.rpc_url,
            chain_id=devchain.info.chain_id,
            htlc_contract=devchain.info.htlc_contract,
            finality_confirmations=FINALITY,
            rpc_timeout_seconds=5.0,
        )
    )


@pytest.fixture
def buyer(devchain: Devchain) -> HtlcWriter:
    return HtlcWriter.connect(
        devchain.rpc_url, devchain.info.htlc_contract, devchain.info.accounts[1]
    )


@pytest.fixture
def seller_address(devchain: Devchain) -> str:
    return devchain.info.accounts[2]


def chain_now(devchain: Devchain) -> int:
    return devchain.control.head().timestamp
