"""The webhook outbox's repository: a delivery is a row first (written in the transaction
that wrote the order's event), then a signed POST made by whichever worker claims it.

A delivery is due when its time has come and no earlier event of the same order is still
pending for the same webhook, so a receiver gets one order's events in order (a later
event waits until the earlier one was accepted or given up).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from otc_bridge.adapters.store.direct import Direct
from otc_bridge.adapters.store.event_rows import event_from_row
from otc_bridge.adapters.store.tables import DELIVERIES, EVENTS, WEBHOOKS
from otc_bridge.domain.order import OrderEvent

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


@dataclass(frozen=True, slots=True)
class DueDelivery:
    delivery_id: int
    webhook_id: str
    wallet: str
    url: str
    secret_sealed: str
    attempts: int  # made so far
    next_attempt_at: int  # as read: the claim's compare-and-set value
    event: OrderEvent


# The fan-out as one statement built once (see orders.py on why): the order's parties
# (maker, taker, a taker who left: at most three) fill three slots, repeated to fill.
_PARTY_SLOTS = ("party_1", "party_2", "party_3")
_AT = bindparam("at", type_=BigInteger)


def fan_out_insert(*only_with: FromClause) -> Insert:
    """The fan-out statement; joined with `only_with` (a CTE of at most one row), it
    inserts nothing when that is empty (pg_transition.py)."""
    parties = select(
        WEBHOOKS.c.webhook_id,
        bindparam("order_id", type_=String),
        bindparam("seq", type_=Integer),
        literal(PENDING, String),
        literal(0, Integer),
        _AT,
        _AT,
    ).where(WEBHOOKS.c.wallet.in_([bindparam(slot, type_=String) for slot in _PARTY_SLOTS]))
    return insert(DELIVERIES).from_select(
        ["webhook_id", "order_id", "seq", "state", "attempts", "created_at", "next_attempt_at"],
        parties.select_from(WEBHOOKS, *only_with),
    )


FAN_OUT = fan_out_insert()
_FAN_OUT = Direct(FAN_OUT)


def fan_out_params(*, order_id: str, seq: int, wallets: Iterable[str], at: int) -> dict[str, Any]:
    """`FAN_OUT`'s parameters for these wallets (at least one: the order's maker)."""
    parties = sorted(set(wallets))
    if not parties or len(parties) > len(_PARTY_SLOTS):
        raise ValueError("an order has one to three parties to tell")
    slots = dict(zip(_PARTY_SLOTS, parties + parties[-1:] * len(_PARTY_SLOTS), strict=False))
    return {"order_id": order_id, "seq": seq, "at": at, **slots}


class WebhookOutbox:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def fan_out(self, *, order_id: str, seq: int, wallets: Iterable[str], at: int) -> None:
        """Queue the event for every webhook of these wallets (one statement, in the
        caller's transaction; nothing when none of them registered one)."""
        parties = set(wallets)  # read once: `wallets` may be an iterator
        if not parties:
            return
        _FAN_OUT.run(self._conn, fan_out_params(order_id=order_id, seq=seq, wallets=parties, at=at))

    def due(self, now: int, *, limit: int) -> list[DueDelivery]:
        earlier = DELIVERIES.alias("earlier")
        blocked = exists().where(
            and_(
                earlier.c.webhook_id == DELIVERIES.c.webhook_id,
                earlier.c.order_id == DELIVERIES.c.order_id,
                earlier.c.seq < DELIVERIES.c.seq,
                earlier.c.state == PENDING,
            )
        )
        joined = DELIVERIES.join(WEBHOOKS, WEBHOOKS.c.webhook_id == DELIVERIES.c.webhook_id).join(
            EVENTS,
            and_(EVENTS.c.order_id == DELIVERIES.c.order_id, EVENTS.c.seq == DELIVERIES.c.seq),
        )
        rows = self._conn.execute(
            select(
                DELIVERIES.c.delivery_id,
                DELIVERIES.c.webhook_id,
                DELIVERIES.c.attempts,
                DELIVERIES.c.next_attempt_at,
                WEBHOOKS.c.wallet,
                WEBHOOKS.c.url,
                WEBHOOKS.c.secret_sealed,
                *[EVENTS.c[name] for name in _EVENT_COLUMNS],
            )
            .select_from(joined)
            .where(
                and_(
                    DELIVERIES.c.state == PENDING,
                    DELIVERIES.c.next_attempt_at <= now,
                    ~blocked,
                )
            )
            .order_by(DELIVERIES.c.delivery_id)
            .limit(limit)
        )
        return [
            DueDelivery(
                delivery_id=int(r.delivery_id),
                webhook_id=r.webhook_id,
                wallet=r.wallet,
                url=r.url,
                secret_sealed=r.secret_sealed,
                attempts=int(r.attempts),
                next_attempt_at=int(r.next_attempt_at),
                event=event_from_row(r._mapping),
            )
            for r in rows
        ]

    def claim(self, delivery_id: int, *, seen_next_attempt: int, until: int) -> bool:
        """Take one delivery: only one worker posts it (until `until`, when a worker that
        died mid-POST is presumed gone and the delivery is due again)."""
        return self._set(delivery_id, seen_next_attempt, next_attempt_at=until)

    def delivered(self, delivery_id: int, *, claimed_until: int, at: int) -> bool:
        return self._set(
            delivery_id,
            claimed_until,
            state=DELIVERED,
            attempts=DELIVERIES.c.attempts + 1,
            finished_at=at,
            last_error=None,
        )

    def retry(
        self, delivery_id: int, *, claimed_until: int, next_attempt_at: int, error: str
    ) -> bool:
        return self._set(
            delivery_id,
            claimed_until,
            attempts=DELIVERIES.c.attempts + 1,
            next_attempt_at=next_attempt_at,
            last_error=error,
        )

    def give_up(self, delivery_id: int, *, claimed_until: int, at: int, error: str) -> bool:
        return self._set(
            delivery_id,
            claimed_until,
            state=FAILED,
            attempts=DELIVERIES.c.attempts + 1,
            finished_at=at,
            last_error=error,
        )

    def _set(self, delivery_id: int, expected_next_attempt: int, **values: object) -> bool:
        """A compare-and-set on (pending, next_attempt_at): a worker whose claim ran out
        and was taken over writes nothing."""
        guard: ColumnElement[bool] = and_(
            DELIVERIES.c.delivery_id == delivery_id,
            DELIVERIES.c.state == PENDING,
            DELIVERIES.c.next_attempt_at == expected_next_attempt,
        )
        return self._conn.execute(update(DELIVERIES).where(guard).values(**values)).rowcount == 1

    def requeue_failed(self, webhook_id: str, *, now: int) -> int:
        """Give the given-up deliveries of a webhook a fresh set of attempts (an operator
        does this once the receiver is fixed)."""
        result = self._conn.execute(
            update(DELIVERIES)
            .where(and_(DELIVERIES.c.webhook_id == webhook_id, DELIVERIES.c.state == FAILED))
            .values(state=PENDING, attempts=0, next_attempt_at=now, finished_at=None)
        )
        return int(result.rowcount or 0)

    def prune(self, *, delivered_before: int, failed_before: int) -> int:
        """Forget finished deliveries: delivered ones sooner than given-up ones, which an
        operator may still want to look at."""
        done = DELIVERIES.c.finished_at
        result = self._conn.execute(
            delete(DELIVERIES).where(
                (and_(DELIVERIES.c.state == DELIVERED, done < delivered_before))
                | (and_(DELIVERIES.c.state == FAILED, done < failed_before))
            )
        )
        return int(result.rowcount or 0)

    def pending_count(self) -> int:
        stmt = select(func.count()).select_from(DELIVERIES).where(DELIVERIES.c.state == PENDING)
        return int(self._conn.execute(stmt).scalar_one())


_EVENT_COLUMNS = (
    "order_id",
    "seq",
    "from_status",
    "to_status",
    "cause",
    "actor",
    "refs",
    "at",
    "prev_hash",
    "hash",
)
