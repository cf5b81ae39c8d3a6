"""Signatures and rate counters: what keeps a signed request from being replayed and a
client from writing too fast, shared by every API process through the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from otc_bridge.adapters.store.direct import Direct
from otc_bridge.adapters.store.tables import RATES, SIGNATURES

# The per-request writes, built once with bound parameters and run on the driver directly
# (see orders.py on why).


def _use(dialect: Any) -> Direct:
    # A used signature's digest is its primary key: a second use inserts nothing.
    return Direct(
        dialect.insert(SIGNATURES).on_conflict_do_nothing(
            index_elements=[SIGNATURES.c.signature_digest]
        )
    )


def _hit(dialect: Any) -> Direct:
    return Direct(
        dialect.insert(RATES)
        .values(bucket=bindparam("bucket"), window_start=bindparam("window_start"), count=1)
        .on_conflict_do_update(
            index_elements=[RATES.c.bucket, RATES.c.window_start],
            set_={"count": RATES.c.count + 1},
        )
        .returning(RATES.c.count),
        returns_rows=True,
    )


_USE = {"postgresql": _use(postgresql), "sqlite": _use(sqlite)}
_HIT = {"postgresql": _hit(postgresql), "sqlite": _hit(sqlite)}


def _dialect(conn: Connection) -> str:
    return "postgresql" if conn.dialect.name == "postgresql" else "sqlite"


class RequestGuards:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def use_signature(self, digest: str, *, wallet: str, action: str, valid_until: int) -> bool:
        """Record a signature as used; False if it was used before (a replay)."""
        inserted = _USE[_dialect(self._conn)].run(
            self._conn,
            {
                "signature_digest": digest,
                "wallet": wallet,
                "action": action,
                "valid_until": valid_until,
            },
        )
        return inserted.rowcount == 1

    def prune_signatures(self, now: int) -> int:
        """Forget signatures whose timestamp can no longer pass the window check."""
        result = self._conn.execute(delete(SIGNATURES).where(SIGNATURES.c.valid_until < now))
        return int(result.rowcount or 0)

    def hit_rate_counter(self, bucket: str, window_start: int) -> int:
        """Count one request in a fixed window; returns the count including this one."""
        params = {"bucket": bucket, "window_start": window_start}
        return int(_HIT[_dialect(self._conn)].run(self._conn, params).scalar())

    def rate_count(self, bucket: str, window_start: int) -> int:
        found = self._conn.execute(
            select(RATES.c.count).where(
                RATES.c.bucket == bucket, RATES.c.window_start == window_start
            )
        ).scalar_one_or_none()
        return int(found or 0)

    def prune_rate_counters(self, before: int) -> None:
        self._conn.execute(delete(RATES).where(RATES.c.window_start < before))
