"""`AnvilProcess`: the dev chain (anvil) as a real subprocess, with the lifecycle of the
devnode's and the bridge's harnesses (`ServiceProcess`: kill is a crash, stop is
SIGTERM and a wait, output in a log file, leftovers killed at interpreter exit).

    with AnvilProcess(tmp_path / "chain") as chain:       # free port, on-demand mining
        ChainControl(chain.url).mine(2)

`block_seconds=None` mines one block per transaction and otherwise only on demand
(`anvil_mine`), which is what deterministic tests want; a number turns on interval
mining (`make run`: every second, so confirmations advance by themselves). With
`state_file`, anvil loads its chain from that file at start and dumps it every
`state_interval` seconds and at a clean exit, so the dev chain survives restarts.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from otc_bridge.devnet.devchain.binary import find_anvil

# _running: the shared registry of live services, so the atexit hook kills anvil too.
from otc_bridge.devnet.service_process import ServiceError, ServiceProcess, _running
from otc_bridge.process_tree import dies_with_this_process

DEVCHAIN_CHAIN_ID = 31337
DEVCHAIN_ACCOUNTS = 10
DEVCHAIN_BALANCE_ETH = 10_000
# anvil's well-known development mnemonic: the same ten accounts on every machine.
DEV_MNEMONIC = "test test test test test test test test test test test junk"
READY_POLL_SECONDS = 0.05


class AnvilProcess(ServiceProcess):
    log_name = "anvil.log"

    def __init__(
        self,
        state_dir: Path,
        *,
        port: int | None = None,
        block_seconds: float | None = None,
        chain_id: int = DEVCHAIN_CHAIN_ID,
        accounts: int = DEVCHAIN_ACCOUNTS,
        balance_eth: int = DEVCHAIN_BALANCE_ETH,
        state_file: Path | None = None,
        state_interval: int = 5,
        startup_timeout: float = 20.0,
    ) -> None:
        super().__init__(Path(state_dir), port=port, startup_timeout=startup_timeout)
        self.binary = find_anvil()
        self.block_seconds = block_seconds
        self.chain_id = chain_id
        self.accounts = accounts
        self.balance_eth = balance_eth
        self.state_file = state_file
        self.state_interval = state_interval

    def argv(self) -> list[str]:
        args = [
            str(self.binary),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--accounts", str(self.accounts),
            "--balance", str(self.balance_eth),
            "--mnemonic", DEV_MNEMONIC,
        ]  # fmt: skip
        if self.block_seconds is not None:
            args += ["--block-time", str(self.block_seconds)]
        if self.state_file is not None:
            args += ["--state", str(self.state_file), "--state-interval", str(self.state_interval)]
        return args

    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env.update(extra or {})
        return env

    def _spawn(self, extra: Mapping[str, str] | None = None) -> None:
        # Not `python -m otc_bridge`: the binary itself.
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                self.argv(),
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.environment(extra),
                preexec_fn=dies_with_this_process() if self.die_with_parent else None,
            )
        _running.add(self)

    def _wait_ready(self) -> bool:
        """anvil is ready once eth_chainId answers with the chain id we asked for."""
        deadline = time.monotonic() + self.startup_timeout
        probe = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                assert self._proc is not None
                if self._proc.poll() is not None:
                    return False
                try:
                    answer = client.post(self.url, json=probe).json()
                    if int(answer["result"], 16) == self.chain_id:
                        return True
                except (httpx.TransportError, ValueError, KeyError, TypeError):
                    pass
                time.sleep(READY_POLL_SECONDS)  # the only wait: the port opening
        self.kill()
        raise ServiceError(
            f"anvil did not answer within {self.startup_timeout}s:\n{self.log_tail()}"
        )
