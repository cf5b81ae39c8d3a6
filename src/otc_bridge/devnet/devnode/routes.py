"""The route table: the node's endpoints and the devnet extras."""

from __future__ import annotations

from otc_bridge.devnet.devnode import (
    devnet_routes,
    job_lifecycle,
    job_reads,
    jobs,
    latency,
    pending,
    signed,
    transfers,
)
from otc_bridge.devnet.devnode.router import Router


def build_router() -> Router:
    router = Router()
    add = router.add
    add("GET", "/wallet/balance", transfers.balance)
    add("POST", "/wallet/transfer", transfers.transfer)
    add("POST", "/wallet/transfer/signed", signed.transfer_signed)
    add("GET", "/wallet/tx/<tx_hash>", transfers.tx_status)
    add("GET", "/pending/list", pending.list_pending)
    add("POST", "/pending/confirm", pending.confirm)
    add("POST", "/pending/void", pending.void)
    add("GET", "/pending/integrity", pending.integrity)

    # RIP-302 catches every exception and answers 500 {"error": "Internal error"}.
    add("GET", "/agent/jobs", job_reads.list_jobs, json_errors=True)
    add("POST", "/agent/jobs", jobs.create, json_errors=True)
    add("GET", "/agent/stats", job_reads.stats, json_errors=True)
    add("GET", "/agent/reputation/<wallet>", job_reads.reputation, json_errors=True)
    add("GET", "/agent/jobs/<job_id>", job_reads.get_job, json_errors=True)
    add("POST", "/agent/jobs/<job_id>/claim", job_lifecycle.claim, json_errors=True)
    add("POST", "/agent/jobs/<job_id>/deliver", job_lifecycle.deliver, json_errors=True)
    add("POST", "/agent/jobs/<job_id>/accept", job_lifecycle.accept, json_errors=True)
    add("POST", "/agent/jobs/<job_id>/dispute", job_lifecycle.dispute, json_errors=True)
    add("POST", "/agent/jobs/<job_id>/cancel", job_lifecycle.cancel, json_errors=True)

    add("POST", "/devnet/faucet", devnet_routes.faucet)
    add("GET", "/devnet/ledger", devnet_routes.ledger)
    add("GET", "/devnet/clock", devnet_routes.get_clock)
    add("POST", "/devnet/clock", devnet_routes.advance_clock)
    add("GET", "/devnet/faults", devnet_routes.list_faults)
    add("POST", "/devnet/faults", devnet_routes.add_fault)
    add("DELETE", "/devnet/faults", devnet_routes.clear_faults)
    add("DELETE", "/devnet/faults/<fault_id>", devnet_routes.remove_fault)
    add("GET", "/devnet/scheduler", devnet_routes.get_scheduler)
    add("POST", "/devnet/scheduler", devnet_routes.configure_scheduler)
    add("POST", "/devnet/scheduler/tick", devnet_routes.tick)
    add("GET", "/devnet/latency", latency.get_latency)
    add("POST", "/devnet/latency", latency.set_latency)
    add("POST", "/devnet/pending/fill", devnet_routes.fill_pending)
    add("POST", "/devnet/reset", devnet_routes.reset)
    return router
