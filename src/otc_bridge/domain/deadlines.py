"""The deadline policy that orders the two legs in time.

For S's escrow never to lapse back to S while B's quote lock can still be claimed, the
escrow job must outlive the latest quote timelock a match could bring, plus a margin for
pushing the release through the bridge and the node. Order lifetimes are limited so that
this fits inside the node's 30-day job TTL cap.

    order created ── order TTL ──┤ match ── lock window ──┤ lock ── T_q ──┤ ── margin ──┤
                                                                          escrow expiry

Per order, once B's lock is verified (served under `deadlines`):

    match_deadline   the lock must be mined by then (block timestamp), else the match ends
    quote_timelock   T_q, from the verified lock
    claim_deadline   T_q - claim_margin: S's reveal (confirm) is refused from then, so S
                     always has the claim margin left to claim the quote leg on chain
    refundable_at    T_q + finality_wait: the earliest S's escrow may be refunded, once the
                     chain's final view shows the lock unclaimed (never while claimable)
    escrow_expires_at the escrow job's expiry, >= the latest T_q + settlement_margin
"""

from __future__ import annotations

from dataclasses import dataclass

from otc_bridge.domain.rustchain import JOB_TTL_MAX

# The reference's clamp, applied before verifying a signature (its clients sign the
# clamped value); our own stricter maximum is enforced after, as an explicit error.
REFERENCE_TTL_MIN = 3600
REFERENCE_TTL_MAX = 30 * 86400
ORDER_TTL_DEFAULT = 7 * 86400


@dataclass(frozen=True, slots=True)
class DeadlinePolicy:
    lock_window: int = 3600  # B must lock the quote leg this long after the match
    quote_timelock_min: int = 2 * 3600  # T_q must leave S at least this long to claim
    quote_timelock_max: int = 24 * 3600  # and may not run longer than this after locking
    claim_margin: int = 3600  # confirm is refused once T_q - now is below this
    settlement_margin: int = 6 * 3600  # the escrow outlives T_q by at least this
    finality_wait: int = 600  # after T_q, until the chain's final view can show the lock

    @property
    def match_to_escrow_end(self) -> int:
        """From a match, the longest the escrow must still last."""
        return self.lock_window + self.quote_timelock_max + self.settlement_margin

    @property
    def max_order_ttl(self) -> int:
        return JOB_TTL_MAX - self.match_to_escrow_end

    def clamp_reference_ttl(self, requested: int) -> int:
        return min(max(requested, REFERENCE_TTL_MIN), REFERENCE_TTL_MAX)

    def sell_escrow_ttl(self, order_ttl: int) -> int:
        """A sell order's escrow is locked at creation and must cover its whole life."""
        return order_ttl + self.match_to_escrow_end

    def buy_escrow_ttl(self) -> int:
        """A buy order's escrow is locked by the taker at match time."""
        return self.match_to_escrow_end

    # ------------------------------------------------------------------ per order

    def claim_deadline(self, quote_timelock: int) -> int:
        """From then on S's reveal is refused: S keeps `claim_margin` to claim on chain."""
        return quote_timelock - self.claim_margin

    def refundable_at(self, quote_timelock: int) -> int:
        """The earliest S's escrow may go back (and only once the final view agrees)."""
        return quote_timelock + self.finality_wait

    def latest_timelock(self, match_deadline: int) -> int:
        """The latest T_q a lock mined by `match_deadline` may carry."""
        return match_deadline + self.quote_timelock_max

    def escrow_needed_until(self, match_deadline: int) -> int:
        """The escrow must last at least until then for a match with this deadline."""
        return self.latest_timelock(match_deadline) + self.settlement_margin

    def match_deadline(self, matched_at: int, escrow_expires_at: int | None) -> int:
        """The lock window from the match, cut short where the escrow (as the node reports
        it) would not cover the latest T_q plus the settlement margin."""
        deadline = matched_at + self.lock_window
        if escrow_expires_at is None:
            return deadline
        return min(deadline, escrow_expires_at - self.settlement_margin - self.quote_timelock_max)
