"""Who is asking: a signed request's wallet, accepted once, counted against its rate.

A refusal's body is the reference's exact `{"error": <code>}` (its clients compare whole
bodies), except where a client needs more to recover: `wallet_auth_timestamp_expired`
adds the server's time and which way the clock is off, and our own
`wallet_auth_replayed` says how to send the request again.
"""

from __future__ import annotations

from otc_bridge.adapters.store.store import Store
from otc_bridge.config import Settings
from otc_bridge.domain.clock import Clock
from otc_bridge.domain.wallet_auth import (
    TIMESTAMP_EXPIRED,
    WalletAuthError,
    verify_wallet_auth,
)
from otc_bridge.services.errors import Unauthenticated
from otc_bridge.services.ratelimit import RateLimiter


class Authenticator:
    def __init__(
        self, *, settings: Settings, store: Store, clock: Clock, limiter: RateLimiter
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.limiter = limiter

    def wallet(
        self, wallet: str, auth: object, action: str, order_id: str, bound: dict[str, object]
    ) -> str:
        """Verify the signature, accept it once, count the wallet's writes; the wallet's
        canonical spelling."""
        now = self.clock.now()
        try:
            verified = verify_wallet_auth(
                wallet=wallet,
                auth=auth,
                action=action,
                order_id=order_id,
                bound=bound,
                now=now,
                window_seconds=self.settings.auth_window_seconds,
                future_skew_seconds=self.settings.auth_future_skew_seconds,
            )
        except WalletAuthError as err:
            if err.code == TIMESTAMP_EXPIRED:
                raise Unauthenticated(err.code, message=err.message, server_time=now) from None
            raise Unauthenticated(err.code) from None
        with self.store.guards() as guards:
            count = guards.use_signature_and_count(
                verified.signature_digest,
                wallet=verified.wallet,
                action=action,
                valid_until=verified.valid_until + self.settings.auth_future_skew_seconds,
                bucket=f"wallet:{verified.wallet}",
                window_start=self.limiter.window_start(now),
            )
            self.limiter.prune(guards, now)
        if count is None:
            replay = WalletAuthError("wallet_auth_replayed")
            raise Unauthenticated(replay.code, message=replay.message)
        self.limiter.enforce(
            count, self.settings.rate_limits.per_wallet, what="signed writes from this wallet"
        )
        return verified.wallet
