"""Shared scenario drivers for the crash matrix and the node-fault suite.

A `Session` plays one trade the way real clients would, over the bridge's HTTP API, against
a devnode: fresh wallets, a client-side preimage, and a *plan* that picks the next user
action from the order's state as `GET /api/orders/{id}` shows it (match an open order,
confirm a matched one, cancel, or wait). Waiting is never a sleep: it is a devnet clock
advance to the order's own `next_action_at`, one pass of the node's confirmation
scheduler (`tick`) and one `POST /admin/reconcile`. Because the next action is derived
from the state, a session picks up where it stood after a crash: a client re-issues the
action whose answer was lost only while the order still stands where it stood before that
action (its intent never became durable, or was undone); a maker whose create answer was
lost first looks for its order on the book.

Every order read is checked for the preimage (I3) as it happens; `verify()` then checks
the end state: the expected status, per-wallet balances to the µRTC (I1, I2), the payout
rows on the node, the trade, the hash chain of every order's history and the devnode's
conservation checks.

`BOUNDARIES` is the checked-in list of crash boundaries per scenario, in the order a run
passes them (`name#n` for the n-th pass of a repeated one). xdist needs identical test
collection on every worker, so the matrix is parametrized from this list, and
`test_crash_matrix.py::test_traced_boundaries_match_the_checked_in_list` re-traces each
scenario and fails when the code's boundaries no longer match it.
"""

from __future__ import annotations

import json
import signal
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from otc_bridge.adapters.evm.writer import LockMade
from otc_bridge.adapters.store.engine import make_engine, sqlite_url
from otc_bridge.adapters.store.migrate import upgrade
from otc_bridge.clientlib.wallet import Secret, Wallet
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.devnet.process import DevnodeProcess
from otc_bridge.domain.hashing import GENESIS, event_hash
from otc_bridge.domain.rustchain import FEE_WALLET, WORKER_WALLET, job_escrow_i64, job_fee_i64
from tests.quote.world import LOCK_SPAN, USDC_FUNDS, ChainTrader, chain_now, quote_bridge_env
from tests.support.client import TraderClient
from tests.support.forked import ForkedBridgeProcess

FUNDS_RTC = "100"
FUNDS_I64 = 100_000_000
AMOUNT_RTC = "10"
AMOUNT_I64 = 10_000_000
ESCROW_I64 = job_escrow_i64(AMOUNT_I64)  # what S pays: the amount plus the node's 5 % fee
FEE_I64 = job_fee_i64(AMOUNT_I64)
PRICE = "0.1"
PAIR = "RTC/USDC"  # 10 RTC at 0.1: B locks 1 USDC (1,000,000 base units) on the dev chain
SHORT_TTL = 3600  # the shortest order TTL the bridge accepts
STARTUP_SECONDS = 120.0  # how long a started bridge may take to answer (a bound)
MAX_STEPS = 40  # user actions plus waits one session may take: a bound, never a timeout
TERMINAL = frozenset({"completed", "cancelled", "expired"})
STOP = TERMINAL | {"settlement_recovery"}  # nothing a client or a clock can move on
SIGNED = frozenset({"create", "match", "cancel"})
MARK = "> "  # a line the test writes into a crash trace: the request that follows


class Crashed(Exception):
    """The bridge went away mid-request: the answer to `action` was lost."""

    def __init__(self, action: str) -> None:
        super().__init__(f"the bridge died while answering {action}")
        self.action = action


class Act(Enum):
    CREATE = "create"
    MATCH = "match"
    LOCK = "lock"  # B locks the quote leg on the chain (once) and reports it
    CLAIM = "claim"  # S claims the quote leg on the chain (the bridge reads the preimage)
    CONFIRM = "confirm"
    CANCEL = "cancel"
    WAIT = "wait"
    DONE = "done"


# ------------------------------------------------------------------ scenarios


def _plan_settle(session: Session, order: dict[str, Any]) -> Act:
    status = order["status"]
    if status == "open":
        return Act.MATCH
    if status == "matched":
        return Act.LOCK
    if status == "quote_locked":
        return Act.CONFIRM
    return Act.DONE if status in STOP else Act.WAIT


def _plan_claim(session: Session, order: dict[str, Any]) -> Act:
    """S never calls confirm: it claims on the chain, and the bridge reveals from there."""
    status = order["status"]
    if status == "open":
        return Act.MATCH
    if status == "matched":
        return Act.LOCK
    if status == "quote_locked" and not session.claimed:
        return Act.CLAIM
    return Act.DONE if status in STOP else Act.WAIT


def _plan_lock_expiry(session: Session, order: dict[str, Any]) -> Act:
    """S never reveals: B's lock runs out unclaimed, and S's escrow goes back to S."""
    status = order["status"]
    if status == "open":
        return Act.MATCH
    if status == "matched":
        return Act.LOCK
    return Act.DONE if status in STOP else Act.WAIT


def _plan_cancel(session: Session, order: dict[str, Any]) -> Act:
    status = order["status"]
    if status == "open":
        return Act.CANCEL
    return Act.DONE if status in STOP else Act.WAIT


