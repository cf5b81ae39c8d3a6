"""One clock for the devnet: POST /devnet/clock on a devnode that knows the chain's RPC
URL moves the chain's time too (and moves nothing if the chain cannot follow)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.devnet.process import DevnodeProcess


@pytest.fixture
def linked_node(tmp_path: Path, devchain: Devchain) -> Iterator[DevnodeProcess]:
    node = DevnodeProcess(tmp_path / "node", env={"DEVNODE_CHAIN_RPC_URL": devchain.rpc_url})
    with node:
        yield node


def test_advancing_the_devnode_clock_moves_the_chain(
    linked_node: DevnodeProcess, devchain: Devchain
) -> None:
    before = devchain.control.head()
    answer = httpx.post(f"{linked_node.url}/devnet/clock", json={"advance_seconds": 7200})
    assert answer.status_code == 200
    body = answer.json()
    assert body["offset_seconds"] == 7200
    after = devchain.control.head()
    assert after.number == before.number + 1
    assert after.timestamp >= before.timestamp + 7200
    assert body["chain"] == {"block": after.number, "timestamp": after.timestamp}
    # Both clocks now agree to within the seconds this test took.
    assert abs(body["now"] - after.timestamp) <= 5


def test_zero_seconds_moves_nothing(linked_node: DevnodeProcess, devchain: Devchain) -> None:
    before = devchain.control.head()
    answer = httpx.post(f"{linked_node.url}/devnet/clock", json={"advance_seconds": 0})
    assert answer.status_code == 200
    assert "chain" not in answer.json()
    assert devchain.control.head() == before


def test_a_dead_chain_stops_the_clock_move(linked_node: DevnodeProcess, devchain: Devchain) -> None:
    devchain.kill()
    answer = httpx.post(f"{linked_node.url}/devnet/clock", json={"advance_seconds": 60})
    assert answer.status_code == 502
    assert "nothing changed" in answer.json()["error"]
    clock = httpx.get(f"{linked_node.url}/devnet/clock").json()
    assert clock["offset_seconds"] == 0


def test_a_devnode_without_a_chain_moves_only_itself(tmp_path: Path) -> None:
    with DevnodeProcess(tmp_path / "node") as node:
        answer = httpx.post(f"{node.url}/devnet/clock", json={"advance_seconds": 60})
        assert answer.status_code == 200
        assert answer.json()["offset_seconds"] == 60
        assert "chain" not in answer.json()
