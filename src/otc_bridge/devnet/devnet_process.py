"""`DevnetProcess`: `otc-bridge devnet` (what `make run` runs) as a real subprocess on free
ports with its own DEVNET_DIR, for tests that use the devnet as a new user does.

    with DevnetProcess(tmp_path / "devnet") as devnet:
        httpx.get(f"{devnet.url}/api/pairs")        # the bridge
        httpx.get(f"{devnet.node_url}/devnet/clock")  # the devnode

It is ready once its bridge answers `GET /api/pairs`; its output (the banner included)
is in `devnet.log` in its state folder. Stopping it (SIGTERM) stops the devnode and the
dev chain it started.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from otc_bridge.devnet.service_process import ServiceProcess, free_port

# Settings never inherited from the caller's shell: the devnet is configured by this
# harness alone, as on a machine where nothing is set.
SETTING_PREFIXES = ("OTC_", "RUSTCHAIN_", "RC_", "DEVNET_", "DEVNODE_", "DEVCHAIN_")


class DevnetProcess(ServiceProcess):
    log_name = "devnet.log"

    def __init__(
        self,
        state_dir: Path,
        *,
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 180.0,
    ) -> None:
        super().__init__(Path(state_dir), port=None, startup_timeout=startup_timeout)
        self.node_port = free_port()
        self.chain_port = free_port()
        self._overrides = dict(env or {})

    @property
    def node_url(self) -> str:
        return f"http://127.0.0.1:{self.node_port}"

    @property
    def chain_url(self) -> str:
        return f"http://127.0.0.1:{self.chain_port}"

    def argv(self) -> list[str]:
        return ["devnet"]

    @property
    def ready_path(self) -> str:
        return "/api/pairs"

    def environment(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(SETTING_PREFIXES)}
        env.update(
            {
                "DEVNET_DIR": str(self.state_dir),
                "OTC_PORT": str(self.port),
                "DEVNODE_PORT": str(self.node_port),
                "DEVCHAIN_PORT": str(self.chain_port),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self._overrides)
        env.update(extra or {})
        return env
