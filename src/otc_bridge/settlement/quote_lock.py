"""The one verification flow of a reported quote lock (design §3), used by
`Settlement.report_lock` for the API and the chain watcher alike.

The lock is read through the `QuoteChain` port, held against what the order expects
(`expected_lock`: the order's terms and parties, the pair's contract and token, the
deadline policy) by `domain.htlc_terms.check_lock`, and either refused with the first
failing check (`LockRefused`, nothing written) or turned into the `QuoteLock` facts the
`lock_verified` move stores.
"""

from __future__ import annotations

from otc_bridge.adapters.evm.results import Found, LockSighting, Missing, NotFinal, Unreachable
from otc_bridge.domain.deadlines import DeadlinePolicy
from otc_bridge.domain.htlc_terms import (
    ExpectedLock,
    RefusalCode,
    Refused,
    check_lock,
)
from otc_bridge.domain.order import Order, QuoteLock, required
from otc_bridge.settlement.quote_chains import LockRef, LockTerms, QuoteChain


class LockRefused(Exception):
    """The reported lock does not back the order (`verdict` says which check failed and
    what was seen); `retry_after` is set when asking again later may succeed."""

    def __init__(self, verdict: Refused, retry_after: int | None = None) -> None:
        super().__init__(verdict.message)
        self.verdict = verdict
        self.retry_after = retry_after if verdict.retryable else None


def refused(code: RefusalCode, message: str, observed: object, expected: object) -> Refused:
    return Refused(code, message, str(observed), str(expected))


def parties(order: Order) -> tuple[str | None, str | None]:
    """(receiver, sender) of B's lock: S's quote address and B's."""
    match = required(order.match, "taker", order)
    if order.is_sell:
        return order.maker_eth_address, match.taker_address
    return match.taker_address, order.maker_eth_address


def expected_lock(order: Order, terms: LockTerms, policy: DeadlinePolicy) -> ExpectedLock:
    match = required(order.match, "taker", order)
    deadline = required(match.deadline, "match deadline", order)
    job = order.escrow_job
    escrow_expires_at = job.expires_at if job is not None else None
    if escrow_expires_at is None:  # the node did not say: what the policy guarantees
        escrow_expires_at = policy.escrow_needed_until(deadline)
    receiver, sender = parties(order)
    return ExpectedLock(
        htlc_contract=terms.htlc_contract,
        token=terms.token,
        min_amount=order.total_quote_base,
        hashlock="0x" + required(order.htlc_hash, "hashlock", order).lower(),
        receiver=receiver or "",
        sender=sender or "",
        match_deadline=deadline,
        escrow_expires_at=escrow_expires_at,
        timelock_min=terms.timelock_min or policy.quote_timelock_min,
        timelock_max=terms.timelock_max or policy.quote_timelock_max,
        claim_margin=policy.claim_margin,
        settlement_margin=policy.settlement_margin,
        finality_confirmations=terms.finality_confirmations,
    )


def verify(
    order: Order,
    chain: QuoteChain,
    found: Found | NotFinal | Missing | Unreachable,
    policy: DeadlinePolicy,
    *,
    now: int,
    retry_seconds: int,
) -> QuoteLock:
    """The lock's facts if it backs the order; otherwise `LockRefused`."""
    if isinstance(found, Unreachable):
        verdict = refused(
            RefusalCode.CHAIN_UNREACHABLE,
            f"the quote chain cannot be asked now: {found.reason}",
            "unreachable",
            "a chain that answers",
        )
        raise LockRefused(verdict, retry_seconds)
    if isinstance(found, Missing):
        raise LockRefused(refused(found.code, found.reason, "nothing", "a lock"))
    sighting: LockSighting = found.sighting
    judged = check_lock(expected_lock(order, chain.terms, policy), sighting.observed(), now)
    if isinstance(judged, Refused):
        raise LockRefused(judged, retry_seconds)
    lock = sighting.lock
    return QuoteLock(
        lock_id=lock.id.lower(),
        tx_hash=sighting.tx_hash.lower(),
        block_number=sighting.block.number,
        block_hash=sighting.block.hash.lower(),
        amount=lock.amount,
        timelock=lock.timelock,
        sender=lock.sender,
        receiver=lock.receiver,
        verified_at=now,
    )


def already_used(lock_id: str) -> LockRefused:
    return LockRefused(
        refused(
            RefusalCode.LOCK_ALREADY_USED,
            f"the lock {lock_id} already backs another order (one lock, one order)",
            lock_id,
            "a lock no other order was verified with",
        )
    )


def same_lock(order: Order, ref: LockRef) -> bool:
    lock = order.quote_lock
    return lock is not None and ref.names(lock.lock_id, lock.tx_hash)
