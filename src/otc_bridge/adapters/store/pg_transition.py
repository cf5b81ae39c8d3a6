"""A status change as one PostgreSQL statement, its own transaction.

Written as a unit of work, a move costs PostgreSQL five round trips: BEGIN, the
compare-and-set, the history row with its webhook deliveries and NOTIFY (publish.py), the
read-version bump, COMMIT; each with the driver's per-statement work and the server's.
Data-modifying `WITH` parts run exactly once, all in the statement's transaction, so the
same writes are one statement here, run in autocommit: the compare-and-set's RETURNING
feeds the other parts, so when it updates no row (the order moved on since it was read,
or the writer's lease did) nothing else is written and no row comes back. As atomic and
as durable as the transaction it replaces: a statement outside a transaction block is a
transaction, committed when it ends, and its commit waits for the WAL like any other.

What this statement does not write goes through a unit of work as before
(`fits`): a move that completes an order also records its trade.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import Integer, String, bindparam, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from otc_bridge.adapters.store.direct import Direct
from otc_bridge.adapters.store.leases import FENCE_HOLDS, Fence
from otc_bridge.adapters.store.orders import Prepared, cas_params, lock_taken_as_error
from otc_bridge.adapters.store.publish import CHANNEL, EVENT_COLUMNS, record_params
from otc_bridge.adapters.store.read_versions import market_scopes
from otc_bridge.adapters.store.tables import EVENTS, ORDERS, READ_VERSIONS
from otc_bridge.adapters.store.webhook_outbox import fan_out_insert
from otc_bridge.domain.order import Order
from otc_bridge.domain.states import Status


def fits(move: Prepared) -> bool:
    """Whether this statement writes everything `move` writes (not a trade)."""
    return not (
        move.move.target is Status.COMPLETED and move.move.before.status is not Status.COMPLETED
    )


def run(conn: Connection, move: Prepared, fence: Fence | None) -> Order | None:
    """Write `move` on `conn` (in autocommit); the order after it, or None if the order
    (or the fence's lease) changed since it was read."""
    before, after = move.move.before, move.after
    scopes = market_scopes(before, after)  # at most the order's pair
    params = cas_params(move, fence)
    params.update(record_params(move.event, before, after))
    if scopes:
        (params["scope"],) = scopes
    statement = _statement(tuple(move.changes), fence is not None, bool(scopes))
    with lock_taken_as_error(move):
        moved = statement.run(conn, params)
    return after if moved.rows else None


@cache
def _statement(columns: tuple[str, ...], fenced: bool, bumps: bool) -> Direct:
    """Built once per set of changed columns (a few dozen in all), fence and bump."""
    cas = update(ORDERS).where(
        ORDERS.c.order_id == bindparam("w_order_id"),
        ORDERS.c.status == bindparam("w_status"),
        ORDERS.c.version == bindparam("w_version"),
    )
    if fenced:
        cas = cas.where(FENCE_HOLDS)
    moved = (
        cas.values({name: bindparam(name, type_=ORDERS.c[name].type) for name in columns})
        .returning(ORDERS.c.order_id)
        .cte("moved")
    )
    history = insert(EVENTS).from_select(
        EVENT_COLUMNS,
        select(
            *[bindparam(f"e_{name}", type_=EVENTS.c[name].type) for name in EVENT_COLUMNS]
        ).select_from(moved),
    )
    parts = [history.cte("history_row"), fan_out_insert(moved).cte("deliveries")]
    if bumps:  # read_versions.bump's upsert, for the one pair
        bump = (
            postgresql.insert(READ_VERSIONS)
            .from_select(
                ["scope", "version"],
                select(bindparam("scope", type_=String), literal(1, Integer)).select_from(moved),
            )
            .on_conflict_do_update(
                index_elements=[READ_VERSIONS.c.scope],
                set_={"version": READ_VERSIONS.c.version + 1},
            )
        )
        parts.append(bump.cte("bump"))
    # The NOTIFY is the statement's own row: sent (at commit) only when the order moved.
    notify = select(func.pg_notify(CHANNEL, bindparam("payload", type_=String)))
    return Direct(notify.select_from(moved).add_cte(*parts), returns_rows=True)
