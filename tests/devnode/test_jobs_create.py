"""`POST /agent/jobs`: rounding, check order, TTL clamp, caps, tags, non-idempotence."""

from __future__ import annotations

import json

from tests.conftest import Devnode
from tests.devnode.helpers import (
    DESCRIPTION,
    act,
    balance_i64,
    delivered_job,
    job,
    make_job,
    post_job,
)

CATEGORY_ERROR = (
    "category must be one of: ['research', 'code', 'video', 'audio', 'writing', 'translation', "
    "'data', 'design', 'testing', 'other']"
)


def test_golden_2_01_job(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    created = post_job(devnode, "maker", 2.01)
    assert created.status_code == 201
    body = created.json()
    assert body["reward_rtc"] == 2.01
    assert body["platform_fee_rtc"] == 0.100499
    assert body["escrow_total_rtc"] == 2.110498
    assert body["status"] == "open"
    assert body["expires_in_hours"] == 168.0
    assert body["message"] == "Job posted! 2.110498 RTC locked in escrow."
    stored = job(devnode, body["job_id"])
    assert (stored["reward_i64"], stored["platform_fee_i64"], stored["escrow_i64"]) == (
        2009999,
        100499,
        2110498,
    )
    assert balance_i64(devnode, "maker") == 10_000_000 - 2110498
    assert balance_i64(devnode, "agent_escrow") == 2110498

    job_id = body["job_id"]
    assert act(devnode, job_id, "claim", worker_wallet="otc_bridge_worker").status_code == 200
    assert (
        act(
            devnode, job_id, "deliver", worker_wallet="otc_bridge_worker", result_summary="ok"
        ).status_code
        == 200
    )
    accepted = act(devnode, job_id, "accept", poster_wallet="maker", rating=5)
    assert accepted.status_code == 200
    assert accepted.json() == {
        "ok": True,
        "job_id": job_id,
        "status": "completed",
        "worker_wallet": "otc_bridge_worker",
        "reward_paid_rtc": 2.009999,
        "platform_fee_rtc": 0.100499,
        "message": "Job complete! 2.009999 RTC paid to otc_bridge_worker.",
    }
    assert balance_i64(devnode, "otc_bridge_worker") == 2009999
    assert balance_i64(devnode, "founder_community") == 100499
    assert balance_i64(devnode, "agent_escrow") == 0


def test_create_check_order(devnode: Devnode) -> None:
    """Each body breaks every later rule too, so only the first failing check can answer."""
    devnode.control.faucet("maker", 100)
    no_body = devnode.http.post("/agent/jobs")
    assert (no_body.status_code, no_body.json()) == (400, {"error": "JSON body required"})
    assert devnode.http.post("/agent/jobs", json=[1]).json() == {"error": "JSON object required"}
    bad_rest = {"category": "nope", "reward_rtc": "bad", "ttl_seconds": "bad"}
    ok = {"poster_wallet": "maker", "title": "Title ok", "description": DESCRIPTION}
    steps = [
        ({"title": "x", "description": "y", **bad_rest}, "poster_wallet required"),
        (
            {**ok, "title": " ab  ", "description": "short", **bad_rest},
            "title must be at least 5 characters",
        ),
        (
            {**ok, "description": " short ", **bad_rest},
            "description must be at least 20 characters",
        ),
        ({**ok, **bad_rest}, CATEGORY_ERROR),
        ({**ok, "reward_rtc": "bad", "ttl_seconds": "bad"}, "reward_rtc must be a finite number"),
        ({**ok, "reward_rtc": True}, "reward_rtc must be a finite number"),
        ({**ok, "reward_rtc": "Infinity"}, "reward_rtc must be a finite number"),
        ({**ok, "reward_rtc": 0.009, "ttl_seconds": "bad"}, "Minimum reward is 0.01 RTC"),
        (ok, "Minimum reward is 0.01 RTC"),
        ({**ok, "reward_rtc": 10000.000001}, "Maximum reward is 10,000 RTC"),
        ({**ok, "reward_rtc": 1, "ttl_seconds": "5000.9"}, "ttl_seconds must be an integer"),
        ({**ok, "reward_rtc": 1, "ttl_seconds": None}, "ttl_seconds must be an integer"),
        ({**ok, "reward_rtc": 1, "ttl_seconds": False}, "ttl_seconds must be an integer"),
    ]
    for body, error in steps:
        response = devnode.http.post("/agent/jobs", json=body)
        assert (response.status_code, response.json()) == (400, {"error": error}), body
    assert balance_i64(devnode, "maker") == 100_000_000


def test_nan_reward_from_raw_json_is_rejected(devnode: Devnode) -> None:
    raw = b'{"poster_wallet": "m", "title": "Title ok", "description": "%s", "reward_rtc": NaN}'
    response = devnode.http.post(
        "/agent/jobs",
        content=raw % DESCRIPTION.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.json() == {"error": "reward_rtc must be a finite number"}


def test_category_is_stripped_and_lowercased(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    job_id = make_job(devnode, "maker", 1, category="  CODE ")
    assert job(devnode, job_id)["category"] == "code"


def test_ttl_is_clamped_and_truncated(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 100)
    cases = [(10, 3600), (5000.9, 5000), ("7200", 7200), (10**9, 30 * 86400), (-5, 3600)]
    for ttl, expected in cases:
        stored = job(devnode, make_job(devnode, "maker", 1, ttl_seconds=ttl))
        assert stored["expires_at"] - stored["created_at"] == expected, ttl
    default = job(devnode, make_job(devnode, "maker", 1))
    assert default["expires_at"] - default["created_at"] == 7 * 86400


def test_insufficient_balance_body(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 2)
    response = post_job(devnode, "maker", 2.01)
    assert response.status_code == 400
    assert response.json() == {
        "error": "Insufficient balance for escrow",
        "balance_rtc": 2.0,
        "escrow_required_rtc": 2.110498,
        "reward_rtc": 2.01,
        "platform_fee_rtc": 0.100499,
        "hint": "Total escrow = reward + 5% platform fee",
    }


def test_insufficient_balance_is_checked_before_the_job_cap(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 21)
    for _ in range(20):
        make_job(devnode, "maker", 0.5)
    broke = post_job(devnode, "maker", 50)
    assert broke.status_code == 400
    assert broke.json()["error"] == "Insufficient balance for escrow"


def test_twenty_active_jobs_cap(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 100)
    ids = [make_job(devnode, "maker", 1) for _ in range(20)]
    capped = post_job(devnode, "maker", 1)
    assert capped.status_code == 429
    assert capped.json() == {"error": "Maximum 20 active jobs per agent", "active_jobs": 20}
    # delivered still counts, disputed does not
    assert act(devnode, ids[0], "claim", worker_wallet="w").status_code == 200
    assert (
        act(devnode, ids[0], "deliver", worker_wallet="w", deliverable_url="u").status_code == 200
    )
    assert post_job(devnode, "maker", 1).status_code == 429
    assert act(devnode, ids[0], "dispute", poster_wallet="maker", reason="bad").status_code == 200
    assert post_job(devnode, "maker", 1).status_code == 201
    assert post_job(devnode, "other_maker", 1).status_code == 400  # unfunded, not capped


def test_reward_cap_is_10000(devnode: Devnode) -> None:
    devnode.control.faucet("whale", 20000)
    ok = post_job(devnode, "whale", 10000)
    assert ok.status_code == 201
    assert ok.json()["escrow_total_rtc"] == 10500.0
    assert post_job(devnode, "whale", "10000.01").json() == {
        "error": "Maximum reward is 10,000 RTC"
    }


def test_tags_are_stored_and_returned_as_a_json_string(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    job_id = make_job(devnode, "maker", 1, tags=["otc_bridge", "escrow"])
    assert job(devnode, job_id)["tags"] == '["otc_bridge", "escrow"]'
    listed = devnode.http.get("/agent/jobs").json()["jobs"]
    assert listed[0]["tags"] == '["otc_bridge", "escrow"]'
    assert json.loads(listed[0]["tags"]) == ["otc_bridge", "escrow"]
    assert job(devnode, make_job(devnode, "maker", 1))["tags"] == "[]"


def test_create_is_not_idempotent(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    first = make_job(devnode, "maker", 1)
    second = make_job(devnode, "maker", 1)
    assert first != second
    assert first.startswith("job_")
    assert len(first) == 20
    assert balance_i64(devnode, "agent_escrow") == 2 * 1_050_000


def test_job_detail_fields(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    job_id = delivered_job(devnode, "maker", "worker", 1)
    assert act(devnode, job_id, "accept", poster_wallet="maker", rating=9).status_code == 200
    detail = job(devnode, job_id)
    assert set(detail) == {
        "job_id", "poster_wallet", "worker_wallet", "title", "description", "category",
        "reward_rtc", "reward_i64", "escrow_i64", "platform_fee_i64", "status",
        "deliverable_url", "deliverable_hash", "result_summary", "rejection_reason",
        "created_at", "claimed_at", "delivered_at", "completed_at", "expires_at", "tags",
        "ratings", "activity_log",
    }  # fmt: skip
    assert [entry["action"] for entry in detail["activity_log"]] == [
        "posted",
        "claimed",
        "delivered",
        "completed",
    ]
    assert detail["activity_log"][0]["details"] == "reward=1.0 RTC, escrow=1.05 RTC"
    assert detail["ratings"][0]["rating"] == 5  # clamped to 1..5
    assert detail["ratings"][0]["role"] == "poster_rates_worker"


def test_invalid_rating_is_ignored(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    job_id = delivered_job(devnode, "maker", "worker", 1)
    assert act(devnode, job_id, "accept", poster_wallet="maker", rating="five").status_code == 200
    assert job(devnode, job_id)["ratings"] == []
