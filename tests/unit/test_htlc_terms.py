"""The lock checks of design.md §1.2: every refusal code, both sides of every bound."""

from __future__ import annotations

from dataclasses import replace

import pytest

from otc_bridge.domain.htlc_terms import (
    ZERO_ADDRESS,
    Accepted,
    ExpectedLock,
    LockState,
    ObservedLock,
    RefusalCode,
    Refused,
    check_lock,
)

CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
USDC = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
SELLER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BUYER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
OTHER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
HASHLOCK = "0x" + "ab" * 32

MATCHED_AT = 1_800_000_000
MATCH_DEADLINE = MATCHED_AT + 3600
LOCKED_AT = MATCHED_AT + 600  # the lock's block timestamp
TIMELOCK_MIN = 2 * 3600
TIMELOCK_MAX = 24 * 3600
CLAIM_MARGIN = 3600
SETTLEMENT_MARGIN = 6 * 3600
ESCROW_EXPIRES_AT = MATCHED_AT + 3600 + TIMELOCK_MAX + SETTLEMENT_MARGIN
NOW = LOCKED_AT + 30

EXPECTED = ExpectedLock(
    htlc_contract=CONTRACT,
    token=USDC,
    min_amount=1_500_000,
    hashlock=HASHLOCK,
    receiver=SELLER,
    sender=BUYER,
    match_deadline=MATCH_DEADLINE,
    escrow_expires_at=ESCROW_EXPIRES_AT,
    timelock_min=TIMELOCK_MIN,
    timelock_max=TIMELOCK_MAX,
    claim_margin=CLAIM_MARGIN,
    settlement_margin=SETTLEMENT_MARGIN,
    finality_confirmations=2,
)
GOOD = ObservedLock(
    contract=CONTRACT,
    token=USDC,
    amount=1_500_000,
    hashlock=HASHLOCK,
    receiver=SELLER,
    sender=BUYER,
    timelock=LOCKED_AT + 6 * 3600,
    state=LockState.LOCKED,
    block_timestamp=LOCKED_AT,
    confirmations=2,
)


def refusal(observed: ObservedLock, now: int = NOW, expected: ExpectedLock = EXPECTED) -> Refused:
    verdict = check_lock(expected, observed, now)
    assert isinstance(verdict, Refused), verdict
    return verdict


def test_a_lock_that_matches_everything_is_accepted() -> None:
    assert check_lock(EXPECTED, GOOD, NOW) == Accepted()


def test_addresses_and_hashlocks_compare_without_regard_to_case() -> None:
    spelled = replace(
        GOOD,
        contract=CONTRACT.lower(),
        token=USDC.upper().replace("0X", "0x"),
        receiver=SELLER.lower(),
        sender=BUYER.lower(),
        hashlock=HASHLOCK.upper().replace("0X", "0x"),
    )
    assert check_lock(EXPECTED, spelled, NOW) == Accepted()


@pytest.mark.parametrize(
    ("change", "code", "in_message"),
    [
        ({"contract": OTHER}, RefusalCode.WRONG_CONTRACT, OTHER),
        ({"token": ZERO_ADDRESS}, RefusalCode.WRONG_TOKEN, "ETH (zero address)"),
        ({"token": OTHER}, RefusalCode.WRONG_TOKEN, OTHER),
        ({"hashlock": "0x" + "cd" * 32}, RefusalCode.WRONG_HASHLOCK, "cd" * 32),
        ({"receiver": OTHER}, RefusalCode.WRONG_RECEIVER, OTHER),
        ({"receiver": BUYER}, RefusalCode.WRONG_RECEIVER, BUYER),
        ({"sender": OTHER}, RefusalCode.WRONG_SENDER, OTHER),
        ({"state": LockState.REFUNDED}, RefusalCode.LOCK_NOT_OPEN, "refunded"),
        ({"state": LockState.NONE}, RefusalCode.LOCK_NOT_OPEN, "none"),
        ({"confirmations": 1}, RefusalCode.NOT_FINAL, "1 confirmations"),
        ({"confirmations": 0}, RefusalCode.NOT_FINAL, "expected >= 2"),
    ],
)
def test_each_mismatch_has_its_code_and_says_what_was_seen(
    change: dict[str, object], code: RefusalCode, in_message: str
) -> None:
    refused = refusal(replace(GOOD, **change))  # type: ignore[arg-type]
    assert refused.code == code
    assert in_message in refused.message
    assert "observed" in refused.message
    assert "expected" in refused.message


