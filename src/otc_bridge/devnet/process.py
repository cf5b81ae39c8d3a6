"""`DevnodeProcess`: the devnode as a real subprocess, for tests and benchmarks.

    with DevnodeProcess(tmp_path / "node") as node:
        httpx.get(f"{node.url}/wallet/balance", params={"miner_id": "alice"})

It runs `python -m otc_bridge devnode --port N` with its state in `state_dir`, writes the
child's output to `state_dir/devnode.log`, and is ready once `GET /devnet/clock` answers.
`kill()` is SIGKILL (a crash), `stop()` is SIGTERM plus wait, `restart()` keeps the port and
the state folder.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Self

from otc_bridge.devnet.service_process import ServiceError, ServiceProcess, free_port

DEFAULT_ADMIN_KEY = "devnet-admin-key-0123456789abcdef0123456789abcdef"
# Settings a devnode reads; never inherited from the caller's shell, so a process is
# configured by its constructor arguments alone.
NODE_ENV_PREFIXES = ("RC_", "DEVNODE_", "DEVNET_")

DevnodeError = ServiceError
__all__ = ["DEFAULT_ADMIN_KEY", "DevnodeError", "DevnodeProcess", "free_port"]


class DevnodeProcess(ServiceProcess):
    log_name = "devnode.log"

    def __init__(
        self,
        state_dir: Path | str | None = None,
        *,
        port: int | None = None,
        env: Mapping[str, str] | None = None,
        admin_key: str = DEFAULT_ADMIN_KEY,
        startup_timeout: float = 20.0,
    ) -> None:
        folder = Path(state_dir) if state_dir is not None else Path(tempfile.mkdtemp("devnode"))
        super().__init__(folder, port=port, startup_timeout=startup_timeout)
        self.admin_key = admin_key
        self._env_overrides = dict(env or {})

    def argv(self) -> list[str]:
        return ["devnode", "--port", str(self.port)]

    @property
    def ready_path(self) -> str:
        return "/devnet/clock"

    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(NODE_ENV_PREFIXES)}
        env.update(
            {
                "RC_ADMIN_KEY": self.admin_key,
                "DEVNET_DIR": str(self.state_dir),
                "DEVNODE_SCHEDULER": "off",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self._env_overrides)
        env.update(extra or {})
        return env

    def restart(self, extra_env: Mapping[str, str] | None = None, *, hard: bool = False) -> Self:
        return super().restart(extra_env, hard=hard)
