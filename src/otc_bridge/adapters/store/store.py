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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Engine, and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from otc_bridge.adapters.store.schema import Base
from otc_bridge.domain.hashing import GENESIS, event_hash
from otc_bridge.domain.order import FIELD_NAMES, Order, OrderEvent, is_order_id
from otc_bridge.domain.states import Cause, Status, check_transition

ORDERS = Base.metadata.tables["orders"]
EVENTS = Base.metadata.tables["order_events"]
TRADES = Base.metadata.tables["trades"]
SIGNATURES = Base.metadata.tables["used_signatures"]
RATES = Base.metadata.tables["rate_counters"]
LEASES = Base.metadata.tables["leases"]
ALERTS = Base.metadata.tables["alert_outbox"]

STEP = "step"  # cause of a history row that records progress without a status change


@dataclass(frozen=True, slots=True)
class Fence:
    """A lease held with a fencing token. Writes made under it succeed only while the
    token is current, so a holder that was paused past its lease cannot act on it."""

    name: str
    holder: str
    token: int


TransitionHook = Callable[[Order, str, str, int], None]


class Store:
    def __init__(self, engine: Engine, *, on_transition: TransitionHook | None = None) -> None:
        self.engine = engine
        self.on_transition = on_transition  # told of each committed transition (metrics)

    @contextmanager
    def write(self) -> Iterator[Tx]:
        with self.engine.connect() as conn:
            tx = Tx(conn)
            with conn.begin():
                yield tx
            if self.on_transition is not None:
                for order, target, cause, at in tx.committed:
                    self.on_transition(order, target, cause, at)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self.engine.connect().execution_options(write=False) as conn, conn.begin():
            yield Tx(conn)

    def dispose(self) -> None:
        self.engine.dispose()


