"""The typed RustChain node client the bridge uses.

It turns the node's quirks into clear results (see `results`):

* RIP-302 lifecycle calls are not idempotent: a repeat answers 409, and so does a call
  that lost a race or met a third party's action. Any 409, STATE_RACE, 403, 410 or lost
  response is resolved by reading the job (`GET /agent/jobs/<id>`): if the job already
  stands where the step would put it, the step is done.
* The admin limiter's 429 is waited out for `Retry-After` within a budget, and the admin
  calls made before that Retry-After runs out are not sent (their answer is that 429).
* A timeout, a dropped connection or a proxy's HTML 5xx is `Unknown`, never failure.
  A RIP-302 JSON 500 is `Rejected(retryable)`: those handlers roll back.
* Money goes out as the node's own rounding expects: job rewards as the float that books
  exactly the intended µRTC, transfers as exact decimal strings.
* A payout's status is read from `/wallet/tx/<deterministic hash>`: one request, no scan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx

from otc_bridge.adapters.node.config import NodeConfig
from otc_bridge.adapters.node.models import (
    CreatedJob,
    Job,
    JobStatus,
    PendingItem,
    StepDone,
    TransferReceipt,
    TxState,
    TxStatus,
)
from otc_bridge.adapters.node.results import NodeResult, Ok, Rejected, Unknown
from otc_bridge.adapters.node.transport import Lost, NodeTransport, Observer, Reply
from otc_bridge.domain.money import micro_to_rtc_str
from otc_bridge.domain.rustchain import (
    idempotent_tx_hash,
    job_escrow_i64,
    job_reward_wire,
    transfer_i64,
)

# RIP-302 error texts the bridge reacts to, mapped to stable codes.
_JOB_ERROR_CODES = {
    "Insufficient balance for escrow": "insufficient_balance",
    "Maximum 20 active jobs per agent": "active_job_limit",
    "Maximum reward is 10,000 RTC": "reward_too_large",
    "Minimum reward is 0.01 RTC": "reward_too_small",
    "Job not found": "job_not_found",
    "Job has expired": "job_expired",
}

_REACHED: dict[str, Callable[[Job, str], bool]] = {
    # Where each step puts the job; `who` is the acting worker (or poster for cancel).
    "claim": lambda job, who: (
        job.worker_wallet == who
        and job.status
        in {JobStatus.CLAIMED, JobStatus.DELIVERED, JobStatus.COMPLETED, JobStatus.DISPUTED}
    ),
    "deliver": lambda job, who: (
        job.worker_wallet == who
        and job.status in {JobStatus.DELIVERED, JobStatus.COMPLETED, JobStatus.DISPUTED}
    ),
    "accept": lambda job, who: job.worker_wallet == who and job.status is JobStatus.COMPLETED,
    "cancel": lambda job, who: job.status in {JobStatus.CANCELLED, JobStatus.EXPIRED},
    "dispute": lambda job, who: job.status in {JobStatus.DISPUTED, JobStatus.CANCELLED},
}


def _job_code(reply: Reply) -> str | None:
    if reply.code == "STATE_RACE":
        return "state_race"
    return _JOB_ERROR_CODES.get(reply.error, reply.code)


def _unknown(reply: Reply | Lost, job: Job | None = None) -> Unknown:
    if isinstance(reply, Lost):
        return Unknown(reply.reason, reply.request_id, job)
    return Unknown(f"http {reply.status}: {reply.error[:120]}", reply.request_id, job)


def _is_lost(reply: Reply | Lost) -> bool:
    """No answer we can trust: the node may have committed (proxy 5xx, HTML 500, drop)."""
    return isinstance(reply, Lost) or (reply.status >= 500 and not reply.is_json)


def _rejected(reply: Reply, code: str | None = None, **extra: Any) -> Rejected:
    return Rejected(
        status=reply.status,
        error=reply.error,
        code=code if code is not None else reply.code,
        retry_after=reply.retry_after,
        body=reply.body,
        **extra,
    )


class NodeClient:
    def __init__(
        self,
        config: NodeConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
        observer: Observer | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """`clock`: the bridge's (Unix seconds), by which admin calls are paced after a
        rate-limit 429 (the bridge's container passes it); without one, no pacing."""
        self.config = config
        kwargs: dict[str, Any] = {}
        if sleep is not None:
            kwargs["sleep"] = sleep
        if clock is not None:
            kwargs["clock"] = clock
        self._http = NodeTransport(
            config.base_url,
            timeout_seconds=config.timeout_seconds,
            connect_timeout_seconds=config.connect_timeout_seconds,
            verify=config.verify,
            transport=transport,
            observer=observer,
            **kwargs,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> NodeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ balances

    def balance(self, wallet: str) -> NodeResult[int]:
        """The settled balance in µRTC (queued transfers are not subtracted)."""
        reply = self._http.call(
            "GET", "/wallet/balance", params={"miner_id": wallet}, route="/wallet/balance"
        )
        if _is_lost(reply):
            return _unknown(reply)
        assert isinstance(reply, Reply)
        if reply.status == 200 and reply.body is not None:
            amount = reply.body.get("amount_i64")
            if isinstance(amount, int) and not isinstance(amount, bool):
                return Ok(amount)
            return _unknown(reply)
        return _rejected(reply, retryable=reply.status >= 500)

    # ---------------------------------------------------------------- RIP-302 jobs

    def create_job(
        self,
        *,
        poster: str,
        reward_i64: int,
        ttl_seconds: int,
        title: str,
        description: str,
        category: str = "other",
        tags: Iterable[str] = ("otc_bridge", "escrow"),
    ) -> NodeResult[CreatedJob]:
        """Lock `reward_i64` (+ the node's 5 % fee) of `poster`'s RTC in a new job.

        Not idempotent on the node: after `Unknown`, look for the job by its title with
        `find_jobs` before creating another one.
        """
        payload = {
            "poster_wallet": poster,
            "title": title,
            "description": description,
            "category": category,
            "reward_rtc": job_reward_wire(reward_i64),
            "ttl_seconds": ttl_seconds,
            "tags": list(tags),
        }
        reply = self._http.call("POST", "/agent/jobs", json=payload, route="/agent/jobs")
        if _is_lost(reply):
            return _unknown(reply)
        assert isinstance(reply, Reply)
        body = reply.body or {}
        if reply.status == 201 and isinstance(body.get("job_id"), str):
            expires_at = body.get("expires_at")
            return Ok(
                CreatedJob(
                    job_id=body["job_id"],
                    expires_at=expires_at if isinstance(expires_at, int) else 0,
                    reward_i64=reward_i64,
                    escrow_i64=job_escrow_i64(reward_i64),
                )
            )
        if reply.status == 201:
            return _unknown(reply)
        code = _job_code(reply)
        retryable = reply.status >= 500 or code in {"active_job_limit", "insufficient_balance"}
        return _rejected(reply, code, retryable=retryable)

    def get_job(self, job_id: str) -> NodeResult[Job]:
        """The authoritative job state. Also triggers the node's lazy expiry of this job."""
        reply = self._http.call("GET", f"/agent/jobs/{job_id}", route="/agent/jobs/{id}")
        if _is_lost(reply):
            return _unknown(reply)
        assert isinstance(reply, Reply)
        raw = (reply.body or {}).get("job")
        if reply.status == 200 and isinstance(raw, dict):
            try:
                return Ok(Job.from_node(raw))
            except ValueError:
                return _unknown(reply)
        return _rejected(reply, _job_code(reply), retryable=reply.status >= 500)

    def list_jobs(
        self,
        *,
        status: str = "open",
        limit: int = 100,
        offset: int = 0,
        min_reward_i64: int | None = None,
    ) -> NodeResult[tuple[list[Job], int]]:
        """One page of jobs and the total. The node expires every overdue job first."""
        params: dict[str, str | int] = {"status": status, "limit": limit, "offset": offset}
        if min_reward_i64 is not None:
            params["min_reward"] = micro_to_rtc_str(min_reward_i64)
        reply = self._http.call("GET", "/agent/jobs", params=params, route="/agent/jobs")
        if _is_lost(reply):
            return _unknown(reply)
        assert isinstance(reply, Reply)
        body = reply.body or {}
        raw_jobs, total = body.get("jobs"), body.get("total")
        if reply.status == 200 and isinstance(raw_jobs, list) and isinstance(total, int):
            try:
                jobs = [Job.from_node(raw) for raw in raw_jobs if isinstance(raw, dict)]
            except ValueError:
                return _unknown(reply)
            return Ok((jobs, total))
        return _rejected(reply, retryable=reply.status >= 500)

    def find_jobs(
        self,
        *,
        poster: str,
        title: str,
        statuses: Iterable[str] = ("open",),
        min_reward_i64: int | None = None,
        page_size: int = 100,
    ) -> NodeResult[list[Job]]:
        """Jobs posted by `poster` with exactly `title`: how a lost create is found.

        Job ids are random, so a job whose creation response was lost can only be found
        by what we put in it. `min_reward_i64` narrows the scan (the list is sorted by
        reward, descending).
        """
        found: list[Job] = []
        for status in statuses:
            offset = 0
            while True:
                page = self.list_jobs(
                    status=status, limit=page_size, offset=offset, min_reward_i64=min_reward_i64
                )
                if not isinstance(page, Ok):
                    return page
                jobs, total = page.value
                found.extend(j for j in jobs if j.poster_wallet == poster and j.title == title)
                offset += len(jobs)
                if not jobs or offset >= total:
                    break
        return Ok(found)

    def claim(self, job_id: str, worker: str) -> NodeResult[StepDone]:
        return self._job_step(job_id, "claim", {"worker_wallet": worker}, who=worker)

    def deliver(self, job_id: str, worker: str, summary: str) -> NodeResult[StepDone]:
        body = {"worker_wallet": worker, "result_summary": summary}
        return self._job_step(job_id, "deliver", body, who=worker)

    def accept(self, job_id: str, poster: str, worker: str) -> NodeResult[StepDone]:
        """Release the escrow: the reward goes to the job's worker, which must be `worker`."""
        body = {"poster_wallet": poster, "rating": 5}
        return self._job_step(job_id, "accept", body, who=worker)

    def cancel(self, job_id: str, poster: str) -> NodeResult[StepDone]:
        """Refund the whole escrow to the poster. An expired job counts as refunded."""
        return self._job_step(job_id, "cancel", {"poster_wallet": poster}, who=poster)

    def dispute(self, job_id: str, poster: str, reason: str) -> NodeResult[StepDone]:
        """The only way out of `delivered` other than accept: dispute, then cancel."""
        body = {"poster_wallet": poster, "reason": reason}
        return self._job_step(job_id, "dispute", body, who=poster)

    def _job_step(
        self, job_id: str, action: str, body: Mapping[str, Any], *, who: str
    ) -> NodeResult[StepDone]:
        route = f"/agent/jobs/{{id}}/{action}"
        reply = self._http.call("POST", f"/agent/jobs/{job_id}/{action}", json=body, route=route)
        if isinstance(reply, Reply) and reply.status == 200 and reply.body is not None:
            try:
                status = JobStatus(str(reply.body.get("status")))
            except ValueError:
                return _unknown(reply)
            paid = reply.body.get("reward_paid_rtc")
            paid_i64 = transfer_i64(paid) if isinstance(paid, int | float) else None
            return Ok(StepDone(job_id, status, paid_i64=paid_i64))
        if isinstance(reply, Reply) and reply.is_json and reply.status >= 500:
            # RIP-302 handlers catch everything and roll back: nothing was applied.
            return _rejected(reply, "node_internal_error", retryable=True)
        if isinstance(reply, Reply) and reply.status in {400, 404}:
            return _rejected(reply, _job_code(reply))
        # A 409 (repeat, race, third party), 403 (someone else's job now), 410 (expired)
        # or a lost answer: only the job's current state tells what happened.
        read = self.get_job(job_id)
        if not isinstance(read, Ok):
            return read if isinstance(read, Rejected) and read.status == 404 else _unknown(reply)
        job = read.value
        if _REACHED[action](job, who):
            paid_i64 = job.reward_i64 if action == "accept" else None
            return Ok(StepDone(job_id, job.status, True, job, paid_i64))
        if _is_lost(reply):
            return _unknown(reply, job)
        assert isinstance(reply, Reply)
        code = _job_code(reply)
        if code == "state_race":
            return _rejected(reply, code, retryable=True, job=job)
        return _rejected(reply, code if code == "job_expired" else "job_conflict", job=job)

    # ------------------------------------------------------------------ transfers

    def _admin_headers(self, header: str = "X-Admin-Key") -> dict[str, str] | Rejected:
        problem = self.config.admin_transport_problem()
        if problem is not None:
            return Rejected(status=0, error=problem, code=problem)
        assert self.config.admin_key is not None
        return {header: self.config.admin_key}

    def transfer(
        self,
        *,
        to: str,
        amount_i64: int,
        idempotency_key: str,
        reason: str | None = None,
        from_wallet: str | None = None,
    ) -> NodeResult[TransferReceipt]:
        """Queue an admin transfer (a payout). Safe to repeat with the same key.

        A repeat returns the row in whatever state it is now, `voided` included; a
        voided payout can only be re-driven under a new key. `Unknown` means the queue
        may or may not hold it: repeat the same key or read `payout_status`.
        """
        headers = self._admin_headers()
        if isinstance(headers, Rejected):
            return headers
        payload = {
            "from_miner": from_wallet or self.config.worker_wallet,
            "to_miner": to,
            "amount_rtc": micro_to_rtc_str(amount_i64),
            "reason": reason if reason is not None else idempotency_key,
            "idempotency_key": idempotency_key,
        }
        reply = self._http.call(
            "POST",
            "/wallet/transfer",
            json=payload,
            headers=headers,
            route="/wallet/transfer",
            rate_limit_budget=self.config.rate_limit_budget_seconds,
            admin=True,
        )
        if _is_lost(reply):
            return _unknown(reply)
        assert isinstance(reply, Reply)
        if reply.status == 200 and reply.body is not None and reply.body.get("ok") is True:
            try:
                return Ok(TransferReceipt.from_node(reply.body))
            except ValueError:
                return _unknown(reply)
        if reply.is_admin_rate_limit:
            return _rejected(reply, retryable=True)
        if reply.error == "Insufficient available balance":
            return _rejected(reply, "insufficient_available_balance", retryable=True)
        if reply.status in {401, 503}:
            return _rejected(reply, reply.code or "admin_unauthorized")
        return _rejected(reply, reply.error or None, retryable=reply.status >= 500)

    def tx_status(self, tx_hash: str) -> NodeResult[TxStatus]:
        """Status by hash: pending, confirmed, failed (voided) or not_found. Unthrottled."""
        reply = self._http.call("GET", f"/wallet/tx/{tx_hash}", route="/wallet/tx/{hash}")
        if _is_lost(reply):
            return _unknown(reply)
        assert isinstance(reply, Reply)
        body = reply.body or {}
        if reply.status == 404 and body.get("status") == "not_found":
            return Ok(TxStatus(tx_hash, TxState.NOT_FOUND))
        if reply.status == 200:
            try:
                state = TxState(str(body.get("status")))
            except ValueError:
                return _unknown(reply)
            confirmations = body.get("confirmations")
            return Ok(
                TxStatus(tx_hash, state, confirmations if isinstance(confirmations, int) else 0)
            )
        return _rejected(reply, reply.error or None, retryable=reply.status in {409, 503})

    def payout_status(self, idempotency_key: str) -> NodeResult[TxStatus]:
        """A keyed transfer's status, by the hash the node derives from its key."""
        return self.tx_status(idempotent_tx_hash(idempotency_key))

    # ---------------------------------------------------------- pending pool (admin)

    def pending_list(
        self, *, status: str = "pending", limit: int = 100, miner_id: str | None = None
    ) -> NodeResult[list[PendingItem]]:
        """The newest `limit` rows (the node ignores offsets: there is no second page)."""
        headers = self._admin_headers()
        if isinstance(headers, Rejected):
            return headers
        params: dict[str, str | int] = {"status": status, "limit": limit}
        if miner_id is not None:
            params["miner_id"] = miner_id
        reply = self._http.call(
            "GET",
            "/pending/list",
            params=params,
            headers=headers,
            route="/pending/list",
            rate_limit_budget=self.config.rate_limit_budget_seconds,
            admin=True,
        )
        if _is_lost(reply):
            return _unknown(reply)
        assert isinstance(reply, Reply)
        items = (reply.body or {}).get("pending")
        if reply.status == 200 and isinstance(items, list):
            return Ok([PendingItem.from_node(i) for i in items if isinstance(i, dict)])
        return _rejected(reply, retryable=reply.is_admin_rate_limit or reply.status >= 500)

    def confirm_pending(self, limit: int | None = None) -> NodeResult[dict[str, Any]]:
        """Run the node's confirmation of due transfers (what its scheduler calls)."""
        return self._admin_post("/pending/confirm", {} if limit is None else {"limit": limit})

    def void_pending(
        self, *, tx_hash: str, reason: str = "admin_void", voided_by: str = "admin"
    ) -> NodeResult[dict[str, Any]]:
        body = {"tx_hash": tx_hash, "reason": reason, "voided_by": voided_by}
        return self._admin_post("/pending/void", body)

    def _admin_post(self, path: str, body: Mapping[str, Any]) -> NodeResult[dict[str, Any]]:
        headers = self._admin_headers()
        if isinstance(headers, Rejected):
            return headers
        reply = self._http.call(
            "POST",
            path,
            json=body,
            headers=headers,
            route=path,
            rate_limit_budget=self.config.rate_limit_budget_seconds,
            admin=True,
        )
        if _is_lost(reply):
            return _unknown(reply)
        assert isinstance(reply, Reply)
        if reply.status == 200 and reply.body is not None:
            return Ok(reply.body)
        return _rejected(reply, retryable=reply.is_admin_rate_limit or reply.status >= 500)
