"""The trading use cases: create, match, cancel and confirm an order.

Checks run in the reference bridge's order with its error strings, so its clients see
the same answers; what the reference got wrong is fixed behind the same surface (see
docs/api.md). Every status change goes through the settlement layer, which records each
intent before the node call it leads to; every answer states what the database holds
after the request.
"""

from __future__ import annotations

import secrets

from otc_bridge.adapters.node import NodeClient, Ok
from otc_bridge.adapters.secret_box import SecretBox
from otc_bridge.adapters.store.store import Store
from otc_bridge.config import Settings
from otc_bridge.domain import hashing, transitions
from otc_bridge.domain.clock import Clock
from otc_bridge.domain.errors import OrderNotMatched, PairDisabled
from otc_bridge.domain.htlc_terms import RefusalCode
from otc_bridge.domain.money import micro_to_rtc_float
from otc_bridge.domain.order import Hashlock, Order, SecretOrigin
from otc_bridge.domain.pairs import PAIRS, total_quote_nano
from otc_bridge.domain.rustchain import MAX_ACTIVE_JOBS_PER_AGENT, job_escrow_i64
from otc_bridge.domain.settling import Evidence
from otc_bridge.domain.states import Status
from otc_bridge.domain.wallet_auth import canonical_wallet
from otc_bridge.services import validation
from otc_bridge.services.auth import Authenticator
from otc_bridge.services.commands import (
    CancelOrder,
    ConfirmOrder,
    CreateOrder,
    MatchOrder,
    ReportLock,
)
from otc_bridge.services.errors import (
    Conflict,
    Forbidden,
    Gone,
    InvalidRequest,
    NotFound,
    Refused,
    TooManyRequests,
    Unavailable,
    Unprocessable,
)
from otc_bridge.services.results import Cancelled, Confirmed, Created, Matched
from otc_bridge.settlement.escrow_steps import EscrowOutcome
from otc_bridge.settlement.flows import Settlement
from otc_bridge.settlement.quote_chains import LockRef, QuoteChains, QuotePolicy
from otc_bridge.settlement.quote_lock import LockRefused

ESCROW_HINT = "Ensure your wallet has sufficient RTC balance (reward + 5% platform fee)"
ACTIVE_ESCROW_RETRY_SECONDS = 60
ESCROW_HINTS = {
    "active_job_limit": "The node allows at most 20 active escrow jobs per wallet",
    "reward_too_large": "The node caps one escrow at 10,000 RTC",
}