class Tx:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.committed: list[tuple[Order, str, str, int]] = []  # (before, to, cause, at)

    # ------------------------------------------------------------------ orders

    def get(self, order_id: str) -> Order | None:
        if not is_order_id(order_id):
            return None
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
        fence: Fence | None = None,
        **changes: Any,
    ) -> Order | None:
        """Move `order` (as read) to `target`; None if it changed since it was read (or
        the fence's lease moved on)."""
        check_transition(order.status, target, cause)
        return self._advance(order, target, cause.value, actor, at, refs or {}, changes, fence)

    def record_step(
        self,
        order: Order,
        step: str,
        *,
        actor: str,
        at: int,
        refs: dict[str, Any] | None = None,
        fence: Fence | None = None,
        **changes: Any,
    ) -> Order | None:
        """Record progress within a state (an intent or a result), guarded like a move."""
        refs = {"step": step, **(refs or {})}
        return self._advance(order, order.status, STEP, actor, at, refs, changes, fence)

    def _advance(
        self,
        order: Order,
        target: Status,
        cause: str,
        actor: str,
        at: int,
        refs: dict[str, Any],
        changes: dict[str, Any],
        fence: Fence | None,
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
        guard = and_(
            ORDERS.c.order_id == order.order_id,
            ORDERS.c.status == order.status.value,
            ORDERS.c.version == order.version,
        )
        if fence is not None:
            guard = and_(guard, self._fence_holds(fence))
        result = self.conn.execute(
            update(ORDERS)
            .where(guard)
            .values(status=target.value, version=seq, history_hash=digest, **changes)
        )
        if result.rowcount != 1:
            return None
        self._append(replace(event, hash=digest))
        self.committed.append((order, target.value, cause, at))
        return replace(order, status=target, version=seq, history_hash=digest, **changes)

    @staticmethod
    def _fence_holds(fence: Fence) -> Any:
        return exists().where(and_(LEASES.c.name == fence.name, LEASES.c.token == fence.token))

    def reschedule(self, order: Order, at: int | None, *, fence: Fence | None = None) -> bool:
        """Set when the worker should look at the order next (no history row: scheduling
        is not state). Guarded by version (and the fence), like a transition."""
        guard = and_(ORDERS.c.order_id == order.order_id, ORDERS.c.version == order.version)
        if fence is not None:
            guard = and_(guard, self._fence_holds(fence))
        result = self.conn.execute(update(ORDERS).where(guard).values(next_action_at=at))
        return result.rowcount == 1

    def claim_due_orders(
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
        if self.conn.dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        picked = [r.order_id for r in self.conn.execute(pick)]
        if picked:
            guard: ColumnElement[bool] = ORDERS.c.order_id.in_(picked)
            if fence is not None:
                guard = and_(guard, self._fence_holds(fence))
            claimed = self.conn.execute(
                update(ORDERS).where(guard).values(next_action_at=now + hold_seconds)
            )
            if claimed.rowcount != len(picked):
                return []  # the lease moved on under this pass: take nothing
        return picked

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

    def active_escrows(self, wallet: str) -> int:
        """Escrow jobs of `wallet` the node still counts as active (open, claimed,
        delivered): those of its orders that have not ended and not been released."""
        ended = ["completed", "cancelled", "expired"]
        stmt = (
            select(func.count())
            .select_from(ORDERS)
            .where(
                and_(
                    ORDERS.c.escrow_poster == wallet,
                    ORDERS.c.status.not_in(ended),
                    or_(ORDERS.c.escrow_state.is_(None), ORDERS.c.escrow_state.not_in(ended)),
                )
            )
        )
        return int(self.conn.execute(stmt).scalar_one())

    def count_orders(self, status: Status) -> int:
        stmt = select(func.count()).select_from(ORDERS).where(ORDERS.c.status == status.value)
        return int(self.conn.execute(stmt).scalar_one())

    # ------------------------------------------------------------------ leases

    def acquire_lease(self, name: str, holder: str, *, ttl: float, now: float) -> Fence | None:
        """Take the lease if it is free or expired (a new, larger token), or keep it if
        `holder` already holds it; None if someone else holds it."""
        taken = self.conn.execute(
            update(LEASES)
            .where(
                and_(
                    LEASES.c.name == name,
                    or_(LEASES.c.expires_at < now, LEASES.c.holder.is_(None)),
                )
            )
            .values(holder=holder, token=LEASES.c.token + 1, expires_at=now + ttl)
        ).rowcount
        if not taken:
            kept = self.conn.execute(
                update(LEASES)
                .where(and_(LEASES.c.name == name, LEASES.c.holder == holder))
                .values(expires_at=now + ttl)
            ).rowcount
            if not kept:
                return None
        token = self.conn.execute(select(LEASES.c.token).where(LEASES.c.name == name)).scalar_one()
        return Fence(name, holder, int(token))

    def lease_holder(self, name: str) -> tuple[str | None, int]:
        row = self.conn.execute(
            select(LEASES.c.holder, LEASES.c.token).where(LEASES.c.name == name)
        ).one()
        return row.holder, int(row.token)

    def take_over_lease(
        self, name: str, *, dead: str, token: int, holder: str, ttl: float, now: float
    ) -> Fence | None:
        """Take a lease whose holder is known to be dead, before it runs out. Guarded on
        that exact holder and token, so a live takeover by anyone else wins."""
        result = self.conn.execute(
            update(LEASES)
            .where(and_(LEASES.c.name == name, LEASES.c.holder == dead, LEASES.c.token == token))
            .values(holder=holder, token=token + 1, expires_at=now + ttl)
        )
        return Fence(name, holder, token + 1) if result.rowcount == 1 else None

    def renew_lease(self, fence: Fence, *, ttl: float, now: float) -> bool:
        result = self.conn.execute(
            update(LEASES)
            .where(
                and_(
                    LEASES.c.name == fence.name,
                    LEASES.c.token == fence.token,
                    LEASES.c.holder == fence.holder,
                    LEASES.c.expires_at >= now,
                )
            )
            .values(expires_at=now + ttl)
        )
        return result.rowcount == 1

    def release_lease(self, fence: Fence) -> bool:
        """Give the lease up; False when it was no longer this fence's (taken over)."""
        result = self.conn.execute(
            update(LEASES)
            .where(and_(LEASES.c.name == fence.name, LEASES.c.token == fence.token))
            .values(holder=None, expires_at=0)
        )
        return result.rowcount == 1

    # ------------------------------------------------------------------ alerts

    def enqueue_alert(
        self, *, dedupe_key: str, level: str, title: str, fields: dict[str, Any], now: int
    ) -> bool:
        """Queue an alert once per dedupe key (a condition seen on every pass alerts once)."""
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(ALERTS).values(
                        dedupe_key=dedupe_key,
                        level=level,
                        title=title,
                        fields=json.dumps(fields, sort_keys=True, default=str),
                        created_at=now,
                        attempts=0,
                        next_attempt_at=now,
                    )
                )
        except IntegrityError:
            return False
        return True

    def due_alerts(self, now: int, *, limit: int = 50) -> list[Any]:
        return list(
            self.conn.execute(
                select(ALERTS)
                .where(and_(ALERTS.c.delivered_at.is_(None), ALERTS.c.next_attempt_at <= now))
                .order_by(ALERTS.c.alert_id)
                .limit(limit)
            )
        )

    def claim_alert(self, alert_id: int, *, seen_next_attempt: int, until: int) -> bool:
        """Take one alert for delivery: only one process posts it."""
        result = self.conn.execute(
            update(ALERTS)
            .where(
                and_(
                    ALERTS.c.alert_id == alert_id,
                    ALERTS.c.delivered_at.is_(None),
                    ALERTS.c.next_attempt_at == seen_next_attempt,
                )
            )
            .values(next_attempt_at=until)
        )
        return result.rowcount == 1

    def mark_alert(
        self, alert_id: int, *, delivered_at: int | None, next_attempt_at: int, error: str | None
    ) -> None:
        self.conn.execute(
            update(ALERTS)
            .where(ALERTS.c.alert_id == alert_id)
            .values(
                attempts=ALERTS.c.attempts + 1,
                delivered_at=delivered_at,
                next_attempt_at=next_attempt_at,
                last_error=error,
            )
        )

    def pending_alert_count(self) -> int:
        stmt = select(func.count()).select_from(ALERTS).where(ALERTS.c.delivered_at.is_(None))
        return int(self.conn.execute(stmt).scalar_one())

    def list_alerts(self, *, limit: int = 50) -> list[Any]:
        stmt = select(ALERTS).order_by(ALERTS.c.alert_id.desc()).limit(limit)
        return list(self.conn.execute(stmt))

    def orders_by_status(self, status: str, *, limit: int = 100) -> list[Order]:
        rows = self.conn.execute(
            select(ORDERS)
            .where(ORDERS.c.status == status)
            .order_by(ORDERS.c.created_at)
            .limit(limit)
        )
        return [Order.from_mapping(r._mapping) for r in rows]
