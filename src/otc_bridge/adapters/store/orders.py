"""The order aggregate's repository: orders with their hash-chained history and, once
completed, their trade.

Every change of an order is `transition(move)`: the domain's table check, a
compare-and-set on (status, version) whose row count is checked (and the writer's lease
fence, when it holds one), and the history row chained to the previous one by hash, in
the caller's transaction. A move that completes the order also records its trade.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from otc_bridge.adapters.store.direct import Direct
from otc_bridge.adapters.store.event_rows import event_from_row
from otc_bridge.adapters.store.leases import FENCE_HOLDS, Fence, fence_holds, fence_params
from otc_bridge.adapters.store.publish import record
from otc_bridge.adapters.store.read_versions import market_scopes
from otc_bridge.adapters.store.rows import changed_columns, order_columns, order_from_row
from otc_bridge.adapters.store.tables import EVENTS, ORDERS, TRADES
from otc_bridge.domain.errors import LockAlreadyUsed
from otc_bridge.domain.hashing import GENESIS, event_hash
from otc_bridge.domain.move import Move
from otc_bridge.domain.order import Order, OrderEvent, is_order_id, trade_id
from otc_bridge.domain.states import TERMINAL, Cause, Status, check_transition

# (the order before, its new status, the history cause, at) of each transition written
Committed = tuple[Order, str, str, int]

# The reads and writes every order change makes, built once with bound parameters and run
# on the driver directly (direct.py: most of a settlement's CPU was SQLAlchemy's execution
# layer around them, profiled).
_GET = Direct(select(ORDERS).where(ORDERS.c.order_id == bindparam("w_order_id")), returns_rows=True)
_INSERT_ORDER = Direct(insert(ORDERS))
_INSERT_TRADE = Direct(insert(TRADES))
# A compare-and-set: the SET clause is the changed columns given with the parameters.
_CAS_WHERE = update(ORDERS).where(
    ORDERS.c.order_id == bindparam("w_order_id"),
    ORDERS.c.status == bindparam("w_status"),
    ORDERS.c.version == bindparam("w_version"),
)
_CAS = Direct(_CAS_WHERE)
_CAS_FENCED = Direct(_CAS_WHERE.where(FENCE_HOLDS))
_ENDED = [status.value for status in TERMINAL]
# the ended statuses as bound values (one each, not a list expanded at run time: direct.py)
_ENDED_BINDS: list[BindParameter[str]] = [
    bindparam(f"w_ended_{i}", value) for i, value in enumerate(_ENDED)
]
_ACTIVE_ESCROWS = Direct(
    select(func.count().label("active"))
    .select_from(ORDERS)
    .where(
        ORDERS.c.escrow_poster == bindparam("w_wallet"),
        ORDERS.c.status.not_in(_ENDED_BINDS),
        or_(ORDERS.c.escrow_state.is_(None), ORDERS.c.escrow_state.not_in(_ENDED_BINDS)),
    ),
    returns_rows=True,
)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A move made ready to write: its history row (hashed, chained to the order's
    last) and the columns it changes. Pure work, done before the unit of work begins."""

    move: Move
    event: OrderEvent
    changes: dict[str, Any]
    after: Order


def prepare(move: Move, *, actor: str, at: int) -> Prepared:
    before, target = move.before, move.target
    if move.after.order_id != before.order_id:
        raise ValueError("a move changes one order")
    if not move.is_step:
        assert isinstance(move.cause, Cause)
        check_transition(before.status, target, move.cause)
    elif target is not before.status:
        raise ValueError("a step keeps the order's status")
    seq = before.version + 1
    event = OrderEvent(
        order_id=before.order_id,
        seq=seq,
        from_status=before.status.value,
        to_status=target.value,
        cause=move.history_cause,
        actor=actor,
        refs=move.history_refs,
        at=at,
        prev_hash=before.history_hash,
    )
    digest = event_hash(before.history_hash, event.hashed_body())
    changes = changed_columns(before, move.after)
    changes.update(version=seq, history_hash=digest)
    after = replace(move.after, version=seq, history_hash=digest)
    return Prepared(move, replace(event, hash=digest), changes, after)


def cas_params(move: Prepared, fence: Fence | None) -> dict[str, Any]:
    """The compare-and-set's parameters: the changed columns by name, the order as it was
    read (`w_`), the writer's fence (`f_`)."""
    before = move.move.before
    params = {
        **move.changes,
        "w_order_id": before.order_id,
        "w_status": before.status.value,
        "w_version": before.version,
    }
    if fence is not None:
        params.update(fence_params(fence))
    return params


@contextmanager
def lock_taken_as_error(move: Prepared) -> Iterator[None]:
    """A move that records a quote lock another order already holds is refused by the
    unique index: raised as `LockAlreadyUsed`. The transaction (or the statement) is
    spoilt and rolls back with the exception; nothing was written."""
    try:
        yield
    except IntegrityError as exc:
        lock_id = move.changes.get("quote_lock_id")
        if lock_id is None:
            raise
        raise LockAlreadyUsed(lock_id) from exc


