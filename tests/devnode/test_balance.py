"""`GET /wallet/balance`: settled µRTC, exact-match wallet ids, the node's 400 texts."""

from __future__ import annotations

from tests.conftest import Devnode
from tests.devnode.helpers import transfer


def test_unknown_wallet_is_zero_without_ok_field(devnode: Devnode) -> None:
    response = devnode.http.get("/wallet/balance", params={"miner_id": "nobody"})
    assert response.status_code == 200
    assert response.json() == {"miner_id": "nobody", "amount_i64": 0, "amount_rtc": 0.0}


def test_balance_reports_i64_and_float(devnode: Devnode) -> None:
    devnode.control.faucet("still_worthy", "0.80961")
    response = devnode.http.get("/wallet/balance", params={"address": "still_worthy"})
    assert response.json() == {
        "miner_id": "still_worthy",
        "amount_i64": 809610,
        "amount_rtc": 0.80961,
    }
    both = devnode.http.get(
        "/wallet/balance", params={"miner_id": "still_worthy", "address": "still_worthy"}
    )
    assert both.json()["amount_i64"] == 809610


def test_wallet_ids_are_case_sensitive(devnode: Devnode) -> None:
    devnode.control.faucet("RTCABC", 5)
    upper = devnode.http.get("/wallet/balance", params={"miner_id": "RTCABC"}).json()
    lower = devnode.http.get("/wallet/balance", params={"miner_id": "RTCabc"}).json()
    assert (upper["amount_i64"], lower["amount_i64"]) == (5_000_000, 0)


def test_builtin_wallets_can_be_queried(devnode: Devnode) -> None:
    for wallet in ("agent_escrow", "founder_community", "otc_bridge_worker"):
        response = devnode.http.get("/wallet/balance", params={"miner_id": wallet})
        assert response.json() == {"miner_id": wallet, "amount_i64": 0, "amount_rtc": 0.0}


def test_balance_errors(devnode: Devnode) -> None:
    cases = [
        ({"miner_id": " still_worthy"}, "invalid miner_id"),
        ({"miner_id": "*"}, "invalid miner_id"),
        ({"miner_id": "x" * 81}, "invalid miner_id"),
        ({"address": "bad id!"}, "invalid miner_id"),
        (
            {"miner_id": "alice", "address": "bob"},
            "miner_id and address must match when both are provided",
        ),
        ({}, "miner_id or address required"),
        ({"miner_id": ""}, "miner_id or address required"),
    ]
    for params, error in cases:
        response = devnode.http.get("/wallet/balance", params=params)
        assert response.status_code == 400, params
        assert response.json() == {"ok": False, "error": error}, params


def test_balance_is_settled_not_net_of_pending(devnode: Devnode) -> None:
    devnode.control.faucet("alice", 10)
    assert transfer(devnode, "alice", "bob", 4, "k1").status_code == 200
    assert devnode.http.get("/wallet/balance?miner_id=alice").json()["amount_i64"] == 10_000_000
    assert devnode.http.get("/wallet/balance?miner_id=bob").json()["amount_i64"] == 0
