"""Node connection settings, read from the reference bridge's environment names."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from otc_bridge.domain.rustchain import WORKER_WALLET
from otc_bridge.envparse import env_bool, env_float, env_str

# The reference defaults RUSTCHAIN_NODE to its production node. We name none: nothing of
# ours contacts a node the operator did not name (an unset URL fails every call, and the
# CLI refuses to start a command that needs the node).
NODE_SETTING = "RUSTCHAIN_NODE"


@dataclass(frozen=True, slots=True)
class NodeConfig:
    base_url: str = ""
    admin_key: str | None = None
    timeout_seconds: float = 15.0
    connect_timeout_seconds: float = 5.0
    rate_limit_budget_seconds: float = 30.0
    tls_verify: bool = True
    ca_bundle: str | None = None
    allow_insecure_admin: bool = False
    worker_wallet: str = WORKER_WALLET

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> NodeConfig:
        key = env_str("RC_ADMIN_KEY", "", environ)
        bundle = env_str("RUSTCHAIN_CA_BUNDLE", "", environ)
        return cls(
            base_url=env_str(NODE_SETTING, "", environ),
            admin_key=key or None,
            timeout_seconds=env_float(
                "OTC_NODE_TIMEOUT_SECONDS", 15.0, minimum=0.1, environ=environ
            ),
            rate_limit_budget_seconds=env_float(
                "OTC_NODE_RATE_LIMIT_BUDGET_SECONDS", 30.0, minimum=0.0, environ=environ
            ),
            tls_verify=env_bool("RUSTCHAIN_TLS_VERIFY", True, environ),
            ca_bundle=bundle or None,
            allow_insecure_admin=env_bool("OTC_ALLOW_INSECURE_ADMIN", False, environ),
        )

    @property
    def named(self) -> bool:
        """Whether the operator named a node (RUSTCHAIN_NODE)."""
        return bool(self.base_url)

    @property
    def verify(self) -> bool | str:
        """A pinned CA bundle wins over the verify flag, as in the reference bridge."""
        return self.ca_bundle if self.ca_bundle else self.tls_verify

    @property
    def is_local(self) -> bool:
        return _is_local(self.base_url)

    def admin_transport_problem(self) -> str | None:
        """Why the admin key must not be sent to this node, or None when it may.

        The key moves the whole ledger, so it goes only over verified TLS, or to a node
        on this machine, unless the operator explicitly opts out. This guard covers every
        admin call, reads included (the reference leaked the key from its reconciler).
        """
        if not self.admin_key:
            return "admin_key_missing"
        if self.allow_insecure_admin or self.is_local:
            return None
        if _scheme(self.base_url) != "https":
            return "insecure_admin_transport"
        if self.verify is False:
            return "insecure_admin_transport"
        return None


# Asked before every admin call: the URL is parsed once per value, not per call.
@functools.lru_cache(maxsize=16)
def _is_local(base_url: str) -> bool:
    host = httpx.URL(base_url).host
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@functools.lru_cache(maxsize=16)
def _scheme(base_url: str) -> str:
    return httpx.URL(base_url).scheme