class Exchange:
    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        node: NodeClient,
        clock: Clock,
        settlement: Settlement,
        secret_box: SecretBox,
        auth: Authenticator,
        chains: QuoteChains,
    ) -> None:
        self.settings = settings
        self.store = store
        self.node = node
        self.clock = clock
        self.settlement = settlement
        self.box = secret_box
        self.auth = auth
        self.chains = chains

    # ------------------------------------------------------------------ create

    def create(self, cmd: CreateOrder) -> Created:
        pair = PAIRS[cmd.pair]
        total_base = validation.order_terms(pair, cmd.amount_micro_rtc, cmd.price_nano)
        self._pair_enabled(cmd.pair)
        role = (
            "the seller's address, paid by the buyer's quote lock"
            if cmd.side == "sell"
            else "the buyer's address, which locks the quote leg and is refunded to"
        )
        eth_address = validation.quote_address(cmd.eth_address, pair.chain, role=role)
        client_hash = validation.client_hashlock(cmd.htlc_hash)
        if client_hash is not None and cmd.side != "sell":
            raise InvalidRequest("htlc_hash is only accepted from the RTC seller")
        policy = self.settings.deadlines
        ttl = policy.clamp_reference_ttl(cmd.ttl_requested)
        if ttl > policy.max_order_ttl:
            raise InvalidRequest(
                f"ttl_seconds exceeds the maximum of {policy.max_order_ttl} "
                "(the escrow must outlive the settlement window)",
                max_ttl_seconds=policy.max_order_ttl,
            )
        bound: dict[str, object] = {
            "side": cmd.side,
            "pair": cmd.pair,
            "amount_micro_rtc": cmd.amount_micro_rtc,
            "price_per_rtc_nano_quote": cmd.price_nano,
            "ttl_seconds": ttl,
            "eth_address": eth_address,
        }
        if client_hash is not None:
            bound["htlc_hash"] = client_hash
        maker = self.auth.wallet(cmd.wallet, cmd.wallet_auth, "create_order", "create_order", bound)
        sell = cmd.side == "sell"
        if sell:
            self._check_balance(maker, cmd.amount_micro_rtc, "Insufficient RTC balance")

        server_secret, hashlock = self._hashlock(client_hash) if sell else (None, None)
        terms = transitions.Terms(
            order_id="otc_" + secrets.token_hex(8),
            side=cmd.side,
            pair=cmd.pair,
            maker_wallet=maker,
            maker_address=eth_address or None,
            amount_micro_rtc=cmd.amount_micro_rtc,
            price_per_rtc_nano_quote=cmd.price_nano,
            total_quote_nano=total_quote_nano(cmd.amount_micro_rtc, cmd.price_nano),
            total_quote_base=total_base,
            ttl_seconds=ttl,
        )
        order = transitions.create(
            terms, hashlock=hashlock, at=self.clock.now(), grace=self.settings.grace_seconds
        )
        outcome = self.settlement.open(order, actor=maker, refs={"ttl": ttl})
        if sell:
            self._escrow_locked(outcome, refused=Status.CANCELLED, locked=Status.OPEN)
        return Created(outcome.order, server_secret)

    # ------------------------------------------------------------------ match

    def match(self, cmd: MatchOrder) -> Matched:
        client_hash = validation.client_hashlock(cmd.htlc_hash)
        bound: dict[str, object] = {"eth_address": cmd.eth_address}
        if client_hash is not None:
            bound["htlc_hash"] = client_hash
        taker = self.auth.wallet(cmd.wallet, cmd.wallet_auth, "match_order", cmd.order_id, bound)
        order = self._get(cmd.order_id)
        if order.status is not Status.OPEN:
            raise Conflict(f"Order is not open (status: {order.status.value})")
        if order.maker_wallet == taker:
            raise InvalidRequest("Cannot match your own order")
        if self.clock.now() > order.expires_at:
            self.settlement.drive(
                order.order_id, actor=taker, budget_seconds=self.settings.request_budget_seconds
            )
            raise Gone("Order has expired")
        self._pair_enabled(order.pair)
        role = (
            "the buyer's address, which locks the quote leg and is refunded to"
            if order.is_sell
            else "the seller's address, paid by the buyer's quote lock"
        )
        eth_address = validation.quote_address(cmd.eth_address, PAIRS[order.pair].chain, role=role)
        if order.is_sell and client_hash is not None:
            raise InvalidRequest("htlc_hash is only accepted from the RTC seller")
        if not order.is_sell:
            self._check_balance(
                taker, order.amount_micro_rtc, "Insufficient RTC balance to fill this buy order"
            )

        server_secret, hashlock = (None, None) if order.is_sell else self._hashlock(client_hash)
        outcome = self.settlement.match(order, taker, eth_address or None, hashlock=hashlock)
        if outcome is None:
            raise Conflict("Order was matched by someone else")
        if not order.is_sell:
            self._escrow_locked(outcome, refused=Status.OPEN, locked=Status.MATCHED)
        return Matched(outcome.order, server_secret)

    # ------------------------------------------------------------------ cancel

    def cancel(self, cmd: CancelOrder) -> Cancelled:
        maker = self.auth.wallet(cmd.wallet, cmd.wallet_auth, "cancel_order", cmd.order_id, {})
        order = self._get(cmd.order_id)
        if order.maker_wallet != maker:
            raise Forbidden("Only the order creator can cancel")
        if order.status is Status.QUOTE_LOCKED:
            raise Conflict(
                "quote_locked",
                message=(
                    "the buyer's quote lock is verified and can still be claimed: the "
                    "order cannot be cancelled. If the seller never reveals, the escrow "
                    f"is refunded automatically from refundable_at={order.refundable_at}"
                ),
                refundable_at=order.refundable_at,
            )
        if order.status is not Status.OPEN:
            raise Conflict(f"Can only cancel open orders (current: {order.status.value})")
        moved = self.settlement.cancel(order, actor=maker)
        if moved is None:
            raise Conflict("Order is no longer open (matched or cancelled concurrently)")
        final = (
            self.settlement.drive(
                order.order_id, actor=maker, budget_seconds=self.settings.request_budget_seconds
            )
            or moved
        )
        return Cancelled(final, held_escrow=order.holds_escrow)

    # ------------------------------------------------------------------ confirm

    def confirm(self, cmd: ConfirmOrder) -> Confirmed:
        """The RTC seller reveals the preimage: settle, and answer with what the database
        holds afterwards (completed only once the payout is confirmed on the node)."""
        order = self._get(cmd.order_id)
        unverified = self.chains.policy(order.pair) is QuotePolicy.UNVERIFIED
        if order.status is Status.MATCHED and not unverified:
            raise Conflict(
                "quote_not_locked",
                message=(
                    "the buyer's quote lock is not verified yet: it must be reported "
                    f"(POST /api/orders/{order.order_id}/lock) and final before the reveal"
                ),
            )
        if order.status not in (Status.MATCHED, Status.QUOTE_LOCKED):
            raise Conflict(f"Order must be matched to confirm (current: {order.status.value})")
        if canonical_wallet(cmd.wallet) != order.rtc_seller:
            raise Forbidden("Only the RTC seller can confirm settlement")
        secret = cmd.secret
        if not secret:
            raise InvalidRequest("HTLC secret (preimage) required to confirm settlement")
        if not order.htlc_hash:
            raise Conflict("HTLC hash unavailable for matched order")
        try:
            bytes.fromhex(secret)
        except ValueError:
            raise InvalidRequest("Invalid HTLC secret format") from None
        if not hashing.preimage_matches(secret, order.htlc_hash):
            raise InvalidRequest("Invalid HTLC secret")
        recipient = order.rtc_buyer
        if recipient is None or not validation.NODE_WALLET.fullmatch(recipient):
            raise InvalidRequest(
                "Invalid RTC recipient wallet on matched order", rtc_recipient=recipient
            )
        problem = self.node.config.admin_transport_problem()
        if problem is not None:
            raise Unavailable(
                "Bridge payout unavailable: RC_ADMIN_KEY not configured"
                if problem == "admin_key_missing"
                else "Bridge payout unavailable: insecure admin transport"
            )
        evidence = self._evidence(order, cmd.quote_tx)
        moved = self.settlement.reveal(order, secret, evidence, canonical_wallet(cmd.wallet))
        if moved is None:
            raise Conflict("Order is no longer matched (already settling or settled)")
        final = (
            self.settlement.drive(
                order.order_id, actor="confirm", budget_seconds=self.settings.request_budget_seconds
            )
            or moved
        )
        return Confirmed(final, secret.lower())

    # ------------------------------------------------------------------ the quote lock

    def report_lock(self, cmd: ReportLock) -> Order:
        """Anyone may report B's lock: the chain is the authority, the checks bind it to
        the order. Answers the order as stored (`quote_locked`); every refusal changed
        nothing."""
        order = self._get(cmd.order_id)
        ref = LockRef(lock_id=cmd.lock_id, tx_hash=cmd.quote_tx)
        try:
            moved = self.settlement.report_lock(order, ref, actor="lock")
        except OrderNotMatched as exc:
            raise Conflict(
                "order_not_matched",
                message=f"the order is {exc.status}: only a matched order takes a quote lock",
                status=exc.status,
            ) from None
        except PairDisabled as exc:
            raise Conflict("pair_disabled", message=str(exc)) from None
        except LockRefused as exc:
            raise lock_refusal(exc) from None
        if moved is None:
            raise Conflict(
                "order_not_matched", message="the order changed while the lock was checked"
            )
        return moved

    # ------------------------------------------------------------------ helpers

    def _pair_enabled(self, pair: str) -> None:
        """A pair whose quote leg cannot be verified takes no orders and no matches, so
        no seller's RTC is escrowed for a trade that could never settle."""
        reason = self.chains.disabled_reason(pair)
        if reason is not None:
            raise Conflict("pair_disabled", message=reason, pair=pair)

    def _evidence(self, order: Order, quote_tx: str) -> Evidence:
        """Why S may reveal now: B's verified lock, before its claim deadline; or, on the
        documented `unverified` policy (RTC/ERG only), the seller's word."""
        now = self.clock.now()
        lock = order.quote_lock
        if order.status is Status.QUOTE_LOCKED and lock is not None:
            deadline = order.claim_deadline
            if deadline is not None and now >= deadline:
                raise Conflict(
                    "claim_deadline_passed",
                    message=(
                        "too close to the quote lock's timelock to reveal safely: claim "
                        "the quote leg on chain directly if it is still claimable"
                    ),
                    claim_deadline=deadline,
                )
            verified = {"policy": "verified", "lock_id": lock.lock_id, "quote_tx": quote_tx}
            return Evidence(lock.tx_hash, verified, deadline)
        deadline = order.match.deadline if order.match else None
        if deadline is not None and now > deadline:
            raise Conflict("Confirm window has closed", claim_deadline=deadline)
        facts: dict[str, object] = {"policy": "unverified", "quote_tx": quote_tx, "verified": False}
        return Evidence(quote_tx, facts, deadline)

    def _escrow_locked(self, outcome: EscrowOutcome, *, refused: Status, locked: Status) -> None:
        """A refusal by the node left the order in `refused` (nothing locked); an unknown
        outcome is left to the worker, which finds and refunds any job it made."""
        order = outcome.order
        if order.status is refused:
            raise InvalidRequest(
                "Failed to lock RTC in escrow",
                details=outcome.error,
                hint=ESCROW_HINTS.get(outcome.code or "", ESCROW_HINT),
            )
        if order.status is not locked:
            raise Unavailable(
                "Escrow lock outcome unknown",
                order_id=order.order_id,
                status=order.status.value,
                message=(
                    "The node did not confirm the escrow lock. The bridge will find and "
                    "refund any RTC it locked; check GET /api/orders/{id} for the outcome."
                ),
            )

    def _check_balance(self, wallet: str, amount: int, error: str) -> None:
        """Refuse before recording anything what the node would refuse: more active
        escrow jobs than it allows, or a balance short of the amount plus its 5 % fee. A
        node that cannot answer skips the balance check (the node's own still applies)."""
        with self.store.read() as uow:
            active = uow.orders.active_escrows(wallet)
        if active >= MAX_ACTIVE_JOBS_PER_AGENT:
            # No clock says when a slot frees (an order must end first): a minute is a
            # polite first retry, and the message says what frees one.
            raise TooManyRequests(
                f"Maximum {MAX_ACTIVE_JOBS_PER_AGENT} active escrows per wallet",
                hint=ESCROW_HINTS["active_job_limit"],
                retry_after_seconds=ACTIVE_ESCROW_RETRY_SECONDS,
                message=(
                    f"this wallet already has {active} escrows locked: try again once one "
                    f"of its orders ends (cancel an open one to free a slot), at the "
                    f"earliest in {ACTIVE_ESCROW_RETRY_SECONDS} s"
                ),
            )
        required = job_escrow_i64(amount)
        balance = self.node.balance(wallet)
        if isinstance(balance, Ok) and balance.value < required:
            raise InvalidRequest(
                error,
                balance_rtc=micro_to_rtc_float(balance.value),
                required_rtc=micro_to_rtc_float(required),
                hint=ESCROW_HINT,
            )

    def _get(self, order_id: str) -> Order:
        order = self.settlement.read(order_id)
        if order is None:
            raise NotFound("Order not found")
        return order

    def _hashlock(self, client_hash: str | None) -> tuple[str | None, Hashlock]:
        """S's hashlock: S's own, or (for a client that sent none) one made here, whose
        preimage is sealed at rest and returned once, to S."""
        if client_hash is not None:
            return None, Hashlock(client_hash, SecretOrigin.CLIENT)
        preimage = hashing.new_preimage()
        secret = preimage.hex()
        sealed = self.box.seal(secret)
        return secret, Hashlock(hashing.hashlock(preimage), SecretOrigin.SERVER, sealed=sealed)


def lock_refusal(exc: LockRefused) -> Refused:
    """A refused lock as the API answers it: 422 for a permanent check failure, 409 for
    a lock that backs another order or is not final yet, 503 for a chain that cannot be
    asked (the last two with a retry time)."""
    verdict = exc.verdict
    fields: dict[str, object] = {
        "message": verdict.message,
        "observed": verdict.observed,
        "expected": verdict.expected,
    }
    if exc.retry_after is not None:
        fields["retry_after_seconds"] = max(1, exc.retry_after)
    code = verdict.code.value
    if verdict.code is RefusalCode.CHAIN_UNREACHABLE:
        return Unavailable(code, **fields)
    if verdict.code in (RefusalCode.NOT_FINAL, RefusalCode.LOCK_ALREADY_USED):
        return Conflict(code, **fields)
    return Unprocessable(code, **fields)
