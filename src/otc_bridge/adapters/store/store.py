"""Units of work over the bridge's database.

`Store.write()` opens a transaction that may change state (on SQLite it takes the write
lock up front); `Store.read()` one that only reads. No node or chain call ever happens
inside a unit of work: the pattern everywhere is read, call out, then a short guarded
write.

Every status change goes through `Tx.transition`: the table check of the domain, a
compare-and-set on (status, version) whose row count is checked, and an appended history
row chained to the previous one by hash, all in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from sqlalchemy import Engine, and_, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from otc_bridge.adapters.store.schema import Base
from otc_bridge.domain.hashing import GENESIS, event_hash
from otc_bridge.domain.order import FIELD_NAMES, Order, OrderEvent
from otc_bridge.domain.states import Cause, Status, check_transition

ORDERS = Base.metadata.tables["orders"]
EVENTS = Base.metadata.tables["order_events"]
TRADES = Base.metadata.tables["trades"]
SIGNATURES = Base.metadata.tables["used_signatures"]
RATES = Base.metadata.tables["rate_counters"]

STEP = "step"  # cause of a history row that records progress without a status change


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def write(self) -> Iterator[Tx]:
        with self.engine.connect() as conn, conn.begin():
            yield Tx(conn)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self.engine.connect().execution_options(write=False) as conn, conn.begin():
            yield Tx(conn)

    def dispose(self) -> None:
        self.engine.dispose()


class Tx:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # ------------------------------------------------------------------ orders

    def get(self, order_id: str) -> Order | None:
        row = self.conn.execute(select(ORDERS).where(ORDERS.c.order_id == order_id)).first()
        return None if row is None else Order.from_mapping(row._mapping)

    def insert_order(
        self, order: Order, *, actor: str, at: int, refs: dict[str, Any] | None = None
    ) -> Order:
        """Create the order and the first row of its history in one go."""
        check_transition(None, order.status, Cause.CREATE)
        event = OrderEvent(
            order_id=order.order_id,
            seq=1,
            from_status=None,
            to_status=order.status.value,
            cause=Cause.CREATE.value,
            actor=actor,
            refs=refs or {},
            at=at,
            prev_hash=GENESIS,
        )
        digest = event_hash(GENESIS, event.hashed_body())
        order = replace(order, version=1, history_hash=digest)
        values = {name: getattr(order, name) for name in FIELD_NAMES}
        values["status"] = order.status.value
        self.conn.execute(insert(ORDERS).values(**values))
        self._append(replace(event, hash=digest))
        return order

    def transition(
        self,
        order: Order,
        target: Status,
        cause: Cause,
        *,
        actor: str,
        at: int,
        refs: dict[str, Any] | None = None,
        **changes: Any,
    ) -> Order | None:
        """Move `order` (as read) to `target`; None if it changed since it was read."""
        check_transition(order.status, target, cause)
        return self._advance(order, target, cause.value, actor, at, refs or {}, changes)

    def record_step(
        self,
        order: Order,
        step: str,
        *,
        actor: str,
        at: int,
        refs: dict[str, Any] | None = None,
        **changes: Any,
    ) -> Order | None:
        """Record progress within a state (an intent or a result), guarded like a move."""
        refs = {"step": step, **(refs or {})}
        return self._advance(order, order.status, STEP, actor, at, refs, changes)

    def _advance(
        self,
        order: Order,
        target: Status,
        cause: str,
        actor: str,
        at: int,
        refs: dict[str, Any],
        changes: dict[str, Any],
    ) -> Order | None:
        unknown = set(changes) - set(FIELD_NAMES)
        if unknown:
            raise TypeError(f"not order fields: {sorted(unknown)}")
        seq = order.version + 1
        event = OrderEvent(
            order_id=order.order_id,
            seq=seq,
            from_status=order.status.value,
            to_status=target.value,
            cause=cause,
            actor=actor,
            refs=refs,
            at=at,
            prev_hash=order.history_hash,
        )
        digest = event_hash(order.history_hash, event.hashed_body())
        result = self.conn.execute(
            update(ORDERS)
            .where(
                and_(
                    ORDERS.c.order_id == order.order_id,
                    ORDERS.c.status == order.status.value,
                    ORDERS.c.version == order.version,
                )
            )
            .values(status=target.value, version=seq, history_hash=digest, **changes)
        )
        if result.rowcount != 1:
            return None
        self._append(replace(event, hash=digest))
        return replace(order, status=target, version=seq, history_hash=digest, **changes)

    def reschedule(self, order: Order, at: int | None) -> bool:
        """Set when the worker should look at the order next (no history row: scheduling
        is not state). Guarded by version, so a stale snapshot cannot reschedule."""
        result = self.conn.execute(
            update(ORDERS)
            .where(and_(ORDERS.c.order_id == order.order_id, ORDERS.c.version == order.version))
            .values(next_action_at=at)
        )
        return result.rowcount == 1

    def due_orders(self, now: int, *, limit: int) -> list[str]:
        """Orders whose next automatic action is due, oldest first: O(orders due)."""
        rows = self.conn.execute(
            select(ORDERS.c.order_id)
            .where(and_(ORDERS.c.next_action_at.is_not(None), ORDERS.c.next_action_at <= now))
            .order_by(ORDERS.c.next_action_at)
            .limit(limit)
        )
        return [r.order_id for r in rows]

    def _append(self, event: OrderEvent) -> None:
        self.conn.execute(
            insert(EVENTS).values(
                order_id=event.order_id,
                seq=event.seq,
                from_status=event.from_status,
                to_status=event.to_status,
                cause=event.cause,
                actor=event.actor,
                refs=OrderEvent.encode_refs(event.refs),
                at=event.at,
                prev_hash=event.prev_hash,
                hash=event.hash,
            )
        )

    def events(self, order_id: str, *, after_seq: int = 0) -> list[OrderEvent]:
        rows = self.conn.execute(
            select(EVENTS)
            .where(and_(EVENTS.c.order_id == order_id, EVENTS.c.seq > after_seq))
            .order_by(EVENTS.c.seq)
        )
        return [
            OrderEvent(
                order_id=r.order_id,
                seq=r.seq,
                from_status=r.from_status,
                to_status=r.to_status,
                cause=r.cause,
                actor=r.actor,
                refs=json.loads(r.refs),
                at=r.at,
                prev_hash=r.prev_hash,
                hash=r.hash,
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ trades

    def insert_trade(self, order: Order, *, at: int) -> str:
        """Record the order's trade once: the trade id is derived from the order id."""
        trade_id = "trade_" + order.order_id.removeprefix("otc_")
        assert order.taker_wallet is not None
        self.conn.execute(
            insert(TRADES).values(
                trade_id=trade_id,
                order_id=order.order_id,
                pair=order.pair,
                side=order.side,
                maker_wallet=order.maker_wallet,
                taker_wallet=order.taker_wallet,
                amount_micro_rtc=order.amount_micro_rtc,
                price_per_rtc_nano_quote=order.price_per_rtc_nano_quote,
                total_quote_nano=order.total_quote_nano,
                total_quote_base=order.total_quote_base,
                quote_tx=order.quote_tx,
                rtc_tx=order.payout_tx_hash,
                completed_at=at,
            )
        )
        return trade_id

    # ------------------------------------------------------- signatures, rates

    def use_signature(self, digest: str, *, wallet: str, action: str, valid_until: int) -> bool:
        """Record a signature as used; False if it was used before (a replay)."""
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(SIGNATURES).values(
                        signature_digest=digest,
                        wallet=wallet,
                        action=action,
                        valid_until=valid_until,
                    )
                )
        except IntegrityError:
            return False
        return True

    def prune_signatures(self, now: int) -> int:
        """Forget signatures whose timestamp can no longer pass the window check."""
        result = self.conn.execute(delete(SIGNATURES).where(SIGNATURES.c.valid_until < now))
        return int(result.rowcount or 0)

    def hit_rate_counter(self, bucket: str, window_start: int) -> int:
        """Count one request in a fixed window; returns the count including this one."""
        values = {"bucket": bucket, "window_start": window_start, "count": 1}
        keys = [RATES.c.bucket, RATES.c.window_start]
        bump = {"count": RATES.c.count + 1}
        stmt: postgresql.Insert | sqlite.Insert
        if self.conn.dialect.name == "postgresql":
            stmt = postgresql.insert(RATES).values(**values)
        else:
            stmt = sqlite.insert(RATES).values(**values)
        upsert = stmt.on_conflict_do_update(index_elements=keys, set_=bump)
        return int(self.conn.execute(upsert.returning(RATES.c.count)).scalar_one())

    def prune_rate_counters(self, before: int) -> None:
        self.conn.execute(delete(RATES).where(RATES.c.window_start < before))

    def count_orders(self, status: Status) -> int:
        stmt = select(func.count()).select_from(ORDERS).where(ORDERS.c.status == status.value)
        return int(self.conn.execute(stmt).scalar_one())
