"""The order book's moves: create, escrow lock results, match, cancel, expiry, match
timeout, refunds, relisting and closing. Pure: each takes the order as read and the facts
the caller learned, and returns the `Move` that records them. Every caller (the request
path, the driver's steps, operators, the chain watcher) writes through these.

The settlement moves (reveal onwards) are in `domain.settling`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from otc_bridge.domain.deadlines import DeadlinePolicy
from otc_bridge.domain.move import Move, transition
from otc_bridge.domain.order import (
    Escrow,
    EscrowJob,
    Hashlock,
    Match,
    Order,
    QuoteLock,
    Refund,
    required,
)
from otc_bridge.domain.rustchain import job_escrow_i64
from otc_bridge.domain.states import Cause, Status

JOB_OPEN = "open"  # the node's status of a job nobody has claimed


def escrow_title(order_id: str, *, taker: bool) -> str:
    """The job title the escrow is posted (and found again) under."""
    return f"OTC Bridge Escrow: {order_id}" + (" (taker)" if taker else "")


@dataclass(frozen=True, slots=True)
class Terms:
    """What the maker signed, in integer units."""

    order_id: str
    side: str
    pair: str
    maker_wallet: str
    maker_address: str | None
    amount_micro_rtc: int
    price_per_rtc_nano_quote: int
    total_quote_nano: int
    total_quote_base: int
    ttl_seconds: int


@dataclass(frozen=True, slots=True)
class FoundJob:
    """A job the node lists for an escrow whose lock never reported back."""

    job_id: str
    state: str
    expires_at: int | None


# ---------------------------------------------------------------------- creation


def create(terms: Terms, *, hashlock: Hashlock | None, at: int, grace: int) -> Order:
    """A new order: a sell order with its escrow intent (`opening`), a buy order `open`
    (nothing to lock until a seller takes it)."""
    sell = terms.side == "sell"
    expires_at = at + terms.ttl_seconds
    return Order(
        order_id=terms.order_id,
        side=terms.side,
        pair=terms.pair,
        maker_wallet=terms.maker_wallet,
        maker_eth_address=terms.maker_address,
        amount_micro_rtc=terms.amount_micro_rtc,
        price_per_rtc_nano_quote=terms.price_per_rtc_nano_quote,
        total_quote_nano=terms.total_quote_nano,
        total_quote_base=terms.total_quote_base,
        status=Status.OPENING if sell else Status.OPEN,
        version=0,
        history_hash="",
        created_at=at,
        ttl_seconds=terms.ttl_seconds,
        expires_at=expires_at,
        next_action_at=at + grace if sell else expires_at + 1,
        escrow=(
            Escrow(terms.maker_wallet, escrow_title(terms.order_id, taker=False), at)
            if sell
            else None
        ),
        hashlock=hashlock,
    )


# ---------------------------------------------------------------------- escrow lock results


def escrow_locked(
    order: Order,
    job_id: str,
    job_expires_at: int | None,
    *,
    at: int,
    lock_window: int,
    deadlines: DeadlinePolicy | None = None,
) -> Move:
    """The node confirmed the escrow job: a sell order opens, a buy order is matched
    (its lock window starts now, cut short where the escrow would not outlive the latest
    quote timelock by the settlement margin: `DeadlinePolicy.match_deadline`)."""
    escrow = required(order.escrow, "escrow intent", order)
    job = EscrowJob(
        job_id=job_id,
        state=JOB_OPEN,
        expires_at=job_expires_at,
        reward_i64=order.amount_micro_rtc,
        total_i64=job_escrow_i64(order.amount_micro_rtc),
    )
    locked = replace(order, escrow=replace(escrow, job=job))
    refs = {"job_id": job_id}
    if order.status is Status.OPENING:
        after = replace(locked, status=Status.OPEN, next_action_at=order.expires_at + 1)
        return transition(order, after, Cause.ESCROW_LOCKED, refs)
    deadline = _match_deadline(at, lock_window, deadlines, job_expires_at)
    match = replace(required(order.match, "taker", order), matched_at=at, deadline=deadline)
    after = replace(locked, status=Status.MATCHED, match=match, next_action_at=deadline)
    return transition(order, after, Cause.ESCROW_LOCKED, refs)


def escrow_rejected(order: Order, refs: Mapping[str, Any], *, at: int) -> Move:
    """The node refused the lock: nothing was locked. A new sell order ends; a buy order
    goes back on the book."""
    if order.status is Status.OPENING:
        return close(order, Status.CANCELLED, Cause.ESCROW_REJECTED, at=at, refs=refs)
    return relist(order, Cause.ESCROW_REJECTED, refs)


def escrow_unresolved(order: Order, found: Sequence[FoundJob], *, at: int) -> Move:
    """A lock that never reported back, resolved by what the node lists under its title:
    nothing locked (end, or relist a buy order), or a job to refund."""
    refs: dict[str, Any] = {"jobs": [job.job_id for job in found]}
    relisting = order.status is Status.MATCHING
    if not found:
        if relisting:
            return relist(order, Cause.ESCROW_UNRESOLVED, refs)
        return close(order, Status.CANCELLED, Cause.ESCROW_UNRESOLVED, at=at, refs=refs)
    escrow = required(order.escrow, "escrow intent", order)
    first = found[0]
    job = EscrowJob(job_id=first.job_id, state=first.state, expires_at=first.expires_at)
    target = Status.OPEN if relisting else Status.CANCELLED
    after = replace(
        order,
        status=Status.REFUND_PENDING,
        escrow=replace(escrow, job=job),
        refund=Refund(target, at),
        next_action_at=at,
    )
    return transition(order, after, Cause.ESCROW_UNRESOLVED, refs)


# ---------------------------------------------------------------------- matching


def match(
    order: Order,
    taker_wallet: str,
    taker_address: str | None,
    *,
    hashlock: Hashlock | None,
    at: int,
    lock_window: int,
    grace: int,
    deadlines: DeadlinePolicy | None = None,
) -> Move:
    """Take an open order. A sell order's escrow is already there: matched now, the lock
    window starts. A buy order's taker is S, whose escrow intent (with S's hashlock) is
    recorded before the node call that locks it (`matching`)."""
    if order.is_sell:
        job = order.escrow_job
        deadline = _match_deadline(at, lock_window, deadlines, job.expires_at if job else None)
        after = replace(
            order,
            status=Status.MATCHED,
            match=Match(taker_wallet, taker_address, matched_at=at, deadline=deadline),
            next_action_at=deadline,
        )
        return transition(order, after, Cause.MATCH)
    after = replace(
        order,
        status=Status.MATCHING,
        match=Match(taker_wallet, taker_address),
        escrow=Escrow(taker_wallet, escrow_title(order.order_id, taker=True), at),
        hashlock=hashlock,
        next_action_at=at + grace,
    )
    return transition(order, after, Cause.MATCH)


def _match_deadline(
    at: int, lock_window: int, deadlines: DeadlinePolicy | None, escrow_expires_at: int | None
) -> int:
    if deadlines is None:
        return at + lock_window
    return deadlines.match_deadline(at, escrow_expires_at)


def match_timeout(order: Order, *, at: int) -> Move:
    """No verified quote lock by the match deadline: undo the match, refunding S's escrow.

    A sell order is NOT relisted with its hashlock: the contract refuses a second lock
    with it, and a late lock from the stalled taker would become claimable by the reveal
    meant for the next taker. It ends (`expired` once refunded); S re-posts with a fresh
    hashlock. A buy order's hashlock came from its taker S: it goes back on the book once
    the refund is confirmed, hashlock cleared (`relist`), and the next taker brings one."""
    refs = {
        "stalled_taker": order.taker_wallet,
        "reason": "no verified quote lock before the match deadline",
    }
    target = Status.EXPIRED if order.is_sell else Status.OPEN
    return start_refund(order, target, Cause.MATCH_TIMEOUT, at=at, next_at=at, refs=refs)


# ---------------------------------------------------------------------- the quote lock


def lock_verified(order: Order, lock: QuoteLock, deadlines: DeadlinePolicy, *, at: int) -> Move:
    """B's lock passed every check and is final: `quote_locked`. Its deadlines are fixed
    now; the driver looks again at the claim deadline (a claim on chain, or expiry)."""
    claim_deadline = deadlines.claim_deadline(lock.timelock)
    after = replace(
        order,
        status=Status.QUOTE_LOCKED,
        quote_lock=lock,
        quote_timelock=lock.timelock,
        claim_deadline=claim_deadline,
        refundable_at=deadlines.refundable_at(lock.timelock),
        next_action_at=claim_deadline,
    )
    refs = {
        "lock_id": lock.lock_id,
        "tx_hash": lock.tx_hash,
        "block_number": lock.block_number,
        "amount": str(lock.amount),
        "timelock": lock.timelock,
    }
    return transition(order, after, Cause.LOCK_VERIFIED, refs)


def lock_expired(order: Order, lock_state: str, final_block_time: int, *, at: int) -> Move:
    """The chain's FINAL view shows B's lock refunded, or still locked past its timelock
    and never claimed: S can no longer be paid on the quote chain, so S's escrow is
    refunded and the order ends `expired`."""
    lock = required(order.quote_lock, "quote lock", order)
    refs = {
        "lock_id": lock.lock_id,
        "lock_state": lock_state,
        "final_block_time": final_block_time,
        "quote_timelock": lock.timelock,
    }
    return start_refund(order, Status.EXPIRED, Cause.LOCK_EXPIRED, at=at, next_at=at, refs=refs)


# ---------------------------------------------------------------------- cancel and expiry


def cancel(order: Order, *, at: int, grace: int) -> Move:
    """The maker cancels an open order: an escrow is refunded first."""
    if order.holds_escrow:
        return start_refund(order, Status.CANCELLED, Cause.CANCEL, at=at, next_at=at + grace)
    return close(order, Status.CANCELLED, Cause.CANCEL, at=at)


def expire(order: Order, *, at: int, retry: int) -> Move:
    """An open order past its lifetime: an escrow is refunded first."""
    if order.holds_escrow:
        return start_refund(order, Status.EXPIRED, Cause.EXPIRE, at=at, next_at=at + retry)
    return close(order, Status.EXPIRED, Cause.EXPIRE, at=at)


# ---------------------------------------------------------------------- refunds and endings


def start_refund(
    order: Order,
    target: Status,
    cause: Cause,
    *,
    at: int,
    next_at: int,
    refs: Mapping[str, Any] | None = None,
) -> Move:
    """Give S's escrow back; the order goes to `target` once the node confirms it."""
    after = replace(
        order, status=Status.REFUND_PENDING, refund=Refund(target, at), next_action_at=next_at
    )
    return transition(order, after, cause, refs)


