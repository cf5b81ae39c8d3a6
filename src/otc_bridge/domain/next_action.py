"""The one next action for each side of an order: what the page and the trader CLI show.

    next_action(order, "rtc_seller", now) -> NextAction("reveal", "Reveal …", claim_deadline)

Pure: it reads the order's status, its deadlines and what is known of the quote lock, and
says what the party in `role` should do now, by when (or from when, for a refund). The
RTC seller (S) posts the escrow, reveals the preimage and claims the quote on-chain; the
RTC buyer (B) locks the quote on-chain and receives the RTC payout. A role nobody holds
yet (the taker of an open order) and "viewer" get `none` with a plain description.

Nothing here is ever "done" before it is: `payout_pending` is "waiting for the RTC payout
to confirm", and only `completed` says the RTC was paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from otc_bridge.domain.order import Order
from otc_bridge.domain.states import Status

Role = Literal["rtc_seller", "rtc_buyer", "viewer"]
ROLES: tuple[Role, ...] = ("rtc_seller", "rtc_buyer", "viewer")
PARTY_ROLES: tuple[Role, ...] = ("rtc_seller", "rtc_buyer")


class ActionCode(StrEnum):
    WAIT_FOR_MATCH = "wait_for_match"
    LOCK_QUOTE = "lock_quote"  # B: lock the quote amount on the HTLC, then report it
    WAIT_FOR_LOCK = "wait_for_lock"  # S: B has until match_deadline to lock
    REVEAL = "reveal"  # S: confirm with the preimage before claim_deadline
    WAIT_FOR_REVEAL = "wait_for_reveal"  # B: S has until the timelock
    CLAIM_QUOTE = "claim_quote"  # S: claim the locked quote on-chain before T_q
    WAIT_FOR_PAYOUT = "wait_for_payout"  # B: the RTC payout is queued, not yet confirmed
    REFUND_QUOTE = "refund_quote"  # B: take the quote lock back on-chain from T_q
    CANCEL = "cancel"  # the maker of an open order past its expiry: cancel now
    NONE = "none"


@dataclass(frozen=True, slots=True)
class NextAction:
    code: ActionCode
    label: str
    # When the action must be done by (or, for refund_quote, from when it can be done);
    # None when no time applies.
    deadline: int | None = None

    def wire(self) -> dict[str, object]:
        return {"code": self.code.value, "label": self.label, "deadline": self.deadline}


def next_actions(order: Order, now: int) -> dict[str, NextAction]:
    """Both parties' next actions (the order JSON's `next_actions`)."""
    return {role: next_action(order, role, now) for role in PARTY_ROLES}


def next_action(order: Order, role: Role, now: int) -> NextAction:
    if role == "rtc_seller" and order.rtc_seller is not None:
        return _seller(order, now)
    if role == "rtc_buyer" and order.rtc_buyer is not None:
        return _buyer(order, now)
    return NextAction(ActionCode.NONE, _describe(order, now), _headline_deadline(order))


def _open_order(order: Order, now: int) -> NextAction:
    if now >= order.expires_at:
        return NextAction(
            ActionCode.CANCEL,
            "Your order has expired unmatched: cancel it (it is also closed automatically)",
        )
    return NextAction(
        ActionCode.WAIT_FOR_MATCH,
        "Waiting for a taker (you may cancel until someone matches)",
        order.expires_at,
    )


def _quote_claimed(order: Order) -> bool:
    """True when the reveal came from S's claim on the quote chain. The reveal's evidence
    names a transaction: a confirm records the verified lock's own (services/exchange.py
    `_evidence`), a settlement from a claim records the claim's (settle_steps `_claimed`).
    A claim S makes after a confirm is not known here: the chain has it, not the order."""
    reveal, lock = order.reveal, order.quote_lock
    if reveal is None or lock is None or not reveal.quote_tx:
        return False
    return reveal.quote_tx.lower() != lock.tx_hash.lower()


def _claim_or_done(order: Order, now: int, done: str) -> NextAction:
    """S after the reveal: claim the locked quote on-chain unless that is known done."""
    timelock = order.quote_timelock
    if order.reveal is None or _quote_claimed(order) or timelock is None:
        return NextAction(ActionCode.NONE, done)
    if now >= timelock:
        return NextAction(
            ActionCode.NONE,
            f"{done}. The quote lock's timelock has passed: it can no longer be claimed",
        )
    return NextAction(
        ActionCode.CLAIM_QUOTE,
        "Claim the locked quote on-chain with your preimage before the timelock (unless "
        "you already have: the bridge learns of a claim only when it settles from one)",
        timelock,
    )


def _seller(order: Order, now: int) -> NextAction:
    status = order.status
    match_deadline = order.match.deadline if order.match else None
    if status is Status.OPENING:
        return NextAction(ActionCode.NONE, "Your RTC escrow is being locked on the node")
    if status is Status.OPEN:
        return _open_order(order, now)
    if status is Status.MATCHING:
        return NextAction(ActionCode.NONE, "Your RTC escrow is being locked on the node")
    if status is Status.MATCHED:
        if match_deadline is not None and now >= match_deadline:
            return NextAction(
                ActionCode.NONE,
                "The buyer did not lock the quote in time: the match is being undone",
            )
        return NextAction(
            ActionCode.WAIT_FOR_LOCK,
            "Waiting for the buyer to lock the quote on-chain",
            match_deadline,
        )
    if status is Status.QUOTE_LOCKED:
        return _seller_locked(order, now)
    if status is Status.SETTLING:
        return _claim_or_done(order, now, "The RTC escrow is being released to the buyer")
    if status is Status.PAYOUT_PENDING:
        return _claim_or_done(order, now, "Waiting for the RTC payout to confirm")
    if status is Status.COMPLETED:
        return _claim_or_done(order, now, "Completed")
    if status is Status.SETTLEMENT_RECOVERY:
        return _claim_or_done(order, now, "An operator is resolving this settlement")
    if status is Status.REFUND_PENDING:
        return NextAction(ActionCode.NONE, "Your RTC escrow is being refunded")
    return NextAction(ActionCode.NONE, _closed(order))


def _seller_locked(order: Order, now: int) -> NextAction:
    claim_deadline, timelock = order.claim_deadline, order.quote_timelock
    if claim_deadline is None or now < claim_deadline:
        return NextAction(
            ActionCode.REVEAL,
            "The buyer's lock is verified: reveal your preimage (confirm) to settle",
            claim_deadline,
        )
    if timelock is not None and now < timelock:
        # Too late for confirm; a claim on-chain still pays S, and the bridge pays B the
        # RTC from that claim (the preimage becomes public on-chain).
        return NextAction(
            ActionCode.CLAIM_QUOTE,
            "Too late to reveal through the bridge: claim on-chain before the timelock",
            timelock,
        )
    return NextAction(
        ActionCode.NONE,
        "The quote lock expired unclaimed: your RTC escrow will be refunded once final",
        order.refundable_at,
    )


def _buyer(order: Order, now: int) -> NextAction:
    status = order.status
    match_deadline = order.match.deadline if order.match else None
    if status is Status.OPEN:
        return _open_order(order, now)
    if status in (Status.OPENING, Status.MATCHING):
        return NextAction(ActionCode.NONE, "The seller's RTC escrow is being locked")
    if status is Status.MATCHED:
        if match_deadline is not None and now >= match_deadline:
            return NextAction(
                ActionCode.NONE,
                "The lock window has passed: do not lock now; the match is being undone",
            )
        return NextAction(
            ActionCode.LOCK_QUOTE,
            "Lock the quote on-chain with the order's hashlock, then report the lock",
            match_deadline,
        )
    if status is Status.QUOTE_LOCKED:
        timelock = order.quote_timelock
        if timelock is not None and now >= timelock:
            return _refund(order)
        return NextAction(
            ActionCode.WAIT_FOR_REVEAL,
            "Your lock is verified: waiting for the seller to reveal the preimage",
            timelock,
        )
    if status in (Status.SETTLING, Status.PAYOUT_PENDING):
        return NextAction(ActionCode.WAIT_FOR_PAYOUT, "Waiting for the RTC payout to confirm")
    if status is Status.COMPLETED:
        return NextAction(ActionCode.NONE, "Completed: the RTC payout is confirmed")
    if status is Status.SETTLEMENT_RECOVERY:
        return NextAction(ActionCode.NONE, "An operator is resolving this settlement")
    # refund_pending, cancelled, expired: a lock that was never revealed is B's to refund.
    if order.quote_lock is not None and order.reveal is None:
        return _refund(order)
    return NextAction(ActionCode.NONE, _closed(order))


def _refund(order: Order) -> NextAction:
    return NextAction(
        ActionCode.REFUND_QUOTE,
        "The seller never revealed: refund your quote lock on-chain once the timelock has passed",
        order.quote_timelock,
    )


def _closed(order: Order) -> str:
    if order.status is Status.COMPLETED:
        return "Completed"
    if order.status is Status.CANCELLED:
        return "Cancelled"
    if order.status is Status.EXPIRED:
        return "Expired"
    return order.status.value.replace("_", " ").capitalize()


def _headline_deadline(order: Order) -> int | None:
    if order.status is Status.OPEN:
        return order.expires_at
    if order.status is Status.MATCHED and order.match is not None:
        return order.match.deadline
    if order.status is Status.QUOTE_LOCKED:
        return order.quote_timelock
    return None


def _describe(order: Order, now: int) -> str:
    """What an onlooker (or the party not yet known) is told."""
    status = order.status
    if status is Status.OPEN:
        if now >= order.expires_at:
            return "Expired unmatched"
        return "Open: anyone may match it"
    if status is Status.MATCHED:
        return "Matched: waiting for the RTC buyer to lock the quote on-chain"
    if status is Status.QUOTE_LOCKED:
        return "Quote locked: waiting for the RTC seller to reveal"
    if status is Status.PAYOUT_PENDING:
        return "Waiting for the RTC payout to confirm"
    if status is Status.SETTLING:
        return "Settling: the RTC escrow is being released"
    if status in (Status.OPENING, Status.MATCHING):
        return "The RTC escrow is being locked"
    if status is Status.REFUND_PENDING:
        return "The RTC escrow is being refunded"
    if status is Status.SETTLEMENT_RECOVERY:
        return "An operator is resolving this settlement"
    return _closed(order)
