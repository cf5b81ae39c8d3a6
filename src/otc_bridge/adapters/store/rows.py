"""The order aggregate's groups mapped to and from the flat columns of `orders`.

A group is stored when it exists and its columns are NULL when it does not; a group is
read back when its key column (the escrow's poster, the hashlock, the taker, the reveal
time, the payout key, the refund target, the quote lock id) is set. Every write of a group
sets its key column, so the two directions agree for every row the bridge writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from otc_bridge.domain.order import (
    Escrow,
    EscrowJob,
    Hashlock,
    Match,
    Order,
    Payout,
    QuoteLock,
    Refund,
    Reveal,
    SecretOrigin,
)
from otc_bridge.domain.states import Status

TERMS = (
    "order_id",
    "side",
    "pair",
    "maker_wallet",
    "maker_eth_address",
    "amount_micro_rtc",
    "price_per_rtc_nano_quote",
    "total_quote_nano",
    "total_quote_base",
    "version",
    "history_hash",
    "created_at",
    "ttl_seconds",
    "expires_at",
    "next_action_at",
    "quote_timelock",
    "claim_deadline",
    "refundable_at",
    "completed_at",
    "closed_at",
    "recovery_reason",
)


def order_columns(order: Order) -> dict[str, Any]:
    """Every column of the order's row."""
    values: dict[str, Any] = {name: getattr(order, name) for name in TERMS}
    values["status"] = order.status.value
    for group, columns in _GROUPS:
        values.update(columns(getattr(order, group)))
    return values


def _escrow_columns(escrow: Escrow | None) -> dict[str, Any]:
    job = escrow.job if escrow else None
    return {
        "escrow_poster": escrow.poster if escrow else None,
        "escrow_title": escrow.title if escrow else None,
        "escrow_requested_at": escrow.requested_at if escrow else None,
        "escrow_job_id": job.job_id if job else None,
        "escrow_state": job.state if job else None,
        "escrow_expires_at": job.expires_at if job else None,
        "escrow_reward_i64": job.reward_i64 if job else None,
        "escrow_total_i64": job.total_i64 if job else None,
        "payout_amount_i64": job.released_i64 if job else None,
    }


def _hashlock_columns(lock: Hashlock | None) -> dict[str, Any]:
    return {
        "htlc_hash": lock.hash if lock else None,
        "secret_origin": lock.origin.value if lock else None,
        "htlc_secret_enc": lock.sealed if lock else None,
        "htlc_preimage": lock.preimage if lock else None,
    }


def _match_columns(match: Match | None) -> dict[str, Any]:
    return {
        "taker_wallet": match.taker_wallet if match else None,
        "taker_eth_address": match.taker_address if match else None,
        "matched_at": match.matched_at if match else None,
        "match_deadline": match.deadline if match else None,
    }


def _quote_lock_columns(quote: QuoteLock | None) -> dict[str, Any]:
    return {
        "quote_lock_id": quote.lock_id if quote else None,
        "quote_lock_tx": quote.tx_hash if quote else None,
        "quote_lock_block": quote.block_number if quote else None,
        "quote_lock_block_hash": quote.block_hash if quote else None,
        "quote_lock_amount": quote.amount if quote else None,
        "quote_lock_sender": quote.sender if quote else None,
        "quote_lock_receiver": quote.receiver if quote else None,
        "quote_lock_verified_at": quote.verified_at if quote else None,
    }


def _reveal_columns(reveal: Reveal | None) -> dict[str, Any]:
    return {
        "settling_at": reveal.at if reveal else None,
        "quote_tx": reveal.quote_tx if reveal else None,
    }


def _payout_columns(payout: Payout | None) -> dict[str, Any]:
    return {
        "payout_attempt": payout.attempt if payout else 0,
        "payout_key": payout.key if payout else None,
        "payout_tx_hash": payout.tx_hash if payout else None,
        "payout_pending_id": payout.pending_id if payout else None,
        "payout_queued_at": payout.queued_at if payout else None,
        "payout_confirms_at": payout.confirms_at if payout else None,
    }


def _refund_columns(refund: Refund | None) -> dict[str, Any]:
    return {
        "refund_target": refund.target.value if refund else None,
        "refund_started_at": refund.started_at if refund else None,
    }


