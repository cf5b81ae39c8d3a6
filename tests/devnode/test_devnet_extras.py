"""The `/devnet/*` extras: faucet, ledger view, clock, scheduler, history fill, reset."""

from __future__ import annotations

import json

from tests.conftest import Devnode, DevnodeFactory
from tests.devnode.helpers import balance_i64, make_job, pending_rows, transfer

DAY = 86400


def test_faucet_credits_floor_of_micro_rtc(devnode: Devnode) -> None:
    credited = devnode.control.faucet("a", "1.0000019")
    assert (credited["credited_i64"], credited["balance_i64"]) == (1_000_001, 1_000_001)
    assert devnode.control.faucet("a", 2.5)["total_supply_i64"] == 3_500_001
    assert pending_rows(devnode) == []  # no pending row, no ledger row
    for body in (
        {"wallet": "a", "amount_rtc": True},
        {"wallet": "a", "amount_rtc": -1},
        {"wallet": "a", "amount_rtc": "0.0000001"},
        {"wallet": "a", "amount_rtc": "lots"},
        {"wallet": "a", "amount_rtc": "1e400"},
        {"wallet": "", "amount_rtc": 1},
        {"amount_rtc": 1},
    ):
        response = devnode.http.post("/devnet/faucet", json=body)
        assert response.status_code == 400, body
        assert response.json()["ok"] is False


