"""Settings of the push channels: event streams (SSE) and webhooks.

Grouped here so `config.Settings` carries them as two fields; read from the environment
with the same rules as every other setting (a bad value falls back to the default with a
warning). Defaults are documented in docs/operations.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from otc_bridge.envparse import env_bool, env_float, env_int, env_str


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """`GET /api/orders/{id}/stream` and `GET /api/stream`, per API process."""

    poll_seconds: float = 1.0  # how often the process looks for changes (one query for all)
    keepalive_seconds: float = 15.0  # a comment line on an idle stream, so proxies keep it
    retry_ms: int = 3000  # the reconnect delay the stream asks EventSource clients for
    max_open: int = 1000  # streams one API process holds at once
    max_per_ip: int = 20  # streams one client address holds at once (per process)
    retry_after_seconds: int = 10  # Retry-After of a 429 past either cap

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StreamSettings:
        return cls(
            poll_seconds=env_float("OTC_STREAM_POLL_SECONDS", 1.0, minimum=0.05, environ=environ),
            keepalive_seconds=env_float(
                "OTC_STREAM_KEEPALIVE_SECONDS", 15.0, minimum=0.1, environ=environ
            ),
            retry_ms=env_int("OTC_STREAM_RETRY_MS", 3000, minimum=100, environ=environ),
            max_open=env_int("OTC_STREAMS_MAX", 1000, minimum=1, environ=environ),
            max_per_ip=env_int("OTC_STREAMS_PER_IP", 20, minimum=1, environ=environ),
            retry_after_seconds=env_int(
                "OTC_STREAMS_RETRY_AFTER_SECONDS", 10, minimum=1, environ=environ
            ),
        )


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    """Trader webhooks (registration and delivery) and the operators' alert webhook."""

    max_per_wallet: int = 5
    # Only the devnet may call back to loopback, private or link-local addresses.
    allow_private_addresses: bool = False
    timeout_seconds: float = 5.0  # one delivery attempt, connect to answer
    poll_seconds: float = 2.0  # how often a worker looks for due deliveries
    backoff_base_seconds: int = 10  # after attempt n failed: base * 2^(n-1), capped, jittered
    backoff_max_seconds: int = 3600
    max_attempts: int = 20  # then the delivery is given up and operators are alerted
    alert_secret: str | None = None  # RC_SOPHIACHECK_WEBHOOK_SECRET: signs operator alerts

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebhookSettings:
        return cls(
            max_per_wallet=env_int("OTC_WEBHOOKS_PER_WALLET", 5, minimum=1, environ=environ),
            allow_private_addresses=env_bool("OTC_WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False, environ),
            timeout_seconds=env_float(
                "OTC_WEBHOOK_TIMEOUT_SECONDS", 5.0, minimum=0.1, environ=environ
            ),
            poll_seconds=env_float("OTC_WEBHOOK_POLL_SECONDS", 2.0, minimum=0.1, environ=environ),
            backoff_base_seconds=env_int(
                "OTC_WEBHOOK_BACKOFF_BASE_SECONDS", 10, minimum=1, environ=environ
            ),
            backoff_max_seconds=env_int(
                "OTC_WEBHOOK_BACKOFF_MAX_SECONDS", 3600, minimum=1, environ=environ
            ),
            max_attempts=env_int("OTC_WEBHOOK_MAX_ATTEMPTS", 20, minimum=1, environ=environ),
            alert_secret=env_str("RC_SOPHIACHECK_WEBHOOK_SECRET", "", environ) or None,
        )
