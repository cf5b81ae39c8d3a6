"""The trading use cases: create, match and cancel an order.

Checks run in the reference bridge's order with its error strings, so its clients see
the same answers; what the reference got wrong is fixed behind the same surface (see
docs/api.md). Every state change is an intent recorded before the node call it leads to,
and every answer states what the database holds after the request.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from otc_bridge.adapters.node import NodeClient, Ok
from otc_bridge.adapters.secret_box import SecretBox
from otc_bridge.adapters.store.store import Store
from otc_bridge.config import Settings
from otc_bridge.domain import hashing
from otc_bridge.domain.clock import Clock
from otc_bridge.domain.deadlines import ORDER_TTL_DEFAULT
from otc_bridge.domain.money import (
    MoneyError,
    micro_to_rtc_float,
    parse_decimal,
    to_units,
)
from otc_bridge.domain.order import Order
from otc_bridge.domain.pairs import PAIRS, QUOTE_PRICE_SCALE, total_quote_base, total_quote_nano
from otc_bridge.domain.rustchain import (
    MAX_ACTIVE_JOBS_PER_AGENT,
    MAX_REWARD_MICRO,
    job_escrow_i64,
)
from otc_bridge.domain.states import Cause, Status
from otc_bridge.domain.wallet_auth import WalletAuthError, canonical_wallet, verify_wallet_auth
from otc_bridge.services.errors import Refusal
from otc_bridge.services.ratelimit import RateLimiter
from otc_bridge.services.views import deadlines, money_fields
from otc_bridge.settlement.crashpoints import crashpoint
from otc_bridge.settlement.driver import SettlementDriver
from otc_bridge.settlement.quote_leg import QuoteVerifier

MIN_ORDER_MICRO = 100_000  # 0.1 RTC
MAX_ORDER_MICRO = MAX_REWARD_MICRO  # the node caps an escrow job's reward at 10,000 RTC
MAX_PRICE_NANO = 1000 * QUOTE_PRICE_SCALE
EVM_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
ERGO_ADDRESS = re.compile(r"^[1-9A-HJ-NP-Za-km-z]{30,128}$")  # base58
_NODE_WALLET = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")  # what the node accepts as a target
MAX_ADDRESS_LENGTH = 128
ESCROW_HINT = "Ensure your wallet has sufficient RTC balance (reward + 5% platform fee)"
ESCROW_HINTS = {
    "active_job_limit": "The node allows at most 20 active escrow jobs per wallet",
    "reward_too_large": "The node caps one escrow at 10,000 RTC",
}


@dataclass(frozen=True, slots=True)
class Result:
    status: int
    body: dict[str, Any]


def _json_object(data: object, *, empty_is_missing: bool) -> dict[str, Any]:
    """The reference's body rules: no JSON → {} or 'JSON body required'; not an object
    → 'JSON object required'."""
    if data is None:
        if empty_is_missing:
            raise Refusal(400, "JSON body required")
        return {}
    if not isinstance(data, dict):
        raise Refusal(400, "JSON object required")
    if empty_is_missing and not data:
        raise Refusal(400, "JSON body required")
    return data


def _text(data: dict[str, Any], key: str, default: str = "") -> str:
    value = data.get(key, default)
    return str(value if value is not None else "").strip()


def _ttl(raw: object) -> int:
    if raw is None:
        return ORDER_TTL_DEFAULT
    if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
        raise Refusal(400, "ttl_seconds must be an integer")
    if not isinstance(raw, int | float | str):
        raise Refusal(400, "ttl_seconds must be an integer")
    try:
        return int(raw)
    except (TypeError, ValueError, OverflowError):
        raise Refusal(400, "ttl_seconds must be an integer") from None


def _units(raw: object, decimals: int, field: str) -> int:
    try:
        return to_units(parse_decimal(raw), decimals)
    except MoneyError:
        raise Refusal(400, f"{field} must be a finite decimal number") from None


def _address(raw: str, chain: str) -> str:
    """The party's quote-chain address (the reference's `eth_address` field, any chain)."""
    if len(raw) > MAX_ADDRESS_LENGTH:
        raise Refusal(400, "eth_address is too long")
    if raw and chain == "evm" and not EVM_ADDRESS.fullmatch(raw):
        raise Refusal(400, "eth_address must be a 0x-prefixed 40-hex address")
    if raw and chain == "ergo" and not ERGO_ADDRESS.fullmatch(raw):
        raise Refusal(400, "eth_address must be a base58 Ergo address")
    return raw


def _htlc_hash(data: dict[str, Any]) -> str | None:
    raw = data.get("htlc_hash")
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or not hashing.is_hash(raw.strip()):
        raise Refusal(400, "htlc_hash must be 64 hex characters (sha256 of the preimage)")
    return raw.strip().lower()


class Exchange:
    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        node: NodeClient,
        clock: Clock,
        driver: SettlementDriver,
        secret_box: SecretBox,
        limiter: RateLimiter,
        verifier: QuoteVerifier,
    ) -> None:
        self.settings = settings
        self.store = store
        self.node = node
        self.clock = clock
        self.driver = driver
        self.box = secret_box
        self.limiter = limiter
        self.verifier = verifier

    # ------------------------------------------------------------------ create

    def create_order(self, raw: object) -> Result:
        data = _json_object(raw, empty_is_missing=True)
        ttl_requested = _ttl(data.get("ttl_seconds"))
        side = _text(data, "side").lower()
        pair_name = _text(data, "pair", "RTC/USDC").upper()
        wallet = _text(data, "wallet")
        if side not in {"buy", "sell"}:
            raise Refusal(400, "side must be 'buy' or 'sell'")
        if pair_name not in PAIRS:
            raise Refusal(400, f"Unsupported pair. Supported: {list(PAIRS)}")
        pair = PAIRS[pair_name]
        if len(wallet) < 3:
            raise Refusal(400, "wallet required (RTC wallet ID)")
        amount = _units(data.get("amount_rtc", 0), 6, "amount_rtc")
        price = _units(data.get("price_per_rtc", 0), 9, "price_per_rtc")
        if amount < MIN_ORDER_MICRO:
            raise Refusal(400, "Minimum order: 0.1 RTC")
        if amount > MAX_ORDER_MICRO:
            raise Refusal(400, "Maximum order: 10000 RTC")
        if price <= 0:
            raise Refusal(400, "price_per_rtc must be positive")
        if price > MAX_PRICE_NANO:
            raise Refusal(400, "price_per_rtc too high (max $1000)")
        total_base = total_quote_base(pair, amount, price)
        if total_base <= 0:
            raise Refusal(400, f"Order total rounds to zero {pair.quote_currency} base units")
        eth_address = _address(_text(data, "eth_address"), pair.chain)
        client_hash = _htlc_hash(data)
        if client_hash is not None and side != "sell":
            raise Refusal(400, "htlc_hash is only accepted from the RTC seller")
        policy = self.settings.deadlines
        ttl = policy.clamp_reference_ttl(ttl_requested)
        if ttl > policy.max_order_ttl:
            raise Refusal(
                400,
                f"ttl_seconds exceeds the maximum of {policy.max_order_ttl} "
                "(the escrow must outlive the settlement window)",
                max_ttl_seconds=policy.max_order_ttl,
            )
        bound: dict[str, object] = {
            "side": side,
            "pair": pair_name,
            "amount_micro_rtc": amount,
            "price_per_rtc_nano_quote": price,
            "ttl_seconds": ttl,
            "eth_address": eth_address,
        }
        if client_hash is not None:
            bound["htlc_hash"] = client_hash
        maker = self._authenticate(data, wallet, "create_order", "create_order", bound)
        if side == "sell":
            self._check_balance(maker, amount, "Insufficient RTC balance")

        now = self.clock.now()
        order_id = "otc_" + secrets.token_hex(8)
        server_secret: str | None = None
        htlc_hash = client_hash
        if side == "sell" and htlc_hash is None:
            server_secret, htlc_hash = self._server_secret()
        order = Order(
            order_id=order_id,
            side=side,
            pair=pair_name,
            maker_wallet=maker,
            maker_eth_address=eth_address or None,
            amount_micro_rtc=amount,
            price_per_rtc_nano_quote=price,
            total_quote_nano=total_quote_nano(amount, price),
            total_quote_base=total_base,
            status=Status.OPENING if side == "sell" else Status.OPEN,
            version=0,
            history_hash="",
            created_at=now,
            ttl_seconds=ttl,
            expires_at=now + ttl,
            next_action_at=now + self.settings.grace_seconds if side == "sell" else now + ttl + 1,
            escrow_poster=maker if side == "sell" else None,
            escrow_title=f"OTC Bridge Escrow: {order_id}" if side == "sell" else None,
            escrow_requested_at=now if side == "sell" else None,
            htlc_hash=htlc_hash,
            secret_origin=None if htlc_hash is None else "server" if server_secret else "client",
            htlc_secret_enc=self.box.seal(server_secret) if server_secret else None,
        )
        with self.store.write() as tx:
            order = tx.insert_order(order, actor=maker, at=now, refs={"ttl": ttl})
        crashpoint(f"commit:create->{order.status.value}")
        if side == "sell":
            order = self._lock_escrow(order, maker, refused=Status.CANCELLED, locked=Status.OPEN)
        return Result(201, self._created_body(order, server_secret))

    def _lock_escrow(self, order: Order, actor: str, *, refused: Status, locked: Status) -> Order:
        """Lock the RTC seller's escrow now; a refusal by the node leaves the order in
        `refused` and answers 400, an unknown outcome answers 503 for the worker to settle."""
        outcome = self.driver.lock_escrow(order, actor=actor)
        order = outcome.order
        if order.status is refused:
            raise Refusal(
                400,
                "Failed to lock RTC in escrow",
                details=outcome.error,
                hint=ESCROW_HINTS.get(outcome.code or "", ESCROW_HINT),
            )
        if order.status is not locked:
            raise self._escrow_unknown(order)
        return order

    def _created_body(self, order: Order, server_secret: str | None) -> dict[str, Any]:
        amount = micro_to_rtc_float(order.amount_micro_rtc)
        body: dict[str, Any] = {
            "ok": True,
            "order_id": order.order_id,
            "side": order.side,
            "pair": order.pair,
            **money_fields(
                order.amount_micro_rtc, order.price_per_rtc_nano_quote, order.total_quote_nano
            ),
            "total_quote_base_units": str(order.total_quote_base),
            "quote_currency": PAIRS[order.pair].quote_currency,
            "status": order.status.value,
            "expires_at": order.expires_at,
            "expires_in_hours": round(order.ttl_seconds / 3600, 1),
            "deadlines": deadlines(order),
        }
        if order.htlc_hash:
            body["htlc_hash"] = order.htlc_hash
        if server_secret:
            # Returned once, to the RTC seller who signed this request; never again
            # before completion. Clients that send their own htlc_hash never get one.
            body["htlc_secret"] = server_secret
        if order.escrow_job_id:
            body["escrow_job_id"] = order.escrow_job_id
            body["escrow_status"] = "locked"
            body["message"] = (
                f"Sell order created. {amount} RTC locked in escrow. "
                "HTLC hash published for buyer verification."
            )
        else:
            body["message"] = "Buy order created. Waiting for a seller to match."
        return body

    # ------------------------------------------------------------------ match

    def match_order(self, order_id: str, raw: object) -> Result:
        data = _json_object(raw, empty_is_missing=False)
        wallet = _text(data, "wallet")
        eth_address = _text(data, "eth_address")
        if not wallet:
            raise Refusal(400, "wallet required")
        client_hash = _htlc_hash(data)
        bound: dict[str, object] = {"eth_address": eth_address}
        if client_hash is not None:
            bound["htlc_hash"] = client_hash
        taker = self._authenticate(data, wallet, "match_order", order_id, bound)
        order = self._get(order_id)
        if order.status is not Status.OPEN:
            raise Refusal(409, f"Order is not open (status: {order.status.value})")
        if order.maker_wallet == taker:
            raise Refusal(400, "Cannot match your own order")
        if self.clock.now() > order.expires_at:
            self.driver.drive(
                order_id, actor=taker, budget_seconds=self.settings.request_budget_seconds
            )
            raise Refusal(410, "Order has expired")
        pair = PAIRS[order.pair]
        eth_address = _address(eth_address, pair.chain)
        if order.is_sell and client_hash is not None:
            raise Refusal(400, "htlc_hash is only accepted from the RTC seller")
        if not order.is_sell:
            self._check_balance(
                taker, order.amount_micro_rtc, "Insufficient RTC balance to fill this buy order"
            )

        now = self.clock.now()
        server_secret: str | None = None
        changes: dict[str, Any] = {"taker_wallet": taker, "taker_eth_address": eth_address or None}
        if order.is_sell:
            target = Status.MATCHED
            deadline = now + self.settings.deadlines.lock_window
            changes.update(matched_at=now, match_deadline=deadline, next_action_at=deadline)
        else:
            target = Status.MATCHING
            htlc_hash = client_hash
            if htlc_hash is None:
                server_secret, htlc_hash = self._server_secret()
            changes.update(
                escrow_poster=taker,
                escrow_title=f"OTC Bridge Escrow: {order_id} (taker)",
                escrow_requested_at=now,
                htlc_hash=htlc_hash,
                secret_origin="server" if server_secret else "client",
                htlc_secret_enc=self.box.seal(server_secret) if server_secret else None,
                next_action_at=now + self.settings.grace_seconds,
            )
        with self.store.write() as tx:
            moved = tx.transition(order, target, Cause.MATCH, actor=taker, at=now, **changes)
        if moved is None:
            raise Refusal(409, "Order was matched by someone else")
        crashpoint(f"commit:open->{target.value}")
        order = moved
        if target is Status.MATCHING:
            order = self._lock_escrow(order, taker, refused=Status.OPEN, locked=Status.MATCHED)
        return Result(200, self._matched_body(order, server_secret))

    def _matched_body(self, order: Order, server_secret: str | None) -> dict[str, Any]:
        quote = PAIRS[order.pair].quote_currency
        total = money_fields(
            order.amount_micro_rtc, order.price_per_rtc_nano_quote, order.total_quote_nano
        )
        body: dict[str, Any] = {
            "ok": True,
            "order_id": order.order_id,
            "status": order.status.value,
            "side": order.side,
            "pair": order.pair,
            "amount_rtc": total["amount_rtc"],
            "price_per_rtc": total["price_per_rtc"],
            "total_quote": total["total_quote"],
            "total_quote_base_units": str(order.total_quote_base),
            "maker_wallet": order.maker_wallet,
            "taker_wallet": order.taker_wallet,
            "htlc_hash": order.htlc_hash,
            "escrow_job_id": order.escrow_job_id,
            "seller_quote_address": (
                order.maker_eth_address if order.is_sell else order.taker_eth_address
            ),
            "buyer_refund_address": (
                order.taker_eth_address if order.is_sell else order.maker_eth_address
            ),
            "deadlines": deadlines(order),
        }
        if server_secret:
            body["htlc_secret"] = server_secret  # once, to the RTC seller who matched
        amount = f"{total['total_quote']} {quote}"
        body["settlement_instructions"] = {
            "step": "Buyer locks the quote currency in the HTLC contract",
            "amount": total["total_quote"],
            "amount_base_units": str(order.total_quote_base),
            "currency": quote,
            "htlc_hash": order.htlc_hash,
            "lock_deadline": order.match_deadline,
            "note": (
                f"The RTC buyer locks {amount} with hashlock htlc_hash, receiver the seller's "
                f"quote address, before lock_deadline. The RTC seller then reveals the "
                f"preimage (confirm, or a claim on-chain) and the escrowed RTC is paid to "
                f"the buyer."
            ),
        }
        return body

    # ------------------------------------------------------------------ cancel

    def cancel_order(self, order_id: str, raw: object) -> Result:
        data = _json_object(raw, empty_is_missing=False)
        wallet = _text(data, "wallet")
        if not wallet:
            raise Refusal(400, "wallet required")
        maker = self._authenticate(data, wallet, "cancel_order", order_id, {})
        order = self._get(order_id)
        if order.maker_wallet != maker:
            raise Refusal(403, "Only the order creator can cancel")
        if order.status is not Status.OPEN:
            raise Refusal(409, f"Can only cancel open orders (current: {order.status.value})")
        now = self.clock.now()
        with self.store.write() as tx:
            if order.holds_escrow:
                moved = tx.transition(
                    order,
                    Status.REFUND_PENDING,
                    Cause.CANCEL,
                    actor=maker,
                    at=now,
                    refund_target="cancelled",
                    refund_started_at=now,
                    next_action_at=now + self.settings.grace_seconds,
                )
            else:
                moved = tx.transition(
                    order,
                    Status.CANCELLED,
                    Cause.CANCEL,
                    actor=maker,
                    at=now,
                    closed_at=now,
                    next_action_at=None,
                )
        if moved is None:
            raise Refusal(409, "Order is no longer open (matched or cancelled concurrently)")
        crashpoint(f"commit:open->{moved.status.value}")
        final = (
            self.driver.drive(
                order_id, actor=maker, budget_seconds=self.settings.request_budget_seconds
            )
            or moved
        )
        refunded = final.status is Status.CANCELLED
        return Result(
            200,
            {
                "ok": True,
                "order_id": order_id,
                "status": final.status.value,
                "escrow_refunded": refunded if order.holds_escrow else True,
                "message": (
                    "Order cancelled. Escrow refunded."
                    if refunded
                    else "Order cancel accepted; escrow refund is pending and will be "
                    "retried automatically by settlement reconciliation."
                ),
            },
        )

    # ------------------------------------------------------------------ confirm

    def confirm_order(self, order_id: str, raw: object) -> Result:
        """The RTC seller reveals the preimage: settle, and answer with what the database
        holds afterwards (`ok: true` only once the payout is confirmed on the node)."""
        data = _json_object(raw, empty_is_missing=False)
        wallet = _text(data, "wallet")
        quote_tx = _text(data, "quote_tx")
        secret = _text(data, "secret")
        if not wallet:
            raise Refusal(400, "wallet required")
        if not quote_tx:
            raise Refusal(400, "quote_tx required")
        if len(quote_tx) > MAX_ADDRESS_LENGTH:
            raise Refusal(400, "quote_tx is too long")
        order = self._get(order_id)
        if order.status is not Status.MATCHED:
            raise Refusal(409, f"Order must be matched to confirm (current: {order.status.value})")
        if canonical_wallet(wallet) != order.rtc_seller:
            raise Refusal(403, "Only the RTC seller can confirm settlement")
        if not secret:
            raise Refusal(400, "HTLC secret (preimage) required to confirm settlement")
        if not order.htlc_hash:
            raise Refusal(409, "HTLC hash unavailable for matched order")
        try:
            bytes.fromhex(secret)
        except ValueError:
            raise Refusal(400, "Invalid HTLC secret format") from None
        if not hashing.preimage_matches(secret, order.htlc_hash):
            raise Refusal(400, "Invalid HTLC secret")
        recipient = order.rtc_buyer
        if recipient is None or not _NODE_WALLET.fullmatch(recipient):
            raise Refusal(
                400, "Invalid RTC recipient wallet on matched order", rtc_recipient=recipient
            )
        problem = self.node.config.admin_transport_problem()
        if problem is not None:
            raise Refusal(
                503,
                "Bridge payout unavailable: RC_ADMIN_KEY not configured"
                if problem == "admin_key_missing"
                else "Bridge payout unavailable: insecure admin transport",
            )
        now = self.clock.now()
        check = self.verifier.check(order, quote_tx, now)
        if not check.accepted:
            raise Refusal(
                503, "Quote leg cannot be verified", reason=check.reason, policy=check.policy
            )
        if check.claim_deadline is not None and now > check.claim_deadline:
            raise Refusal(409, "Confirm window has closed", claim_deadline=check.claim_deadline)
        sealed = order.htlc_secret_enc or self.box.seal(secret.lower())
        with self.store.write() as tx:
            moved = tx.transition(
                order,
                Status.SETTLING,
                Cause.CONFIRM,
                actor=canonical_wallet(wallet),
                at=now,
                refs={"quote_tx": quote_tx, "quote_check": check.facts},
                settling_at=now,
                quote_tx=quote_tx,
                htlc_secret_enc=sealed,
                claim_deadline=check.claim_deadline,
                next_action_at=now + self.settings.grace_seconds,
            )
        if moved is None:
            raise Refusal(409, "Order is no longer matched (already settling or settled)")
        crashpoint("commit:matched->settling")
        final = (
            self.driver.drive(
                order_id, actor="confirm", budget_seconds=self.settings.request_budget_seconds
            )
            or moved
        )
        return Result(200, self._confirmed_body(final, secret.lower()))

    def _confirmed_body(self, order: Order, secret: str) -> dict[str, Any]:
        status = order.status
        completed = status is Status.COMPLETED
        transfer = (
            "confirmed"
            if completed
            else "pending"
            if status is Status.PAYOUT_PENDING
            else "manual_recovery_required"
            if status is Status.SETTLEMENT_RECOVERY
            else "queued"
            if order.payout_key
            else "not_started"
        )
        amount = micro_to_rtc_float(order.amount_micro_rtc)
        messages = {
            Status.COMPLETED: f"Trade completed. {amount} RTC payout to {order.rtc_buyer} "
            "confirmed. HTLC secret verified and revealed.",
            Status.PAYOUT_PENDING: f"Escrow released; {amount} RTC payout to {order.rtc_buyer} "
            "is queued and pending confirmation. The HTLC secret is withheld until the payout "
            f"confirms; poll GET /api/orders/{order.order_id} for completion.",
            Status.SETTLEMENT_RECOVERY: "Settlement needs an operator; they were alerted. "
            "This order is not retryable as a fresh confirm.",
        }
        body: dict[str, Any] = {
            "ok": completed,
            "order_id": order.order_id,
            "status": status.value,
            "amount_rtc": amount,
            "rtc_recipient": order.rtc_buyer,
            "rtc_transfer_status": transfer,
            "rtc_transfer_pending_id": order.payout_pending_id,
            "rtc_transfer_tx_hash": order.payout_tx_hash,
            "message": messages.get(
                status,
                "Settlement is in progress; it continues automatically. Poll "
                f"GET /api/orders/{order.order_id} for completion.",
            ),
            "deadlines": deadlines(order),
        }
        if completed:
            body["trade_id"] = "trade_" + order.order_id.removeprefix("otc_")
            body["htlc_secret"] = secret
        return body

    # ------------------------------------------------------------------ helpers

    def _authenticate(
        self,
        data: dict[str, Any],
        wallet: str,
        action: str,
        order_id: str,
        bound: dict[str, object],
    ) -> str:
        """Verify the signature, accept it once, and count the wallet's writes."""
        try:
            verified = verify_wallet_auth(
                wallet=wallet,
                auth=data.get("wallet_auth"),
                action=action,
                order_id=order_id,
                bound=bound,
                now=self.clock.now(),
                window_seconds=self.settings.auth_window_seconds,
                future_skew_seconds=self.settings.auth_future_skew_seconds,
            )
        except WalletAuthError as err:
            raise Refusal(401, err.code, message=err.message) from None
        with self.store.write() as tx:
            fresh = tx.use_signature(
                verified.signature_digest,
                wallet=verified.wallet,
                action=action,
                valid_until=verified.valid_until + self.settings.auth_future_skew_seconds,
            )
            count = self.limiter.hit(tx, f"wallet:{verified.wallet}") if fresh else 0
        if not fresh:
            replay = WalletAuthError("wallet_auth_replayed")
            raise Refusal(401, replay.code, message=replay.message)
        self.limiter.enforce(count, self.settings.rate_limits.per_wallet)
        return verified.wallet

    def _check_balance(self, wallet: str, amount: int, error: str) -> None:
        """Refuse before recording anything what the node would refuse: more active
        escrow jobs than it allows, or a balance short of the amount plus its 5 % fee. A
        node that cannot answer skips the balance check (the node's own still applies)."""
        with self.store.read() as tx:
            active = tx.active_escrows(wallet)
        if active >= MAX_ACTIVE_JOBS_PER_AGENT:
            raise Refusal(
                429,
                f"Maximum {MAX_ACTIVE_JOBS_PER_AGENT} active escrows per wallet",
                hint=ESCROW_HINTS["active_job_limit"],
            )
        required = job_escrow_i64(amount)
        balance = self.node.balance(wallet)
        if isinstance(balance, Ok) and balance.value < required:
            raise Refusal(
                400,
                error,
                balance_rtc=micro_to_rtc_float(balance.value),
                required_rtc=micro_to_rtc_float(required),
                hint=ESCROW_HINT,
            )

    def _get(self, order_id: str) -> Order:
        with self.store.read() as tx:
            order = tx.get(order_id)
        if order is None:
            raise Refusal(404, "Order not found")
        return order

    def _server_secret(self) -> tuple[str, str]:
        preimage = hashing.new_preimage()
        return preimage.hex(), hashing.hashlock(preimage)

    @staticmethod
    def _escrow_unknown(order: Order) -> Refusal:
        return Refusal(
            503,
            "Escrow lock outcome unknown",
            order_id=order.order_id,
            status=order.status.value,
            message=(
                "The node did not confirm the escrow lock. The bridge will find and refund "
                "any RTC it locked; check GET /api/orders/{id} for the outcome."
            ),
        )
