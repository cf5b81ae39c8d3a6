"""`make run`: the whole devnet on loopback, in one command.

Starts the devnode (RustChain node API, scheduler on, short confirmation delay) as a
subprocess and serves the bridge against it, sharing the devnode's clock file so that
`POST /devnet/clock` moves both. State lives in DEVNET_DIR (default .devnet) and
survives restarts.
"""

from __future__ import annotations

import os
from pathlib import Path

import uvicorn

from otc_bridge.adapters.store.engine import sqlite_url
from otc_bridge.api.app import create_app
from otc_bridge.bootstrap import build
from otc_bridge.config import Settings
from otc_bridge.devnet.process import DEFAULT_ADMIN_KEY, DevnodeProcess
from otc_bridge.envparse import env_int, env_str
from otc_bridge.observability import logs


def devnet_environment(state: Path, node_url: str, admin_key: str, port: int) -> dict[str, str]:
    """The bridge's settings for the devnet, under the operator-facing names."""
    env = dict(os.environ)
    env.setdefault("OTC_DATABASE_URL", sqlite_url(state / "bridge.sqlite3"))
    env.setdefault("OTC_DATA_DIR", str(state))
    env.setdefault("OTC_CORS_ORIGINS", f"http://127.0.0.1:{port},http://localhost:{port}")
    env.setdefault("OTC_RECONCILE_INTERVAL_SECONDS", "3")
    env.setdefault("OTC_PAYOUT_POLL_SECONDS", "3")
    # The devnet has no quote chain to verify against (see settlement/quote_leg.py).
    env.setdefault("OTC_QUOTE_VERIFICATION", "unverified")
    env.update(
        {
            "RUSTCHAIN_NODE": node_url,
            "RC_ADMIN_KEY": admin_key,
            "OTC_PORT": str(port),
            "OTC_CLOCK_FILE": str(state / "node" / "clock.json"),
        }
    )
    return env


def run_devnet() -> None:
    logs.configure(json_lines=env_str("OTC_LOG_FORMAT", "text") == "json")
    state = Path(env_str("DEVNET_DIR", ".devnet")).resolve()
    node_port = env_int("DEVNODE_PORT", 8099, minimum=1, maximum=65535)
    port = env_int("OTC_PORT", 5580, minimum=1, maximum=65535)
    admin_key = env_str("RC_ADMIN_KEY", DEFAULT_ADMIN_KEY)
    node = DevnodeProcess(
        state / "node",
        port=node_port,
        admin_key=admin_key,
        env={
            "DEVNODE_SCHEDULER": env_str("DEVNODE_SCHEDULER", "on"),
            "RC_CONFIRMATION_DELAY_SECONDS": env_str("RC_CONFIRMATION_DELAY_SECONDS", "10"),
        },
    )
    node.start()
    try:
        settings = Settings.from_env(devnet_environment(state, node.url, admin_key, port))
        app = create_app(build(settings))
        print(
            f"\n  devnet up (state in {state})\n"
            f"    bridge   http://127.0.0.1:{port}   (API: /api/orders, /api/orderbook, "
            f"/openapi.json)\n"
            f"    devnode  {node.url}   (node API + /devnet/faucet, /devnet/ledger, "
            f"/devnet/clock, /devnet/faults)\n"
            f"    admin key (node and /admin/reconcile): {admin_key}\n",
            flush=True,
        )
        uvicorn.run(app, host=settings.host, port=port, proxy_headers=False, log_config=None)
    finally:
        node.stop()