def test_eth_pair_expects_the_zero_token_and_refuses_an_erc20_lock() -> None:
    eth = replace(EXPECTED, token=ZERO_ADDRESS)
    assert check_lock(eth, replace(GOOD, token=ZERO_ADDRESS), NOW) == Accepted()
    refused = refusal(GOOD, expected=eth)
    assert refused.code == RefusalCode.WRONG_TOKEN
    assert refused.expected == "ETH (zero address)"


def test_amount_bound_is_inclusive() -> None:
    assert check_lock(EXPECTED, replace(GOOD, amount=EXPECTED.min_amount), NOW) == Accepted()
    assert check_lock(EXPECTED, replace(GOOD, amount=EXPECTED.min_amount + 1), NOW) == Accepted()
    refused = refusal(replace(GOOD, amount=EXPECTED.min_amount - 1))
    assert refused.code == RefusalCode.AMOUNT_TOO_LOW
    assert refused.observed == str(EXPECTED.min_amount - 1)
    assert refused.expected == f">= {EXPECTED.min_amount}"


def timelocked(block_ts: int, span: int) -> ObservedLock:
    return replace(GOOD, block_timestamp=block_ts, timelock=block_ts + span)


def test_lock_mined_at_the_match_deadline_counts_one_second_later_does_not() -> None:
    at_deadline = timelocked(MATCH_DEADLINE, 6 * 3600)
    assert check_lock(EXPECTED, at_deadline, MATCH_DEADLINE) == Accepted()
    late = timelocked(MATCH_DEADLINE + 1, 6 * 3600)
    refused = refusal(late, now=MATCH_DEADLINE + 1)
    assert refused.code == RefusalCode.LOCK_TOO_LATE
    assert refused.observed == str(MATCH_DEADLINE + 1)


def test_timelock_minimum_after_the_lock_block_is_inclusive() -> None:
    assert check_lock(EXPECTED, timelocked(LOCKED_AT, TIMELOCK_MIN), NOW) == Accepted()
    refused = refusal(timelocked(LOCKED_AT, TIMELOCK_MIN - 1))
    assert refused.code == RefusalCode.TIMELOCK_TOO_SHORT
    assert refused.observed == f"{TIMELOCK_MIN - 1}s"


def test_timelock_must_leave_the_claim_margin_from_now() -> None:
    lock = timelocked(LOCKED_AT, TIMELOCK_MIN)
    last_ok = lock.timelock - CLAIM_MARGIN
    assert check_lock(EXPECTED, lock, last_ok) == Accepted()
    refused = refusal(lock, now=last_ok + 1)
    assert refused.code == RefusalCode.TIMELOCK_TOO_SHORT
    assert refused.observed == f"{CLAIM_MARGIN - 1}s left"
    assert "could no longer claim" in refused.message


def test_timelock_maximum_after_the_lock_block_is_inclusive() -> None:
    assert check_lock(EXPECTED, timelocked(LOCKED_AT, TIMELOCK_MAX), NOW) == Accepted()
    refused = refusal(timelocked(LOCKED_AT, TIMELOCK_MAX + 1))
    assert refused.code == RefusalCode.TIMELOCK_TOO_LONG
    assert refused.observed == f"{TIMELOCK_MAX + 1}s"


def test_timelock_must_end_a_settlement_margin_before_the_escrow_expires() -> None:
    latest = ESCROW_EXPIRES_AT - SETTLEMENT_MARGIN
    short_escrow = replace(EXPECTED, escrow_expires_at=LOCKED_AT + 3 * 3600 + SETTLEMENT_MARGIN)
    boundary = short_escrow.escrow_expires_at - SETTLEMENT_MARGIN
    at_limit = replace(GOOD, timelock=boundary)
    assert check_lock(short_escrow, at_limit, NOW) == Accepted()
    refused = refusal(replace(GOOD, timelock=boundary + 1), expected=short_escrow)
    assert refused.code == RefusalCode.TIMELOCK_AFTER_ESCROW
    assert refused.observed == str(boundary + 1)
    assert refused.expected.startswith(f"<= {boundary}")
    assert latest > boundary  # the default escrow leaves room for the longest timelock


