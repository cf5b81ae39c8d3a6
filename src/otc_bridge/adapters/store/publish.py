"""What every written history row tells the push channels, in the transaction that
writes it: the webhook outbox gets a delivery per webhook of the order's parties, and on
PostgreSQL a NOTIFY (sent by the server only if the transaction commits) wakes the event
streams of every API process at once instead of at their next poll. SQLite has no such
signal: its streams poll."""

from __future__ import annotations

from sqlalchemy import String, bindparam, func, select
from sqlalchemy.engine import Connection

from otc_bridge.adapters.store.direct import Direct
from otc_bridge.adapters.store.webhook_outbox import WebhookOutbox
from otc_bridge.domain.order import Order

CHANNEL = "otc_order_events"  # payload: "<order_id> <pair>"
_NOTIFY = Direct(select(func.pg_notify(CHANNEL, bindparam("payload", type_=String))))


def publish(conn: Connection, before: Order | None, after: Order, *, seq: int, at: int) -> None:
    # The parties before and after: a taker who leaves (a match undone) is told so.
    parties = {after.maker_wallet, after.taker_wallet, before.taker_wallet if before else None}
    wallets = [wallet for wallet in parties if wallet]
    WebhookOutbox(conn).fan_out(order_id=after.order_id, seq=seq, wallets=wallets, at=at)
    if conn.dialect.name == "postgresql":
        _NOTIFY.run(conn, {"payload": f"{after.order_id} {after.pair}"})
