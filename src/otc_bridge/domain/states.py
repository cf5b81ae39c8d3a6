"""Order states and the one transition table that governs them.

Every status change in the system is one of the transitions below, applied as a guarded
compare-and-set by the store and recorded in the order's hash-chained history. Anything
not in the table is a bug and is refused.

The anchor's states keep their names and meanings; two intent states are added so that
an escrow lock is durable *before* the node call that makes it (`opening` for a sell
order's escrow at creation, `matching` for a buy-order taker's escrow at match time).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from otc_bridge.domain.errors import IllegalTransition as IllegalTransition  # re-exported


class Status(StrEnum):
    OPENING = "opening"  # sell order: escrow lock in flight (intent recorded)
    OPEN = "open"
    MATCHING = "matching"  # buy order: the taker's escrow lock in flight
    MATCHED = "matched"
    QUOTE_LOCKED = "quote_locked"  # B's quote lock is verified and final: S may reveal
    SETTLING = "settling"  # preimage accepted; releasing escrow and queuing the payout
    PAYOUT_PENDING = "payout_pending"  # payout queued on the node, not yet confirmed
    SETTLEMENT_RECOVERY = "settlement_recovery"  # needs an operator (with an alert)
    REFUND_PENDING = "refund_pending"  # escrow refund in flight
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({Status.COMPLETED, Status.CANCELLED, Status.EXPIRED})
IN_FLIGHT = frozenset(set(Status) - TERMINAL - {Status.OPEN})


class Cause(StrEnum):
    CREATE = "create"
    ESCROW_LOCKED = "escrow_locked"
    ESCROW_REJECTED = "escrow_rejected"  # the node refused: nothing was locked
    ESCROW_UNRESOLVED = "escrow_unresolved"  # a lock of unknown outcome is being undone
    MATCH = "match"
    CANCEL = "cancel"
    EXPIRE = "expire"
    MATCH_TIMEOUT = "match_timeout"
    LOCK_VERIFIED = "lock_verified"  # B's quote lock passed every check and is final
    LOCK_EXPIRED = "lock_expired"  # its timelock passed, final and unclaimed: refund S
    QUOTE_CLAIMED = "quote_claimed"  # the preimage came from a claim on the quote chain
    ESCROW_LOST = "escrow_lost"  # the node job left escrow without us
    REFUND_CONFIRMED = "refund_confirmed"
    CONFIRM = "confirm"
    PAYOUT_QUEUED = "payout_queued"
    PAYOUT_REDRIVEN = "payout_redriven"
    PAYOUT_CONFIRMED = "payout_confirmed"
    PAYOUT_VOIDED = "payout_voided"
    SETTLEMENT_FAILED = "settlement_failed"
    OPERATOR = "operator"


@dataclass(frozen=True, slots=True)
class Transition:
    source: Status | None  # None: the order is being created
    target: Status
    causes: frozenset[Cause]


def _t(source: Status | None, target: Status, *causes: Cause) -> Transition:
    return Transition(source, target, frozenset(causes))


S = Status
C = Cause

TRANSITIONS: tuple[Transition, ...] = (
    # creation
    _t(None, S.OPEN, C.CREATE),  # buy order: nothing to lock yet
    _t(None, S.OPENING, C.CREATE),  # sell order: the maker's escrow is about to be locked
    _t(S.OPENING, S.OPEN, C.ESCROW_LOCKED),
    _t(S.OPENING, S.CANCELLED, C.ESCROW_REJECTED, C.ESCROW_UNRESOLVED),
    _t(S.OPENING, S.REFUND_PENDING, C.ESCROW_UNRESOLVED),
    # matching
    _t(S.OPEN, S.MATCHED, C.MATCH),  # sell order: the escrow is already there
    _t(S.OPEN, S.MATCHING, C.MATCH),  # buy order: the taker's escrow is about to be locked
    _t(S.MATCHING, S.MATCHED, C.ESCROW_LOCKED),
    _t(S.MATCHING, S.OPEN, C.ESCROW_REJECTED, C.ESCROW_UNRESOLVED),
    _t(S.MATCHING, S.REFUND_PENDING, C.ESCROW_UNRESOLVED),
    # cancel and expiry of orders that hold no escrow
    _t(S.OPEN, S.CANCELLED, C.CANCEL),
    _t(S.OPEN, S.EXPIRED, C.EXPIRE),
    # cancel, expiry and escrow loss of orders that hold escrow: refund first
    _t(S.OPEN, S.REFUND_PENDING, C.CANCEL, C.EXPIRE, C.ESCROW_LOST),
    _t(S.REFUND_PENDING, S.CANCELLED, C.REFUND_CONFIRMED),
    _t(S.REFUND_PENDING, S.EXPIRED, C.REFUND_CONFIRMED),
    _t(S.REFUND_PENDING, S.OPEN, C.REFUND_CONFIRMED),  # a buy order relisted after unmatch
    _t(S.REFUND_PENDING, S.SETTLEMENT_RECOVERY, C.ESCROW_LOST),  # someone else took it
    # a match that was not followed by a verified quote lock in time is undone: the
    # escrow is refunded (a sell order ends, its hashlock spent; a buy order is relisted)
    _t(S.MATCHED, S.REFUND_PENDING, C.MATCH_TIMEOUT, C.ESCROW_LOST),
    _t(S.MATCHED, S.EXPIRED, C.MATCH_TIMEOUT),  # buy order past expiry, escrow already gone
    # the quote leg: B's lock verified and final (the only way in), then S reveals (or
    # claims on the quote chain), or the lock runs out unclaimed and S is refunded
    _t(S.MATCHED, S.QUOTE_LOCKED, C.LOCK_VERIFIED),
    _t(S.QUOTE_LOCKED, S.SETTLING, C.CONFIRM, C.QUOTE_CLAIMED),
    _t(S.QUOTE_LOCKED, S.REFUND_PENDING, C.LOCK_EXPIRED),
    # settlement: forward only once the preimage is known. Straight from `matched` only
    # for a pair on the documented `unverified` policy (RTC/ERG, off by default).
    _t(S.MATCHED, S.SETTLING, C.CONFIRM),
    _t(S.SETTLING, S.PAYOUT_PENDING, C.PAYOUT_QUEUED),
    _t(S.SETTLING, S.SETTLEMENT_RECOVERY, C.ESCROW_LOST, C.SETTLEMENT_FAILED),
    _t(S.PAYOUT_PENDING, S.PAYOUT_PENDING, C.PAYOUT_REDRIVEN),
    _t(S.PAYOUT_PENDING, S.COMPLETED, C.PAYOUT_CONFIRMED),
    _t(S.PAYOUT_PENDING, S.SETTLEMENT_RECOVERY, C.PAYOUT_VOIDED, C.SETTLEMENT_FAILED),
    # operators resolve what automation cannot, always with a reason in the history
    _t(S.SETTLEMENT_RECOVERY, S.PAYOUT_PENDING, C.OPERATOR, C.PAYOUT_REDRIVEN),
    _t(S.SETTLEMENT_RECOVERY, S.COMPLETED, C.OPERATOR, C.PAYOUT_CONFIRMED),
    _t(S.SETTLEMENT_RECOVERY, S.REFUND_PENDING, C.OPERATOR),
)

_INDEX: dict[tuple[Status | None, Status], frozenset[Cause]] = {
    (t.source, t.target): t.causes for t in TRANSITIONS
}


def check_transition(source: Status | None, target: Status, cause: Cause) -> None:
    """Raise unless `source → target` by `cause` is in the table."""
    causes = _INDEX.get((source, target))
    if causes is None or cause not in causes:
        raise IllegalTransition(f"{source} → {target} by {cause} is not a transition")


def allowed_targets(source: Status | None) -> frozenset[Status]:
    return frozenset(target for (src, target) in _INDEX if src == source)