def _plan_expire(session: Session, order: dict[str, Any]) -> Act:
    return Act.DONE if order["status"] in STOP else Act.WAIT


def _plan_match_timeout(session: Session, order: dict[str, Any]) -> Act:
    status = order["status"]
    if status == "open":
        return Act.DONE if session.match_timed_out() else Act.MATCH
    return Act.DONE if status in STOP else Act.WAIT


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    maker_side: str  # "sell": maker = S, taker = B; "buy": maker = B, taker = S
    expected: str  # the main order's end state ("open": relisted after a match timeout)
    plan: Callable[[Session, dict[str, Any]], Act]
    ttl_seconds: int | None = None
    # Crash only at these boundaries (the rest of the run is the matrix's other
    # scenarios' ground); None: at every boundary the run passes.
    crash_at: tuple[str, ...] | None = None


SELL = Scenario(
    "sell",
    "sell order settlement (S makes with a client-side hash; B matches; S confirms)",
    "sell",
    "completed",
    _plan_settle,
)
BUY = Scenario(
    "buy",
    "buy order settlement (B makes; S takes and locks escrow at match; S confirms)",
    "buy",
    "completed",
    _plan_settle,
)
CANCEL = Scenario(
    "cancel",
    "cancel of an escrowed sell order",
    "sell",
    "cancelled",
    _plan_cancel,
)
EXPIRY = Scenario(
    "expiry",
    "expiry of an escrowed open sell order (reconciler)",
    "sell",
    "expired",
    _plan_expire,
    ttl_seconds=SHORT_TTL,
)
MATCH_TIMEOUT = Scenario(
    "match_timeout",
    "match timeout of a buy order (taker escrow refunded, order relisted)",
    "buy",
    "open",
    _plan_match_timeout,
)
# B's lock reported: read from the chain, then the move to quote_locked.
_LOOK_FOR_LOCK = ("call:quote.find_lock:before", "call:quote.find_lock:after")
_LOCK = (
    "call:quote.find_lock:before",
    "call:quote.find_lock:after",
    "commit:matched->quote_locked",
)
# The quote_locked driver step's read of the lock in the chain's final view.
_FINAL_VIEW = ("call:quote.final_lock_state:before", "call:quote.final_lock_state:after")
SELL_TIMEOUT = Scenario(
    "sell_match_timeout",
    "match timeout of a sell order (no lock came: ended, S's escrow refunded)",
    "sell",
    "expired",
    _plan_match_timeout,
    crash_at=(
        "commit:matched->refund_pending",
        "call:escrow.cancel:before",
        "call:escrow.cancel:after",
        "commit:refund_pending->expired",
    ),
)
CLAIM = Scenario(
    "claim",
    "sell order settled by S's claim on the quote chain (the reconciler reveals from it)",
    "sell",
    "completed",
    _plan_claim,
    crash_at=(*_FINAL_VIEW, "commit:quote_locked->settling", "call:escrow.claim:before"),
)
LOCK_EXPIRY = Scenario(
    "lock_expiry",
    "buy order whose verified lock expired unclaimed (S's escrow refunded)",
    "buy",
    "expired",
    _plan_lock_expiry,
    crash_at=(
        "call:quote.final_lock_state:before#2",
        "call:quote.final_lock_state:after#2",
        "commit:quote_locked->refund_pending",
        "call:escrow.cancel:before",
        "call:escrow.cancel:after",
        "commit:refund_pending->expired",
    ),
)
SCENARIOS: dict[str, Scenario] = {
    s.key: s for s in (SELL, BUY, CANCEL, EXPIRY, MATCH_TIMEOUT, SELL_TIMEOUT, CLAIM, LOCK_EXPIRY)
}

_CREATE_SELL = (
    "commit:create->opening",
    "call:escrow.create:before",
    "call:escrow.create:after",
    "commit:opening->open",
)
_SETTLE = (
    "commit:quote_locked->settling",
    "call:escrow.claim:before",
    "call:escrow.claim:after",
    "commit:escrow_claimed",
    "call:escrow.deliver:before",
    "call:escrow.deliver:after",
    "commit:escrow_delivered",
    "call:escrow.accept:before",
    "call:escrow.accept:after",
    "commit:escrow_accepted",
    "commit:payout_requested",
    "call:payout.transfer:before",
    "call:payout.transfer:after",
    "commit:settling->payout_pending",
    "call:payout.status:before",
    "call:payout.status:after",
    "commit:payout_pending->completed",
)
_TAKER_ESCROW = (
    "commit:open->matching",
    "call:escrow.create:before",
    "call:escrow.create:after",
    "commit:matching->matched",
)
_REFUND = ("call:escrow.cancel:before", "call:escrow.cancel:after")
# What a confirm request does before it answers (the payout's confirmation comes later).
CONFIRM_BOUNDARIES = _SETTLE[: _SETTLE.index("commit:settling->payout_pending") + 1]

