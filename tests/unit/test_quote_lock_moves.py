"""The quote leg's pure moves and deadlines: lock verified, lock expired, the reveal from
`quote_locked`, and the deadline policy that orders the two legs in time."""

from __future__ import annotations

from dataclasses import replace

import pytest

from otc_bridge.domain import settling, transitions
from otc_bridge.domain.deadlines import DeadlinePolicy
from otc_bridge.domain.errors import IllegalTransition
from otc_bridge.domain.order import QuoteLock
from otc_bridge.domain.settling import Evidence
from otc_bridge.domain.states import Cause, Status, check_transition
from tests.unit.test_transitions import NOW, matched

POLICY = DeadlinePolicy()
T_Q = NOW + 8 * 3600


def lock(timelock: int = T_Q) -> QuoteLock:
    return QuoteLock(
        lock_id="0x" + "11" * 32,
        tx_hash="0x" + "22" * 32,
        block_number=7,
        block_hash="0x" + "33" * 32,
        amount=200_000,
        timelock=timelock,
        sender="0x" + "b" * 40,
        receiver="0x" + "a" * 40,
        verified_at=NOW + 60,
    )


@pytest.mark.parametrize("side", ["sell", "buy"])
def test_a_verified_lock_fixes_the_order_deadlines_and_wakes_the_driver_at_claim_deadline(
    side: str,
) -> None:
    move = transitions.lock_verified(matched(side), lock(), POLICY, at=NOW + 60)
    after = move.after
    assert (move.cause, after.status) == (Cause.LOCK_VERIFIED, Status.QUOTE_LOCKED)
    assert after.quote_lock == lock()
    assert after.quote_timelock == T_Q
    assert after.claim_deadline == T_Q - POLICY.claim_margin
    assert after.refundable_at == T_Q + POLICY.finality_wait
    assert after.next_action_at == after.claim_deadline
    assert move.history_refs["lock_id"] == lock().lock_id


def test_an_expired_lock_refunds_s_and_ends_the_order_expired() -> None:
    locked = transitions.lock_verified(matched("sell"), lock(), POLICY, at=NOW + 60).after
    move = transitions.lock_expired(locked, "locked", T_Q + 1, at=T_Q + 700)
    assert (move.cause, move.after.status) == (Cause.LOCK_EXPIRED, Status.REFUND_PENDING)
    assert move.after.refund is not None
    assert move.after.refund.target is Status.EXPIRED
    assert move.history_refs["final_block_time"] == T_Q + 1


@pytest.mark.parametrize("cause", [Cause.CONFIRM, Cause.QUOTE_CLAIMED])
def test_quote_locked_settles_by_a_reveal_or_a_claim_seen_on_chain(cause: Cause) -> None:
    locked = transitions.lock_verified(matched("sell"), lock(), POLICY, at=NOW + 60).after
    evidence = Evidence("0x" + "44" * 32, {"lock_id": lock().lock_id})
    move = settling.reveal(locked, "sealed", evidence, at=NOW + 100, grace=120, cause=cause)
    assert (move.cause, move.after.status) == (cause, Status.SETTLING)
    assert move.after.claim_deadline == locked.claim_deadline


def test_the_only_way_into_quote_locked_is_a_verified_lock_from_matched() -> None:
    check_transition(Status.MATCHED, Status.QUOTE_LOCKED, Cause.LOCK_VERIFIED)
    for source in set(Status) - {Status.MATCHED}:
        with pytest.raises(IllegalTransition):
            check_transition(source, Status.QUOTE_LOCKED, Cause.LOCK_VERIFIED)
    with pytest.raises(IllegalTransition):  # no cancel, no match timeout once locked
        check_transition(Status.QUOTE_LOCKED, Status.REFUND_PENDING, Cause.CANCEL)
    with pytest.raises(IllegalTransition):
        check_transition(Status.QUOTE_LOCKED, Status.REFUND_PENDING, Cause.MATCH_TIMEOUT)
    with pytest.raises(IllegalTransition):  # a timed-out sell order is never relisted
        check_transition(Status.MATCHED, Status.OPEN, Cause.MATCH_TIMEOUT)


def test_the_buy_order_escrow_ttl_covers_the_latest_timelock_plus_the_settlement_margin() -> None:
    """The TTL sent to the node for a taker's escrow, locked at `at`: any lock the checks
    accept (mined by the match deadline, T_q at most timelock_max after its block) ends
    at least settlement_margin before the escrow expires."""
    at = NOW
    escrow_expires_at = at + POLICY.buy_escrow_ttl()
    deadline = POLICY.match_deadline(at, escrow_expires_at)
    assert deadline == at + POLICY.lock_window
    assert POLICY.escrow_needed_until(deadline) <= escrow_expires_at
    # The node made the job a little before we recorded it: the deadline shrinks instead.
    late = POLICY.match_deadline(at + 5, escrow_expires_at)
    assert late == at + POLICY.lock_window
    assert POLICY.escrow_needed_until(late) <= escrow_expires_at


def test_the_sell_order_escrow_ttl_covers_a_match_at_the_last_second_of_its_life() -> None:
    ttl = 7 * 86400
    escrow_expires_at = NOW + POLICY.sell_escrow_ttl(ttl)
    last_match = NOW + ttl  # the order's expires_at
    deadline = POLICY.match_deadline(last_match, escrow_expires_at)
    assert deadline == last_match + POLICY.lock_window
    assert POLICY.escrow_needed_until(deadline) <= escrow_expires_at
    assert POLICY.sell_escrow_ttl(POLICY.max_order_ttl) <= 30 * 86400  # the node's TTL cap


def test_a_short_escrow_cuts_the_match_deadline_so_no_accepted_lock_outlives_it() -> None:
    escrow_expires_at = NOW + POLICY.buy_escrow_ttl() - 100  # the node's clock was ahead
    deadline = POLICY.match_deadline(NOW, escrow_expires_at)
    assert deadline == NOW + POLICY.lock_window - 100
    assert POLICY.escrow_needed_until(deadline) == escrow_expires_at


def test_escrow_locked_uses_the_deadline_policy_when_given() -> None:
    taken = matched("buy")
    assert taken.match is not None
    match = replace(taken.match, matched_at=None, deadline=None)
    intent = replace(taken, status=Status.MATCHING, match=match)
    short = NOW + POLICY.buy_escrow_ttl() - 50
    after = transitions.escrow_locked(
        intent, "job", short, at=NOW, lock_window=POLICY.lock_window, deadlines=POLICY
    ).after
    assert after.match is not None
    assert after.match.deadline == NOW + POLICY.lock_window - 50
