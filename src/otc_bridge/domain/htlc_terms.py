"""What counts as a quote-leg lock: the checks of design.md §1.2 as one pure function.

The bridge counts B's HTLC lock only when everything it read from the chain (the lock's
storage, its `Locked` log and the block holding it) matches what the order expects.
`check_lock(expected, observed, now)` returns `Accepted` or the FIRST failing check as a
`Refused` with the refusal code clients see (`error`) and a message in plain words with
the observed and the expected values. No I/O here: the caller reads the chain (the EVM
adapter) and the order (the store), and maps the verdict to an HTTP answer.

Codes decided outside this function, listed here so every layer uses the same strings:
`lock_not_found` and `wrong_contract` (the adapter found no `Locked` log of the pair's
contract), `lock_already_used` (the store's unique index on the lock id) and
`chain_unreachable` (the adapter could not ask).

Addresses compare case-insensitively (a checksummed and a lower-case spelling are the
same account); hashlocks compare as 32-byte hex strings, case-insensitively.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import TypeAlias

ZERO_ADDRESS = "0x" + "00" * 20


class RefusalCode(StrEnum):
    LOCK_NOT_FOUND = "lock_not_found"
    WRONG_CONTRACT = "wrong_contract"
    WRONG_TOKEN = "wrong_token"  # noqa: S105 (a refusal code, not a secret)
    AMOUNT_TOO_LOW = "amount_too_low"
    WRONG_HASHLOCK = "wrong_hashlock"
    WRONG_RECEIVER = "wrong_receiver"
    WRONG_SENDER = "wrong_sender"
    LOCK_TOO_LATE = "lock_too_late"
    TIMELOCK_TOO_SHORT = "timelock_too_short"
    TIMELOCK_TOO_LONG = "timelock_too_long"
    TIMELOCK_AFTER_ESCROW = "timelock_after_escrow"
    LOCK_NOT_OPEN = "lock_not_open"
    NOT_FINAL = "not_final"
    LOCK_ALREADY_USED = "lock_already_used"
    CHAIN_UNREACHABLE = "chain_unreachable"


# Refusals that may turn into an acceptance without anything on the chain changing hands:
# more blocks (not_final) or a chain that answers again. Every other one is permanent.
RETRYABLE_CODES = frozenset({RefusalCode.NOT_FINAL, RefusalCode.CHAIN_UNREACHABLE})


class LockState(IntEnum):
    """The contract's `state` field."""

    NONE = 0
    LOCKED = 1
    CLAIMED = 2
    REFUNDED = 3


@dataclass(frozen=True, slots=True)
class ExpectedLock:
    """What the order needs from B's lock. Amounts in the token's base units, times in
    Unix seconds on the chain's clock, durations in seconds."""

    htlc_contract: str
    token: str  # ZERO_ADDRESS for ETH
    min_amount: int  # the order's total_quote_base
    hashlock: str  # 0x + 64 hex, the order's htlc_hash
    receiver: str  # S's quote address
    sender: str  # B's quote address
    match_deadline: int
    escrow_expires_at: int
    timelock_min: int
    timelock_max: int
    claim_margin: int
    settlement_margin: int
    finality_confirmations: int


@dataclass(frozen=True, slots=True)
class ObservedLock:
    """What the chain shows: the lock's storage (state as of the head), the address of
    the contract that emitted its `Locked` log, and the block that holds it."""

    contract: str
    token: str
    amount: int
    hashlock: str
    receiver: str
    sender: str
    timelock: int
    state: LockState
    block_timestamp: int
    confirmations: int  # 1 when the lock's block is the head


@dataclass(frozen=True, slots=True)
class Accepted:
    accepted: bool = True


@dataclass(frozen=True, slots=True)
class Refused:
    code: RefusalCode
    message: str
    observed: str
    expected: str
    accepted: bool = False

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE_CODES


Verdict: TypeAlias = Accepted | Refused


def check_lock(expected: ExpectedLock, observed: ObservedLock, now: int) -> Verdict:
    """Accepted, or the first failing check in the order of design.md §1.2."""
    for check in _CHECKS:
        refusal = check(expected, observed, now)
        if refusal is not None:
            return refusal
    return Accepted()


