"""`serve(host, port)`: run the devnode under uvicorn (httptools, one process, one loop)."""

from __future__ import annotations

import logging
import sys

import uvicorn

from otc_bridge.devnet.devnode.app import DevnodeApp
from otc_bridge.devnet.devnode.settings import SettingsError, load_settings


def serve(host: str, port: int) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = load_settings()
    except SettingsError as exc:
        # The node refuses to start without a proper admin key; so does the devnode.
        print(f"FATAL: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    logging.getLogger(__name__).info(
        "devnode on http://%s:%d, state in %s, scheduler %s, latency %g ms (+0..%g ms jitter)",
        host,
        port,
        settings.state_dir,
        "on" if settings.scheduler_enabled else "off",
        settings.latency_ms,
        settings.latency_jitter_ms,
    )
    config = uvicorn.Config(
        DevnodeApp(settings),
        host=host,
        port=port,
        http="httptools",
        lifespan="on",
        access_log=False,
        server_header=False,
        # The node sees the direct peer (no ProxyFix): X-Forwarded-For must not rewrite it.
        proxy_headers=False,
        log_level="info",
        timeout_graceful_shutdown=2,
    )
    uvicorn.Server(config).run()