# Checked in; regenerate from a trace when the code's boundaries change (see the docstring).
BOUNDARIES: dict[str, tuple[str, ...]] = {
    "sell": (*_CREATE_SELL, "commit:open->matched", *_LOCK, *_SETTLE),
    "buy": ("commit:create->open", *_TAKER_ESCROW, *_LOCK, *_SETTLE),
    "cancel": (
        *_CREATE_SELL,
        "commit:open->refund_pending",
        *_REFUND,
        "commit:refund_pending->cancelled",
    ),
    "expiry": (
        *_CREATE_SELL,
        "commit:open->refund_pending",
        *_REFUND,
        "commit:refund_pending->expired",
    ),
    # At the match deadline the driver first looks on the chain for the order's one
    # possible lock (none here), then undoes the match.
    "sell_match_timeout": (
        *_CREATE_SELL,
        "commit:open->matched",
        *_LOOK_FOR_LOCK,
        "commit:matched->refund_pending",
        *_REFUND,
        "commit:refund_pending->expired",
    ),
    # The reconciler's pass at the claim deadline finds the claim and reveals from it.
    "claim": (*_CREATE_SELL, "commit:open->matched", *_LOCK, *_FINAL_VIEW, *_SETTLE),
    # A pass at the claim deadline finds the lock open and waits; the one after
    # refundable_at finds it past T_q, unclaimed, and refunds S.
    "lock_expiry": (
        "commit:create->open",
        *_TAKER_ESCROW,
        *_LOCK,
        *_FINAL_VIEW,
        *(f"{name}#2" for name in _FINAL_VIEW),
        "commit:quote_locked->refund_pending",
        *_REFUND,
        "commit:refund_pending->expired",
    ),
    "match_timeout": (
        "commit:create->open",
        *_TAKER_ESCROW,
        *_LOOK_FOR_LOCK,
        "commit:matched->refund_pending",
        *_REFUND,
        "commit:refund_pending->open",
    ),
}


def boundaries_of(trace: Iterable[str]) -> tuple[str, ...]:
    """A trace (every boundary passed, in order) as the matrix names its cases."""
    seen: Counter[str] = Counter()
    named: list[str] = []
    for name in trace:
        if name.startswith(MARK):
            continue
        seen[name] += 1
        named.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return tuple(named)


def by_request(trace: Iterable[str]) -> list[tuple[str, str]]:
    """(request, boundary) for each boundary of a trace the session annotated."""
    request = "-"
    found: list[tuple[str, str]] = []
    for line in trace:
        if line.startswith(MARK):
            request = line.removeprefix(MARK)
        else:
            found.append((request, line))
    return found


def timing_dependent_reads(trace: list[str]) -> list[str]:
    """The trace without payout-status reads made inside the confirm request.

    Since 926d30d a confirm skips reading the payout it just queued only if the clock has
    not crossed a second since the transfer; when it has (a slow node, a loaded machine),
    the confirm reads it too. See `test_confirm_never_reads_a_payout_it_queued_for_later`.
    """
    return [
        boundary
        for request, boundary in by_request(trace)
        if not (request == "confirm" and boundary.startswith("call:payout.status:"))
    ]


def split_boundary(boundary: str) -> tuple[str, int]:
    name, _, nth = boundary.partition("#")
    return name, int(nth) if nth else 1


# ------------------------------------------------------------------ the bridge's database


def migrated_template(path: Path) -> Path:
    """A migrated, empty SQLite bridge database to copy for each case (spares every first
    start its migration run)."""
    engine = make_engine(sqlite_url(path))
    upgrade(engine)
    engine.dispose()
    return path