def test_a_lock_the_seller_already_claimed_still_backs_the_order() -> None:
    """S may claim as soon as the lock is mined, before anyone reported it: B is owed the
    RTC (I5), so the claimed lock is accepted, even past the claim margin."""
    claimed = replace(GOOD, state=LockState.CLAIMED)
    assert check_lock(EXPECTED, claimed, NOW) == Accepted()
    late = NOW + (GOOD.timelock - NOW) - 1  # one second before T_q
    assert check_lock(EXPECTED, claimed, late) == Accepted()
    assert (
        refusal(replace(GOOD, amount=1, state=LockState.CLAIMED)).code == RefusalCode.AMOUNT_TOO_LOW
    )
    assert (
        refusal(replace(GOOD, state=LockState.LOCKED), late).code == RefusalCode.TIMELOCK_TOO_SHORT
    )


def test_finality_bound_is_inclusive() -> None:
    assert check_lock(EXPECTED, replace(GOOD, confirmations=2), NOW) == Accepted()
    assert check_lock(EXPECTED, replace(GOOD, confirmations=50), NOW) == Accepted()
    assert refusal(replace(GOOD, confirmations=1)).code == RefusalCode.NOT_FINAL


def test_only_not_final_and_unreachable_are_retryable() -> None:
    assert refusal(replace(GOOD, confirmations=1)).retryable
    assert not refusal(replace(GOOD, amount=1)).retryable
    assert not refusal(replace(GOOD, state=LockState.REFUNDED)).retryable
    assert not refusal(replace(GOOD, receiver=OTHER)).retryable


def test_the_first_failing_check_in_table_order_is_reported() -> None:
    everything_wrong = ObservedLock(
        contract=OTHER,
        token=ZERO_ADDRESS,
        amount=0,
        hashlock="0x" + "00" * 32,
        receiver=OTHER,
        sender=OTHER,
        timelock=MATCH_DEADLINE + 5,
        state=LockState.REFUNDED,
        block_timestamp=MATCH_DEADLINE + 1,
        confirmations=0,
    )
    order = [
        ("contract", CONTRACT),
        ("token", USDC),
        ("amount", EXPECTED.min_amount),
        ("hashlock", HASHLOCK),
        ("receiver", SELLER),
        ("sender", BUYER),
        ("block_timestamp", LOCKED_AT),
        ("timelock", LOCKED_AT + 4 * 3600),
        ("state", LockState.LOCKED),
        ("confirmations", 2),
    ]
    expected_codes = [
        RefusalCode.WRONG_CONTRACT,
        RefusalCode.WRONG_TOKEN,
        RefusalCode.AMOUNT_TOO_LOW,
        RefusalCode.WRONG_HASHLOCK,
        RefusalCode.WRONG_RECEIVER,
        RefusalCode.WRONG_SENDER,
        RefusalCode.LOCK_TOO_LATE,
        RefusalCode.TIMELOCK_TOO_SHORT,
        RefusalCode.LOCK_NOT_OPEN,
        RefusalCode.NOT_FINAL,
    ]
    observed = everything_wrong
    for (field, fixed), code in zip(order, expected_codes, strict=True):
        assert refusal(observed).code == code
        observed = replace(observed, **{field: fixed})  # type: ignore[arg-type]
    assert check_lock(EXPECTED, observed, NOW) == Accepted()


def test_timelock_checks_run_in_order_short_then_long_then_escrow() -> None:
    too_long_and_after_escrow = replace(
        EXPECTED, escrow_expires_at=LOCKED_AT + TIMELOCK_MAX + SETTLEMENT_MARGIN
    )
    lock = timelocked(LOCKED_AT, TIMELOCK_MAX + 10)
    assert refusal(lock, expected=too_long_and_after_escrow).code == RefusalCode.TIMELOCK_TOO_LONG
    within = timelocked(LOCKED_AT, TIMELOCK_MAX)
    assert check_lock(too_long_and_after_escrow, within, NOW) == Accepted()