def _same(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def _refuse(code: RefusalCode, message: str, observed: object, expected: object) -> Refused:
    seen, wanted = str(observed), str(expected)
    return Refused(code, f"{message} (observed {seen}, expected {wanted})", seen, wanted)


def _contract(e: ExpectedLock, o: ObservedLock, now: int) -> Refused | None:
    if _same(o.contract, e.htlc_contract):
        return None
    return _refuse(
        RefusalCode.WRONG_CONTRACT,
        "the lock is not in the pair's HTLC contract",
        o.contract,
        e.htlc_contract,
    )


def _token(e: ExpectedLock, o: ObservedLock, now: int) -> Refused | None:
    if _same(o.token, e.token):
        return None
    return _refuse(
        RefusalCode.WRONG_TOKEN,
        "the lock holds another token",
        _token_name(o.token),
        _token_name(e.token),
    )


def _token_name(token: str) -> str:
    return "ETH (zero address)" if _same(token, ZERO_ADDRESS) else token


def _amount(e: ExpectedLock, o: ObservedLock, now: int) -> Refused | None:
    if o.amount >= e.min_amount:
        return None
    return _refuse(
        RefusalCode.AMOUNT_TOO_LOW,
        "the lock holds less than the order's quote total, in base units",
        o.amount,
        f">= {e.min_amount}",
    )


def _hashlock(e: ExpectedLock, o: ObservedLock, now: int) -> Refused | None:
    if _same(o.hashlock, e.hashlock):
        return None
    return _refuse(
        RefusalCode.WRONG_HASHLOCK,
        "the lock's hashlock is not the order's htlc_hash",
        o.hashlock,
        e.hashlock,
    )


def _receiver(e: ExpectedLock, o: ObservedLock, now: int) -> Refused | None:
    if _same(o.receiver, e.receiver):
        return None
    return _refuse(
        RefusalCode.WRONG_RECEIVER,
        "the lock does not pay the RTC seller's quote address",
        o.receiver,
        e.receiver,
    )


def _sender(e: ExpectedLock, o: ObservedLock, now: int) -> Refused | None:
    if _same(o.sender, e.sender):
        return None
    return _refuse(
        RefusalCode.WRONG_SENDER,
        "the lock was not made from the RTC buyer's quote address (its refund goes there)",
        o.sender,
        e.sender,
    )


def _too_late(e: ExpectedLock, o: ObservedLock, now: int) -> Refused | None:
    if o.block_timestamp <= e.match_deadline:
        return None
    return _refuse(
        RefusalCode.LOCK_TOO_LATE,
        "the lock was mined after the match deadline (block timestamp)",
        o.block_timestamp,
        f"<= {e.match_deadline}",
    )


def _too_short(e: ExpectedLock, o: ObservedLock, now: int) -> Refused | None:
    span = o.timelock - o.block_timestamp
    if span < e.timelock_min:
        return _refuse(
            RefusalCode.TIMELOCK_TOO_SHORT,
            "the timelock leaves the seller too little time after the lock's block",
            f"{span}s",
            f">= {e.timelock_min}s",
        )
    left = o.timelock - now
    if left < e.claim_margin and o.state != LockState.CLAIMED:  # claimed: nothing to wait for
        return _refuse(
            RefusalCode.TIMELOCK_TOO_SHORT,
            "the timelock is too close: the seller could no longer claim in time",
            f"{left}s left",
            f">= {e.claim_margin}s",
        )
    return None


def _too_long(e: ExpectedLock, o: ObservedLock, now: int) -> Refused | None:
    span = o.timelock - o.block_timestamp
    if span <= e.timelock_max:
        return None
    return _refuse(
        RefusalCode.TIMELOCK_TOO_LONG,
        "the timelock runs longer after the lock's block than the pair allows",
        f"{span}s",
        f"<= {e.timelock_max}s",
    )


def _after_escrow(e: ExpectedLock, o: ObservedLock, now: int) -> Refused | None:
    latest = e.escrow_expires_at - e.settlement_margin
    if o.timelock <= latest:
        return None
    return _refuse(
        RefusalCode.TIMELOCK_AFTER_ESCROW,
        "the timelock ends too close to (or after) the RTC escrow's expiry",
        o.timelock,
        f"<= {latest} (escrow expiry {e.escrow_expires_at} - margin {e.settlement_margin}s)",
    )


def _open(e: ExpectedLock, o: ObservedLock, now: int) -> Refused | None:
    # A lock S already claimed still backs the order: its terms were the order's, and the
    # claim paid S the quote and published the preimage, so B is owed the RTC (I5). Only
    # a refunded lock (B took the quote back) or none at all does not.
    if o.state in (LockState.LOCKED, LockState.CLAIMED):
        return None
    return _refuse(
        RefusalCode.LOCK_NOT_OPEN, "the lock is no longer open", o.state.name.lower(), "locked"
    )


def _final(e: ExpectedLock, o: ObservedLock, now: int) -> Refused | None:
    if o.confirmations >= e.finality_confirmations:
        return None
    return _refuse(
        RefusalCode.NOT_FINAL,
        "the lock's block is not final yet; it is counted once it is",
        f"{o.confirmations} confirmations",
        f">= {e.finality_confirmations}",
    )


_CHECKS = (
    _contract,
    _token,
    _amount,
    _hashlock,
    _receiver,
    _sender,
    _too_late,
    _too_short,
    _too_long,
    _after_escrow,
    _open,
    _final,
)
