"""Signatures and rate counters: what keeps a signed request from being replayed and a
client from writing too fast, shared by every API process through the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from otc_bridge.adapters.store.tables import RATES, SIGNATURES

# The per-request writes, built once with bound parameters (see orders.py on why).
_USE_SIGNATURE = insert(SIGNATURES)


def _hit(dialect: Any) -> Any:
    return (
        dialect.insert(RATES)
        .values(bucket=bindparam("bucket"), window_start=bindparam("window_start"), count=1)
        .on_conflict_do_update(
            index_elements=[RATES.c.bucket, RATES.c.window_start],
            set_={"count": RATES.c.count + 1},
        )
        .returning(RATES.c.count)
    )


_HIT = {"postgresql": _hit(postgresql), "sqlite": _hit(sqlite)}


class RequestGuards:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def use_signature(self, digest: str, *, wallet: str, action: str, valid_until: int) -> bool:
        """Record a signature as used; False if it was used before (a replay)."""
        try:
            with self._conn.begin_nested():
                self._conn.execute(
                    _USE_SIGNATURE,
                    {
                        "signature_digest": digest,
                        "wallet": wallet,
                        "action": action,
                        "valid_until": valid_until,
                    },
                )
        except IntegrityError:
            return False
        return True

    def prune_signatures(self, now: int) -> int:
        """Forget signatures whose timestamp can no longer pass the window check."""
        result = self._conn.execute(delete(SIGNATURES).where(SIGNATURES.c.valid_until < now))
        return int(result.rowcount or 0)

    def hit_rate_counter(self, bucket: str, window_start: int) -> int:
        """Count one request in a fixed window; returns the count including this one."""
        upsert = _HIT["postgresql" if self._conn.dialect.name == "postgresql" else "sqlite"]
        params = {"bucket": bucket, "window_start": window_start}
        return int(self._conn.execute(upsert, params).scalar_one())

    def rate_count(self, bucket: str, window_start: int) -> int:
        found = self._conn.execute(
            select(RATES.c.count).where(
                RATES.c.bucket == bucket, RATES.c.window_start == window_start
            )
        ).scalar_one_or_none()
        return int(found or 0)

    def prune_rate_counters(self, before: int) -> None:
        self._conn.execute(delete(RATES).where(RATES.c.window_start < before))