class Orders:
    def __init__(
        self, conn: Connection, committed: list[Committed], touched: set[str] | None = None
    ) -> None:
        self._conn = conn
        self._committed = committed  # the unit of work reports these after its commit
        # pairs whose market reads this unit of work changed (read_versions.py)
        self._touched = touched if touched is not None else set()

    def get(self, order_id: str) -> Order | None:
        if not is_order_id(order_id):
            return None
        row = _GET.run(self._conn, {"w_order_id": order_id}).first()
        return None if row is None else order_from_row(row)

    def insert(self, order: Order, *, actor: str, at: int, refs: dict[str, Any]) -> Order:
        """Create the order and the first row of its history in one go."""
        check_transition(None, order.status, Cause.CREATE)
        event = OrderEvent(
            order_id=order.order_id,
            seq=1,
            from_status=None,
            to_status=order.status.value,
            cause=Cause.CREATE.value,
            actor=actor,
            refs=refs,
            at=at,
            prev_hash=GENESIS,
        )
        digest = event_hash(GENESIS, event.hashed_body())
        order = replace(order, version=1, history_hash=digest)
        _INSERT_ORDER.run(self._conn, order_columns(order))
        record(self._conn, replace(event, hash=digest), None, order)
        self._touched |= market_scopes(None, order)
        return order

    def transition(
        self,
        move: Move | Prepared,
        *,
        actor: str | None = None,
        at: int | None = None,
        fence: Fence | None = None,
    ) -> Order | None:
        """Apply `move` to the order as it was read; None if it changed since (or the
        fence's lease moved on). A move `prepare`d before the unit of work began takes
        its actor and time from there (SQLite's write gate is then held for the writes
        only)."""
        if isinstance(move, Move):
            if actor is None or at is None:
                raise TypeError("a move not prepared needs its actor and time")
            move = prepare(move, actor=actor, at=at)
        before, target = move.move.before, move.move.target
        with lock_taken_as_error(move):
            updated = (_CAS if fence is None else _CAS_FENCED).run(
                self._conn, cas_params(move, fence)
            )
        if updated.rowcount != 1:
            return None
        after, at = move.after, move.event.at
        record(self._conn, move.event, before, after)
        self._touched |= market_scopes(before, after)
        if target is Status.COMPLETED and before.status is not Status.COMPLETED:
            self._insert_trade(after, at=at)
        self._committed.append((before, target.value, move.move.history_cause, at))
        return after

    def by_quote_lock(self, lock_id: str) -> str | None:
        """The order a verified quote lock backs, if any."""
        row = self._conn.execute(
            select(ORDERS.c.order_id).where(ORDERS.c.quote_lock_id == lock_id)
        ).first()
        return None if row is None else str(row[0])

    def reschedule(self, order: Order, at: int | None, *, fence: Fence | None = None) -> bool:
        """Set when the worker should look at the order next (no history row: scheduling
        is not state). Guarded by version (and the fence), like a transition."""
        guard = and_(ORDERS.c.order_id == order.order_id, ORDERS.c.version == order.version)
        if fence is not None:
            guard = and_(guard, fence_holds(fence))
        result = self._conn.execute(update(ORDERS).where(guard).values(next_action_at=at))
        return result.rowcount == 1

    def claim_due(
        self, now: int, *, limit: int, hold_seconds: int, fence: Fence | None = None
    ) -> list[str]:
        """Take due orders for one pass: their next_action_at moves past the pass, so a
        second pass running at the same time (a partition, a paused leader) does not pick
        them. On PostgreSQL rows another transaction holds are skipped, not waited for."""
        pick = (
            select(ORDERS.c.order_id)
            .where(and_(ORDERS.c.next_action_at.is_not(None), ORDERS.c.next_action_at <= now))
            .order_by(ORDERS.c.next_action_at)
            .limit(limit)
        )
        if self._conn.dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        picked = [r.order_id for r in self._conn.execute(pick)]
        if picked:
            guard: ColumnElement[bool] = ORDERS.c.order_id.in_(picked)
            if fence is not None:
                guard = and_(guard, fence_holds(fence))
            claimed = self._conn.execute(
                update(ORDERS).where(guard).values(next_action_at=now + hold_seconds)
            )
            if claimed.rowcount != len(picked):
                return []  # the lease moved on under this pass: take nothing
        return picked

    def events(
        self, order_id: str, *, after_seq: int = 0, limit: int | None = None
    ) -> list[OrderEvent]:
        rows = self._conn.execute(
            select(EVENTS)
            .where(and_(EVENTS.c.order_id == order_id, EVENTS.c.seq > after_seq))
            .order_by(EVENTS.c.seq)
            .limit(limit)
        )
        return [event_from_row(r._mapping) for r in rows]

    def active_escrows(self, wallet: str) -> int:
        """Escrow jobs of `wallet` the node still counts as active (open, claimed,
        delivered): those of its orders that have not ended and not been released."""
        return int(_ACTIVE_ESCROWS.run(self._conn, {"w_wallet": wallet}).scalar())

    def count(self, status: Status) -> int:
        stmt = select(func.count()).select_from(ORDERS).where(ORDERS.c.status == status.value)
        return int(self._conn.execute(stmt).scalar_one())

    def by_status(self, status: Status, *, limit: int = 100) -> list[Order]:
        rows = self._conn.execute(
            select(ORDERS)
            .where(ORDERS.c.status == status.value)
            .order_by(ORDERS.c.created_at)
            .limit(limit)
        )
        return [order_from_row(r._mapping) for r in rows]

    def _insert_trade(self, order: Order, *, at: int) -> None:
        """The order's trade, once: its id is derived from the order id."""
        _INSERT_TRADE.run(
            self._conn,
            {
                "trade_id": trade_id(order.order_id),
                "order_id": order.order_id,
                "pair": order.pair,
                "side": order.side,
                "maker_wallet": order.maker_wallet,
                "taker_wallet": order.taker_wallet,
                "amount_micro_rtc": order.amount_micro_rtc,
                "price_per_rtc_nano_quote": order.price_per_rtc_nano_quote,
                "total_quote_nano": order.total_quote_nano,
                "total_quote_base": order.total_quote_base,
                "quote_tx": order.reveal.quote_tx if order.reveal else None,
                "rtc_tx": order.payout.tx_hash if order.payout else None,
                "completed_at": at,
            },
        )
