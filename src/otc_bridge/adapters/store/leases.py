"""Leases with fencing tokens: the rows a singleton worker (the reconciler, a chain
watcher) holds its leadership by. How a worker takes, renews and gives one up is
`otc_bridge.settlement.lease`; this is the SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, bindparam, exists, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from otc_bridge.adapters.store.tables import LEASES


@dataclass(frozen=True, slots=True)
class Fence:
    """A lease held with a fencing token. Writes made under it succeed only while the
    token is current, so a holder that was paused past its lease cannot act on it."""

    name: str
    holder: str
    token: int


def fence_holds(fence: Fence) -> Any:
    """A WHERE clause true only while `fence`'s token is the lease's current one."""
    return exists().where(and_(LEASES.c.name == fence.name, LEASES.c.token == fence.token))


# `fence_holds` with bound parameters, for statements built once (`fence_params` fills them).
FENCE_HOLDS = exists().where(
    and_(LEASES.c.name == bindparam("f_lease"), LEASES.c.token == bindparam("f_token"))
)


def fence_params(fence: Fence) -> dict[str, Any]:
    return {"f_lease": fence.name, "f_token": fence.token}


class Leases:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def acquire(self, name: str, holder: str, *, ttl: float, now: float) -> Fence | None:
        """Take the lease if it is free or expired (a new, larger token), or keep it if
        `holder` already holds it; None if someone else holds it. A lease never taken
        before is created on its first acquire."""
        if not self._take_or_keep(name, holder, ttl=ttl, now=now):
            if not self._create(name):
                return None
            if not self._take_or_keep(name, holder, ttl=ttl, now=now):
                return None
        token = self._conn.execute(select(LEASES.c.token).where(LEASES.c.name == name)).scalar_one()
        return Fence(name, holder, int(token))

    def _take_or_keep(self, name: str, holder: str, *, ttl: float, now: float) -> bool:
        taken = self._conn.execute(
            update(LEASES)
            .where(
                and_(
                    LEASES.c.name == name,
                    or_(LEASES.c.expires_at < now, LEASES.c.holder.is_(None)),
                )
            )
            .values(holder=holder, token=LEASES.c.token + 1, expires_at=now + ttl)
        ).rowcount
        if taken:
            return True
        kept = self._conn.execute(
            update(LEASES)
            .where(and_(LEASES.c.name == name, LEASES.c.holder == holder))
            .values(expires_at=now + ttl)
        ).rowcount
        return bool(kept)

    def _create(self, name: str) -> bool:
        """Add the row of a lease no worker has taken yet (so a new kind of singleton
        worker needs no migration); False when the row was already there."""
        values = {"name": name, "holder": None, "token": 0, "expires_at": 0}
        stmt: postgresql.Insert | sqlite.Insert
        if self._conn.dialect.name == "postgresql":
            stmt = postgresql.insert(LEASES).values(**values)
        else:
            stmt = sqlite.insert(LEASES).values(**values)
        # RETURNING, not rowcount: psycopg reports -1 for an INSERT … ON CONFLICT here, which
        # made every new lease's first acquire fail on PostgreSQL.
        inserted = stmt.on_conflict_do_nothing().returning(LEASES.c.name)
        return self._conn.execute(inserted).first() is not None

    def held(self, name: str, *, now: float) -> tuple[str, float] | None:
        """(holder, expires_at) while someone holds the lease; None when it is free."""
        row = self._conn.execute(
            select(LEASES.c.holder, LEASES.c.expires_at).where(LEASES.c.name == name)
        ).one_or_none()
        if row is None or row.holder is None or row.expires_at < now:
            return None
        return str(row.holder), float(row.expires_at)

    def holder(self, name: str) -> tuple[str | None, int]:
        row = self._conn.execute(
            select(LEASES.c.holder, LEASES.c.token).where(LEASES.c.name == name)
        ).one()
        return row.holder, int(row.token)

    def take_over(
        self, name: str, *, dead: str, token: int, holder: str, ttl: float, now: float
    ) -> Fence | None:
        """Take a lease whose holder is known to be dead, before it runs out. Guarded on
        that exact holder and token, so a live takeover by anyone else wins."""
        result = self._conn.execute(
            update(LEASES)
            .where(and_(LEASES.c.name == name, LEASES.c.holder == dead, LEASES.c.token == token))
            .values(holder=holder, token=token + 1, expires_at=now + ttl)
        )
        return Fence(name, holder, token + 1) if result.rowcount == 1 else None

    def renew(self, fence: Fence, *, ttl: float, now: float) -> bool:
        result = self._conn.execute(
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

    def release(self, fence: Fence) -> bool:
        """Give the lease up; False when it was no longer this fence's (taken over)."""
        result = self._conn.execute(
            update(LEASES)
            .where(and_(LEASES.c.name == fence.name, LEASES.c.token == fence.token))
            .values(holder=None, expires_at=0)
        )
        return result.rowcount == 1
