"""A crash (SIGKILL) and restart keeps the ledger, jobs, pending pool and clock; it resets
the in-memory rate buckets and faults."""

from __future__ import annotations

import json

from tests.conftest import DevnodeFactory
from tests.devnode.helpers import balance_i64, job, make_job, pending_rows, transfer


def test_state_survives_a_crash_and_rate_buckets_do_not(devnode_factory: DevnodeFactory) -> None:
    node = devnode_factory()
    node.control.faucet("maker", 10)
    job_id = make_job(node, "maker", 2.01)
    queued = transfer(node, "maker", "buyer", 1, "k").json()
    node.control.advance_clock(3600)
    node.control.add_fault("GET /agent/jobs", "json_500")
    for _ in range(12):
        node.http.post("/wallet/transfer", json={})
    assert node.http.post("/wallet/transfer", json={}).status_code == 429
    port, pid = node.process.port, node.process.pid

    node.process.restart(hard=True)

    assert (node.process.port, node.process.pid != pid) == (port, True)
    assert balance_i64(node, "maker") == 10_000_000 - 2110498
    assert job(node, job_id)["escrow_i64"] == 2110498
    assert [row["tx_hash"] for row in pending_rows(node)] == [queued["tx_hash"]]
    assert node.control.clock()["offset_seconds"] == 3600
    state = json.loads((node.process.state_dir / "clock.json").read_text())
    assert state == {"offset_seconds": 3600}
    assert node.http.post("/wallet/transfer", json={}).status_code == 401  # bucket reset
    assert node.control.faults() == []
    assert node.http.get("/agent/jobs").status_code == 200
    assert transfer(node, "maker", "buyer", 1, "k").json()["pending_id"] == queued["pending_id"]


def test_graceful_stop_and_start(devnode_factory: DevnodeFactory) -> None:
    node = devnode_factory()
    node.control.faucet("a", 3)
    node.process.restart()
    assert balance_i64(node, "a") == 3_000_000
    assert "devnode on http://127.0.0.1" in node.process.log_path.read_text()
