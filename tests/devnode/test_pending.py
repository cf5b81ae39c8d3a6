"""The pending pool: `/pending/list`, `/pending/confirm`, `/pending/void`, `/pending/integrity`."""

from __future__ import annotations

from typing import Any

from tests.conftest import Devnode
from tests.devnode.helpers import balance_i64, make_job, pending_rows, transfer

DAY = 86400
LIST_UNAUTHORIZED = {
    "error": "Unauthorized. Provide miner_id for public check or Admin Key for full list."
}
ITEM_FIELDS = {
    "id", "ts", "from_miner", "to_miner", "amount_rtc", "reason", "status", "confirms_at",
    "voided_by", "voided_reason", "tx_hash",
}  # fmt: skip


def queue(devnode: Devnode, count: int, sender: str = "a", receiver: str = "b") -> list[int]:
    return [transfer(devnode, sender, receiver, 1).json()["pending_id"] for _ in range(count)]


# --- /pending/list -------------------------------------------------------------------------


def test_list_auth(devnode: Devnode) -> None:
    devnode.control.faucet("a", 10)
    queue(devnode, 1, "a", "b")
    queue(devnode, 1, "a", "c")
    anonymous = devnode.http.get("/pending/list")
    assert (anonymous.status_code, anonymous.json()) == (401, LIST_UNAUTHORIZED)
    api_key = devnode.http.get("/pending/list", headers={"X-API-Key": devnode.admin_key})
    assert api_key.json()["count"] == 2
    wrong_key_public = devnode.http.get(
        "/pending/list", params={"miner_id": "c"}, headers={"X-Admin-Key": "wrong"}
    )
    assert [row["to_miner"] for row in wrong_key_public.json()["pending"]] == ["c"]
    assert [row["to_miner"] for row in pending_rows(devnode, miner_id="b")] == ["b"]
    assert len(pending_rows(devnode, miner_id="a")) == 2  # from OR to


def test_list_is_newest_first_ignores_offset_and_clamps_limit(devnode: Devnode) -> None:
    devnode.control.faucet("a", 10)
    ids = queue(devnode, 5)
    admin = devnode.admin

    def listed(**params: Any) -> list[int]:
        response = devnode.http.get("/pending/list", params=params, headers=admin())
        assert response.status_code == 200, response.text
        return [row["id"] for row in response.json()["pending"]]

    assert listed() == ids[::-1]
    assert listed(limit=2) == ids[:-3:-1]
    assert listed(limit=2, offset=2) == ids[:-3:-1]  # offset is ignored
    assert listed(limit=0) == ids[-1:]  # clamped to at least 1
    assert listed(limit=-7) == ids[-1:]
    assert listed(limit=100000) == ids[::-1]
    bad = devnode.http.get("/pending/list", params={"limit": "x"}, headers=admin())
    assert (bad.status_code, bad.json()) == (
        400,
        {"ok": False, "error": "limit must be an integer"},
    )


def test_list_status_filter_and_item_shape(devnode: Devnode) -> None:
    devnode.control.faucet("a", 10)
    kept, voided = queue(devnode, 2)
    devnode.http.post("/pending/void", json={"pending_id": voided}, headers=devnode.admin())
    assert [row["id"] for row in pending_rows(devnode, "pending")] == [kept]
    assert [row["id"] for row in pending_rows(devnode, "VOIDED")] == [voided]
    assert [row["id"] for row in pending_rows(devnode, "all")] == [voided, kept]
    assert pending_rows(devnode, "confirmed") == []
    default = devnode.http.get("/pending/list", headers=devnode.admin()).json()
    assert [row["id"] for row in default["pending"]] == [kept]
    item = default["pending"][0]
    assert set(item) == ITEM_FIELDS  # no idempotency_key, created_at or confirmed_at
    assert (item["amount_rtc"], item["voided_by"], item["voided_reason"]) == (1.0, None, None)
    assert set(default) == {
        "ok", "count", "pending", "stale_pending_count", "max_confirm_overdue_seconds",
        "overdue_stats_measured", "overdue_stats_error",
    }  # fmt: skip


