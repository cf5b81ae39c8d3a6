"""`make run`: the whole devnet on loopback, in one command.

Starts the dev chain (anvil, HTLC and devnet USDC deployed, accounts funded, a block
every DEVCHAIN_BLOCK_SECONDS) and the devnode (RustChain node API, scheduler on, short
confirmation delay) as subprocesses, and serves the bridge against both. The bridge
shares the devnode's clock file, and the devnode moves the chain's time, so that
`POST /devnet/clock` moves all three. State lives in DEVNET_DIR (default .devnet) and
survives restarts (the chain's included).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

import uvicorn

from otc_bridge.adapters.store.engine import sqlite_url
from otc_bridge.api.app import create_app
from otc_bridge.bootstrap import build
from otc_bridge.config import Settings
from otc_bridge.devnet import operator_env
from otc_bridge.devnet.devchain.deploy import ChainInfo
from otc_bridge.devnet.devchain.handoff import bridge_chain_environment
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.devnet.devnode.clock import read_offset
from otc_bridge.devnet.process import DEFAULT_ADMIN_KEY, DevnodeProcess
from otc_bridge.envparse import env_int, env_str
from otc_bridge.observability import logs


def devnet_settings(
    state: Path,
    node_url: str,
    admin_key: str,
    port: int,
    chain: tuple[ChainInfo, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The bridge's own settings for the devnet, under the operator-facing names (a few
    the operator's environment may override); `chain` is the dev chain's deployment and
    the RPC URL the bridge reaches it at."""
    given = os.environ if environ is None else environ
    defaults = {
        "OTC_DATABASE_URL": sqlite_url(state / "bridge.sqlite3"),
        "OTC_DATA_DIR": str(state),
        "OTC_CORS_ORIGINS": f"http://127.0.0.1:{port},http://localhost:{port}",
        "OTC_RECONCILE_INTERVAL_SECONDS": "3",
        "OTC_PAYOUT_POLL_SECONDS": "3",
        # Webhooks may call back to this machine (a receiver on loopback), and soon.
        "OTC_WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1",
        "OTC_WEBHOOK_POLL_SECONDS": "1",
    }
    env = {name: given.get(name, value) for name, value in defaults.items()}
    env.update(
        {
            "RUSTCHAIN_NODE": node_url,
            "RC_ADMIN_KEY": admin_key,
            "OTC_PORT": str(port),
            "OTC_CLOCK_FILE": str(state / "node" / "clock.json"),
        }
    )
    if chain is not None:
        env.update(bridge_chain_environment(*chain))
    return env


def run_devnet() -> None:
    logs.configure(
        json_lines=env_str("OTC_LOG_FORMAT", "text") == "json",
        level=env_str("OTC_LOG_LEVEL", "INFO"),
    )
    state = Path(env_str("DEVNET_DIR", ".devnet")).resolve()
    node_port = env_int("DEVNODE_PORT", 8099, minimum=1, maximum=65535)
    chain_port = env_int("DEVCHAIN_PORT", 8545, minimum=1, maximum=65535)
    block_seconds = env_int("DEVCHAIN_BLOCK_SECONDS", 1, minimum=0, maximum=3600)
    port = env_int("OTC_PORT", 5580, minimum=1, maximum=65535)
    admin_key = env_str("RC_ADMIN_KEY", DEFAULT_ADMIN_KEY)
    chain = Devchain(
        state / "chain",
        port=chain_port,
        block_seconds=block_seconds or None,  # 0: a block per transaction, else on demand
        persist=True,
        info_path=state / "chain.json",
    )
    chain.process.die_with_parent = True  # a killed `make run` leaves no chain behind
    chain.start()
    try:
        _run_with_chain(state, chain, node_port, port, admin_key)
    finally:
        chain.stop()


def _run_with_chain(
    state: Path, chain: Devchain, node_port: int, port: int, admin_key: str
) -> None:
    node = DevnodeProcess(
        state / "node",
        port=node_port,
        admin_key=admin_key,
        env={
            "DEVNODE_SCHEDULER": env_str("DEVNODE_SCHEDULER", "on"),
            "RC_CONFIRMATION_DELAY_SECONDS": env_str("RC_CONFIRMATION_DELAY_SECONDS", "10"),
            "DEVNODE_CHAIN_RPC_URL": chain.rpc_url,
        },
    )
    node.die_with_parent = True
    node.start()
    try:
        # One clock: a devnode clock moved earlier (its offset is kept in its state
        # folder) pulls the chain's time along before anyone reads either.
        chain.control.catch_up(read_offset(state / "node" / "clock.json") + int(time.time()))
        info = chain.info
        own = devnet_settings(state, node.url, admin_key, port, (info, chain.rpc_url))
        settings = Settings.from_env({**os.environ, **own})
        app = create_app(build(settings))
        bridge_url = f"http://127.0.0.1:{port}"
        handed = operator_env.OperatorEnv(bridge_url, operator_env.operator_settings(own))
        operator_env.write(state, handed)
        exports = "\n".join(f"      {line}" for line in handed.exports())
        print(
            f"\n  devnet up (state in {state})\n"
            f"    bridge   {bridge_url}   (the page: /, API docs: /docs, /openapi.json)\n"
            f"    devnode  {node.url}   (node API + /devnet/faucet, /devnet/ledger, "
            f"/devnet/clock, /devnet/faults)\n"
            f"    chain    {chain.rpc_url}   (anvil, chain id {info.chain_id}, "
            f"{info.finality_confirmations} confirmations final)\n"
            f"             HTLC {info.htlc_contract}   USDC {info.usdc_token} "
            f"({info.usdc_decimals} decimals)\n"
            f"             {len(info.accounts)} unlocked accounts with ETH and USDC "
            f"(addresses in {state / 'chain.json'})\n"
            f"    admin key (node and /admin/reconcile): {admin_key}\n"
            f"\n  operator commands (otc-bridge orders …, alerts list, reconcile) against this "
            f"devnet, in another shell:\n"
            f'      eval "$(otc-bridge devnet env)"    # with DEVNET_DIR={state}, or paste:\n'
            f"{exports}\n",
            flush=True,
        )
        uvicorn.run(app, host=settings.host, port=port, proxy_headers=False, log_config=None)
    finally:
        node.stop()
