"""The bridge as a real HTTP server in a thread of the test process.

Real sockets and real concurrency (parallel takers are real parallel requests), while the
test keeps a handle on the container: it can run a worker pass deterministically instead
of waiting for a timer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from otc_bridge.api.app import create_app
from otc_bridge.api.streams import stop_streams
from otc_bridge.bootstrap import Container, build
from otc_bridge.clientlib.bridge import BridgeClient
from otc_bridge.config import Settings
from otc_bridge.devnet.process import DevnodeProcess, free_port
from otc_bridge.settlement.watch.build import build_watchers
from tests.support.chain import chain_env
from tests.support.client import TraderClient
from tests.support.databases import fresh_database_url


@dataclass
class RunningBridge:
    url: str
    container: Container
    client: BridgeClient

    def alerts(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(level, title, fields) of every alert the bridge queued, oldest first."""
        with self.container.store.read() as uow:
            rows = uow.alerts.newest(limit=1000)
        return [(r.level, r.title, r.fields) for r in reversed(rows)]

    def run_worker(self) -> dict[str, object]:
        return self.container.reconciler.run_pass().as_dict()


def bridge_env(node: DevnodeProcess, state: Path, **overrides: str) -> dict[str, str]:
    env = {
        "RUSTCHAIN_NODE": node.url,
        "RC_ADMIN_KEY": node.admin_key,
        "OTC_DATABASE_URL": fresh_database_url(state),
        "OTC_DB_POOL_SIZE": "3",
        "OTC_DATA_DIR": str(state),
        "OTC_CLOCK_FILE": str(node.state_dir / "clock.json"),
        "OTC_EMBEDDED_WORKER": "0",
        "OTC_NODE_TIMEOUT_SECONDS": "5",
        "OTC_RATE_LIMIT_PER_IP": "1000",
        "OTC_RATE_LIMIT_PER_WALLET": "1000",
        # A lock is seen quickly again when it was not final yet, or the chain was down.
        "OTC_RETRY_SECONDS": "2",
    }
    env.update(chain_env(node.url))  # the EVM pairs verify on the node's own dev chain
    env.update(overrides)
    return env


@contextmanager
def running_bridge(env: Mapping[str, str]) -> Iterator[RunningBridge]:
    settings = Settings.from_env(env)
    container = build(settings)
    app = create_app(container, start_worker=False)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            proxy_headers=False,  # client IPs are the bridge's call (OTC_TRUSTED_PROXIES)
        )
    )
    thread = threading.Thread(target=server.run, name="bridge-under-test", daemon=True)
    thread.start()
    started = threading.Event()
    while not server.started and thread.is_alive():
        started.wait(0.01)  # readiness poll for the port, not a synchronisation sleep
    url = f"http://127.0.0.1:{port}"
    client = TraderClient(url, clock=container.clock.now)
    try:
        yield RunningBridge(url, container, client)
    finally:
        client.close()
        stop_streams(app)  # a server in a thread hears no signal: its open streams end now
        server.should_exit = True
        thread.join(timeout=30)


def restart_watchers(container: Container) -> None:
    """The container's watchers built again as bootstrap builds them: a new worker
    process's, with nothing in memory and their checkpoints in the database."""
    container.watchers = build_watchers(
        container.settings.evm,
        container.settings.watcher,
        store=container.store,
        clock=container.clock,
        settlement=container.settlement,
        alerts=container.alerts,
    )
