"""`BridgeProcess`: the bridge (`otc-bridge serve` or `otc-bridge worker`) as a real
subprocess, for crash, race and multi-process tests and for benchmarks.

    with BridgeProcess(tmp_path / "api", env=env) as api:
        httpx.get(f"{api.url}/healthz")

A `serve` process is ready once `GET /api/pairs` answers; a `worker` has no port to wait
for. `restart()` keeps the port and the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from otc_bridge.devnet.service_process import ServiceError, ServiceProcess

BridgeProcessError = ServiceError
__all__ = ["BridgeProcess", "BridgeProcessError"]


class BridgeProcess(ServiceProcess):
    def __init__(
        self,
        state_dir: Path,
        *,
        env: Mapping[str, str],
        command: str = "serve",
        port: int | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        super().__init__(state_dir, port=port, startup_timeout=startup_timeout)
        self.command = command
        self._env = dict(env)

    @property
    def log_name(self) -> str:  # type: ignore[override]
        return f"bridge-{self.command}.log"

    def argv(self) -> list[str]:
        return [self.command]

    @property
    def ready_path(self) -> str | None:
        return "/api/pairs" if self.command == "serve" else None

    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self._env)
        env.update({"OTC_PORT": str(self.port), "PYTHONUNBUFFERED": "1"})
        env.update(extra or {})
        return env
