"""RIP-302 lifecycle: check orders, the 409 texts of §2.11, STATE_RACE, lazy expiry, reads."""

from __future__ import annotations

from tests.conftest import Devnode
from tests.devnode.helpers import STATE_RACE, act, balance_i64, delivered_job, job, make_job

HOUR = 3600


def test_repeating_any_action_gets_the_409_texts(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    job_id = make_job(devnode, "maker", 1)
    assert act(devnode, job_id, "claim", worker_wallet="w").status_code == 200
    again = act(devnode, job_id, "claim", worker_wallet="w")
    assert (again.status_code, again.json()) == (
        409,
        {"error": "Job is not open (status: claimed)"},
    )
    assert act(devnode, job_id, "deliver", worker_wallet="w", result_summary="r").status_code == 200
    again = act(devnode, job_id, "deliver", worker_wallet="w", result_summary="r")
    assert again.json() == {"error": "Job must be in 'claimed' status (current: delivered)"}
    assert act(devnode, job_id, "accept", poster_wallet="maker").status_code == 200
    again = act(devnode, job_id, "accept", poster_wallet="maker")
    assert (again.status_code, again.json()) == (
        409,
        {"error": "Job must be in 'delivered' status (current: completed)"},
    )
    assert balance_i64(devnode, "w") == 1_000_000  # paid once

    cancelled = make_job(devnode, "maker", 1)
    first = act(devnode, cancelled, "cancel", poster_wallet="maker")
    assert first.json() == {
        "ok": True,
        "job_id": cancelled,
        "status": "cancelled",
        "refunded_rtc": 1.05,
        "message": "Job cancelled. Escrow refunded.",
    }
    again = act(devnode, cancelled, "cancel", poster_wallet="maker")
    assert (again.status_code, again.json()) == (
        409,
        {"error": "Can only cancel open or disputed jobs (current: cancelled)"},
    )
    assert balance_i64(devnode, "maker") == 10_000_000 - 1_050_000


def test_claim_check_order(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    job_id = make_job(devnode, "maker", 1)
    assert act(devnode, "job_missing", "claim").json() == {"error": "worker_wallet required"}
    missing = act(devnode, "job_missing", "claim", worker_wallet="w")
    assert (missing.status_code, missing.json()) == (404, {"error": "Job not found"})
    own = act(devnode, job_id, "claim", worker_wallet="maker")
    assert (own.status_code, own.json()) == (400, {"error": "Cannot claim your own job"})
    claimed = act(devnode, job_id, "claim", worker_wallet="w")
    assert claimed.json() == {
        "ok": True,
        "job_id": job_id,
        "status": "claimed",
        "worker_wallet": "w",
        "reward_rtc": 1.0,
        "expires_at": job(devnode, job_id)["expires_at"],
        "message": "Job claimed! Submit your deliverable when ready.",
    }
    # the status check comes before the self-claim check
    assert act(devnode, job_id, "claim", worker_wallet="maker").status_code == 409


def test_deliver_accept_dispute_check_orders(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    open_job = make_job(devnode, "maker", 1)
    assert act(devnode, "job_x", "deliver", result_summary="r").json() == {
        "error": "worker_wallet required"
    }
    assert act(devnode, "job_x", "deliver", worker_wallet="w").json() == {
        "error": "deliverable_url or result_summary required"
    }
    assert (
        act(devnode, "job_x", "deliver", worker_wallet="w", deliverable_url="u").status_code == 404
    )
    not_claimed = act(devnode, open_job, "deliver", worker_wallet="w", deliverable_url="u")
    assert (not_claimed.status_code, not_claimed.json()) == (
        409,
        {"error": "Job must be in 'claimed' status (current: open)"},
    )
    assert act(devnode, open_job, "claim", worker_wallet="w").status_code == 200
    intruder = act(devnode, open_job, "deliver", worker_wallet="x", deliverable_url="u")
    assert (intruder.status_code, intruder.json()) == (
        403,
        {"error": "Only the assigned worker can deliver"},
    )
    delivered = act(devnode, open_job, "deliver", worker_wallet="w", deliverable_url="u")
    assert delivered.json() == {
        "ok": True,
        "job_id": open_job,
        "status": "delivered",
        "message": "Deliverable submitted! Waiting for poster to accept.",
    }

    assert act(devnode, "job_x", "accept").json() == {"error": "poster_wallet required"}
    assert act(devnode, "job_x", "accept", poster_wallet="maker").status_code == 404
    other = make_job(devnode, "maker", 1)
    assert act(devnode, other, "accept", poster_wallet="maker").json() == {
        "error": "Job must be in 'delivered' status (current: open)"
    }
    stranger = act(devnode, open_job, "accept", poster_wallet="x")
    assert (stranger.status_code, stranger.json()) == (
        403,
        {"error": "Only the poster can accept delivery"},
    )

    assert act(devnode, "job_x", "dispute", reason="r").json() == {
        "error": "poster_wallet required"
    }
    assert act(devnode, "job_x", "dispute", poster_wallet="maker").json() == {
        "error": "reason required"
    }
    assert act(devnode, "job_x", "dispute", poster_wallet="maker", reason="r").status_code == 404
    assert act(devnode, other, "dispute", poster_wallet="maker", reason="r").json() == {
        "error": "Can only dispute delivered jobs (current: open)"
    }
    stranger = act(devnode, open_job, "dispute", poster_wallet="x", reason="r")
    assert (stranger.status_code, stranger.json()) == (
        403,
        {"error": "Only the poster can dispute"},
    )


def test_disputed_job_only_leaves_through_poster_cancel(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    job_id = delivered_job(devnode, "maker", "w", 2.01)
    disputed = act(devnode, job_id, "dispute", poster_wallet="maker", reason="x" * 600)
    assert disputed.json() == {
        "ok": True,
        "job_id": job_id,
        "status": "disputed",
        "message": "Job disputed. Escrow held pending resolution. "
        "Worker can re-deliver or admin can refund.",
    }
    assert job(devnode, job_id)["rejection_reason"] == "x" * 500
    assert act(devnode, job_id, "deliver", worker_wallet="w", result_summary="again").json() == {
        "error": "Job must be in 'claimed' status (current: disputed)"
    }
    assert act(devnode, job_id, "accept", poster_wallet="maker").status_code == 409
    refunded = act(devnode, job_id, "cancel", poster_wallet="maker")
    assert refunded.json()["refunded_rtc"] == 2.110498
    assert balance_i64(devnode, "maker") == 10_000_000
    assert balance_i64(devnode, "w") == 0


def test_cancel_checks_the_poster_before_the_status(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    job_id = delivered_job(devnode, "maker", "w", 1)
    assert act(devnode, job_id, "cancel").json() == {"error": "poster_wallet required"}
    assert act(devnode, "job_x", "cancel", poster_wallet="maker").status_code == 404
    stranger = act(devnode, job_id, "cancel", poster_wallet="intruder")
    assert (stranger.status_code, stranger.json()) == (403, {"error": "Only the poster can cancel"})
    own = act(devnode, job_id, "cancel", poster_wallet="maker")
    assert own.json() == {"error": "Can only cancel open or disputed jobs (current: delivered)"}


def test_third_party_claims_first(devnode: Devnode) -> None:
    """No RIP-302 auth: an outsider's claim locks the bridge worker out."""
    devnode.control.faucet("maker", 10)
    job_id = make_job(devnode, "maker", 1)
    assert act(devnode, job_id, "claim", worker_wallet="outsider").status_code == 200
    late = act(devnode, job_id, "claim", worker_wallet="otc_bridge_worker")
    assert late.json() == {"error": "Job is not open (status: claimed)"}
    deliver = act(devnode, job_id, "deliver", worker_wallet="otc_bridge_worker", result_summary="r")
    assert deliver.status_code == 403
    # ... and anyone can accept on the poster's behalf, paying the outsider.
    assert (
        act(devnode, job_id, "deliver", worker_wallet="outsider", result_summary="r").status_code
        == 200
    )
    assert act(devnode, job_id, "accept", poster_wallet="maker").status_code == 200
    assert balance_i64(devnode, "outsider") == 1_000_000


def test_state_race_fault_applies_nothing(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    job_id = delivered_job(devnode, "maker", "w", 1)
    devnode.control.add_fault("POST /agent/jobs/*/accept", "state_race")
    raced = act(devnode, job_id, "accept", poster_wallet="maker")
    assert (raced.status_code, raced.json()) == (409, {"error": STATE_RACE, "code": "STATE_RACE"})
    assert job(devnode, job_id)["status"] == "delivered"
    assert balance_i64(devnode, "w") == 0
    assert act(devnode, job_id, "accept", poster_wallet="maker").status_code == 200


def test_json_500_fault_on_create_applies_nothing(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    devnode.control.add_fault("POST /agent/jobs", "json_500")
    failed = devnode.http.post(
        "/agent/jobs",
        json={
            "poster_wallet": "maker",
            "title": "Title ok",
            "description": "d" * 30,
            "reward_rtc": 1,
        },
    )
    assert (failed.status_code, failed.json()) == (500, {"error": "Internal error"})
    assert balance_i64(devnode, "maker") == 10_000_000
    assert devnode.http.get("/agent/jobs").json()["total"] == 0


def test_uncaught_rip302_error_is_json_500_and_rolled_back(devnode: Devnode) -> None:
    """A rating of Infinity makes int() overflow after the balance moves: all rolled back."""
    devnode.control.faucet("maker", 10)
    job_id = delivered_job(devnode, "maker", "w", 1)
    response = devnode.http.post(
        f"/agent/jobs/{job_id}/accept",
        content=b'{"poster_wallet": "maker", "rating": Infinity}',
        headers={"Content-Type": "application/json"},
    )
    assert (response.status_code, response.json()) == (500, {"error": "Internal error"})
    assert job(devnode, job_id)["status"] == "delivered"
    assert balance_i64(devnode, "w") == 0


# --- lazy expiry ---------------------------------------------------------------------------


def test_global_list_expires_every_overdue_open_or_claimed_job(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    open_job = make_job(devnode, "maker", 1, ttl_seconds=HOUR)
    claimed = make_job(devnode, "maker", 1, ttl_seconds=HOUR)
    delivered = delivered_job(devnode, "maker", "w", 1, ttl_seconds=HOUR)
    disputed = delivered_job(devnode, "maker", "w", 1, ttl_seconds=HOUR)
    assert act(devnode, claimed, "claim", worker_wallet="w").status_code == 200
    assert act(devnode, disputed, "dispute", poster_wallet="maker", reason="r").status_code == 200
    devnode.control.advance_clock(HOUR + 5)
    assert balance_i64(devnode, "maker") == 10_000_000 - 4 * 1_050_000  # nothing expired yet

    listing = devnode.http.get("/agent/jobs", params={"status": "expired"})
    assert {j["job_id"] for j in listing.json()["jobs"]} == {open_job, claimed}
    assert balance_i64(devnode, "maker") == 10_000_000 - 2 * 1_050_000
    assert job(devnode, delivered)["status"] == "delivered"  # never expires
    assert job(devnode, disputed)["status"] == "disputed"
    log = [entry["action"] for entry in job(devnode, open_job)["activity_log"]]
    assert log == ["posted", "escrow_refunded", "expired"]
    assert act(devnode, delivered, "accept", poster_wallet="maker").status_code == 200


def test_expiry_needs_now_past_expires_at(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    job_id = make_job(devnode, "maker", 1, ttl_seconds=HOUR)
    devnode.control.advance_clock(HOUR - 30)
    assert job(devnode, job_id)["status"] == "open"
    devnode.control.advance_clock(31)
    assert job(devnode, job_id)["status"] == "expired"  # GET one expires it, too


def test_claim_of_overdue_open_job_refunds_and_answers_410(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    job_id = make_job(devnode, "maker", 1, ttl_seconds=HOUR)
    devnode.control.advance_clock(HOUR + 1)
    late = act(devnode, job_id, "claim", worker_wallet="w")
    assert (late.status_code, late.json()) == (410, {"error": "Job has expired"})
    assert balance_i64(devnode, "maker") == 10_000_000
    assert act(devnode, job_id, "claim", worker_wallet="w").json() == {
        "error": "Job is not open (status: expired)"
    }


def test_claim_does_not_extend_expiry_and_deliver_late_gets_410(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    job_id = make_job(devnode, "maker", 1, ttl_seconds=HOUR)
    expires_at = job(devnode, job_id)["expires_at"]
    devnode.control.advance_clock(HOUR // 2)
    assert act(devnode, job_id, "claim", worker_wallet="w").json()["expires_at"] == expires_at
    devnode.control.advance_clock(HOUR)
    late = act(devnode, job_id, "deliver", worker_wallet="w", result_summary="r")
    assert (late.status_code, late.json()) == (410, {"error": "Job has expired"})
    assert balance_i64(devnode, "maker") == 10_000_000


def test_cancel_of_overdue_claimed_job_answers_200_expired(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    job_id = make_job(devnode, "maker", 1, ttl_seconds=HOUR)
    assert act(devnode, job_id, "claim", worker_wallet="w").status_code == 200
    devnode.control.advance_clock(HOUR + 1)
    response = act(devnode, job_id, "cancel", poster_wallet="maker")
    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "job_id": job_id,
        "status": "expired",
        "refunded_rtc": 1.05,
        "message": "Job expired. Escrow refunded.",
    }
    assert balance_i64(devnode, "maker") == 10_000_000


def test_cancel_of_overdue_open_job_is_a_plain_cancel(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    job_id = make_job(devnode, "maker", 1, ttl_seconds=HOUR)
    devnode.control.advance_clock(HOUR + 1)
    assert act(devnode, job_id, "cancel", poster_wallet="maker").json()["status"] == "cancelled"
    assert job(devnode, job_id)["status"] == "cancelled"


def test_cancel_after_outsider_expiry_is_409_current_expired(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    job_id = make_job(devnode, "maker", 1, ttl_seconds=HOUR)
    devnode.control.advance_clock(HOUR + 1)
    outsider = devnode.client(headers={"X-Real-IP": "203.0.113.9"})
    assert outsider.get("/agent/jobs").status_code == 200  # anyone listing fires the refund
    late = act(devnode, job_id, "cancel", poster_wallet="maker")
    assert (late.status_code, late.json()) == (
        409,
        {"error": "Can only cancel open or disputed jobs (current: expired)"},
    )
    assert balance_i64(devnode, "maker") == 10_000_000  # refunded exactly once


# --- reads ---------------------------------------------------------------------------------


def test_list_filters_sorting_and_errors(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 100)
    small = make_job(devnode, "maker", 1, category="code")
    big = make_job(devnode, "maker", 5)
    mid = make_job(devnode, "maker", 3, category="data")
    listing = devnode.http.get("/agent/jobs").json()
    assert [j["job_id"] for j in listing["jobs"]] == [big, mid, small]
    assert (listing["total"], listing["limit"], listing["offset"]) == (3, 50, 0)
    assert set(listing["jobs"][0]) == {
        "job_id", "poster_wallet", "title", "description", "category", "reward_rtc",
        "status", "created_at", "expires_at", "tags", "worker_wallet",
    }  # fmt: skip
    assert listing["categories"][0] == "research"
    assert [j["job_id"] for j in devnode.http.get("/agent/jobs?category=CODE").json()["jobs"]] == [
        small
    ]
    assert devnode.http.get("/agent/jobs?category=bogus").json()["total"] == 3
    assert devnode.http.get("/agent/jobs?status=OPEN&min_reward=2.5").json()["total"] == 2
    assert devnode.http.get("/agent/jobs?status=claimed").json()["total"] == 0
    page = devnode.http.get("/agent/jobs?limit=1&offset=1").json()
    assert [j["job_id"] for j in page["jobs"]] == [mid]
    assert devnode.http.get("/agent/jobs?limit=1000").json()["limit"] == 100
    assert devnode.http.get("/agent/jobs?limit=0").json()["jobs"] == []
    for query, message in [
        ("limit=x", "limit must be an integer"),
        ("limit=-1", "limit must be non-negative"),
        ("offset=-1", "offset must be non-negative"),
        ("min_reward=abc", "min_reward must be a number"),
        ("min_reward=-1", "min_reward must be a non-negative number"),
    ]:
        response = devnode.http.get(f"/agent/jobs?{query}")
        assert (response.status_code, response.json()) == (400, {"error": message}), query


def test_stats_show_the_escrow_wallet(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    make_job(devnode, "maker", 2.01)
    done = delivered_job(devnode, "maker", "w", 1)
    assert act(devnode, done, "accept", poster_wallet="maker").status_code == 200
    stats = devnode.http.get("/agent/stats").json()["stats"]
    assert stats["escrow_wallet"] == "agent_escrow"
    assert stats["escrow_balance_rtc"] == 2.110498
    assert (stats["total_jobs"], stats["open_jobs"], stats["completed_jobs"]) == (2, 1, 1)
    assert stats["total_fees_collected"] == 0.05
    assert stats["platform_fee_rate"] == "5.0%"
