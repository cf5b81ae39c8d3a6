"""Errors the domain raises: a request that breaks a rule of the protocol, or an order
that breaks an invariant. Entry points map them (the HTTP layer to a status)."""

from __future__ import annotations


class DomainError(ValueError):
    """Something the protocol does not allow."""


class IllegalTransition(DomainError):
    """A status change that is not in the transition table."""


class InconsistentOrder(DomainError):
    """An order lacks a group its status implies: a bug, or a row edited by hand."""


class WrongPreimage(DomainError):
    """A revealed preimage does not hash to the order's hashlock."""


class LockAlreadyUsed(DomainError):
    """A quote lock already backs another order (one lock, one order)."""

    def __init__(self, lock_id: str, other_order: str | None = None) -> None:
        super().__init__(f"the quote lock {lock_id} already backs another order")
        self.lock_id = lock_id
        self.other_order = other_order


class OrderNotMatched(DomainError):
    """A quote lock was reported for an order that is not waiting for one."""

    def __init__(self, order_id: str, status: str) -> None:
        super().__init__(f"order {order_id} is {status}, not matched: it takes no quote lock")
        self.status = status


class PairDisabled(DomainError):
    """The pair's quote leg cannot be verified: it takes no orders, matches or locks."""
