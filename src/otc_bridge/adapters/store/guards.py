"""Signatures and rate counters: what keeps a signed request from being replayed and a
client from writing too fast, shared by every API process through the database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Integer, String, bindparam, delete, func, literal, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.selectable import FromClause

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


def _counted_from(source: FromClause) -> Any:
    """PostgreSQL's count of one request per row of `source` (one row, or none)."""
    return (
        postgresql.insert(RATES)
        .from_select(
            ["bucket", "window_start", "count"],
            select(
                bindparam("bucket", type_=String),
                bindparam("window_start", type_=BigInteger),
                literal(1, Integer),
            ).select_from(source),
        )
        .on_conflict_do_update(
            index_elements=[RATES.c.bucket, RATES.c.window_start],
            set_={"count": RATES.c.count + 1},
        )
        .returning(RATES.c.count)
    )


# PostgreSQL, a count whose commit does not wait for the WAL to reach the disk: the setting
# is made by the statement itself, for its own transaction only (set_config's `is_local`),
# so it holds for a statement run in autocommit, which no SET LOCAL before it could reach.
_RELAXED = select(func.set_config("synchronous_commit", "off", true()).label("off"))
_HIT_NOT_DURABLE = Direct(_counted_from(_RELAXED.subquery("relaxed")), returns_rows=True)
# PostgreSQL, a signature used and its wallet's request counted in one statement: a row
# with the count when the signature is new, none when it was used before (then nothing
# is counted, as before).
_USED = (
    postgresql.insert(SIGNATURES)
    .on_conflict_do_nothing(index_elements=[SIGNATURES.c.signature_digest])
    .values({column.name: bindparam(column.name, type_=column.type) for column in SIGNATURES.c})
    .returning(SIGNATURES.c.signature_digest)
    .cte("used")
)
_COUNTED = _counted_from(_USED).cte("counted")
_USE_AND_COUNT = Direct(select(_COUNTED.c.count).add_cte(_USED, _COUNTED), returns_rows=True)


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

    def use_signature_and_count(
        self,
        digest: str,
        *,
        wallet: str,
        action: str,
        valid_until: int,
        bucket: str,
        window_start: int,
    ) -> int | None:
        """`use_signature`, then, if the signature is new, `hit_rate_counter(bucket)`:
        the count, or None for a replay (nothing counted). One statement on PostgreSQL."""
        if _dialect(self._conn) == "sqlite":
            if not self.use_signature(
                digest, wallet=wallet, action=action, valid_until=valid_until
            ):
                return None
            return self.hit_rate_counter(bucket, window_start)
        params = {
            "signature_digest": digest,
            "wallet": wallet,
            "action": action,
            "valid_until": valid_until,
            "bucket": bucket,
            "window_start": window_start,
        }
        count = _USE_AND_COUNT.run(self._conn, params).scalar()
        return None if count is None else int(count)

    def hit_rate_counter(self, bucket: str, window_start: int, *, durable: bool = True) -> int:
        """Count one request in a fixed window; returns the count including this one.
        `durable=False` (a count losing which costs nothing): on PostgreSQL the commit of
        the transaction this count is in does not wait for the disk (a server crash may
        lose it, whole, never half of it, and never a durable commit made after it: the
        WAL is flushed in order). SQLite: no difference (synchronous=NORMAL never waits)."""
        params = {"bucket": bucket, "window_start": window_start}
        dialect = _dialect(self._conn)
        statement = _HIT_NOT_DURABLE if not durable and dialect == "postgresql" else _HIT[dialect]
        return int(statement.run(self._conn, params).scalar())

    def rate_count(self, bucket: str, window_start: int) -> int:
        found = self._conn.execute(
            select(RATES.c.count).where(
                RATES.c.bucket == bucket, RATES.c.window_start == window_start
            )
        ).scalar_one_or_none()
        return int(found or 0)

    def prune_rate_counters(self, before: int) -> None:
        self._conn.execute(delete(RATES).where(RATES.c.window_start < before))
