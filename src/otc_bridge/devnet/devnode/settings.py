"""Devnode settings, read under the node's own environment names.

The node reads `RC_*` variables; the devnode adds `DEVNET_DIR` and `DEVNODE_*`. Bad values
fall back to the default with a warning (`otc_bridge.envparse`); only a missing or short
admin key is fatal, because the node itself refuses to start without one.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from otc_bridge.devnet.devnode.latency import MAX_LATENCY_MS
from otc_bridge.envparse import env_bool, env_float, env_int, env_list, env_str

log = logging.getLogger(__name__)

MIN_ADMIN_KEY_CHARS = 32
# Keeps `now + delay` far inside SQLite's integer range (the node has no such bound, but a
# delay of centuries is a typo, not a scenario).
MAX_CONFIRMATION_DELAY_SECONDS = 100 * 365 * 86400
DEFAULT_TRUSTED_PROXIES = ["127.0.0.1/32", "::1/128"]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class SettingsError(ValueError):
    """A setting the devnode cannot start without."""


@dataclass(frozen=True)
class Settings:
    admin_key: str
    confirmation_delay_seconds: int
    admin_rate_limit_max: int
    admin_rate_limit_window_seconds: int
    chain_id: str
    pending_confirm_default_limit: int
    pending_confirm_max_limit: int
    trusted_proxies: tuple[IPNetwork, ...]
    state_dir: Path
    scheduler_enabled: bool
    scheduler_interval_seconds: float
    scheduler_batch: int
    latency_ms: float
    latency_jitter_ms: float
    # The dev chain's JSON-RPC URL: when set, POST /devnet/clock moves the chain's time too.
    chain_rpc_url: str | None = None

    @property
    def db_path(self) -> Path:
        return self.state_dir / "devnode.sqlite3"

    @property
    def clock_path(self) -> Path:
        return self.state_dir / "clock.json"


def parse_trusted_proxies(entries: list[str]) -> tuple[IPNetwork, ...]:
    """Like the node: CIDRs or bare addresses; unparsable entries are skipped."""
    networks: list[IPNetwork] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            log.warning("RC_TRUSTED_PROXY_IPS entry %r is not an address; ignored", entry)
    return tuple(networks)


def latency_setting(name: str, environ: Mapping[str, str] | None) -> float:
    """Milliseconds in 0..MAX_LATENCY_MS; anything else falls back to 0 with a warning."""
    value = env_float(name, 0.0, minimum=0.0, environ=environ)
    if value > MAX_LATENCY_MS:  # infinity included: a reply must come back some day
        log.warning("%s=%s is above %g ms; using 0", name, value, MAX_LATENCY_MS)
        return 0.0
    return value


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    admin_key = env_str("RC_ADMIN_KEY", "", environ)
    if len(admin_key) < MIN_ADMIN_KEY_CHARS:
        raise SettingsError(
            f"RC_ADMIN_KEY must be set and at least {MIN_ADMIN_KEY_CHARS} characters "
            "(generate one with: openssl rand -hex 32)"
        )
    default_limit = env_int("RC_PENDING_CONFIRM_DEFAULT_LIMIT", 100, minimum=1, environ=environ)
    return Settings(
        admin_key=admin_key,
        confirmation_delay_seconds=env_int(
            "RC_CONFIRMATION_DELAY_SECONDS",
            86400,
            minimum=0,
            maximum=MAX_CONFIRMATION_DELAY_SECONDS,
            environ=environ,
        ),
        admin_rate_limit_max=env_int("RC_ADMIN_RATE_LIMIT_MAX", 12, minimum=1, environ=environ),
        admin_rate_limit_window_seconds=env_int(
            "RC_ADMIN_RATE_LIMIT_WINDOW_SECONDS", 60, minimum=1, environ=environ
        ),
        chain_id=env_str("RC_CHAIN_ID", "rustchain-mainnet-v2", environ),
        pending_confirm_default_limit=default_limit,
        pending_confirm_max_limit=env_int(
            "RC_PENDING_CONFIRM_MAX_LIMIT", 500, minimum=1, environ=environ
        ),
        trusted_proxies=parse_trusted_proxies(
            env_list("RC_TRUSTED_PROXY_IPS", DEFAULT_TRUSTED_PROXIES, environ)
        ),
        state_dir=Path(env_str("DEVNET_DIR", ".devnet", environ)),
        scheduler_enabled=env_bool("DEVNODE_SCHEDULER", False, environ),
        scheduler_interval_seconds=env_float(
            "DEVNODE_SCHEDULER_INTERVAL_SECONDS", 2.0, minimum=0.01, environ=environ
        ),
        scheduler_batch=env_int(
            "DEVNODE_SCHEDULER_BATCH", default_limit, minimum=1, environ=environ
        ),
        latency_ms=latency_setting("DEVNODE_LATENCY_MS", environ),
        latency_jitter_ms=latency_setting("DEVNODE_LATENCY_JITTER_MS", environ),
        chain_rpc_url=env_str("DEVNODE_CHAIN_RPC_URL", "", environ) or None,
    )
