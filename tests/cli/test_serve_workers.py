"""`otc-bridge serve --workers N` (api/workers.py): connections a client pool opens at once
spread over the worker processes, a worker that dies is replaced while the API keeps
answering, and no worker outlives its supervisor (stopped or killed)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from otc_bridge.devnet.bridge_process import BridgeProcess
from otc_bridge.devnet.process import DevnodeProcess
from tests.support.bridge import bridge_env
from tests.support.fixtures import devchain, node
from tests.support.waiting import wait_for

__all__ = ["devchain", "node"]  # fixtures


@pytest.fixture
def api(node: DevnodeProcess, tmp_path: Path) -> Iterator[BridgeProcess]:
    env = {**bridge_env(node, tmp_path / "bridge"), "OTC_WORKERS": "2"}
    with BridgeProcess(tmp_path / "api", env=env, startup_timeout=120) as running:
        assert wait_for(lambda: listening(running.port) == 2)  # each binds once loaded
        yield running


def listening(port: int) -> int:
    return sum(
        1
        for c in psutil.net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
    )


def workers(api: BridgeProcess) -> list[psutil.Process]:
    assert api.pid is not None
    return [p for p in psutil.Process(api.pid).children() if "spawn_main" in " ".join(p.cmdline())]


def serving(api: BridgeProcess) -> set[int]:
    """The worker pids that hold an established connection on the API's port."""
    held = set()
    for worker in workers(api):
        for conn in worker.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_ESTABLISHED and conn.laddr.port == api.port:
                held.add(worker.pid)
    return held


def test_connections_opened_at_once_spread_over_the_workers(api: BridgeProcess) -> None:
    assert wait_for(lambda: len(workers(api)) == 2)
    clients = [httpx.Client(base_url=api.url, timeout=30) for _ in range(16)]
    try:
        for client in clients:  # each opens its own keep-alive connection
            assert client.get("/api/pairs").status_code == 200
        # one shared socket gave all 16 to one process; a hash puts all on one in 2^-15
        assert len(serving(api)) == 2
    finally:
        for client in clients:
            client.close()


def test_a_dead_worker_is_replaced_and_the_api_keeps_answering(api: BridgeProcess) -> None:
    assert wait_for(lambda: len(workers(api)) == 2)
    victim = workers(api)[0]
    victim.kill()
    victim.wait(timeout=30)
    assert httpx.get(f"{api.url}/api/pairs", timeout=30).status_code == 200  # the other one
    assert wait_for(
        lambda: len(workers(api)) == 2 and victim.pid not in {w.pid for w in workers(api)}
    )
    for _ in range(10):  # whichever socket a connection lands on is served
        assert httpx.get(f"{api.url}/api/orderbook", timeout=30).status_code == 200


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_no_worker_outlives_its_supervisor(api: BridgeProcess, how: str) -> None:
    assert wait_for(lambda: len(workers(api)) == 2)
    children = workers(api)
    if how == "stop":
        api.stop(timeout=60)  # SIGTERM: each worker finishes, then the supervisor exits
    else:
        api.kill()  # SIGKILL: the workers are told by the kernel (parent-death signal)
    _gone, alive = psutil.wait_procs(children, timeout=60)
    assert alive == []
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", api.port), timeout=5),
    ):
        pass  # nothing listens on the port any more
