"""The one next action (domain/next_action.py): every status × role, both order sides,
and the times at which an action changes (match deadline, claim deadline, timelock)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from otc_bridge.domain.next_action import (
    ROLES,
    ActionCode,
    NextAction,
    Role,
    next_action,
    next_actions,
)
from otc_bridge.domain.order import (
    Hashlock,
    Match,
    Order,
    Payout,
    QuoteLock,
    Reveal,
    SecretOrigin,
)
from otc_bridge.domain.states import Status

A = ActionCode
NOW = 1_000_000
S_WALLET = "RTC" + "a" * 40
B_WALLET = "RTC" + "b" * 40
MATCH_DEADLINE = NOW + 3_600
T_Q = NOW + 20_000
CLAIM_DEADLINE = T_Q - 3_600
REFUNDABLE_AT = T_Q + 60
EXPIRES_AT = NOW + 86_400


def order(side: str, status: Status, **fields: object) -> Order:
    """An order of `side` in `status` with the groups that status implies."""
    base = Order(
        order_id="otc_0123456789abcdef",
        side=side,
        pair="RTC/ETH",
        maker_wallet=S_WALLET if side == "sell" else B_WALLET,
        maker_eth_address="0x" + "11" * 20,
        amount_micro_rtc=2_000_000,
        price_per_rtc_nano_quote=100_000_000,
        total_quote_nano=200_000_000,
        total_quote_base=200_000_000_000_000_000,
        status=status,
        version=3,
        history_hash="00" * 32,
        created_at=NOW - 100,
        ttl_seconds=86_500,
        expires_at=EXPIRES_AT,
        hashlock=Hashlock("ab" * 32, SecretOrigin.CLIENT),
    )
    if status not in (Status.OPENING, Status.OPEN):
        taker = B_WALLET if side == "sell" else S_WALLET
        base = replace(
            base, match=Match(taker, "0x" + "22" * 20, matched_at=NOW - 50, deadline=MATCH_DEADLINE)
        )
    return replace(base, **fields)  # type: ignore[arg-type]


LOCK_TX = "0x" + "cd" * 32
CLAIM_TX = "0x" + "ef" * 32
LOCK = QuoteLock(
    lock_id="0x" + "01" * 32,
    tx_hash=LOCK_TX,
    block_number=7,
    block_hash="0x" + "02" * 32,
    amount=200_000_000_000_000_000,
    timelock=T_Q,
    sender="0x" + "22" * 20,
    receiver="0x" + "11" * 20,
    verified_at=NOW + 5,
)
LOCKED: dict[str, object] = {
    "quote_lock": LOCK,
    "quote_timelock": T_Q,
    "claim_deadline": CLAIM_DEADLINE,
    "refundable_at": REFUNDABLE_AT,
}
REVEALED = {**LOCKED, "reveal": Reveal(at=NOW + 10, quote_tx=LOCK_TX)}
CLAIMED = {**LOCKED, "reveal": Reveal(at=NOW + 10, quote_tx=CLAIM_TX)}
PAID = {**REVEALED, "payout": Payout(attempt=0, key="k", tx_hash="ee" * 32, queued_at=NOW + 11)}


def codes(o: Order, now: int = NOW) -> tuple[ActionCode, ActionCode, ActionCode]:
    return (
        next_action(o, "rtc_seller", now).code,
        next_action(o, "rtc_buyer", now).code,
        next_action(o, "viewer", now).code,
    )


# (status, fields, now, seller's code, buyer's code); the viewer always gets `none`.
TABLE: list[tuple[Status, dict[str, object], int, ActionCode, ActionCode]] = [
    (Status.MATCHED, {}, NOW, A.WAIT_FOR_LOCK, A.LOCK_QUOTE),
    (Status.MATCHED, {}, MATCH_DEADLINE, A.NONE, A.NONE),
    (Status.QUOTE_LOCKED, LOCKED, NOW, A.REVEAL, A.WAIT_FOR_REVEAL),
    (Status.QUOTE_LOCKED, LOCKED, CLAIM_DEADLINE, A.CLAIM_QUOTE, A.WAIT_FOR_REVEAL),
    (Status.QUOTE_LOCKED, LOCKED, T_Q, A.NONE, A.REFUND_QUOTE),
    (Status.SETTLING, REVEALED, NOW, A.CLAIM_QUOTE, A.WAIT_FOR_PAYOUT),
    (Status.PAYOUT_PENDING, PAID, NOW, A.CLAIM_QUOTE, A.WAIT_FOR_PAYOUT),
    (Status.PAYOUT_PENDING, PAID, T_Q, A.NONE, A.WAIT_FOR_PAYOUT),
    (Status.PAYOUT_PENDING, CLAIMED, NOW, A.NONE, A.WAIT_FOR_PAYOUT),
    (Status.COMPLETED, PAID, NOW, A.CLAIM_QUOTE, A.NONE),
    (Status.COMPLETED, PAID, T_Q + 1, A.NONE, A.NONE),
    (Status.SETTLEMENT_RECOVERY, PAID, NOW, A.CLAIM_QUOTE, A.NONE),
    (Status.REFUND_PENDING, {}, NOW, A.NONE, A.NONE),
    (Status.REFUND_PENDING, LOCKED, NOW, A.NONE, A.REFUND_QUOTE),
    (Status.EXPIRED, LOCKED, T_Q + 1, A.NONE, A.REFUND_QUOTE),
    (Status.EXPIRED, REVEALED, T_Q + 1, A.NONE, A.NONE),
    (Status.EXPIRED, {}, NOW, A.NONE, A.NONE),
    (Status.CANCELLED, {}, NOW, A.NONE, A.NONE),
]


@pytest.mark.parametrize("side", ["sell", "buy"])
@pytest.mark.parametrize(("status", "fields", "now", "seller", "buyer"), TABLE)
def test_each_party_of_a_matched_order_gets_its_action(
    side: str,
    status: Status,
    fields: dict[str, object],
    now: int,
    seller: ActionCode,
    buyer: ActionCode,
) -> None:
    assert codes(order(side, status, **fields), now) == (seller, buyer, A.NONE)


@pytest.mark.parametrize("side", ["sell", "buy"])
def test_the_maker_of_an_open_order_waits_then_may_cancel_and_the_taker_role_is_nobody(
    side: str,
) -> None:
    o = order(side, Status.OPEN)
    maker: Role = "rtc_seller" if side == "sell" else "rtc_buyer"
    nobody: Role = "rtc_buyer" if side == "sell" else "rtc_seller"
    waiting = next_action(o, maker, NOW)
    assert waiting == NextAction(A.WAIT_FOR_MATCH, waiting.label, EXPIRES_AT)
    assert next_action(o, maker, EXPIRES_AT).code is A.CANCEL
    described = NextAction(A.NONE, "Open: anyone may match it", EXPIRES_AT)
    assert next_action(o, nobody, NOW) == described


def test_escrow_in_flight_asks_nothing_of_anyone() -> None:
    assert codes(order("sell", Status.OPENING)) == (A.NONE, A.NONE, A.NONE)
    assert codes(order("buy", Status.MATCHING)) == (A.NONE, A.NONE, A.NONE)


def test_the_buyer_locks_by_the_match_deadline_and_is_told_so() -> None:
    action = next_action(order("sell", Status.MATCHED), "rtc_buyer", NOW)
    assert action.deadline == MATCH_DEADLINE
    assert "lock" in action.label.lower()


def test_payout_pending_is_never_called_done() -> None:
    o = order("sell", Status.PAYOUT_PENDING, **PAID)
    for role in ROLES:
        label = next_action(o, role, T_Q + 1).label.lower()
        assert "waiting for the rtc payout to confirm" in label
        assert "complete" not in label


def test_the_seller_claims_by_the_timelock_after_revealing() -> None:
    action = next_action(order("buy", Status.COMPLETED, **PAID), "rtc_seller", NOW)
    assert (action.code, action.deadline) == (A.CLAIM_QUOTE, T_Q)


def test_the_buyer_refunds_from_the_timelock() -> None:
    action = next_action(order("sell", Status.EXPIRED, **LOCKED), "rtc_buyer", NOW)
    assert (action.code, action.deadline) == (A.REFUND_QUOTE, T_Q)


def test_the_wire_form_serves_both_parties() -> None:
    served = {r: a.wire() for r, a in next_actions(order("sell", Status.MATCHED), NOW).items()}
    assert set(served) == {"rtc_seller", "rtc_buyer"}
    assert served["rtc_buyer"]["code"] == "lock_quote"
    assert served["rtc_buyer"]["deadline"] == MATCH_DEADLINE


def test_every_status_has_an_action_for_every_role() -> None:
    covered = {row[0] for row in TABLE} | {Status.OPEN, Status.OPENING, Status.MATCHING}
    assert covered == set(Status)


def test_the_seller_reveals_by_the_claim_deadline_then_claims_by_the_timelock() -> None:
    o = order("sell", Status.QUOTE_LOCKED, **LOCKED)
    reveal = next_action(o, "rtc_seller", NOW)
    assert (reveal.code, reveal.deadline) == (A.REVEAL, CLAIM_DEADLINE)
    late = next_action(o, "rtc_seller", CLAIM_DEADLINE + 1)
    assert (late.code, late.deadline) == (A.CLAIM_QUOTE, T_Q)
    gone = next_action(o, "rtc_seller", T_Q)
    assert (gone.code, gone.deadline) == (A.NONE, REFUNDABLE_AT)


def test_the_buyer_waits_for_the_reveal_until_the_timelock() -> None:
    o = order("buy", Status.QUOTE_LOCKED, **LOCKED)
    waiting = next_action(o, "rtc_buyer", NOW)
    assert (waiting.code, waiting.deadline) == (A.WAIT_FOR_REVEAL, T_Q)
