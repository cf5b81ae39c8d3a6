"""The chain watcher's settings (`OTC_WATCHER_*`, docs/operations.md). Bad values fall
back to the default with a warning, like every other setting."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from otc_bridge.envparse import env_bool, env_float, env_int


@dataclass(frozen=True, slots=True)
class WatcherSettings:
    enabled: bool = True  # OTC_WATCHER_DISABLED turns it off (the driver still settles)
    poll_seconds: float = 2.0  # one poll per chain this often
    lease_seconds: int = 30  # the per-chain lease (renewed every third of it)
    max_range_blocks: int = 2_000  # the most blocks one poll reads logs for
    keep_marks: int = 64  # recent checkpoints kept to find a re-org's fork point
    drive_budget_seconds: float = 10.0  # how long one effect may drive its order on

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WatcherSettings:
        return cls(
            enabled=not env_bool("OTC_WATCHER_DISABLED", False, environ),
            poll_seconds=env_float("OTC_WATCHER_POLL_SECONDS", 2.0, minimum=0.05, environ=environ),
            lease_seconds=env_int(
                "OTC_WATCHER_LEASE_SECONDS", 30, minimum=3, maximum=3600, environ=environ
            ),
            max_range_blocks=env_int(
                "OTC_WATCHER_MAX_RANGE_BLOCKS", 2_000, minimum=1, maximum=100_000, environ=environ
            ),
            keep_marks=env_int(
                "OTC_WATCHER_KEEP_MARKS", 64, minimum=2, maximum=10_000, environ=environ
            ),
            drive_budget_seconds=env_float(
                "OTC_WATCHER_DRIVE_BUDGET_SECONDS", 10.0, minimum=0.5, environ=environ
            ),
        )
