"""The node adapter's decisions, with the node replaced by httpx.MockTransport.

These pin the adapter's reading of each kind of answer; the same behaviours are shown
against the real devnode (with injected faults) in tests/adapters.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from otc_bridge.adapters.node import (
    JobStatus,
    NodeClient,
    NodeConfig,
    Ok,
    Rejected,
    TxPhase,
    TxState,
    Unknown,
)
from otc_bridge.adapters.node.transport import NodeTransport, Reply
from otc_bridge.domain.rustchain import idempotent_tx_hash

Handler = Callable[[httpx.Request], httpx.Response]
ADMIN = "k" * 40
JOB = {
    "job_id": "job_1",
    "status": "claimed",
    "poster_wallet": "RTCposter",
    "worker_wallet": "otc_bridge_worker",
    "reward_i64": 2_010_000,
    "escrow_i64": 2_110_500,
    "platform_fee_i64": 100_500,
    "created_at": 1,
    "expires_at": 99,
    "title": "OTC Bridge Escrow: otc_1",
}


def client(handler: Handler, **config: object) -> tuple[NodeClient, list[float]]:
    slept: list[float] = []
    cfg = NodeConfig(base_url="http://127.0.0.1:8099", admin_key=ADMIN, **config)  # type: ignore[arg-type]
    return NodeClient(cfg, transport=httpx.MockTransport(handler), sleep=slept.append), slept


def job_reply(**changes: object) -> httpx.Response:
    return httpx.Response(200, json={"ok": True, "job": {**JOB, **changes}})


def test_claim_repeat_409_is_resolved_by_reading_the_job() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(409, json={"error": "Job is not open (status: claimed)"})
        return job_reply()

    node, _ = client(handler)
    result = node.claim("job_1", "otc_bridge_worker")
    assert isinstance(result, Ok)
    assert result.value.resolved_by_read
    assert result.value.status is JobStatus.CLAIMED


def test_claim_by_a_third_party_is_a_conflict_with_the_job_attached() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(409, json={"error": "Job is not open (status: claimed)"})
        return job_reply(worker_wallet="RTCthief")

    node, _ = client(handler)
    result = node.claim("job_1", "otc_bridge_worker")
    assert isinstance(result, Rejected)
    assert result.code == "job_conflict"
    assert result.job is not None
    assert result.job.worker_wallet == "RTCthief"


def test_cancel_of_an_already_expired_job_counts_as_refunded() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(
                409, json={"error": "Can only cancel open or disputed jobs (current: expired)"}
            )
        return job_reply(status="expired", worker_wallet=None)

    node, _ = client(handler)
    result = node.cancel("job_1", "RTCposter")
    assert isinstance(result, Ok)
    assert result.value.status is JobStatus.EXPIRED


def test_lost_accept_response_is_resolved_by_read_with_the_paid_amount() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            raise httpx.ReadTimeout("slow node")
        return job_reply(status="completed")

    node, _ = client(handler)
    result = node.accept("job_1", "RTCposter", "otc_bridge_worker")
    assert isinstance(result, Ok)
    assert result.value.paid_i64 == 2_010_000


def test_lost_response_with_job_unchanged_is_unknown_not_failure() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(502, text="<html>502 Bad Gateway</html>")
        return job_reply(status="claimed")

    node, _ = client(handler)
    result = node.deliver("job_1", "otc_bridge_worker", "quote tx 0xabc")
    assert isinstance(result, Unknown)
    assert result.job is not None
    assert result.job.status is JobStatus.CLAIMED


def test_rip302_json_500_is_a_retryable_rejection() -> None:
    node, _ = client(lambda r: httpx.Response(500, json={"error": "Internal error"}))
    result = node.claim("job_1", "otc_bridge_worker")
    assert isinstance(result, Rejected)
    assert result.retryable
    assert result.code == "node_internal_error"


def test_create_job_sends_the_float_that_books_exact_micro_rtc() -> None:
    seen: dict[str, object] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.update(json.loads(request.content))
        return httpx.Response(201, json={"ok": True, "job_id": "job_9", "expires_at": 123})

    node, _ = client(handler)
    result = node.create_job(
        poster="RTCp", reward_i64=2_010_000, ttl_seconds=7200, title="t" * 5, description="d" * 20
    )
    assert isinstance(result, Ok)
    assert int(float(seen["reward_rtc"]) * 1000000) == 2_010_000  # type: ignore[arg-type]
    assert result.value.escrow_i64 == 2_010_000 + 100_500


def test_active_job_cap_429_is_not_mistaken_for_the_rate_limiter() -> None:
    node, slept = client(
        lambda r: httpx.Response(429, json={"error": "Maximum 20 active jobs per agent"})
    )
    result = node.create_job(
        poster="RTCp", reward_i64=10**6, ttl_seconds=3600, title="title", description="d" * 20
    )
    assert isinstance(result, Rejected)
    assert result.code == "active_job_limit"
    assert slept == []


def test_transfer_waits_out_the_admin_rate_limit_then_succeeds() -> None:
    calls = iter(
        [
            httpx.Response(
                429,
                headers={"Retry-After": "3"},
                json={"ok": False, "error": "rate_limited", "code": "ADMIN_RATE_LIMIT"},
            ),
            httpx.Response(
                200,
                json={"ok": True, "phase": "pending", "pending_id": 7, "tx_hash": "ab" * 16},
            ),
        ]
    )
    node, slept = client(lambda r: next(calls))
    result = node.transfer(to="RTCb", amount_i64=2_010_000, idempotency_key="otc_payout:o1")
    assert isinstance(result, Ok)
    assert result.value.phase is TxPhase.PENDING
    assert slept == [3.0]


def test_transfer_gives_up_on_rate_limit_past_its_budget() -> None:
    node, slept = client(
        lambda r: httpx.Response(
            429, headers={"Retry-After": "60"}, json={"code": "ADMIN_RATE_LIMIT"}
        ),
        rate_limit_budget_seconds=5.0,
    )
    result = node.transfer(to="RTCb", amount_i64=1, idempotency_key="k")
    assert isinstance(result, Rejected)
    assert result.retryable
    assert result.retry_after == 60.0
    assert slept == []


def test_transfer_sends_an_exact_decimal_amount_and_the_key_as_reason() -> None:
    seen: dict[str, object] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.update(json.loads(request.content))
        seen["admin"] = request.headers.get("x-admin-key")
        return httpx.Response(200, json={"ok": True, "phase": "voided", "tx_hash": "0" * 32})

    node, _ = client(handler)
    result = node.transfer(to="RTCb", amount_i64=2_010_000, idempotency_key="otc_payout:o1")
    assert isinstance(result, Ok)
    assert result.value.phase is TxPhase.VOIDED
    assert seen["amount_rtc"] == "2.01"
    assert seen["reason"] == seen["idempotency_key"] == "otc_payout:o1"
    assert seen["admin"] == ADMIN


@pytest.mark.parametrize(
    "exc",
    [httpx.ReadTimeout("t"), httpx.RemoteProtocolError("peer closed"), httpx.ConnectError("x")],
)
def test_transfer_timeout_or_drop_is_unknown(exc: Exception) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    node, _ = client(handler)
    assert isinstance(node.transfer(to="b", amount_i64=1, idempotency_key="k"), Unknown)


def test_html_500_from_transfer_is_unknown() -> None:
    node, _ = client(lambda r: httpx.Response(500, html="<!doctype html><title>500</title>"))
    assert isinstance(node.transfer(to="b", amount_i64=1, idempotency_key="k"), Unknown)


@pytest.mark.parametrize(
    ("url", "verify", "allowed"),
    [
        ("http://203.0.113.5:8099", True, False),
        ("https://203.0.113.5", False, False),
        ("https://203.0.113.5", True, True),
        ("http://127.0.0.1:8099", True, True),
        ("http://localhost:8099", False, True),
    ],
)
def test_admin_key_never_travels_insecurely(url: str, verify: bool, allowed: bool) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"ok": True, "pending": []})

    cfg = NodeConfig(base_url=url, admin_key=ADMIN, tls_verify=verify)
    node = NodeClient(cfg, transport=httpx.MockTransport(handler))
    result = node.pending_list()
    assert isinstance(result, Ok) is allowed
    assert bool(sent) is allowed
    if not allowed:
        assert isinstance(result, Rejected)
        assert result.code == "insecure_admin_transport"


def test_payout_status_reads_the_deterministic_hash() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(
            404, json={"ok": False, "status": "not_found", "error": "transaction_not_found"}
        )

    node, _ = client(handler)
    result = node.payout_status("otc_payout:o1")
    assert isinstance(result, Ok)
    assert result.value.state is TxState.NOT_FOUND
    assert seen == ["/wallet/tx/" + idempotent_tx_hash("otc_payout:o1")]


def test_admin_calls_are_paced_until_the_limiters_retry_after_runs_out() -> None:
    """After an admin 429, the admin calls made before its Retry-After runs out are not
    sent: past their budget they answer that 429 with the time left (the caller
    reschedules), within it they wait the rest out. Other calls are not held."""
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        if sent == ["/wallet/transfer"]:  # the first admin call meets the limiter
            return httpx.Response(
                429, headers={"Retry-After": "30"}, json={"code": "ADMIN_RATE_LIMIT"}
            )
        return httpx.Response(200, json={"ok": True})

    clock, slept = [100.0], list[float]()
    node = NodeTransport(
        "http://127.0.0.1:8099",
        timeout_seconds=5,
        connect_timeout_seconds=1,
        verify=True,
        transport=httpx.MockTransport(handler),
        sleep=slept.append,
        clock=lambda: clock[0],
    )
    first = node.call("POST", "/wallet/transfer", route="transfer", admin=True)
    assert isinstance(first, Reply)
    assert first.is_admin_rate_limit
    clock[0] += 10.5
    paced = node.call("POST", "/pending/confirm", route="confirm", admin=True)
    assert isinstance(paced, Reply)
    assert paced.is_admin_rate_limit
    assert paced.retry_after == 20.0  # what is left, rounded up
    assert sent == ["/wallet/transfer"]  # the paced call never reached the node
    read = node.call("GET", "/wallet/tx/ab", route="tx")  # not an admin call: not held
    assert isinstance(read, Reply)
    assert read.status == 200
    waited = node.call(
        "POST", "/wallet/transfer", route="transfer", admin=True, rate_limit_budget=25
    )
    assert isinstance(waited, Reply)
    assert waited.status == 200
    assert slept == [19.5]  # the rest of the Retry-After, then one request
    clock[0] += 20
    assert sent == ["/wallet/transfer", "/wallet/tx/ab", "/wallet/transfer"]
    again = node.call("POST", "/pending/confirm", route="confirm", admin=True)
    assert isinstance(again, Reply)
    assert again.status == 200
    assert slept == [19.5]
