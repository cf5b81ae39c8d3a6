"""`POST /wallet/transfer` and `GET /wallet/tx/<h>`: validation, idempotency, two phases."""

from __future__ import annotations

from otc_bridge.domain.rustchain import idempotent_tx_hash
from tests.conftest import Devnode
from tests.devnode.helpers import balance_i64, make_job, pending_rows, transfer

DAY = 86400


def test_auth(devnode: Devnode) -> None:
    expected = {
        "error": "Unauthorized - admin key required",
        "hint": "Use /wallet/transfer/signed for user transfers",
    }
    for headers in ({}, {"X-Admin-Key": "wrong"}, {"X-API-Key": devnode.admin_key}):
        response = devnode.http.post("/wallet/transfer", json={}, headers=headers)
        assert (response.status_code, response.json()) == (401, expected)


def test_validation_codes_in_order(devnode: Devnode) -> None:
    cases = [
        (None, "invalid_json_body", {}),
        ([1], "invalid_json_body", {}),
        ({"to_miner": 5, "amount_rtc": "x"}, "missing_from_or_to", {}),
        ({"from_miner": "  ", "to_miner": "b"}, "missing_from_or_to", {}),
        ({"from_miner": "a", "to_miner": 5, "amount_rtc": "x"}, "invalid_from_or_to_type", {}),
        ({"from_miner": "a", "to_miner": "b", "amount_rtc": "x"}, "amount_not_number", {}),
        ({"from_miner": "a", "to_miner": "b", "amount_rtc": True}, "amount_not_number", {}),
        ({"from_miner": "a", "to_miner": "b", "amount_rtc": "Infinity"}, "amount_not_finite", {}),
        ({"from_miner": "a", "to_miner": "b"}, "amount_must_be_positive", {}),
        ({"from_miner": "a", "to_miner": "b", "amount_rtc": -1}, "amount_must_be_positive", {}),
        (
            {"from_miner": "a", "to_miner": "b", "amount_rtc": 0.0000001},
            "amount_too_small_after_quantization",
            {"amount_rtc": 1e-07, "min_rtc": 1e-06},
        ),
        (
            {"from_miner": "a", "to_miner": "b", "amount_rtc": "9223372036854.775808"},
            "amount_exceeds_i64",
            {},
        ),
    ]
    for body, code, details in cases:
        response = devnode.http.post("/wallet/transfer", json=body, headers=devnode.admin())
        assert response.status_code == 400, body
        assert response.json() == {"error": code, "details": details}, body
    for key in ("bad key!", "   ", 7, "k" * 129):
        response = transfer(devnode, "a", "b", 1, idempotency_key=key)
        assert (response.status_code, response.json()) == (
            400,
            {"error": "invalid_idempotency_key"},
        )


def test_first_call_queues_and_moves_nothing(devnode: Devnode) -> None:
    devnode.control.faucet("otc_bridge_worker", 10)
    now = devnode.control.now()
    response = transfer(devnode, " otc_bridge_worker ", "buyer", "2.0100009", "otc_payout:otc_1")
    assert response.status_code == 200  # not 201
    body = response.json()
    assert body["ok"] is True
    assert body["phase"] == "pending"
    assert body["tx_hash"] == idempotent_tx_hash("otc_payout:otc_1")
    assert (body["from_miner"], body["to_miner"]) == ("otc_bridge_worker", "buyer")
    assert body["amount_rtc"] == 2.0100009  # the request's amount, echoed
    assert now <= body["confirms_at"] - DAY <= now + 2
    assert body["confirms_in_hours"] == 24.0
    assert body["message"] == "Transfer pending. Will confirm in 24 hours unless voided."
    assert isinstance(body["pending_id"], int)
    assert balance_i64(devnode, "otc_bridge_worker") == 10_000_000
    assert balance_i64(devnode, "buyer") == 0
    [row] = pending_rows(devnode)
    assert row["amount_rtc"] == 2.01  # Decimal, rounded down to µRTC
    assert row["reason"] == "admin_transfer"


def test_delay_zero_still_answers_pending(devnode: Devnode) -> None:
    devnode.control.configure_scheduler(confirmation_delay_seconds=0)
    devnode.control.faucet("a", 1)
    body = transfer(devnode, "a", "b", 1, "k").json()
    assert body["phase"] == "pending"
    assert body["message"] == "Transfer pending. Will confirm in 0 hours unless voided."
    assert body["confirms_in_hours"] == 0.0


def test_replay_returns_the_row_and_its_current_phase(devnode: Devnode) -> None:
    devnode.control.faucet("a", 10)
    first = transfer(devnode, "a", "b", 3, "key-1", reason="otc_payout:1").json()
    devnode.control.advance_clock(60)
    replay = transfer(devnode, "a", "b", "3.0000001", "key-1", reason="otc_payout:1")
    assert replay.status_code == 200
    assert replay.json() == {
        **first,
        "amount_rtc": 3.0000001,
        "message": "Transfer already pending for idempotency key.",
    }
    assert len(pending_rows(devnode)) == 1
    devnode.control.advance_clock(DAY)
    assert devnode.control.tick()["confirmed_ids"] == [first["pending_id"]]
    confirmed = transfer(devnode, "a", "b", 3, "key-1", reason="otc_payout:1").json()
    assert (confirmed["phase"], confirmed["confirms_at"]) == ("confirmed", first["confirms_at"])
    assert confirmed["message"] == "Transfer already pending for idempotency key."


