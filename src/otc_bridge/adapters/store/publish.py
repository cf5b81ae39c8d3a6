"""A history row and what it tells the push channels, written in one transaction: the
webhook outbox gets a delivery per webhook of the order's parties, and on PostgreSQL a
NOTIFY (sent by the server only if the transaction commits) wakes the event streams of
every API process at once instead of at their next poll. SQLite has no such signal: its
streams poll.

On PostgreSQL the row, the deliveries and the NOTIFY are one statement (data-modifying
`WITH` parts run exactly once, in the statement's transaction): a round trip and the
driver's per-statement work instead of three, for each of a settlement's nine rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, bindparam, func, insert, select
from sqlalchemy.engine import Connection

from otc_bridge.adapters.store.direct import Direct
from otc_bridge.adapters.store.tables import EVENTS
from otc_bridge.adapters.store.webhook_outbox import FAN_OUT, WebhookOutbox, fan_out_params
from otc_bridge.domain.order import Order, OrderEvent

CHANNEL = "otc_order_events"  # payload: "<order_id> <pair>"
EVENT_COLUMNS = [column.name for column in EVENTS.c if column.name != "event_id"]
_INSERT_EVENT = Direct(insert(EVENTS))
_ALL_IN_ONE = Direct(
    select(func.pg_notify(CHANNEL, bindparam("payload", type_=String))).add_cte(
        insert(EVENTS)
        .values({name: bindparam(f"e_{name}", type_=EVENTS.c[name].type) for name in EVENT_COLUMNS})
        .cte("history_row"),
        FAN_OUT.cte("deliveries"),
    )
)


def record(conn: Connection, event: OrderEvent, before: Order | None, after: Order) -> None:
    """Append `event` (the move `before` → `after`) to the order's history and tell
    the push channels, in the caller's transaction."""
    if conn.dialect.name != "postgresql":
        _INSERT_EVENT.run(conn, _row(event))
        WebhookOutbox(conn).fan_out(
            order_id=after.order_id, seq=event.seq, wallets=_parties(before, after), at=event.at
        )
        return
    _ALL_IN_ONE.run(conn, record_params(event, before, after))


def record_params(event: OrderEvent, before: Order | None, after: Order) -> dict[str, Any]:
    """The parameters of PostgreSQL's history row (`e_<column>`), its fan-out and its
    NOTIFY (`payload`), for this module's statement and pg_transition.py's."""
    params: dict[str, Any] = {f"e_{name}": value for name, value in _row(event).items()}
    params.update(
        fan_out_params(
            order_id=after.order_id, seq=event.seq, wallets=_parties(before, after), at=event.at
        ),
        payload=f"{after.order_id} {after.pair}",
    )
    return params


def _row(event: OrderEvent) -> dict[str, Any]:
    return {
        "order_id": event.order_id,
        "seq": event.seq,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "cause": event.cause,
        "actor": event.actor,
        "refs": OrderEvent.encode_refs(event.refs),
        "at": event.at,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def _parties(before: Order | None, after: Order) -> list[str]:
    # The parties before and after: a taker who leaves (a match undone) is told so.
    parties = {after.maker_wallet, after.taker_wallet, before.taker_wallet if before else None}
    return [wallet for wallet in parties if wallet]
