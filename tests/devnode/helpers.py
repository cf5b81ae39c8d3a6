"""Small request helpers shared by the devnode conformance tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import Devnode

DESCRIPTION = "A job description that is comfortably over twenty characters."
STATE_RACE = "Job state changed under concurrent request — please retry"


def post_job(node: Devnode, poster: str, reward: Any = 1, **fields: Any) -> httpx.Response:
    body = {
        "poster_wallet": poster,
        "title": "Escrow job",
        "description": DESCRIPTION,
        "reward_rtc": reward,
    }
    body.update(fields)
    return node.http.post("/agent/jobs", json=body)


def make_job(node: Devnode, poster: str, reward: Any = 1, **fields: Any) -> str:
    response = post_job(node, poster, reward, **fields)
    assert response.status_code == 201, response.text
    job_id: str = response.json()["job_id"]
    return job_id


def act(node: Devnode, job_id: str, action: str, **body: Any) -> httpx.Response:
    return node.http.post(f"/agent/jobs/{job_id}/{action}", json=body)


def job(node: Devnode, job_id: str) -> dict[str, Any]:
    response = node.http.get(f"/agent/jobs/{job_id}")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["job"]
    return data


def delivered_job(node: Devnode, poster: str, worker: str, reward: Any = 1, **fields: Any) -> str:
    job_id = make_job(node, poster, reward, **fields)
    assert act(node, job_id, "claim", worker_wallet=worker).status_code == 200
    assert (
        act(node, job_id, "deliver", worker_wallet=worker, result_summary="done").status_code == 200
    )
    return job_id


def transfer(
    node: Devnode,
    from_miner: str,
    to_miner: str,
    amount: Any,
    key: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> httpx.Response:
    body: dict[str, Any] = {"from_miner": from_miner, "to_miner": to_miner, "amount_rtc": amount}
    if key is not None:
        body["idempotency_key"] = key
    body.update(fields)
    return node.http.post("/wallet/transfer", json=body, headers=headers or node.admin())


def balance_i64(node: Devnode, wallet: str) -> int:
    response = node.http.get("/wallet/balance", params={"miner_id": wallet})
    assert response.status_code == 200, response.text
    amount: int = response.json()["amount_i64"]
    return amount


def pending_rows(node: Devnode, status: str = "all", **params: Any) -> list[dict[str, Any]]:
    response = node.http.get(
        "/pending/list", params={"status": status, "limit": 500, **params}, headers=node.admin()
    )
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["pending"]
    return rows
