"""The domain's moves, pure: what each transition writes, for every caller alike."""

from __future__ import annotations

from dataclasses import replace

import pytest

from otc_bridge.domain import settling, transitions
from otc_bridge.domain.errors import IllegalTransition, InconsistentOrder
from otc_bridge.domain.move import Step
from otc_bridge.domain.order import Hashlock, Order, SecretOrigin
from otc_bridge.domain.states import Cause, Status

NOW = 1_000_000
S_WALLET = "RTC" + "a" * 40
B_WALLET = "RTC" + "b" * 40
LOCK = Hashlock("ab" * 32, SecretOrigin.CLIENT)


def created(side: str) -> Order:
    terms = transitions.Terms(
        order_id="otc_0123456789abcdef",
        side=side,
        pair="RTC/USDC",
        maker_wallet=S_WALLET if side == "sell" else B_WALLET,
        maker_address=None,
        amount_micro_rtc=2_000_000,
        price_per_rtc_nano_quote=100_000_000,
        total_quote_nano=200_000_000,
        total_quote_base=200_000,
        ttl_seconds=7_200,
    )
    order = transitions.create(terms, hashlock=LOCK if side == "sell" else None, at=NOW, grace=120)
    return replace(order, version=1)


def locked_sell() -> Order:
    move = transitions.escrow_locked(created("sell"), "job_1", NOW + 9_999, at=NOW, lock_window=60)
    return move.after


def matched(side: str) -> Order:
    if side == "sell":
        return transitions.match(
            locked_sell(), B_WALLET, None, hashlock=None, at=NOW + 1, lock_window=3_600, grace=120
        ).after
    intent = transitions.match(
        created("buy"), S_WALLET, None, hashlock=LOCK, at=NOW + 1, lock_window=3_600, grace=120
    ).after
    return transitions.escrow_locked(intent, "job_2", None, at=NOW + 2, lock_window=3_600).after


def test_a_sell_order_is_created_with_its_escrow_intent_and_a_buy_order_open() -> None:
    sell, buy = created("sell"), created("buy")
    assert (sell.status, buy.status) == (Status.OPENING, Status.OPEN)
    assert sell.escrow is not None
    assert sell.escrow.job is None
    assert sell.next_action_at == NOW + 120  # the grace window of the lock in flight
    assert buy.escrow is None
    assert buy.next_action_at == buy.expires_at + 1


def test_a_buy_order_match_records_s_escrow_intent_and_hashlock_before_the_lock() -> None:
    move = transitions.match(
        created("buy"), S_WALLET, "0x" + "1" * 40, hashlock=LOCK, at=NOW, lock_window=60, grace=120
    )
    after = move.after
    assert (move.cause, after.status) == (Cause.MATCH, Status.MATCHING)
    assert after.escrow is not None
    assert (after.escrow.poster, after.escrow.job) == (S_WALLET, None)
    assert after.escrow.title.endswith("(taker)")
    assert after.hashlock == LOCK
    assert after.match is not None
    assert after.match.matched_at is None  # matched only once the escrow is locked
    locked = transitions.escrow_locked(after, "job", None, at=NOW + 5, lock_window=60).after
    assert locked.match is not None
    assert (locked.status, locked.match.deadline) == (Status.MATCHED, NOW + 65)


def test_a_sell_order_match_timeout_ends_it_with_a_refund_never_relisting_its_hashlock() -> None:
    order = matched("sell")
    move = transitions.match_timeout(order, at=NOW + 3_700)
    after = move.after
    assert (move.cause, after.status) == (Cause.MATCH_TIMEOUT, Status.REFUND_PENDING)
    assert after.refund is not None
    assert after.refund.target is Status.EXPIRED
    assert move.history_refs["stalled_taker"] == B_WALLET
    done = transitions.refund_confirmed(after, "cancelled", at=NOW + 3_701).after
    assert done.status is Status.EXPIRED  # never back on the book with the same hashlock


