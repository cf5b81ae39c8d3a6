"""The bridge's settings, read from the environment when asked for (never at import).

The reference bridge's variables keep their names and meanings (RUSTCHAIN_NODE,
RC_ADMIN_KEY, OTC_PORT, OTC_CORS_ORIGINS, OTC_DB_PATH, OTC_RECONCILE_*, ...); new ones
use the OTC_ prefix. Bad values fall back to the default with a warning.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from otc_bridge.adapters.evm.config import EvmSettings
from otc_bridge.adapters.evm.config import from_env as evm_from_env
from otc_bridge.adapters.node.config import NodeConfig
from otc_bridge.adapters.store.engine import sqlite_url
from otc_bridge.domain.deadlines import DeadlinePolicy
from otc_bridge.envparse import env_bool, env_int, env_list, env_str
from otc_bridge.push_config import StreamSettings, WebhookSettings
from otc_bridge.settlement.watch.config import WatcherSettings

log = logging.getLogger(__name__)

DEFAULT_CORS_ORIGINS = ["https://bottube.ai", "https://rustchain.org", "http://localhost:3000"]


class SettingsError(ValueError):
    """A setting that must stop start-up (a security misconfiguration, not a typo)."""


@dataclass(frozen=True, slots=True)
class RateLimits:
    per_ip: int = 10  # writes per IP per window (the reference's limit)
    per_wallet: int = 30  # signed writes per wallet per window
    window_seconds: int = 60
    admin_failures: int = 5  # wrong X-Admin-Key per client address per admin window
    admin_window_seconds: int = 300


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = "sqlite:///otc_bridge.db"
    db_pool_size: int = 5  # connections kept per process, as many again in a burst
    host: str = "127.0.0.1"
    port: int = 5580
    data_dir: Path = Path(".otc")
    node: NodeConfig = field(default_factory=NodeConfig)
    admin_key: str | None = None
    cors_origins: tuple[str, ...] = tuple(DEFAULT_CORS_ORIGINS)
    trusted_proxies: tuple[str, ...] = ()
    rate_limits: RateLimits = field(default_factory=RateLimits)
    max_body_bytes: int = 64 * 1024
    deadlines: DeadlinePolicy = field(default_factory=DeadlinePolicy)
    auth_window_seconds: int = 300
    auth_future_skew_seconds: int = 30
    secret_key: str | None = None
    clock_file: Path | None = None
    embedded_worker: bool = True  # run the reconciler inside the API process
    reconcile_interval_seconds: int = 60  # 0: no automatic passes (admin endpoint only)
    reconcile_disabled: bool = False  # no startup pass, no timer
    reconcile_lease_seconds: int = 30  # renewed every third of it during a pass
    reconcile_batch: int = 500  # orders claimed at a time; a pass takes batches until done
    grace_seconds: int = 120  # OTC_SETTLEMENT_STUCK_SECONDS, measured from settling_at
    retry_seconds: int = 15  # how soon a step that met an unknown outcome is retried
    payout_poll_seconds: int = 30
    request_budget_seconds: float = 10.0  # how long a request may drive an order
    # The quote chains (adapters/evm/config.py, docs/chains.md): an EVM pair takes orders
    # only when its chain is configured. RTC/ERG has no verifier: "unverified" (off by
    # default) enables it, trusting the seller's word that the buyer paid.
    evm: EvmSettings = field(default_factory=EvmSettings)
    rtc_erg_quote_policy: str = "none"
    alert_webhook: str | None = None
    # the push channels: event streams and webhooks (push_config.py)
    streams: StreamSettings = field(default_factory=StreamSettings)
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    # the chain watcher (settlement/watch/config.py, docs/operations.md)
    watcher: WatcherSettings = field(default_factory=WatcherSettings)

    @property
    def secret_key_file(self) -> Path:
        return self.data_dir / "secret.key"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        db_url = env_str("OTC_DATABASE_URL", "", environ)
        if not db_url:
            db_url = sqlite_url(env_str("OTC_DB_PATH", "otc_bridge.db", environ))
        origins = env_list("OTC_CORS_ORIGINS", DEFAULT_CORS_ORIGINS, environ)
        if "*" in origins:
            raise SettingsError("OTC_CORS_ORIGINS must name trusted origins, not '*'")
        admin_key = env_str("RC_ADMIN_KEY", "", environ) or None
        clock_file = env_str("OTC_CLOCK_FILE", "", environ)
        deadlines = DeadlinePolicy(
            lock_window=env_int("OTC_LOCK_WINDOW_SECONDS", 3600, minimum=60, environ=environ),
            quote_timelock_min=env_int(
                "OTC_QUOTE_TIMELOCK_MIN_SECONDS", 7200, minimum=600, environ=environ
            ),
            quote_timelock_max=env_int(
                "OTC_QUOTE_TIMELOCK_MAX_SECONDS", 86400, minimum=1200, environ=environ
            ),
            claim_margin=env_int("OTC_CLAIM_MARGIN_SECONDS", 3600, minimum=60, environ=environ),
            settlement_margin=env_int(
                "OTC_SETTLEMENT_MARGIN_SECONDS", 21600, minimum=600, environ=environ
            ),
            finality_wait=env_int(
                "OTC_QUOTE_FINALITY_WAIT_SECONDS", 600, minimum=0, environ=environ
            ),
        )
        if env_str("OTC_QUOTE_VERIFICATION", "", environ):
            log.warning(
                "OTC_QUOTE_VERIFICATION is gone: EVM pairs are always verified on chain; "
                "RTC/ERG's unverified policy is OTC_RTC_ERG_QUOTE_POLICY"
            )
        return cls(
            database_url=db_url,
            db_pool_size=env_int("OTC_DB_POOL_SIZE", 5, minimum=1, maximum=100, environ=environ),
            host=env_str("OTC_HOST", "127.0.0.1", environ),
            port=env_int("OTC_PORT", 5580, minimum=1, maximum=65535, environ=environ),
            data_dir=Path(env_str("OTC_DATA_DIR", ".otc", environ)),
            node=NodeConfig.from_env(environ),
            admin_key=admin_key,
            cors_origins=tuple(origins),
            trusted_proxies=tuple(env_list("OTC_TRUSTED_PROXIES", [], environ)),
            rate_limits=RateLimits(
                per_ip=env_int("OTC_RATE_LIMIT_PER_IP", 10, minimum=1, environ=environ),
                per_wallet=env_int("OTC_RATE_LIMIT_PER_WALLET", 30, minimum=1, environ=environ),
                window_seconds=env_int(
                    "OTC_RATE_LIMIT_WINDOW_SECONDS", 60, minimum=1, environ=environ
                ),
                admin_failures=env_int(
                    "OTC_RATE_LIMIT_ADMIN_FAILURES", 5, minimum=1, environ=environ
                ),
                admin_window_seconds=env_int(
                    "OTC_RATE_LIMIT_ADMIN_WINDOW_SECONDS", 300, minimum=1, environ=environ
                ),
            ),
            max_body_bytes=env_int("OTC_MAX_BODY_BYTES", 64 * 1024, minimum=1024, environ=environ),
            deadlines=deadlines,
            auth_window_seconds=env_int(
                "OTC_AUTH_WINDOW_SECONDS", 300, minimum=30, environ=environ
            ),
            auth_future_skew_seconds=env_int(
                "OTC_AUTH_FUTURE_SKEW_SECONDS", 30, minimum=0, environ=environ
            ),
            secret_key=env_str("OTC_SECRET_KEY", "", environ) or None,
            clock_file=Path(clock_file) if clock_file else None,
            embedded_worker=env_bool("OTC_EMBEDDED_WORKER", True, environ),
            reconcile_interval_seconds=env_int(
                "OTC_RECONCILE_INTERVAL_SECONDS", 60, minimum=0, environ=environ
            ),
            reconcile_disabled=env_bool("OTC_RECONCILE_DISABLED", False, environ),
            reconcile_lease_seconds=env_int(
                "OTC_RECONCILE_LEASE_SECONDS", 30, minimum=3, environ=environ
            ),
            reconcile_batch=env_int(
                "OTC_RECONCILE_BATCH", 500, minimum=1, maximum=100_000, environ=environ
            ),
            grace_seconds=env_int("OTC_SETTLEMENT_STUCK_SECONDS", 120, minimum=1, environ=environ),
            retry_seconds=env_int("OTC_RETRY_SECONDS", 15, minimum=1, environ=environ),
            payout_poll_seconds=env_int("OTC_PAYOUT_POLL_SECONDS", 30, minimum=1, environ=environ),
            request_budget_seconds=env_int(
                "OTC_REQUEST_BUDGET_SECONDS", 10, minimum=1, environ=environ
            ),
            evm=evm_from_env(environ),
            rtc_erg_quote_policy=_quote_policy(
                env_str("OTC_RTC_ERG_QUOTE_POLICY", "none", environ)
            ),
            alert_webhook=env_str("RC_SOPHIACHECK_WEBHOOK", "", environ) or None,
            streams=StreamSettings.from_env(environ),
            webhooks=WebhookSettings.from_env(environ),
            watcher=WatcherSettings.from_env(environ),
        )


def _quote_policy(raw: str) -> str:
    if raw not in {"none", "unverified"}:
        log.warning("OTC_RTC_ERG_QUOTE_POLICY=%r is not none|unverified; using none", raw)
        return "none"
    return raw
