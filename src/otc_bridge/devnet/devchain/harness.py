"""`Devchain`: anvil started, contracts deployed, accounts funded, `chain.json` written.

    with Devchain(tmp_path / "chain") as chain:           # tests: free port, on demand
        chain.info.htlc_contract, chain.info.usdc_token, chain.info.accounts
        chain.control.mine(2)

`make run` uses port `DEVCHAIN_PORT` (8545), interval mining every
`DEVCHAIN_BLOCK_SECONDS` (1) and a state file, so the chain (and so the deployment in
`chain.json`) survives restarts of the devnet.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Self

from otc_bridge.devnet.devchain.control import ChainControl
from otc_bridge.devnet.devchain.deploy import ChainInfo, ensure_deployed
from otc_bridge.devnet.devchain.process import AnvilProcess

STATE_FILE = "anvil-state.json"


class Devchain:
    def __init__(
        self,
        state_dir: Path,
        *,
        port: int | None = None,
        block_seconds: float | None = None,
        persist: bool = False,
        info_path: Path | None = None,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.info_path = info_path or self.state_dir / "chain.json"
        self.process = AnvilProcess(
            self.state_dir,
            port=port,
            block_seconds=block_seconds,
            state_file=self.state_dir / STATE_FILE if persist else None,
        )
        self._info: ChainInfo | None = None
        self._control: ChainControl | None = None

    @property
    def rpc_url(self) -> str:
        return self.process.url

    @property
    def info(self) -> ChainInfo:
        if self._info is None:
            raise RuntimeError("the dev chain is not started")
        return self._info

    @property
    def control(self) -> ChainControl:
        if self._control is None:
            self._control = ChainControl(self.rpc_url)
        return self._control

    def start(self) -> Self:
        self.process.start()
        try:
            self._info = ensure_deployed(self.rpc_url, self.info_path)
        except BaseException:
            self.process.kill()
            raise
        return self

    def stop(self) -> None:
        if self._control is not None:
            self._control.close()
            self._control = None
        self.process.stop()

    def kill(self) -> None:
        self.process.kill()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