def test_overdue_stats(devnode: Devnode) -> None:
    devnode.control.faucet("a", 10)
    queue(devnode, 2)
    fresh = devnode.http.get("/pending/list", headers=devnode.admin()).json()
    assert (fresh["stale_pending_count"], fresh["max_confirm_overdue_seconds"]) == (0, 0)
    devnode.control.advance_clock(DAY + 100)
    stale = devnode.http.get("/pending/list", headers=devnode.admin()).json()
    assert stale["stale_pending_count"] == 2
    assert 100 <= stale["max_confirm_overdue_seconds"] <= 105
    assert (stale["overdue_stats_measured"], stale["overdue_stats_error"]) == (True, None)


def test_large_history_hides_the_payout_from_every_page(devnode: Devnode) -> None:
    devnode.control.faucet("otc_bridge_worker", 10)
    payout = transfer(devnode, "otc_bridge_worker", "buyer", 1, "otc_payout:o1").json()
    devnode.control.advance_clock(DAY)
    devnode.control.tick()
    filled = devnode.control.fill_pending(600, "confirmed")
    assert filled["inserted"] == 600
    for offset in (0, 500, 1000):
        rows = pending_rows(devnode, "confirmed", offset=offset)
        assert len(rows) == 500
        assert all(row["reason"] != "otc_payout:o1" for row in rows)
        assert rows[0]["id"] == filled["last_id"]
    mine = pending_rows(devnode, "confirmed", miner_id="otc_bridge_worker")
    assert [row["id"] for row in mine] == [payout["pending_id"]]


# --- /pending/confirm ----------------------------------------------------------------------


def test_confirm_auth_and_limit_parsing(devnode: Devnode) -> None:
    for headers in ({}, {"X-Admin-Key": "nope"}, {"X-API-Key": devnode.admin_key}):
        response = devnode.http.post("/pending/confirm", headers=headers)
        assert (response.status_code, response.json()) == (401, {"error": "Unauthorized"})
    devnode.control.faucet("a", 10)
    queue(devnode, 4)
    devnode.control.advance_clock(DAY)

    def confirm(params: dict[str, Any] | None = None, body: object = None) -> dict[str, Any]:
        response = devnode.http.post(
            "/pending/confirm", params=params, json=body, headers=devnode.admin()
        )
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    assert confirm({"limit": 1})["limit"] == 1
    assert confirm({"limit": 1}, {"limit": 2})["confirmed_count"] == 2  # the body wins
    assert confirm(body={"limit": 0})["limit"] == 1
    assert confirm(body={"limit": 9999})["limit"] == 500
    assert confirm()["limit"] == 100
    bad = devnode.http.post("/pending/confirm", json={"limit": "x"}, headers=devnode.admin())
    assert (bad.status_code, bad.json()) == (
        400,
        {"ok": False, "error": "limit must be an integer"},
    )


def test_confirm_algorithm_and_response(devnode: Devnode) -> None:
    devnode.control.faucet("a", 10)
    ids = queue(devnode, 3)
    not_due = devnode.control.tick()
    assert (not_due["selected_count"], not_due["confirmed_count"], not_due["errors"]) == (
        0,
        0,
        None,
    )
    devnode.control.advance_clock(DAY)
    late = transfer(devnode, "a", "b", 1).json()["pending_id"]  # not due yet
    response = devnode.http.post("/pending/confirm", json={"limit": 2}, headers=devnode.admin())
    body = response.json()
    assert set(body) == {
        "ok", "limit", "selected_count", "confirmed_count", "confirmed_ids", "errors",
        "stale_pending_count_before", "max_confirm_overdue_seconds_before",
        "overdue_stats_measured_before", "stale_pending_count", "max_confirm_overdue_seconds",
        "overdue_stats_measured", "overdue_stats_error",
    }  # fmt: skip
    assert body["confirmed_ids"] == ids[:2]  # id ASC, batch limit
    assert (body["selected_count"], body["confirmed_count"], body["errors"]) == (2, 2, None)
    assert (body["stale_pending_count_before"], body["stale_pending_count"]) == (3, 1)
    assert body["overdue_stats_measured_before"] is True
    assert devnode.control.tick()["confirmed_ids"] == [ids[2]]
    assert balance_i64(devnode, "a") == 7_000_000
    assert balance_i64(devnode, "b") == 3_000_000
    assert [row["id"] for row in pending_rows(devnode, "pending")] == [late]