def test_conflicting_reuse_of_a_key_is_409(devnode: Devnode) -> None:
    devnode.control.faucet("a", 10)
    assert transfer(devnode, "a", "b", 1, "k").status_code == 200
    tx_hash = idempotent_tx_hash("k")
    for changed in (
        {"to_miner": "c"},
        {"from_miner": "c"},
        {"amount_rtc": 1.000001},
        {"reason": "something else"},
    ):
        body = {
            "from_miner": "a",
            "to_miner": "b",
            "amount_rtc": 1,
            "idempotency_key": "k",
            **changed,
        }
        response = devnode.http.post("/wallet/transfer", json=body, headers=devnode.admin())
        assert (response.status_code, response.json()) == (
            409,
            {"error": "idempotency_key_conflict", "tx_hash": tx_hash},
        ), changed
    # an omitted reason is the default "admin_transfer", so spelling it out is no conflict
    assert transfer(devnode, "a", "b", 1, "k", reason="admin_transfer").status_code == 200


def test_voided_key_replays_as_ok_voided(devnode: Devnode) -> None:
    devnode.control.faucet("a", 10)
    queued = transfer(devnode, "a", "b", 1, "dead").json()
    voided = devnode.http.post(
        "/pending/void", json={"pending_id": queued["pending_id"]}, headers=devnode.admin()
    )
    assert voided.status_code == 200
    devnode.control.faucet("drain_target", 1)
    replay = transfer(devnode, "a", "b", 1, "dead")
    assert replay.status_code == 200
    assert (replay.json()["ok"], replay.json()["phase"]) == (True, "voided")
    assert len(pending_rows(devnode)) == 1  # never re-queued


def test_replay_skips_the_balance_check(devnode: Devnode) -> None:
    devnode.control.faucet("a", 1)
    assert transfer(devnode, "a", "b", 1, "k").status_code == 200
    assert transfer(devnode, "a", "b", 1, "k").json()["phase"] == "pending"
    assert transfer(devnode, "a", "b", 1, "k2").status_code == 400


def test_available_balance_subtracts_pending_debits(devnode: Devnode) -> None:
    devnode.control.faucet("a", 10)
    assert transfer(devnode, "a", "b", 6).status_code == 200
    refused = transfer(devnode, "a", "c", 5, "k")
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "Insufficient available balance",
        "balance_rtc": 10.0,
        "pending_debits_rtc": 6.0,
        "available_rtc": 4.0,
        "requested_rtc": 5.0,
    }
    assert transfer(devnode, "a", "c", 4).status_code == 200


def test_keyless_transfers_duplicate(devnode: Devnode) -> None:
    devnode.control.faucet("a", 10)
    first = transfer(devnode, "a", "b", 1).json()
    second = transfer(devnode, "a", "b", 1).json()
    assert first["tx_hash"] != second["tx_hash"]
    assert len(pending_rows(devnode)) == 2


def test_tx_status_through_the_lifecycle(devnode: Devnode) -> None:
    devnode.control.faucet("a", 10)
    done = transfer(devnode, "a", "b", 1, "done").json()["tx_hash"]
    dropped = transfer(devnode, "a", "b", 1, "dropped").json()
    assert devnode.http.get(f"/wallet/tx/{done}").json() == {
        "ok": True,
        "tx_hash": done,
        "status": "pending",
        "confirmations": 0,
        "block_height": None,
    }
    assert (
        devnode.http.post(
            "/pending/void", json={"tx_hash": dropped["tx_hash"]}, headers=devnode.admin()
        ).status_code
        == 200
    )
    devnode.control.advance_clock(DAY)
    assert devnode.control.tick()["confirmed_count"] == 1
    confirmed = devnode.http.get(f"/wallet/tx/{done.upper()}").json()
    assert (confirmed["tx_hash"], confirmed["status"], confirmed["confirmations"]) == (
        done,
        "confirmed",
        1,
    )
    assert isinstance(confirmed["block_height"], int)
    assert devnode.http.get(f"/wallet/tx/{dropped['tx_hash']}").json()["status"] == "failed"
    assert balance_i64(devnode, "b") == 1_000_000

    unknown = devnode.http.get(f"/wallet/tx/{'0' * 32}")
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"ok": False, "tx_hash": "0" * 32, "status": "not_found", "error": "transaction_not_found"},
    )
    bad = devnode.http.get("/wallet/tx/xyz")
    assert (bad.status_code, bad.json()) == (
        400,
        {"ok": False, "error": "tx_hash must be exactly 32 hexadecimal characters"},
    )


def test_escrow_posts_ignore_pending_debits(devnode: Devnode) -> None:
    """RIP-302 checks only the settled balance, so a queued transfer can be over-committed."""
    devnode.control.faucet("a", 2)
    assert transfer(devnode, "a", "b", 2, "k").status_code == 200
    make_job(devnode, "a", 1)
    assert balance_i64(devnode, "a") == 950_000
