"""The quote-leg check confirm runs before any escrow moves (invariant I4).

The EVM verifier (contract, token, amount, hashlock, receiver, refund address, timelock,
finality) arrives with the quote-leg work. Until then the only implementation is an
explicit `unverified` policy: it accepts the seller's word for the quote leg, is off by
default (confirm is then refused), and is on in the devnet, where there is no quote chain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from otc_bridge.domain.order import Order


@dataclass(frozen=True, slots=True)
class QuoteCheck:
    accepted: bool
    policy: str
    reason: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    claim_deadline: int | None = None  # confirm is refused after this


class QuoteVerifier(Protocol):
    policy: str

    def check(self, order: Order, quote_tx: str, now: int) -> QuoteCheck: ...


class UnverifiedPolicy:
    """Accepts the quote leg unverified. Devnet only; never the default."""

    policy = "unverified"

    def check(self, order: Order, quote_tx: str, now: int) -> QuoteCheck:
        return QuoteCheck(
            accepted=True,
            policy=self.policy,
            facts={"policy": self.policy, "quote_tx": quote_tx, "verified": False},
            claim_deadline=order.match.deadline if order.match else None,
        )


class NoVerifier:
    """No way to verify this pair's quote leg: confirm is refused."""

    policy = "none"

    def check(self, order: Order, quote_tx: str, now: int) -> QuoteCheck:
        return QuoteCheck(
            accepted=False,
            policy=self.policy,
            reason="the quote leg of this pair cannot be verified; set "
            "OTC_QUOTE_VERIFICATION=unverified only on a devnet",
        )


def verifier_for(policy: str) -> QuoteVerifier:
    return UnverifiedPolicy() if policy == "unverified" else NoVerifier()