def refund_confirmed(order: Order, job_state: str, *, at: int) -> Move:
    """The node confirmed the refund: end where the refund was headed (a relisting past
    the order's expiry ends `expired` instead)."""
    target = order.refund.target if order.refund else Status.CANCELLED
    if target is Status.OPEN and at > order.expires_at:
        target = Status.EXPIRED
    job = order.escrow_job
    refs = {"job_id": job.job_id if job else None, "job_status": job_state}
    if target is Status.OPEN:
        return relist(order, Cause.REFUND_CONFIRMED, refs)
    return close(order, target, Cause.REFUND_CONFIRMED, at=at, refs=refs, job_state=job_state)


def relist(order: Order, cause: Cause, refs: Mapping[str, Any] | None = None) -> Move:
    """Back on the book as a fresh buy order: no taker, escrow, hashlock or refund, due
    again at its expiry."""
    after = replace(
        order,
        status=Status.OPEN,
        match=None,
        escrow=None,
        hashlock=None,
        refund=None,
        next_action_at=order.expires_at + 1,
    )
    return transition(order, after, cause, refs)


def close(
    order: Order,
    target: Status,
    cause: Cause,
    *,
    at: int,
    refs: Mapping[str, Any] | None = None,
    job_state: str | None = None,
) -> Move:
    """A terminal state: closed now, nothing left to do (the escrow job's last known
    state recorded when the node reported it)."""
    escrow = order.escrow
    if job_state is not None and escrow is not None and escrow.job is not None:
        escrow = replace(escrow, job=replace(escrow.job, state=job_state))
    after = replace(order, status=target, escrow=escrow, closed_at=at, next_action_at=None)
    return transition(order, after, cause, refs)
