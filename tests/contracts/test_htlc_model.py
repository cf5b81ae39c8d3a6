"""A Hypothesis state machine drives the HTLC through random sequences of lock, claim,
refund and time moves, and checks it against a plain Python model after every step:
the contract's ETH and token balances, every account's token balance, and each lock's
stored terms and state. An action the model says must fail is checked to revert with
the error the model names, and to change nothing.

py-evm runs about 40 transactions a second, so the run is sized to stay well under the
contract suite's time budget (examples x steps below).
"""

from __future__ import annotations

from dataclasses import dataclass

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from web3.contract import Contract

from tests.contracts.evm import FEE_BPS, ZERO, ContractChain, Secret

LOCKED, CLAIMED, REFUNDED = 1, 2, 3


@dataclass
class ModelLock:
    id: bytes
    secret: Secret
    sender: str
    receiver: str
    token: str
    amount: int
    timelock: int
    state: int = LOCKED


def fee(token_kind: str, amount: int) -> int:
    return amount * FEE_BPS // 10_000 if token_kind == "fee" else 0


class HtlcModel(RuleBasedStateMachine):
    chain: ContractChain  # set by the test below (one deployed chain per process)

    def __init__(self) -> None:
        super().__init__()
        self.chain.reset()
        c = self.chain
        self.tokens: dict[str, Contract | None] = {"eth": None, "usdc": c.usdc, "fee": c.fee_token}
        self.people = [c.buyer, c.seller, c.stranger, c.accounts[4]]
        self.locks: list[ModelLock] = []
        self.used_hashlocks: dict[bytes, bytes] = {}
        self.held = dict.fromkeys(self.tokens, 0)  # what the contract must hold
        self.wallets = {
            (kind, who): c.tokens(token, who)
            for kind, token in self.tokens.items()
            if token is not None
            for who in self.people
        }

    # ------------------------------------------------------------------ helpers

    def kind_of(self, lock: ModelLock) -> str:
        return next(k for k, t in self.tokens.items() if (t.address if t else ZERO) == lock.token)

    def pay(self, kind: str, to: str, amount: int) -> None:
        self.held[kind] -= amount
        if kind != "eth":
            self.wallets[(kind, to)] += amount - fee(kind, amount)

    def check_unchanged(self, lock: ModelLock) -> None:
        assert self.chain.lock_tuple(lock.id)[7] == lock.state

    # ------------------------------------------------------------------ rules

    @rule(
        sender=st.integers(0, 3),
        receiver=st.integers(0, 3),
        kind=st.sampled_from(["eth", "usdc", "fee"]),
        amount=st.integers(0, 3_000_000),
        offset=st.integers(-3, 400),
        reuse=st.booleans(),
    )
    def lock(
        self, sender: int, receiver: int, kind: str, amount: int, offset: int, reuse: bool
    ) -> None:
        c = self.chain
        secret = self.locks[-1].secret if reuse and self.locks else Secret.new()
        token = self.tokens[kind]
        token_address = token.address if token is not None else ZERO
        now = c.pending_time()
        timelock = now + offset
        fn = c.htlc.functions.lock(
            self.people[receiver], secret.hashlock, timelock, token_address, amount, b"\0" * 32
        )
        who = self.people[sender]
        value = amount if kind == "eth" else 0
        # In the contract's order of checks: timelock, hashlock, then the value moved.
        if timelock <= now:
            expected: str | None = "TimelockNotInFuture"
        elif secret.hashlock in self.used_hashlocks:
            expected = "HashlockAlreadyUsed"
        elif amount == 0:
            expected = "ZeroAmount" if kind == "eth" else "NothingReceived"
        else:
            expected = None
        if expected is not None:
            assert c.revert_of(fn, who, value).name == expected
            return
        c.send(fn, who, value)
        recorded = amount - fee(kind, amount)
        lock_id = c.htlc.functions.lockIdOf(secret.hashlock).call()
        self.used_hashlocks[secret.hashlock] = lock_id
        self.locks.append(
            ModelLock(
                lock_id, secret, who, self.people[receiver], token_address, recorded, timelock
            )
        )
        self.held[kind] += recorded
        if kind != "eth":
            self.wallets[(kind, who)] -= amount

    @precondition(lambda self: self.locks)
    @rule(pick=st.integers(0, 10**6), caller=st.integers(0, 3), right=st.booleans())
    def claim(self, pick: int, caller: int, right: bool) -> None:
        c = self.chain
        lock = self.locks[pick % len(self.locks)]
        preimage = lock.secret.preimage if right else Secret.new().preimage
        fn = c.htlc.functions.claim(lock.id, preimage)
        if lock.state != LOCKED:
            expected: str | None = "LockNotOpen"
        elif not right:
            expected = "WrongPreimage"
        elif c.pending_time() >= lock.timelock:
            expected = "TimelockExpired"
        else:
            expected = None
        if expected is not None:
            assert c.revert_of(fn, self.people[caller]).name == expected
            self.check_unchanged(lock)
            return
        c.send(fn, self.people[caller])
        lock.state = CLAIMED
        self.pay(self.kind_of(lock), lock.receiver, lock.amount)

    @precondition(lambda self: self.locks)
    @rule(pick=st.integers(0, 10**6), caller=st.integers(0, 3))
    def refund(self, pick: int, caller: int) -> None:
        c = self.chain
        lock = self.locks[pick % len(self.locks)]
        fn = c.htlc.functions.refund(lock.id)
        if lock.state != LOCKED:
            expected: str | None = "LockNotOpen"
        elif c.pending_time() < lock.timelock:
            expected = "TimelockNotExpired"
        else:
            expected = None
        if expected is not None:
            assert c.revert_of(fn, self.people[caller]).name == expected
            self.check_unchanged(lock)
            return
        c.send(fn, self.people[caller])
        lock.state = REFUNDED
        self.pay(self.kind_of(lock), lock.sender, lock.amount)

    @rule(seconds=st.sampled_from([1, 2, 30, 120, 399, 400]))
    def advance(self, seconds: int) -> None:
        self.chain.at(self.chain.pending_time() + seconds)

    # ------------------------------------------------------------------ invariants

    @invariant()
    def contract_holds_exactly_the_open_locks(self) -> None:
        c = self.chain
        assert c.eth(c.htlc.address) == self.held["eth"]
        for kind in ("usdc", "fee"):
            token = self.tokens[kind]
            assert token is not None
            assert c.tokens(token, c.htlc.address) == self.held[kind]
        open_total = dict.fromkeys(self.tokens, 0)
        for lock in self.locks:
            if lock.state == LOCKED:
                open_total[self.kind_of(lock)] += lock.amount
        assert open_total == self.held

    def teardown(self) -> None:
        c = self.chain
        for (kind, who), expected in self.wallets.items():
            token = self.tokens[kind]
            assert token is not None
            assert c.tokens(token, who) == expected, (kind, who)
        for lock in self.locks:
            assert c.lock_tuple(lock.id) == (
                lock.sender,
                lock.receiver,
                lock.token,
                lock.amount,
                lock.secret.hashlock,
                lock.timelock,
                b"\0" * 32,
                lock.state,
            )


def test_htlc_matches_its_model(contract_chain: ContractChain) -> None:
    HtlcModel.chain = contract_chain
    run_state_machine_as_test(
        HtlcModel,
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