# Each group of the order (an attribute holding a record or None) and its columns.
_GROUPS: tuple[tuple[str, Callable[[Any], dict[str, Any]]], ...] = (
    ("escrow", _escrow_columns),
    ("hashlock", _hashlock_columns),
    ("match", _match_columns),
    ("quote_lock", _quote_lock_columns),
    ("reveal", _reveal_columns),
    ("payout", _payout_columns),
    ("refund", _refund_columns),
)


def order_from_row(row: Mapping[Any, Any]) -> Order:
    return Order(
        **{name: row[name] for name in TERMS},
        status=Status(row["status"]),
        escrow=_escrow(row),
        hashlock=_hashlock(row),
        match=_match(row),
        reveal=Reveal(row["settling_at"], row["quote_tx"] or "")
        if row["settling_at"] is not None
        else None,
        payout=_payout(row),
        quote_lock=_quote_lock(row),
        refund=Refund(Status(row["refund_target"]), row["refund_started_at"] or 0)
        if row["refund_target"] is not None
        else None,
    )


def changed_columns(before: Order, after: Order) -> dict[str, Any]:
    """The columns a move changes (a guarded UPDATE writes only these). A group a move
    kept (the same record, as a move keeps what it does not touch) is not compared
    column by column: a settlement step changes one or two of the seven."""
    changes: dict[str, Any] = {
        name: value for name in TERMS if getattr(before, name) != (value := getattr(after, name))
    }
    if before.status is not after.status:
        changes["status"] = after.status.value
    for group, columns in _GROUPS:
        old, new = getattr(before, group), getattr(after, group)
        if old is new or old == new:
            continue
        previous = columns(old)
        changes.update(
            (name, value) for name, value in columns(new).items() if previous[name] != value
        )
    return changes


def _escrow(row: Mapping[Any, Any]) -> Escrow | None:
    if row["escrow_poster"] is None:
        return None
    job = None
    if row["escrow_job_id"] is not None:
        job = EscrowJob(
            job_id=row["escrow_job_id"],
            state=row["escrow_state"] or "open",
            expires_at=row["escrow_expires_at"],
            reward_i64=row["escrow_reward_i64"],
            total_i64=row["escrow_total_i64"],
            released_i64=row["payout_amount_i64"],
        )
    return Escrow(
        poster=row["escrow_poster"],
        title=row["escrow_title"] or "",
        requested_at=row["escrow_requested_at"] or 0,
        job=job,
    )


def _hashlock(row: Mapping[Any, Any]) -> Hashlock | None:
    if row["htlc_hash"] is None:
        return None
    origin = row["secret_origin"]
    return Hashlock(
        hash=row["htlc_hash"],
        origin=SecretOrigin(origin) if origin else SecretOrigin.CLIENT,
        sealed=row["htlc_secret_enc"],
        preimage=row["htlc_preimage"],
    )


def _match(row: Mapping[Any, Any]) -> Match | None:
    if row["taker_wallet"] is None:
        return None
    return Match(
        taker_wallet=row["taker_wallet"],
        taker_address=row["taker_eth_address"],
        matched_at=row["matched_at"],
        deadline=row["match_deadline"],
    )


def _quote_lock(row: Mapping[Any, Any]) -> QuoteLock | None:
    if row["quote_lock_id"] is None:
        return None
    return QuoteLock(
        lock_id=row["quote_lock_id"],
        tx_hash=row["quote_lock_tx"] or "",
        block_number=row["quote_lock_block"] or 0,
        block_hash=row["quote_lock_block_hash"] or "",
        amount=int(row["quote_lock_amount"] or 0),
        timelock=row["quote_timelock"] or 0,
        sender=row["quote_lock_sender"] or "",
        receiver=row["quote_lock_receiver"] or "",
        verified_at=row["quote_lock_verified_at"] or 0,
    )


def _payout(row: Mapping[Any, Any]) -> Payout | None:
    if row["payout_key"] is None:
        return None
    return Payout(
        attempt=row["payout_attempt"] or 0,
        key=row["payout_key"],
        tx_hash=row["payout_tx_hash"] or "",
        pending_id=row["payout_pending_id"],
        queued_at=row["payout_queued_at"],
        confirms_at=row["payout_confirms_at"],
    )