def copy_database(template: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    source, copy = sqlite3.connect(template), sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()


class Observer:
    """The test's own read (and, for a dead leader's lease, write) access to a bridge's
    database: it sees orders whose creation the client never heard of."""

    def __init__(self, database_url: str) -> None:
        self.engine = create_engine(database_url, poolclass=NullPool)

    def close(self) -> None:
        self.engine.dispose()

    def orders_of(self, wallets: Iterable[str]) -> list[tuple[str, str]]:
        """(order_id, status) of every order the wallets made or took, oldest first."""
        found: dict[str, str] = {}
        query = text(
            "SELECT order_id, status FROM orders WHERE maker_wallet = :w OR taker_wallet = :w "
            "ORDER BY created_at, order_id"
        )
        with self.engine.connect() as conn:
            for wallet in wallets:
                for order_id, status in conn.execute(query, {"w": wallet}):
                    found[str(order_id)] = str(status)
        return list(found.items())

    def alerts(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(level, title, fields) of every alert in the bridge's outbox, oldest first."""
        query = text("SELECT level, title, fields FROM alert_outbox ORDER BY alert_id")
        with self.engine.connect() as conn:
            rows = list(conn.execute(query))
        return [(str(level), str(title), json.loads(fields)) for level, title, fields in rows]

    def held_lease(self, pid: int) -> bool:
        """Whether the (now dead) process `pid` still holds the reconciler lease."""
        with self.engine.connect() as conn:
            held = conn.execute(
                text("SELECT count(*) FROM leases WHERE holder LIKE :h"), {"h": f"%:{pid}:%"}
            ).scalar_one()
        return bool(held)

    def expire_lease_of(self, pid: int) -> bool:
        """Let the reconciler lease a killed process held run out, as waiting out
        OTC_RECONCILE_LEASE_SECONDS of wall time would (a process on another host cannot
        take it over early). True if the dead process held it."""
        with self.engine.begin() as conn:
            expired = conn.execute(
                text("UPDATE leases SET expires_at = 0 WHERE holder LIKE :h"), {"h": f"%:{pid}:%"}
            )
        return expired.rowcount > 0


# ------------------------------------------------------------------ one trade, as clients play it


class Session:
    def __init__(
        self,
        scenario: Scenario,
        *,
        bridge_url: str,
        devnet: DevnetControl,
        node_url: str,
        admin_key: str,
        observer: Observer,
        chain: Devchain,
    ) -> None:
        self.scenario = scenario
        self.devnet = devnet
        self.chain = chain
        # S's and B's accounts on the quote chain: fresh keys, so their USDC is exact.
        self.s_chain = ChainTrader.fresh(chain)
        self.b_chain = ChainTrader.fresh(chain)
        self.lock_made: LockMade | None = None  # B's lock (made once; reported again)
        self.claimed = False  # S claimed the quote leg on the chain
        self.node_url = node_url
        self.admin_key = admin_key
        self.observer = observer
        self.seller, self.buyer, self.secret = Wallet(), Wallet(), Secret()
        devnet.faucet(self.seller.address, FUNDS_RTC)
        self.worker_before = devnet.balance_i64(WORKER_WALLET)
        self.fee_before = devnet.balance_i64(FEE_WALLET)
        self.client = TraderClient(bridge_url, clock=devnet.now)
        self.order_id: str | None = None
        self.orphans: list[str] = []  # orders whose creation failed (nothing left open)
        self.others: list[str] = []  # every order of these wallets but the trade's own
        self.history_at_restart: int | None = None
        self.trace: Path | None = None  # the bridge's OTC_CRASH_TRACE file, if any
        self.issued: list[str] = []  # every user action sent, in order
        self.notes: list[str] = []
        self.reads = 0  # order reads checked for the preimage before completion
        self.waits = 0
        self.lost: str | None = None  # the action whose answer a crash lost
        self.reissued: list[str] = []
        self.summaries: list[dict[str, Any]] = []
        self.confirm_answer: dict[str, Any] | None = None
        self.cancel_answer: dict[str, Any] | None = None

    # ----------------------------------------------------------- who is who

    @property
    def maker(self) -> Wallet:
        return self.seller if self.scenario.maker_side == "sell" else self.buyer

    @property
    def taker(self) -> Wallet:
        return self.buyer if self.scenario.maker_side == "sell" else self.seller

    def close(self) -> None:
        self.client.close()

    def reconnect(self, bridge_url: str) -> None:
        """After a restart: a new connection pool (the old one points at a dead process)."""
        self.client.close()
        self.client = TraderClient(bridge_url, clock=self.devnet.now)

    # ----------------------------------------------------------- playing

    def play(self, max_steps: int = MAX_STEPS) -> None:
        """Act until the plan is done; raises `Crashed` if the bridge dies under a request."""
        for _ in range(max_steps):
            if self.order_id is None:
                self._find_or_create()
                continue
            order = self.read_order(self.order_id)
            if self._creation_failed(order):
                self.orphans.append(self.order_id)
                self.notes.append(f"order {self.order_id} never opened: {order['status']}")
                self.order_id = None
                continue
            act = self.scenario.plan(self, order)
            if act is Act.DONE:
                return
            self._do(act, order)
        raise AssertionError(
            f"{self.scenario.key}: not done after {max_steps} steps; order {self.order_id} "
            f"is {self.order_id and self.read_order(self.order_id)['status']}; "
            f"last reconcile passes: {self.summaries[-3:]}"
        )

    def _do(self, act: Act, order: dict[str, Any]) -> None:
        if act is Act.WAIT:
            self.wait(order)
        elif act is Act.MATCH:
            self.match()
        elif act is Act.LOCK:
            self.lock()
        elif act is Act.CLAIM:
            self.claim()
        elif act is Act.CONFIRM:
            self.confirm()
        elif act is Act.CANCEL:
            self.cancel()
        else:  # pragma: no cover - CREATE happens only without an order
            raise AssertionError(act)

    def _bridge(self, action: str, send: Callable[[], httpx.Response]) -> httpx.Response:
        if self.trace is not None:  # which request the boundaries that follow belong to
            with self.trace.open("a") as out:
                out.write(f"{MARK}{action}\n")
        try:
            response = send()
        except httpx.TransportError as exc:
            self.lost = action
            raise Crashed(action) from exc
        return response

    def _issue(self, action: str) -> None:
        """Count a user action; note it when it repeats the one whose answer was lost."""
        if action == self.lost and action not in self.reissued:
            self.reissued.append(action)
            self.notes.append(f"{action} re-issued")
        if action in self.issued and action in SIGNED:
            # A retry is signed afresh a moment later: within the same second the same
            # terms sign to the same bytes, which the bridge rightly refuses as a replay.
            self.devnet.advance_clock(1)
        self.issued.append(action)

    # ----------------------------------------------------------- user actions

    def _find_or_create(self) -> None:
        """The maker has no order it knows of: let the bridge settle any it never heard
        back about, look for one on the book (a create whose answer was lost), else create."""
        self._settle_unknown_orders()
        book = self._bridge(
            "read",
            lambda: self.client.http.get("/api/orders", params={"side": self.scenario.maker_side}),
        )
        assert book.status_code == 200, book.text
        mine = [o for o in book.json()["orders"] if o["maker_wallet"] == self.maker.address]
        assert len(mine) <= 1, f"more than one open order for one create: {mine}"
        if mine:
            self.order_id = mine[0]["order_id"]
            self.notes.append("found its order on the book")
            return
        # No order of this trade holds S's RTC any more: every escrow an earlier attempt
        # locked has been refunded (I2), before the client tries again.
        held = FUNDS_I64 - self.devnet.balance_i64(self.seller.address)
        assert held == 0, f"S is short {held} µRTC with no live order"
        if "create" in self.issued:
            self.notes.append("S whole again before the retry")
        self.create()

    def _settle_unknown_orders(self) -> None:
        """Orders in the bridge (the test reads its database, as an observer) that the
        client never got an answer about: wait until each is on the book or has ended."""
        for _ in range(MAX_STEPS):
            pending = [
                oid
                for oid, status in self.observer.orders_of([self.maker.address])
                if status not in TERMINAL | {"open"} and oid not in self.orphans
            ]
            if not pending:
                return
            self.wait(self.read_order(pending[0]))
        raise AssertionError("orders the client never heard of did not settle")

    def create(self) -> None:
        self._issue("create")
        sell = self.scenario.maker_side == "sell"
        response = self._bridge(
            "create",
            lambda: self.client.create_order(
                self.maker,
                side=self.scenario.maker_side,
                amount_rtc=AMOUNT_RTC,
                price_per_rtc=PRICE,
                pair=PAIR,
                ttl_seconds=self.scenario.ttl_seconds,
                eth_address=self.s_chain.address if sell else self.b_chain.address,
                htlc_hash=self.secret.hash if sell else None,
            ),
        )
        body = response.json()
        assert "htlc_secret" not in body, "client-side hash: the bridge has no secret to return"
        if response.status_code == 201:
            self.order_id = body["order_id"]
        elif response.status_code == 503 and body.get("error") == "Escrow lock outcome unknown":
            self.order_id = body["order_id"]  # the reconciler resolves it; we wait
        elif response.status_code != 400 or body.get("error") != "Failed to lock RTC in escrow":
            raise AssertionError(f"create: {response.status_code} {response.text}")
        if response.status_code != 201:  # nothing locked (400): created again next step
            self.notes.append(f"create answered {response.status_code}")
        if "order_id" in body:
            self._check_answer(body["order_id"], body.get("status"))

    def match(self) -> None:
        assert self.order_id is not None
        order_id = self.order_id
        self._issue("match")
        buy = self.scenario.maker_side == "buy"
        response = self._bridge(
            "match",
            lambda: self.client.match(
                self.taker,
                order_id,
                eth_address=self.s_chain.address if buy else self.b_chain.address,
                htlc_hash=self.secret.hash if buy else None,
            ),
        )
        body = response.json()
        assert "htlc_secret" not in body
        escrow_failed = response.status_code == 400 and body.get("error") == (
            "Failed to lock RTC in escrow"
        )
        unknown = response.status_code == 503 and body.get("error") == (
            "Escrow lock outcome unknown"
        )
        assert response.status_code == 200 or escrow_failed or unknown, response.text
        if response.status_code != 200:
            self.notes.append(f"match answered {response.status_code}")
        self._check_answer(order_id, body.get("status", "open" if escrow_failed else None))

    def confirm(self) -> None:
        assert self.order_id is not None
        order_id = self.order_id
        self._issue("confirm")
        response = self._bridge(
            "confirm",
            lambda: self.client.confirm(
                order_id,
                wallet=self.seller.address,
                secret=self.secret.hex,
                quote_tx=self.lock_made.tx.tx_hash if self.lock_made else "",
            ),
        )
        assert response.status_code == 200, response.text
        body = response.json()
        if body["status"] == "completed":
            assert body["ok"] is True
            assert body["htlc_secret"] == self.secret.hex
        else:
            assert body["ok"] is False
            assert "htlc_secret" not in body, f"I3: secret in a {body['status']} confirm answer"
        self.confirm_answer = body
        self._check_answer(order_id, body["status"])

    def lock(self) -> None:
        """B locks the order's total for S under its hashlock (once: a hashlock backs one
        lock ever), lets the lock's block become final, and reports it to the bridge."""
        assert self.order_id is not None
        order_id = self.order_id
        if self.lock_made is None:
            order = self.read_order(order_id)
            self.lock_made = self.b_chain.lock(
                receiver=self.s_chain.address,
                hashlock=self.secret.hash,
                timelock=chain_now(self.chain) + LOCK_SPAN,
                amount=int(order["total_quote_base_units"]),
                token=self.chain.info.usdc_token,
                order_ref=order_id,
            )
            self.chain.control.mine(self.chain.info.finality_confirmations - 1)
        tx = self.lock_made.tx.tx_hash
        self._issue("lock")
        response = self._bridge(
            "lock",
            lambda: self.client.http.post(f"/api/orders/{order_id}/lock", json={"quote_tx": tx}),
        )
        assert response.status_code == 200, response.text
        self._check_answer(order_id, response.json()["order"]["status"])

    def claim(self) -> None:
        """S claims the quote leg with its preimage; the claim's block becomes final."""
        assert self.lock_made is not None
        self.s_chain.claim(self.lock_made.lock_id, self.secret.hex)
        self.chain.control.mine(self.chain.info.finality_confirmations)
        self.claimed = True
        self.notes.append("S claimed on the chain")

    def cancel(self) -> None:
        assert self.order_id is not None
        order_id = self.order_id
        self._issue("cancel")
        response = self._bridge("cancel", lambda: self.client.cancel(self.maker, order_id))
        assert response.status_code == 200, response.text
        self.cancel_answer = response.json()
        self._check_answer(order_id, self.cancel_answer["status"])

    def wait(self, order: dict[str, Any]) -> dict[str, Any]:
        """Time passes until the order's next automatic action, the node's scheduler runs
        once, then one reconcile pass."""
        self.waits += 1
        due = order["deadlines"]["next_action_at"]
        step = max(1, due - self.devnet.now() + 1) if due is not None else 121
        if order["status"] == "payout_pending":  # the bridge polls; the node confirms later
            step = max(step, self.confirmation_delay() + 1)
        self.devnet.advance_clock(step)  # the chain's clock too, with one block
        # The chain's final view (finality_confirmations deep) reaches the new time.
        self.chain.control.mine(self.chain.info.finality_confirmations)
        self.devnet.tick()
        return self.reconcile()

    def confirmation_delay(self) -> int:
        delay: int = self.devnet.scheduler()["confirmation_delay_seconds"]
        return delay

    def reconcile(self) -> dict[str, Any]:
        response = self._bridge(
            "reconcile",
            lambda: self.client.http.post(
                "/admin/reconcile", headers={"X-Admin-Key": self.admin_key}
            ),
        )
        assert response.status_code == 200, response.text
        summary: dict[str, Any] = response.json()["summary"]
        self.summaries.append(summary)
        return summary

    def _check_answer(self, order_id: str, status: str | None) -> None:
        """I8: an answer states the status the database holds after the request (nothing
        else moves the order in between: no worker runs unless the test triggers it)."""
        if status is not None:
            held = self.read_order(order_id)["status"]
            assert held == status, f"I8: answered {status}, the database holds {held}"

    # ----------------------------------------------------------- reads (I3 on every one)

    def read_order(self, order_id: str) -> dict[str, Any]:
        response = self._bridge("read", lambda: self.client.http.get(f"/api/orders/{order_id}"))
        assert response.status_code == 200, response.text
        order: dict[str, Any] = response.json()["order"]
        if order["status"] == "completed":
            assert order.get("htlc_secret") == self.secret.hex, "I3: secret not released"
        else:
            self.reads += 1
            assert "htlc_secret" not in order, f"I3: secret readable while {order['status']}"
            assert self.secret.hex not in response.text
        return order

    def events(self, order_id: str) -> list[dict[str, Any]]:
        response = self._bridge(
            "read", lambda: self.client.http.get(f"/api/orders/{order_id}/events")
        )
        assert response.status_code == 200, response.text
        assert self.secret.hex not in response.text, "I3: preimage in the order history"
        found: list[dict[str, Any]] = response.json()["events"]
        return found

    def match_timed_out(self) -> bool:
        assert self.order_id is not None
        return any(e["cause"] == "match_timeout" for e in self.events(self.order_id))

    def _creation_failed(self, order: dict[str, Any]) -> bool:
        """A sell order whose escrow never locked ends cancelled without ever being open:
        its client creates again."""
        if order["status"] != "cancelled" or order["side"] != "sell":
            return False
        return not any(e["to"] == "open" for e in self.events(order["order_id"]))

    # ----------------------------------------------------------- the end state

    def payouts_to_buyer(self) -> list[dict[str, Any]]:
        """Every pending-pool row paying B, as the node lists them (public, by miner_id)."""
        response = httpx.get(
            f"{self.node_url}/pending/list",
            params={"miner_id": self.buyer.address, "status": "all", "limit": 500},
            headers={"X-Real-IP": "10.254.0.1"},  # scaffolding: not the bridge's rate bucket
            timeout=30,
        )
        assert response.status_code == 200, response.text
        rows: list[dict[str, Any]] = response.json()["pending"]
        return rows

    def verify(
        self,
        *,
        expected: str | None = None,
        worker_delta: int | None = 0,
        critical_alerts: bool = False,
    ) -> list[str]:
        """Check the end state; returns the names of the checks that held."""
        expected = expected or self.scenario.expected
        assert self.order_id is not None, "the session ended without an order"
        order = self.read_order(self.order_id)
        assert order["status"] == expected, (
            f"order {self.order_id} ended {order['status']}, expected {expected}; "
            f"history: {[(e['to'], e['cause']) for e in self.events(self.order_id)]}"
        )
        if expected == "open":  # relisted after a match timeout: the taker is gone
            assert order["taker_wallet"] is None
            assert order["escrow_job_id"] is None
            assert self.match_timed_out()
        completed = expected == "completed"
        checks: list[str] = []

        # Every other order of these wallets is an orphan of a failed create; all ended.
        others = [
            (oid, status)
            for oid, status in self.observer.orders_of([self.seller.address, self.buyer.address])
            if oid != self.order_id
        ]
        for oid, status in others:
            assert status == "cancelled", f"orphan order {oid} is {status}"
        self.others = [oid for oid, _ in others]
        if others:
            checks.append(f"{len(others)} orphan cancelled")

        # I1 + I2: balances to the µRTC, the payout rows on the node, the fee, the float.
        seller = self.devnet.balance_i64(self.seller.address)
        buyer = self.devnet.balance_i64(self.buyer.address)
        assert seller == FUNDS_I64 - (ESCROW_I64 if completed else 0), f"S holds {seller}"
        assert buyer == (AMOUNT_I64 if completed else 0), f"B holds {buyer}"
        fee = self.devnet.balance_i64(FEE_WALLET) - self.fee_before
        assert fee == (FEE_I64 if completed else 0), f"fee wallet moved by {fee}"
        if worker_delta is not None:
            worker = self.devnet.balance_i64(WORKER_WALLET) - self.worker_before
            assert worker == worker_delta, f"otc_bridge_worker moved by {worker}"
        rows = self.payouts_to_buyer()
        confirmed = [r for r in rows if r["status"] == "confirmed"]
        assert not [r for r in rows if r["status"] == "pending"], f"payout still queued: {rows}"
        assert len(confirmed) == (1 if completed else 0), f"payout rows to B: {rows}"
        assert all(r["from_miner"] == WORKER_WALLET for r in rows)
        checks.append("I1 B paid once" if completed else "I1 B paid nothing")
        checks.append("I2 S debited once" if completed else "I2 S whole")

        trades = self.client.http.get("/api/trades").json()["trades"]
        assert [t["order_id"] for t in trades] == ([self.order_id] if completed else [])
        if completed:
            assert trades[0]["rtc_tx"] == order["payout_tx_hash"]
            checks.append("trade once")

        # I3: gated before completion (checked on every read), released at completion.
        checks.append(f"I3 ({self.reads} reads)")
        checks += self.verify_quote_leg(order)
        # The append-only history of every order is an intact hash chain.
        count = 0
        for oid in [self.order_id, *(oid for oid, _ in others)]:
            count += check_chain(oid, self.events(oid))
        checks.append(f"chain ({count} events)")
        if not critical_alerts:
            critical = [a for a in self.observer.alerts() if a[0] == "critical"]
            assert not critical, f"critical alerts: {critical}"
        self.devnet.assert_conserved()
        checks.append("ledger conserved")
        return checks

    def verify_quote_leg(self, order: dict[str, Any]) -> list[str]:
        """I4: S's escrow reached B only after B's lock was verified (final, the order's
        terms) and recorded; the quote chain holds exactly what the trade left there."""
        assert self.order_id is not None
        history = [(e["to"], e["cause"]) for e in self.events(self.order_id)]
        statuses = [to for to, _ in history]
        if "settling" in statuses:
            assert "quote_locked" in statuses, f"I4: settled without a verified lock: {history}"
            assert statuses.index("quote_locked") < statuses.index("settling"), history
            assert ("quote_locked", "lock_verified") in history, history
        if self.lock_made is None:
            assert "quote_locked" not in statuses, history
            return ["I4 no lock, no release"]
        lock = order["quote_lock"]
        if "quote_locked" in statuses:
            assert lock["lock_id"] == self.lock_made.lock_id, lock
            assert int(lock["amount"]) >= int(order["total_quote_base_units"]), lock
        total = int(order["total_quote_base_units"])
        # B's USDC is in the lock (or, claimed, with S); nothing else moved on the chain.
        assert self.b_chain.usdc() == USDC_FUNDS - total
        assert self.s_chain.usdc() == USDC_FUNDS + (total if self.claimed else 0)
        return ["I4 lock verified before release" if "settling" in statuses else "I4 no release"]

    def mark_restart(self) -> None:
        """Remember how much history the trade's order had when the bridge came back."""
        if self.order_id is not None:
            self.history_at_restart = len(self.events(self.order_id))
            self.notes.append("restarted")

    def _resumption(self) -> str | None:
        """Who moved the trade's order first after the restart, and how."""
        if self.history_at_restart is None or self.order_id is None:
            return None
        after = self.events(self.order_id)[self.history_at_restart :]
        if not after:
            return None
        first = after[0]
        who = {
            "admin": "reconciler",
            "confirm": "confirm",
            self.seller.address: "S",
            self.buyer.address: "B",
        }.get(first["actor"], first["actor"])
        step = first["refs"].get("step") or f"{first['from']}->{first['to']}"
        read = any(e["refs"].get("read") for e in after)
        return f"{who} resumed at {step}" + (" (node read: step already done)" if read else "")

    def story(self) -> str:
        """What happened, for the table: the end state and how the clients got there."""
        assert self.order_id is not None
        status = self.read_order(self.order_id)["status"]
        notes = [n for n in self.notes if not n.startswith("order ")]
        if self.others:
            orphans = "an order" if len(self.others) == 1 else f"{len(self.others)} orders"
            notes.insert(0, f"{orphans} that never opened ended cancelled")
        resumed = self._resumption()
        if resumed and "restarted" in notes:
            notes[notes.index("restarted")] = resumed
        notes = [n for n in notes if n != "restarted"]
        end = "relisted open" if status == "open" else status
        return "; ".join([*dict.fromkeys(notes), end])


def check_chain(order_id: str, events: list[dict[str, Any]]) -> int:
    """Each event links to the one before it, and each hash covers its event."""
    assert events, "an order without history"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    previous = GENESIS
    for event in events:
        assert event["prev_hash"] == previous, f"broken chain at seq {event['seq']}"
        body = {
            "order_id": order_id,
            "seq": event["seq"],
            "from": event["from"],
            "to": event["to"],
            "cause": event["cause"],
            "actor": event["actor"],
            "refs": event["refs"],
            "at": event["at"],
        }
        assert event_hash(previous, body) == event["hash"], f"seq {event['seq']} was edited"
        previous = event["hash"]
    return len(events)


# ------------------------------------------------------------------ the crash matrix's case


@dataclass
class CaseReport:
    scenario: str
    boundary: str
    crashed_in: str
    outcome: str
    checks: list[str]

    def as_json(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)


@dataclass
class Harness:
    """One fresh bridge (`otc-bridge serve`, no embedded worker: only what the test
    triggers runs) on its own fresh database, against the shared devnode."""

    node: DevnodeProcess
    devnet: DevnetControl
    chain: Devchain
    state_dir: Path
    template: Path | None = None  # a migrated SQLite database to start from

    def __post_init__(self) -> None:
        env = quote_bridge_env(self.node, self.state_dir, self.chain)
        url = env["OTC_DATABASE_URL"]
        if self.template is not None and url.startswith("sqlite:///"):
            copy_database(self.template, Path(url.removeprefix("sqlite:///")))
        # Forked from a pre-imported `otc-bridge` (tests/support/forked.py): the same
        # entry point, settings and database, without a cold import per start. A generous
        # readiness deadline: on a loaded machine a start can still take long to answer.
        self.process = ForkedBridgeProcess(self.state_dir, env=env, startup_timeout=STARTUP_SECONDS)
        self.observer = Observer(url)
        self.trace = self.state_dir / "trace.log"

    def session(self, scenario: Scenario) -> Session:
        session = Session(
            scenario,
            bridge_url=self.process.url,
            devnet=self.devnet,
            node_url=self.node.url,
            admin_key=self.node.admin_key,
            observer=self.observer,
            chain=self.chain,
        )
        session.trace = self.trace
        return session

    def passed(self) -> list[str]:
        """Every line of the trace: the bridge's boundaries and the session's marks."""
        return self.trace.read_text().splitlines() if self.trace.exists() else []

    def close(self) -> None:
        self.process.stop()
        self.observer.close()


def run_traced(scenario: Scenario, harness: Harness) -> tuple[tuple[str, ...], CaseReport]:
    """Play a scenario once without a crash; the boundaries it passed (less the
    timing-dependent reads, see `timing_dependent_reads`) and its report."""
    harness.process.start({"OTC_CRASH_TRACE": str(harness.trace)})
    session = harness.session(scenario)
    try:
        session.play()
        checks = session.verify()
        report = CaseReport(scenario.key, "(none: traced run)", "-", session.story(), checks)
    finally:
        session.close()
        harness.close()
    return boundaries_of(timing_dependent_reads(harness.passed())), report


def run_crash_case(scenario: Scenario, boundary: str, harness: Harness) -> CaseReport:
    """Kill `otc-bridge serve` with SIGKILL at `boundary`, restart it without the crash
    setting, let clients and time recover the trade, and verify where it ended."""
    name, nth = split_boundary(boundary)
    process = harness.process
    process.start({"OTC_CRASH_AT": f"{name}#{nth}", "OTC_CRASH_TRACE": str(harness.trace)})
    session = harness.session(scenario)
    try:
        try:
            session.play()
        except Crashed as crash:
            crashed_in = crash.action
        else:
            raise AssertionError(f"{scenario.key} never passed {boundary}")
        code = process.wait(30)
        assert code == -signal.SIGKILL, f"bridge exited with {code}, not SIGKILL"
        passed = [line for line in harness.passed() if not line.startswith(MARK)]
        assert passed[-1] == name, f"died after {passed[-3:]}, not at {name}"
        assert passed.count(name) == nth, f"died at pass {passed.count(name)} of {name}"
        checks = ["SIGKILL at boundary"]
        dead = process.pid
        assert dead is not None
        if harness.observer.held_lease(dead):
            # The restarted process must take it over at once, not wait it out.
            checks.append("dead leader's lease taken over")
        process.restart()  # same port, same database, no crash settings
        session.reconnect(process.url)
        session.mark_restart()
        session.play()
        checks += session.verify()
        return CaseReport(scenario.key, boundary, crashed_in, session.story(), checks)
    finally:
        session.close()
        harness.close()
