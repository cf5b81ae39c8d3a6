"""ASGI factory for `otc-bridge serve` (and any ASGI server): settings from the env."""

from __future__ import annotations

import os

from fastapi import FastAPI

from otc_bridge.api.app import create_app
from otc_bridge.bootstrap import build
from otc_bridge.config import Settings


def app_from_env() -> FastAPI:
    settings = Settings.from_env()
    # With several API processes, the worker runs once elsewhere (`otc-bridge worker`),
    # unless the operator asked for it here.
    embedded = os.environ.get("OTC_EMBEDDED_WORKER")
    return create_app(build(settings), start_worker=None if embedded else settings.embedded_worker)