def test_a_buy_order_match_timeout_refunds_then_relists_without_s_data() -> None:
    refunding = transitions.match_timeout(matched("buy"), at=NOW + 3_700).after
    assert refunding.status is Status.REFUND_PENDING
    assert refunding.refund is not None
    assert refunding.refund.target is Status.OPEN
    back = transitions.refund_confirmed(refunding, "cancelled", at=NOW + 3_701).after
    assert back.status is Status.OPEN
    assert (back.match, back.escrow, back.hashlock, back.refund) == (None, None, None, None)
    late = transitions.refund_confirmed(refunding, "cancelled", at=refunding.expires_at + 1)
    assert late.after.status is Status.EXPIRED  # a relisting past its lifetime ends


def test_cancel_refunds_an_escrow_first_and_closes_an_order_without_one() -> None:
    refund = transitions.cancel(locked_sell(), at=NOW, grace=120).after
    assert (refund.status, refund.next_action_at) == (Status.REFUND_PENDING, NOW + 120)
    closed = transitions.cancel(created("buy"), at=NOW, grace=120).after
    assert (closed.status, closed.closed_at, closed.next_action_at) == (
        Status.CANCELLED,
        NOW,
        None,
    )


def test_reveal_seals_the_preimage_and_settlement_runs_to_completion() -> None:
    order = matched("sell")
    evidence = settling.Evidence("0xq", {"verified": False}, claim_deadline=NOW + 50)
    settling_ = settling.reveal(order, "sealed", evidence, at=NOW + 10, grace=120)
    after = settling_.after
    assert (after.status, after.claim_deadline, after.next_action_at) == (
        Status.SETTLING,
        NOW + 50,
        NOW + 130,
    )
    assert after.hashlock is not None
    assert after.hashlock.sealed == "sealed"
    assert after.hashlock.preimage is None  # public only once completed
    assert settling_.refs == {"quote_tx": "0xq", "quote_check": {"verified": False}}
    accepted = settling.escrow_progressed(
        after, Step.ESCROW_ACCEPTED, "completed", {}, released_i64=1_999_999
    ).after
    requested = settling.payout_requested(accepted)
    assert requested.refs["amount_i64"] == 1_999_999
    assert requested.after.payout is not None
    assert requested.after.payout.key == f"otc_payout:{order.order_id}"
    queued = settling.payout_queued(
        requested.after, tx_hash="t", phase="pending", pending_id=3, confirms_at=None,
        at=NOW + 15, next_at=NOW + 45,
    )  # fmt: skip
    assert (queued.cause, queued.after.status) == (Cause.PAYOUT_QUEUED, Status.PAYOUT_PENDING)
    with pytest.raises(IllegalTransition):  # settling does not complete by hand
        settling.complete(requested.after, None, Cause.OPERATOR, at=NOW + 20, refs={})
    done = settling.complete(queued.after, "cd" * 32, Cause.PAYOUT_CONFIRMED, at=NOW + 20, refs={})
    assert done.after.hashlock is not None
    assert done.after.hashlock.preimage == "cd" * 32
    assert done.after.status is Status.COMPLETED


def test_a_redrive_is_a_new_attempt_under_a_new_key() -> None:
    first = settling.first_payout(matched("sell"))
    order = replace(matched("sell"), status=Status.PAYOUT_PENDING, payout=first)
    new = settling.next_payout(order)
    assert (new.attempt, new.key) == (1, f"otc_payout:{order.order_id}:1")
    assert new.tx_hash != first.tx_hash
    after = settling.redrive(order, new, Cause.PAYOUT_REDRIVEN, next_at=NOW, refs={}).after
    assert after.payout == new
    assert after.payout.queued_at is None  # durable intent; the driver sends it next


def test_moves_outside_the_table_and_orders_missing_their_groups_are_refused() -> None:
    with pytest.raises(IllegalTransition):
        transitions.expire(matched("sell"), at=NOW, retry=15)  # only open orders expire
    with pytest.raises(InconsistentOrder):
        transitions.escrow_locked(
            replace(created("sell"), escrow=None), "j", 1, at=NOW, lock_window=1
        )
