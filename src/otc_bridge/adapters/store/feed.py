"""What the push channels poll: how far each watched order's history has gone.

An order's `version` is the `seq` of its newest history row, written in the same
transaction, so one primary-key read of many orders tells which streams have new events
(one query per poll for every stream of a process, however many there are).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.engine import Connection

from otc_bridge.adapters.store.tables import ORDERS

CHUNK = 500  # ids per query: well inside every database's parameter limit


class FeedQueries:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def versions(self, order_ids: Iterable[str]) -> dict[str, int]:
        """The current version (the newest event's seq) of each order that exists."""
        ids = sorted(set(order_ids))
        found: dict[str, int] = {}
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            rows = self._conn.execute(
                select(ORDERS.c.order_id, ORDERS.c.version).where(ORDERS.c.order_id.in_(chunk))
            )
            found.update({row.order_id: int(row.version) for row in rows})
        return found
