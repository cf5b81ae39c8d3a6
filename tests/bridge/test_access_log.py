"""`otc-bridge serve` writes a line per request only when the operator asks for it
(OTC_ACCESS_LOG=1), at the default log level too (docs/operations.md, Logs)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from otc_bridge.devnet.process import DevnodeProcess
from tests.support.bridge import bridge_env
from tests.support.forked import ForkedBridgeProcess

REQUESTS = 5


def access_lines(node: DevnodeProcess, state: Path, **env: str) -> int:
    """Access lines a serve process (2 workers, as deployed) wrote for REQUESTS reads."""
    api = ForkedBridgeProcess(state / "api", env=bridge_env(node, state, OTC_WORKERS="2", **env))
    with api:
        for _ in range(REQUESTS):
            assert httpx.get(f"{api.url}/api/orderbook").status_code == 200
    lines = [json.loads(line) for line in api.log_path.read_text().splitlines() if line[:1] == "{"]
    return sum(
        1
        for line in lines
        if line["logger"] == "uvicorn.access" and '"GET /api/orderbook HTTP/1.1" 200' in line["msg"]
    )


def test_no_line_per_request_by_default(devnode_process: DevnodeProcess, tmp_path: Path) -> None:
    assert access_lines(devnode_process, tmp_path, OTC_LOG_LEVEL="INFO") == 0


def test_a_line_per_request_when_asked(devnode_process: DevnodeProcess, tmp_path: Path) -> None:
    lines = access_lines(devnode_process, tmp_path, OTC_LOG_LEVEL="INFO", OTC_ACCESS_LOG="1")
    assert lines == REQUESTS
