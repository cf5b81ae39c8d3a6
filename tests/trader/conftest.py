"""The trader CLI against a real devnet: anvil (a block a second, as `make run` mines it),
a devnode that moves the chain's clock with its own, and a bridge configured for the dev
chain as `make run` configures it, with its worker running as the embedded one does.

Each party is a `Party`: its own OTC_HOME (key files, kept secrets, locks) and one of the
dev chain's unlocked accounts; `party.otc(...)` runs `otc` through typer's CliRunner with
that party's environment and nothing else of the test's.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.devchain.handoff import bridge_chain_environment
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.devnet.process import DevnodeProcess
from otc_bridge.devnet.runner import devnet_settings
from otc_bridge.trader_cli.app import app
from tests.support.bridge import RunningBridge, bridge_env, running_bridge

VENV_BIN = Path(sys.executable).parent
WORKER_INTERVAL = 0.5  # the embedded worker's cadence here (OTC_RECONCILE_INTERVAL_SECONDS)


@dataclass
class Party:
    name: str
    home: Path
    evm_account: str
    bridge_url: str
    node_url: str
    # Sign quote-chain transactions here, with an EVM key file (`otc evm-key import`),
    # instead of the RPC node's unlocked account; its passphrase, if encrypted.
    signs_locally: bool = False
    passphrase: str = ""

    def env(self) -> dict[str, str]:
        return {
            "OTC_HOME": str(self.home),
            "OTC_BRIDGE_URL": self.bridge_url,
            "OTC_NODE_URL": self.node_url,
            "OTC_EVM_ACCOUNT": "" if self.signs_locally else self.evm_account,
            "OTC_KEY_PASSPHRASE": self.passphrase,
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

    def spawn(self, *args: str) -> Watcher:
        """The real `otc` console script in a subprocess, its stdout read line by line."""
        env = {k: v for k, v in self.env().items() if v}
        env.update({"PATH": f"{VENV_BIN}:/usr/bin:/bin", "HOME": str(self.home)})
        process = subprocess.Popen(
            [str(VENV_BIN / "otc"), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        return Watcher(process)

    @property
    def address(self) -> str:
        body = json.loads((self.home / "rtc-key.json").read_text())
        return str(body["public"])


class Watcher:
    """A running `otc … --json` whose JSON lines are read as they come."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def until(self, wanted: Callable[[dict[str, Any]], bool], timeout: float) -> dict[str, Any]:
        """The first line (from now) that satisfies `wanted`, within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no such line within {timeout}s; seen {self.seen}"
            line = self.lines.get(timeout=left)
            assert line is not None, f"the process ended first; seen {self.seen}"
            self.seen.append(json.loads(line))
            if wanted(self.seen[-1]):
                return self.seen[-1]

    def finish(self, timeout: float) -> int:
        code = self.process.wait(timeout=timeout)
        while (line := self.lines.get(timeout=timeout)) is not None:
            self.seen.append(json.loads(line))
        return code

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)


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
        # `otc watch` looks at the clock on every keep-alive: send them often here.
        "OTC_STREAM_KEEPALIVE_SECONDS": "1",
        # A queued payout's status is read as often as `make run`'s bridge reads it
        # (devnet/runner.py), not at the production default of 30 s: the clock here is
        # the wall clock, so each swap waited ~30 s for the read that sees it confirmed.
        "OTC_PAYOUT_POLL_SECONDS": devnet_settings(
            tmp_path / "devnet", linked_node.url, linked_node.admin_key, 0, environ={}
        )["OTC_PAYOUT_POLL_SECONDS"],
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
