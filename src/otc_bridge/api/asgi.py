"""ASGI factory for `otc-bridge serve` (and any ASGI server): settings from the env."""

from __future__ import annotations

import os

from fastapi import FastAPI

from otc_bridge.api.app import create_app
from otc_bridge.bootstrap import build
from otc_bridge.config import Settings
from otc_bridge.observability import logs


def app_from_env() -> FastAPI:
    """`otc-bridge serve`: the API only. The reconciler runs in `otc-bridge worker`
    processes, unless the operator explicitly sets OTC_EMBEDDED_WORKER=1."""
    logs.configure(
        json_lines=os.environ.get("OTC_LOG_FORMAT", "json") != "text",
        level=os.environ.get("OTC_LOG_LEVEL", "INFO"),
        access_log=os.environ.get("OTC_ACCESS_LOG", "0") == "1",
    )
    settings = Settings.from_env()
    embedded = os.environ.get("OTC_EMBEDDED_WORKER") is not None and settings.embedded_worker
    return create_app(build(settings), start_worker=embedded)