def test_system_void_at_confirm_when_escrow_drained_the_sender(devnode: Devnode) -> None:
    devnode.control.faucet("a", 3)
    payout = transfer(devnode, "a", "b", 2, "payout").json()
    make_job(devnode, "a", 2)  # locks 2.1 RTC: the settled balance falls to 0.9
    devnode.control.advance_clock(DAY)
    result = devnode.control.tick()
    assert result["confirmed_ids"] == []
    assert result["errors"] == [{"id": payout["pending_id"], "error": "insufficient_balance"}]
    [row] = pending_rows(devnode, "voided")
    assert (row["voided_by"], row["voided_reason"]) == ("system", "insufficient_balance_at_confirm")
    assert devnode.http.get(f"/wallet/tx/{payout['tx_hash']}").json()["status"] == "failed"
    replay = transfer(devnode, "a", "b", 2, "payout").json()
    assert (replay["ok"], replay["phase"]) == (True, "voided")
    assert balance_i64(devnode, "b") == 0


# --- /pending/void -------------------------------------------------------------------------


def test_void_errors_and_success(devnode: Devnode) -> None:
    devnode.control.faucet("a", 10)
    first, second, third = queue(devnode, 3)
    admin = devnode.admin

    def void(body: object = None) -> tuple[int, Any]:
        response = devnode.http.post("/pending/void", json=body, headers=admin())
        return response.status_code, response.json()

    unauthorized = devnode.http.post("/pending/void", json={"pending_id": first})
    assert (unauthorized.status_code, unauthorized.json()) == (401, {"error": "Unauthorized"})
    assert void() == (400, {"error": "Invalid JSON body"})
    assert void([first]) == (400, {"error": "Invalid JSON body"})
    assert void({"pending_id": [first]}) == (400, {"error": "pending_id must be a scalar"})
    assert void({"tx_hash": 5}) == (400, {"error": "tx_hash must be a string"})
    assert void({}) == (400, {"error": "Provide pending_id or tx_hash"})
    assert void({"pending_id": 0}) == (400, {"error": "Provide pending_id or tx_hash"})
    assert void({"pending_id": 999}) == (404, {"error": "Pending transfer not found"})
    assert void({"pending_id": str(first), "voided_by": "ops", "reason": "fraud"}) == (
        200,
        {
            "ok": True,
            "voided_id": first,
            "from_miner": "a",
            "to_miner": "b",
            "amount_rtc": 1.0,
            "voided_by": "ops",
            "reason": "fraud",
        },
    )
    assert void({"pending_id": first}) == (
        400,
        {
            "error": "Cannot void - status is 'voided'",
            "hint": "Only pending transfers can be voided",
        },
    )
    tx_hash = pending_rows(devnode, "pending")[-1]["tx_hash"]  # the oldest: `second`
    status, body = void({"tx_hash": tx_hash})
    assert (status, body["voided_by"], body["reason"]) == (200, "admin", "admin_void")
    devnode.control.advance_clock(DAY)
    devnode.control.tick()
    assert void({"pending_id": second})[0] == 400
    assert void({"pending_id": third})[1] == {
        "error": "Cannot void - status is 'confirmed'",
        "hint": "Only pending transfers can be voided",
    }
    assert balance_i64(devnode, "a") == 9_000_000


def test_integrity_reports_escrow_and_faucet_moves_as_mismatches(devnode: Devnode) -> None:
    anonymous = devnode.http.get("/pending/integrity")
    assert (anonymous.status_code, anonymous.json()) == (401, {"error": "Unauthorized"})
    devnode.control.faucet("a", 10)
    queue(devnode, 1)
    report = devnode.http.get("/pending/integrity", headers={"X-API-Key": devnode.admin_key}).json()
    assert report["ok"] is False
    assert report["total_miners_checked"] == 4  # with the three built-in wallets
    assert report["pending_transfers"] == 1
    assert report["mismatches"] == [
        {"miner_id": "a", "balance_rtc": 10.0, "ledger_sum_rtc": 0.0, "diff_rtc": 10.0}
    ]
