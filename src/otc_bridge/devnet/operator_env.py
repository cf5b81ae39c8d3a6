"""The settings a running devnet hands its bridge, for operator commands in another shell.

`make run` (the runner) writes them to `<DEVNET_DIR>/bridge-env.json` when its bridge
starts, and prints them in its banner; `otc-bridge devnet env` prints them again as
`export` lines, so `eval "$(otc-bridge devnet env)"` points `otc-bridge orders …`,
`alerts …` and `reconcile` at that devnet's database, node, admin key, data folder
(secret key), clock and chain. Settings that only serve HTTP (port, CORS, the
reconciler's cadence) are left out.
"""

from __future__ import annotations

import json
import os
import shlex
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ENV_FILE = "bridge-env.json"
SERVING_ONLY = frozenset(
    {"OTC_PORT", "OTC_CORS_ORIGINS", "OTC_RECONCILE_INTERVAL_SECONDS", "OTC_PAYOUT_POLL_SECONDS"}
)


@dataclass(frozen=True, slots=True)
class OperatorEnv:
    bridge_url: str
    settings: dict[str, str]

    def exports(self) -> list[str]:
        return [f"export {name}={shlex.quote(value)}" for name, value in self.settings.items()]


def operator_settings(bridge_settings: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in sorted(bridge_settings.items()) if k not in SERVING_ONLY}


def write(state: Path, env: OperatorEnv) -> Path:
    """Atomically, readable by its owner only (it holds the devnet's admin key)."""
    path = state / ENV_FILE
    fd, tmp = tempfile.mkstemp(dir=state, prefix=".bridge-env.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"bridge_url": env.bridge_url, "settings": env.settings}, handle, indent=2)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read(state: Path) -> OperatorEnv | None:
    try:
        data = json.loads((state / ENV_FILE).read_text(encoding="utf-8"))
        settings = {str(k): str(v) for k, v in data["settings"].items()}
        return OperatorEnv(str(data["bridge_url"]), settings)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
