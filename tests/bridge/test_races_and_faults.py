"""Concurrency and node faults on the exchange path: the money ends where it should,
exactly once, and every answer agrees with the database."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from otc_bridge.clientlib.wallet import Secret, Wallet
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.process import DevnodeProcess
from tests.support.bridge import RunningBridge, bridge_env, running_bridge
from tests.support.client import TraderClient

GRACE = 121  # past OTC_SETTLEMENT_STUCK_SECONDS' default of 120


def funded(devnet: DevnetControl, amount: str = "100") -> Wallet:
    wallet = Wallet()
    devnet.faucet(wallet.address, amount)
    return wallet


def causes(bridge: RunningBridge, order_id: str) -> list[tuple[str, str]]:
    return [(e["to"], e["cause"]) for e in bridge.client.events(order_id)]


def race_matches(
    bridge: RunningBridge, order_id: str, sellers: list[Wallet]
) -> dict[str, httpx.Response]:
    """All sellers match the same order at the same instant, each on its own connection."""
    start = threading.Barrier(len(sellers))
    answers: dict[str, httpx.Response] = {}

    def take(seller: Wallet) -> None:
        with TraderClient(bridge.url, clock=bridge.container.clock.now) as client:
            start.wait()
            answers[seller.address] = client.match(seller, order_id, htlc_hash=Secret().hash)

    threads = [threading.Thread(target=take, args=(s,)) for s in sellers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_two_takers_race_exactly_one_wins_and_the_loser_keeps_its_rtc(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    for _ in range(3):
        buyer = Wallet()
        sellers = [funded(devnet), funded(devnet)]
        order_id = bridge.client.create_order(
            buyer, side="buy", amount_rtc="10", price_per_rtc="0.1"
        ).json()["order_id"]
        answers = race_matches(bridge, order_id, sellers)
        winners = [a for a, r in answers.items() if r.status_code == 200]
        losers = [a for a, r in answers.items() if r.status_code != 200]
        assert len(winners) == 1, {a: r.text for a, r in answers.items()}
        assert answers[losers[0]].status_code == 409
        order = bridge.client.order(order_id)
        assert order["status"] == "matched"
        assert order["taker_wallet"] == winners[0]
        assert devnet.balance_i64(losers[0]) == 100_000_000  # never locked anything
        assert devnet.balance_i64(winners[0]) == 100_000_000 - 10_500_000


def test_lost_cancel_response_after_the_node_refunded_ends_cancelled_once(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    seller = funded(devnet)
    order_id = bridge.client.create_order(
        seller, side="sell", amount_rtc="20", price_per_rtc="0.1"
    ).json()["order_id"]
    devnet.add_fault("POST /agent/jobs/*/cancel", "drop")
    response = bridge.client.cancel(seller, order_id)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert devnet.balance_i64(seller.address) == 100_000_000
    assert causes(bridge, order_id)[-1] == ("cancelled", "refund_confirmed")
    assert bridge.client.events(order_id)[-1]["refs"]["job_status"] == "cancelled"


def test_unresolvable_cancel_stays_refund_pending_until_the_worker_confirms(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    seller = funded(devnet)
    order_id = bridge.client.create_order(
        seller, side="sell", amount_rtc="20", price_per_rtc="0.1"
    ).json()["order_id"]
    devnet.add_fault("POST /agent/jobs/*/cancel", "drop")
    devnet.add_fault("GET /agent/jobs/*", "gateway_error")
    response = bridge.client.cancel(seller, order_id)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "ok": True,
        "order_id": order_id,
        "status": "refund_pending",
        "escrow_refunded": False,
        "message": "Order cancel accepted; escrow refund is pending and will be retried "
        "automatically by settlement reconciliation.",
    }
    assert bridge.client.order(order_id)["status"] == "refund_pending"
    assert devnet.balance_i64(seller.address) == 100_000_000  # the node did refund

    devnet.clear_faults()
    bridge.run_worker()  # inside the grace window: the request's own retry time
    assert bridge.client.order(order_id)["status"] == "refund_pending"
    devnet.advance_clock(GRACE)
    bridge.run_worker()  # the retry meets a 409 "current: cancelled" and reads the job
    assert bridge.client.order(order_id)["status"] == "cancelled"
    assert devnet.balance_i64(seller.address) == 100_000_000  # refunded exactly once


def test_lost_escrow_create_response_is_found_by_title(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    seller = funded(devnet)
    devnet.add_fault("POST /agent/jobs", "drop")
    created = bridge.client.create_order(seller, side="sell", amount_rtc="7", price_per_rtc="0.1")
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "open"
    assert devnet.balance_i64(seller.address) == 100_000_000 - 7_350_000  # locked once


def test_unresolved_escrow_lock_is_refunded_and_the_order_cancelled(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    seller = funded(devnet)
    devnet.add_fault("POST /agent/jobs", "drop")
    devnet.add_fault("GET /agent/jobs", "gateway_error")
    created = bridge.client.create_order(seller, side="sell", amount_rtc="7", price_per_rtc="0.1")
    assert created.status_code == 503, created.text
    body = created.json()
    assert body["error"] == "Escrow lock outcome unknown"
    assert body["status"] == "opening"
    assert bridge.client.order(body["order_id"])["status"] == "opening"
    assert devnet.balance_i64(seller.address) == 100_000_000 - 7_350_000  # the node did lock

    devnet.clear_faults()
    devnet.advance_clock(GRACE)
    bridge.run_worker()
    assert bridge.client.order(body["order_id"])["status"] == "cancelled"
    assert devnet.balance_i64(seller.address) == 100_000_000
    assert [to for to, _ in causes(bridge, body["order_id"])] == [
        "opening",
        "refund_pending",
        "cancelled",
    ]


def test_escrow_refused_by_the_node_cancels_the_order(
    bridge: RunningBridge, devnet: DevnetControl
) -> None:
    seller = funded(devnet)
    devnet.add_fault("POST /agent/jobs", "json_500")
    created = bridge.client.create_order(seller, side="sell", amount_rtc="1", price_per_rtc="1")
    assert created.status_code == 400
    assert created.json()["error"] == "Failed to lock RTC in escrow"
    assert created.json()["details"] == "Internal error"
    assert devnet.balance_i64(seller.address) == 100_000_000
    assert bridge.client.http.get("/api/orders").json()["total"] == 0


def test_escrow_already_refunded_by_an_outsiders_expiry_ends_the_order_cleanly(
    bridge: RunningBridge, devnet: DevnetControl, node: DevnodeProcess
) -> None:
    seller = funded(devnet)
    order_id = bridge.client.create_order(
        seller, side="sell", amount_rtc="4", price_per_rtc="1", ttl_seconds=3600
    ).json()["order_id"]
    order = bridge.client.order(order_id)
    # Anyone listing the node's jobs after the job's TTL refunds the poster (lazy expiry).
    devnet.advance_clock(order["escrow_expires_at"] - devnet.now() + 1)
    httpx.get(f"{node.url}/agent/jobs", params={"status": "open"})
    job = httpx.get(f"{node.url}/agent/jobs/{order['escrow_job_id']}").json()["job"]
    assert job["status"] == "expired"
    assert devnet.balance_i64(seller.address) == 100_000_000

    bridge.run_worker()  # order expiry -> refund -> 409 "current: expired" -> read the job
    assert bridge.client.order(order_id)["status"] == "expired"
    assert devnet.balance_i64(seller.address) == 100_000_000
    assert bridge.client.events(order_id)[-1]["refs"]["job_status"] == "expired"


def test_spoofed_real_ip_from_an_untrusted_peer_shares_the_peer_limit(
    node: DevnodeProcess, devnet: DevnetControl, tmp_path: Path
) -> None:
    env = bridge_env(node, tmp_path, OTC_RATE_LIMIT_PER_IP="3")
    with running_bridge(env) as bridge:
        statuses = [
            bridge.client.http.post("/api/orders", headers={"X-Real-IP": f"10.0.0.{i}"}).status_code
            for i in range(4)
        ]
        assert statuses == [400, 400, 400, 429]
        limited = bridge.client.http.post("/api/orders", headers={"X-Forwarded-For": "10.9.9.9"})
        assert limited.status_code == 429
        assert limited.json()["error"] == "Rate limit exceeded"
        assert int(limited.headers["retry-after"]) >= 1


def test_forwarded_addresses_count_only_behind_a_trusted_proxy(
    node: DevnodeProcess, devnet: DevnetControl, tmp_path: Path
) -> None:
    env = bridge_env(node, tmp_path, OTC_RATE_LIMIT_PER_IP="3", OTC_TRUSTED_PROXIES="127.0.0.1/32")
    with running_bridge(env) as bridge:
        http = bridge.client.http
        spread = [
            http.post("/api/orders", headers={"X-Real-IP": f"10.0.1.{i}"}).status_code
            for i in range(6)
        ]
        assert spread == [400] * 6
        same = [
            http.post("/api/orders", headers={"X-Forwarded-For": "10.0.2.1"}).status_code
            for _ in range(4)
        ]
        assert same == [400, 400, 400, 429]


def test_node_escrow_cap_reached_outside_the_bridge_is_named_in_the_refusal(
    bridge: RunningBridge, devnet: DevnetControl, node: DevnodeProcess
) -> None:
    seller = funded(devnet, "1000")
    for i in range(20):  # jobs the wallet posted on the node directly, not through us
        posted = httpx.post(
            f"{node.url}/agent/jobs",
            json={
                "poster_wallet": seller.address,
                "title": f"other job {i}",
                "description": "posted outside the bridge",
                "reward_rtc": 1,
            },
        )
        assert posted.status_code == 201
    refused = bridge.client.create_order(seller, side="sell", amount_rtc="1", price_per_rtc="1")
    assert refused.status_code == 400
    assert refused.json()["details"] == "Maximum 20 active jobs per agent"
    assert refused.json()["hint"] == "The node allows at most 20 active escrow jobs per wallet"
    jobs = httpx.get(f"{node.url}/agent/jobs", params={"limit": 100}).json()["jobs"]
    for job in jobs:
        if job["poster_wallet"] == seller.address:
            httpx.post(
                f"{node.url}/agent/jobs/{job['job_id']}/cancel",
                json={"poster_wallet": seller.address},
            )