def test_ledger_view(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    make_job(devnode, "maker", 2.01)
    transfer(devnode, "maker", "b", 1, "k")
    view = devnode.control.assert_conserved()
    assert view["balances"] == {
        "agent_escrow": 2110498,
        "founder_community": 0,
        "maker": 10_000_000 - 2110498,
        "otc_bridge_worker": 0,
    }
    assert view["total_supply_i64"] == 10_000_000
    assert view["escrow"] == {
        "wallet": "agent_escrow",
        "balance_i64": 2110498,
        "jobs_escrow_i64": 2110498,
        "active_jobs": 1,
    }
    assert view["pending_pool"]["pending"] == {"count": 1, "amount_i64": 1_000_000}
    assert view["checks"] == {
        "supply_conserved": True,
        "escrow_matches_jobs": True,
        "no_negative_balances": True,
    }


def test_clock(devnode: Devnode) -> None:
    before = devnode.control.clock()
    assert before["offset_seconds"] == 0
    after = devnode.control.advance_clock(DAY)
    assert after["offset_seconds"] == DAY
    assert DAY <= after["now"] - before["now"] <= DAY + 2
    state = devnode.process.state_dir / "clock.json"
    assert json.loads(state.read_text()) == {"offset_seconds": DAY}
    refused = (-1, 1.5, True, 10 * 365 * 86400 + 1, 10**30)
    for body in [*({"advance_seconds": v} for v in refused), {}]:
        response = devnode.http.post("/devnet/clock", json=body)
        assert response.status_code == 400, body
    assert devnode.control.clock()["offset_seconds"] == DAY


def test_scheduler_settings_and_tick(devnode: Devnode) -> None:
    state = devnode.control.scheduler()
    assert (state["enabled"], state["batch_limit"], state["confirmation_delay_seconds"]) == (
        False,
        100,
        DAY,
    )
    state = devnode.control.configure_scheduler(batch_limit=2, confirmation_delay_seconds=60)
    assert (state["batch_limit"], state["confirmation_delay_seconds"]) == (2, 60)
    devnode.control.faucet("a", 10)
    ids = [transfer(devnode, "a", "b", 1).json()["pending_id"] for _ in range(5)]
    devnode.control.advance_clock(60)
    first = devnode.control.tick()  # a small batch
    assert (first["confirmed_ids"], first["stale_pending_count"]) == (ids[:2], 3)
    assert devnode.control.tick(limit=10)["confirmed_ids"] == ids[2:]
    assert devnode.control.scheduler()["runs"] == 2
    for body in (
        {"batch_limit": 0},
        {"enabled": "yes"},
        {"interval_seconds": 0},
        {"confirmation_delay_seconds": -1},
        {"confirmation_delay_seconds": 10**30},  # would overflow every later confirms_at
    ):
        assert devnode.http.post("/devnet/scheduler", json=body).status_code == 400, body
    assert transfer(devnode, "a", "b", 1).status_code == 200


def test_stalled_scheduler_leaves_transfers_pending(devnode: Devnode) -> None:
    devnode.control.faucet("a", 10)
    tx_hash = transfer(devnode, "a", "b", 1, "k").json()["tx_hash"]
    devnode.control.advance_clock(30 * DAY)
    assert devnode.http.get(f"/wallet/tx/{tx_hash}").json()["status"] == "pending"


def test_enabled_scheduler_confirms_in_the_background(devnode_factory: DevnodeFactory) -> None:
    """The one test that waits: for the background loop itself (bounded, no sleep)."""
    node = devnode_factory(
        env={
            "DEVNODE_SCHEDULER": "on",
            "DEVNODE_SCHEDULER_INTERVAL_SECONDS": "0.05",
            "RC_CONFIRMATION_DELAY_SECONDS": "0",
        }
    )
    node.control.faucet("a", 10)
    tx_hash = transfer(node, "a", "b", 1, "k").json()["tx_hash"]
    for _ in range(2000):
        if node.http.get(f"/wallet/tx/{tx_hash}").json()["status"] == "confirmed":
            break
    assert node.http.get(f"/wallet/tx/{tx_hash}").json()["status"] == "confirmed"
    assert node.control.scheduler()["runs"] >= 1
    stalled = node.control.configure_scheduler(enabled=False)
    assert stalled["enabled"] is False


def test_fill_pending_history(devnode: Devnode) -> None:
    devnode.control.faucet("a", 10)
    filled = devnode.control.fill_pending(100_000, "confirmed")
    assert filled["last_id"] - filled["first_id"] + 1 == 100_000
    devnode.control.fill_pending(10, "voided")
    queued = devnode.control.fill_pending(
        3, "pending", from_miner="a", to_miner="b", amount_i64=2_000_000
    )
    newest = pending_rows(devnode)
    assert len(newest) == 500
    assert newest[0]["id"] == queued["last_id"]
    refused = transfer(devnode, "a", "b", 5)
    assert refused.json()["pending_debits_rtc"] == 6.0  # history rows of a real wallet count
    oldest = pending_rows(devnode, "confirmed")[-1]
    # no ledger pair behind synthetic rows: the node's lookup calls such a row "pending"
    assert devnode.http.get(f"/wallet/tx/{oldest['tx_hash']}").json()["status"] == "pending"
    assert balance_i64(devnode, "devnet_history_receiver") == 0
    view = devnode.control.assert_conserved()
    assert view["pending_pool"]["confirmed"]["count"] == 100_000
    assert devnode.http.post("/devnet/pending/fill", json={"count": 0}).status_code == 400
    assert (
        devnode.http.post("/devnet/pending/fill", json={"count": 1, "status": "x"}).status_code
        == 400
    )


def test_reset_wipes_everything(devnode: Devnode) -> None:
    devnode.control.faucet("a", 10)
    transfer(devnode, "a", "b", 1, "k")
    devnode.control.advance_clock(DAY)
    devnode.control.add_fault("POST /wallet/transfer", "drop")
    devnode.control.configure_scheduler(batch_limit=3)
    devnode.control.reset()
    view = devnode.control.ledger()
    builtin = {"agent_escrow": 0, "founder_community": 0, "otc_bridge_worker": 0}
    assert (view["balances"], view["total_supply_i64"]) == (builtin, 0)
    assert devnode.control.clock()["offset_seconds"] == 0
    assert devnode.control.faults() == []
    assert devnode.control.scheduler()["batch_limit"] == 100
    assert pending_rows(devnode) == []
    devnode.control.faucet("a", 1)
    assert transfer(devnode, "a", "b", 1, "k").json()["pending_id"] == 1  # ids restart
