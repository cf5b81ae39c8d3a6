"""Every fault kind, observed from the client side, with the state checked afterwards."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from otc_bridge.domain.rustchain import idempotent_tx_hash
from tests.conftest import Devnode
from tests.devnode.helpers import (
    act,
    balance_i64,
    delivered_job,
    job,
    pending_rows,
    post_job,
    transfer,
)

INTERNAL_ERROR_HTML = (
    "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
    "<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was "
    "unable to complete your request. Either the server is overloaded or there is an error in "
    "the application.</p>\n"
)


def test_drop_commits_then_closes_the_connection(devnode: Devnode) -> None:
    devnode.control.faucet("worker", 10)
    devnode.control.add_fault("POST /wallet/transfer", "drop")
    with pytest.raises(httpx.TransportError):
        transfer(devnode, "worker", "buyer", 1, "otc_payout:o1")
    tx = devnode.http.get(f"/wallet/tx/{idempotent_tx_hash('otc_payout:o1')}").json()
    assert tx["status"] == "pending"  # applied although the client saw nothing
    replay = transfer(devnode, "worker", "buyer", 1, "otc_payout:o1").json()
    assert replay["message"] == "Transfer already pending for idempotency key."
    assert len(pending_rows(devnode)) == 1


def test_dropped_job_post_locks_a_second_escrow_on_retry(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    devnode.control.add_fault("POST /agent/jobs", "drop")
    with pytest.raises(httpx.TransportError):
        post_job(devnode, "maker", 1)
    assert post_job(devnode, "maker", 1).status_code == 201
    assert devnode.http.get("/agent/jobs").json()["total"] == 2
    assert balance_i64(devnode, "agent_escrow") == 2 * 1_050_000


def test_dropped_accept_is_applied_and_the_retry_is_409(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    job_id = delivered_job(devnode, "maker", "otc_bridge_worker", 2.01)
    devnode.control.add_fault("POST /agent/jobs/*/accept", "drop")
    with pytest.raises(httpx.TransportError):
        act(devnode, job_id, "accept", poster_wallet="maker")
    retry = act(devnode, job_id, "accept", poster_wallet="maker")
    assert retry.json() == {"error": "Job must be in 'delivered' status (current: completed)"}
    assert balance_i64(devnode, "otc_bridge_worker") == 2009999


def test_drop_hang_holds_until_the_client_gives_up(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    job_id = delivered_job(devnode, "maker", "w", 1)
    devnode.control.add_fault(
        "POST /agent/jobs/*/cancel", "drop", drop_mode="hang", delay_seconds=30
    )
    devnode.control.add_fault(
        "POST /agent/jobs/*/dispute", "drop", drop_mode="hang", delay_seconds=30
    )
    impatient = devnode.client(timeout=0.3)
    with pytest.raises(httpx.ReadTimeout):
        impatient.post(
            f"/agent/jobs/{job_id}/dispute", json={"poster_wallet": "maker", "reason": "r"}
        )
    assert job(devnode, job_id)["status"] == "disputed"
    with pytest.raises(httpx.ReadTimeout):
        impatient.post(f"/agent/jobs/{job_id}/cancel", json={"poster_wallet": "maker"})
    assert job(devnode, job_id)["status"] == "cancelled"
    assert balance_i64(devnode, "maker") == 10_000_000


def test_drop_hang_closes_after_its_delay(devnode: Devnode) -> None:
    devnode.control.add_fault("POST /devnet/faucet", "drop", drop_mode="hang", delay_seconds=0.2)
    with pytest.raises(httpx.TransportError):
        devnode.http.post("/devnet/faucet", json={"wallet": "a", "amount_rtc": 1})
    assert balance_i64(devnode, "a") == 1_000_000


def test_a_hanging_response_does_not_block_other_requests(devnode: Devnode) -> None:
    devnode.control.add_fault("POST /devnet/faucet", "drop", drop_mode="hang", delay_seconds=1.0)
    errors: list[Exception] = []

    def hang() -> None:
        try:
            devnode.client().post("/devnet/faucet", json={"wallet": "a", "amount_rtc": 1})
        except httpx.TransportError as exc:
            errors.append(exc)

    hanging = threading.Thread(target=hang)
    hanging.start()
    for _ in range(5000):  # until the server holds the request (bounded, no sleep)
        if devnode.control.faults()[0]["hits"]:
            break
    assert balance_i64(devnode, "a") == 1_000_000  # served while the other one hangs
    assert hanging.is_alive()
    hanging.join()
    assert len(errors) == 1


def test_delay_sends_the_real_answer_late(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    devnode.control.add_fault("POST /agent/jobs", "delay", delay_seconds=0.3)
    started = time.monotonic()
    response = post_job(devnode, "maker", 1)
    assert time.monotonic() - started >= 0.3
    assert response.status_code == 201
    assert devnode.http.get(f"/agent/jobs/{response.json()['job_id']}").status_code == 200


@pytest.mark.parametrize(
    ("status", "title"), [(502, "502 Bad Gateway"), (504, "504 Gateway Time-out")]
)
def test_gateway_error_after_commit(devnode: Devnode, status: int, title: str) -> None:
    devnode.control.faucet("maker", 10)
    devnode.control.add_fault("POST /agent/jobs", "gateway_error", status=status)
    response = post_job(devnode, "maker", 1)
    assert response.status_code == status
    assert response.text == (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )
    assert devnode.http.get("/agent/jobs").json()["total"] == 1  # the job exists anyway


def test_html_500_applies_nothing(devnode: Devnode) -> None:
    devnode.control.faucet("worker", 10)
    devnode.control.add_fault("POST /wallet/transfer", "html_500")
    response = transfer(devnode, "worker", "buyer", 1, "k")
    assert response.status_code == 500
    assert response.text == INTERNAL_ERROR_HTML
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert pending_rows(devnode) == []


def test_json_500_applies_nothing(devnode: Devnode) -> None:
    devnode.control.faucet("maker", 10)
    job_id = delivered_job(devnode, "maker", "w", 1)
    devnode.control.add_fault("POST /agent/jobs/*/accept", "json_500")
    response = act(devnode, job_id, "accept", poster_wallet="maker")
    assert (response.status_code, response.json()) == (500, {"error": "Internal error"})
    assert job(devnode, job_id)["status"] == "delivered"


def test_rate_limit_fault(devnode: Devnode) -> None:
    devnode.control.faucet("worker", 10)
    devnode.control.add_fault("POST /wallet/transfer", "rate_limit", retry_after=7)
    response = transfer(devnode, "worker", "buyer", 1, "k")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    assert response.json()["code"] == "ADMIN_RATE_LIMIT"
    assert pending_rows(devnode) == []


def test_void_fault_queues_then_voids(devnode: Devnode) -> None:
    devnode.control.faucet("worker", 10)
    devnode.control.add_fault(
        "POST /wallet/transfer", "void", voided_by="ops", reason="manual_review"
    )
    response = transfer(devnode, "worker", "buyer", 1, "otc_payout:o2")
    assert response.status_code == 200
    assert response.json()["phase"] == "pending"  # the normal answer
    [row] = pending_rows(devnode)
    assert (row["status"], row["voided_by"], row["voided_reason"]) == (
        "voided",
        "ops",
        "manual_review",
    )
    assert transfer(devnode, "worker", "buyer", 1, "otc_payout:o2").json()["phase"] == "voided"
    tx_hash = response.json()["tx_hash"]
    assert devnode.http.get(f"/wallet/tx/{tx_hash}").json()["status"] == "failed"


def test_skip_times_hits_and_management(devnode: Devnode) -> None:
    fault = devnode.control.add_fault("/pending/*", "html_500", times=2, skip=1)
    assert (fault["method"], fault["path"], fault["remaining"]) == (None, "/pending/*", 2)
    statuses = [
        devnode.http.get("/pending/list", headers=devnode.admin()).status_code for _ in range(4)
    ]
    assert statuses == [200, 500, 500, 200]
    [listed] = devnode.control.faults()
    assert (listed["hits"], listed["remaining"], listed["skip_remaining"], listed["active"]) == (
        2,
        0,
        0,
        False,
    )
    other = devnode.control.add_fault("GET /agent/jobs", "json_500", times=5)
    devnode.control.remove_fault(other["id"])
    assert devnode.http.get("/agent/jobs").status_code == 200
    assert devnode.control.clear_faults() == 1
    assert devnode.control.faults() == []


def test_bad_fault_specs_are_400(devnode: Devnode) -> None:
    for body in (
        {"endpoint": "POST /x", "kind": "explode"},
        {"endpoint": "no-slash", "kind": "drop"},
        {"endpoint": "POST /x", "kind": "drop", "times": 0},
        {"endpoint": "POST /x", "kind": "drop", "drop_mode": "sideways"},
        {"endpoint": "POST /x", "kind": "gateway_error", "status": 500},
        {"endpoint": "POST /x", "kind": "delay", "delay_seconds": -1},
        {"kind": "drop"},
    ):
        response = devnode.http.post("/devnet/faults", json=body)
        assert response.status_code == 400, body
        assert response.json()["ok"] is False
    assert devnode.http.delete("/devnet/faults/99").status_code == 404
