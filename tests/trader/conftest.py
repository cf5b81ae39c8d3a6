"""The trader CLI against a real devnet: anvil (a block a second, as `make run` mines it),
a devnode that moves the chain's clock with its own, and a bridge configured for the dev
chain as `make run` configures it, with its worker running as the embedded one does.

Each party is a `Party`: its own OTC_HOME (key files, kept secrets, locks) and one of the
dev chain's unlocked accounts; `party.otc(...)` runs `otc` through typer's CliRunner with
that party's environment and nothing else of the test's.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.devchain.handoff import bridge_chain_environment
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.devnet.process import DevnodeProcess
from otc_bridge.trader_cli.app import app
from tests.support.bridge import RunningBridge, bridge_env, running_bridge

WORKER_INTERVAL = 0.5  # the embedded worker's cadence here (OTC_RECONCILE_INTERVAL_SECONDS)


@dataclass
class Party:
    name: str
    home: Path
    evm_account: str
    bridge_url: str
    node_url: str

    def env(self) -> dict[str, str]:
        return {
            "OTC_HOME": str(self.home),
            "OTC_BRIDGE_URL": self.bridge_url,
            "OTC_NODE_URL": self.node_url,
            "OTC_EVM_ACCOUNT": self.evm_account,
            "OTC_KEY_PASSPHRASE": "",
            "OTC_KEY_FILE": "",
            "OTC_EVM_KEY_FILE": "",
            "OTC_RPC_URL": "",
        }

    def otc(self, *args: str, env: dict[str, str] | None = None) -> Result:
        merged = {**self.env(), **(env or {})}
        unset = {k: None for k, v in merged.items() if v == ""}
        given = {k: v for k, v in merged.items() if v != ""}
        return CliRunner().invoke(app, list(args), env={**given, **unset})

    def ok(self, *args: str) -> Any:
        """Run `otc … --json`, expect exit 0, and return the JSON it printed."""
        result = self.otc(*args, "--json")
        assert result.exit_code == 0, (args, result.exit_code, result.output, result.stderr)
        return json.loads(result.stdout)

    @property
    def address(self) -> str:
        body = json.loads((self.home / "rtc-key.json").read_text())
        return str(body["public"])


@dataclass
class Stack:
    chain: Devchain
    node: DevnodeProcess
    devnet: DevnetControl
    bridge: RunningBridge

    def party(self, name: str, account_index: int, tmp_path: Path) -> Party:
        return Party(
            name,
            tmp_path / name,
            self.chain.info.accounts[account_index],
            self.bridge.url,
            self.node.url,
        )


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devchain]:
    with Devchain(tmp_path_factory.mktemp("chain"), block_seconds=1) as running:
        yield running


@pytest.fixture(scope="module")
def linked_node(
    tmp_path_factory: pytest.TempPathFactory, chain: Devchain
) -> Iterator[DevnodeProcess]:
    env = {
        "DEVNODE_CHAIN_RPC_URL": chain.rpc_url,
        "DEVNODE_SCHEDULER": "on",
        "RC_CONFIRMATION_DELAY_SECONDS": "1",
    }
    with DevnodeProcess(tmp_path_factory.mktemp("node"), env=env) as node:
        yield node


@pytest.fixture
def stack(chain: Devchain, linked_node: DevnodeProcess, tmp_path: Path) -> Iterator[Stack]:
    env = {
        **bridge_env(linked_node, tmp_path / "bridge"),
        **bridge_chain_environment(chain.info, chain.rpc_url),
    }
    with DevnetControl(linked_node.url) as devnet, running_bridge(env) as bridge:
        stop = threading.Event()

        def worker() -> None:  # what the embedded worker does, at its cadence
            while not stop.wait(WORKER_INTERVAL):
                bridge.run_worker()

        thread = threading.Thread(target=worker, name="trader-test-worker", daemon=True)
        thread.start()
        try:
            yield Stack(chain, linked_node, devnet, bridge)
        finally:
            stop.set()
            thread.join(timeout=30)
        devnet.assert_conserved()
