"""The chain watcher's rows: its checkpoint per chain, recent marks, unfinal sightings.

Every write is fenced by the watcher's lease (`leases.fence_holds`) and, where it moves
the checkpoint, a compare-and-set on the checkpoint it started from, so two watchers of
one chain (a paused one and its successor) can never both move it. How the watcher uses
them is `otc_bridge.settlement.watch`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.engine import Connection, RowMapping

from otc_bridge.adapters.store.leases import Fence, fence_holds
from otc_bridge.adapters.store.rows import order_from_row
from otc_bridge.adapters.store.schema import Base
from otc_bridge.adapters.store.tables import ORDERS
from otc_bridge.domain.order import Order
from otc_bridge.domain.states import Status

WATCH = Base.metadata.tables["chain_watch"]
MARKS = Base.metadata.tables["chain_watch_marks"]
SIGHTINGS = Base.metadata.tables["chain_sightings"]


@dataclass(frozen=True, slots=True)
class Mark:
    """A block by number, hash and timestamp."""

    number: int
    hash: str
    time: int


@dataclass(frozen=True, slots=True)
class Checkpoint:
    chain_key: str
    block: Mark  # every event up to and including this block has been acted on
    head_number: int  # the chain's head when last polled
    head_seen_at: int
    reorgs: int  # re-orgs that reached the checkpoint (a rewind)
    updated_at: int

    @property
    def lag(self) -> int:
        """Blocks between the checkpoint and the head last seen."""
        return max(0, self.head_number - self.block.number)


@dataclass(frozen=True, slots=True)
class Sighting:
    """An HTLC event in a block that is not final yet."""

    block_number: int
    block_hash: str
    log_index: int
    tx_hash: str
    kind: str  # locked | claimed | refunded
    lock_id: str
    hashlock: str | None


class ChainWatch:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # ------------------------------------------------------------------ reads

    def checkpoint(self, chain_key: str) -> Checkpoint | None:
        row = self._conn.execute(select(WATCH).where(WATCH.c.chain_key == chain_key)).first()
        return None if row is None else _checkpoint(row._mapping)

    def checkpoints(self) -> list[Checkpoint]:
        rows = self._conn.execute(select(WATCH).order_by(WATCH.c.chain_key))
        return [_checkpoint(row._mapping) for row in rows]

    def marks(self, chain_key: str) -> list[Mark]:
        """Recent checkpoints, newest first."""
        rows = self._conn.execute(
            select(MARKS)
            .where(MARKS.c.chain_key == chain_key)
            .order_by(MARKS.c.block_number.desc())
        )
        return [Mark(r.block_number, r.block_hash, r.block_time) for r in rows]

    def sightings(
        self, chain_key: str | None = None, *, hashlock: str | None = None
    ) -> list[Sighting]:
        query = select(SIGHTINGS).order_by(SIGHTINGS.c.block_number, SIGHTINGS.c.log_index)
        if chain_key is not None:
            query = query.where(SIGHTINGS.c.chain_key == chain_key)
        if hashlock is not None:
            query = query.where(SIGHTINGS.c.hashlock == hashlock)
        return [
            Sighting(
                r.block_number, r.block_hash, r.log_index, r.tx_hash, r.kind, r.lock_id, r.hashlock
            )
            for r in self._conn.execute(query)
        ]

    def orders_with_hashlock(self, hashlock: str, pairs: Collection[str]) -> list[Order]:
        """Orders of these pairs whose hashlock is `hashlock` (0x-less hex): who a `Locked`
        event may be for."""
        rows = self._conn.execute(
            select(ORDERS).where(and_(ORDERS.c.htlc_hash == hashlock, ORDERS.c.pair.in_(pairs)))
        )
        return [order_from_row(row._mapping) for row in rows]

    def timelocks_crossed(self, pairs: Collection[str], *, after: int, upto: int) -> list[str]:
        """`quote_locked` orders of these pairs whose T_q is in (after, upto]."""
        rows = self._conn.execute(
            select(ORDERS.c.order_id)
            .where(
                and_(
                    ORDERS.c.status == Status.QUOTE_LOCKED.value,
                    ORDERS.c.pair.in_(pairs),
                    ORDERS.c.quote_timelock > after,
                    ORDERS.c.quote_timelock <= upto,
                )
            )
            .order_by(ORDERS.c.quote_timelock)
        )
        return [str(row.order_id) for row in rows]

    # ------------------------------------------------------------------ writes

    def start(self, chain_key: str, block: Mark, *, head: int, now: int, fence: Fence) -> bool:
        """The first checkpoint of a chain (the block the watcher starts after); False if
        one exists already or the fence no longer holds."""
        if not self._holds(fence) or self.checkpoint(chain_key) is not None:
            return False
        self._conn.execute(
            insert(WATCH).values(
                chain_key=chain_key,
                block_number=block.number,
                block_hash=block.hash,
                block_time=block.time,
                head_number=head,
                head_seen_at=now,
                reorgs=0,
                updated_at=now,
            )
        )
        self._mark(chain_key, block)
        return True

    def advance(
        self,
        chain_key: str,
        *,
        expected: Mark,
        to: Mark,
        head: int,
        now: int,
        sightings: Iterable[Sighting],
        keep_marks: int,
        fence: Fence,
    ) -> bool:
        """Move the checkpoint from `expected` to `to` (which may equal it: a poll with
        nothing final to add still records the head and the sightings). False, and
        nothing written, when the checkpoint moved meanwhile or the fence is gone."""
        if not self._move(chain_key, expected, to, head=head, now=now, fence=fence):
            return False
        if to.number != expected.number:
            self._mark(chain_key, to)
            self._prune_marks(chain_key, keep_marks)
        self._replace_sightings(chain_key, sightings)
        return True

    def rewind(
        self, chain_key: str, *, expected: Mark, to: Mark, head: int, now: int, fence: Fence
    ) -> bool:
        """A re-org replaced the checkpoint's block: go back to `to` (a mark still on the
        chain, at or below the fork), forget the marks and sightings above it, count it."""
        extra = {"reorgs": WATCH.c.reorgs + 1}
        if not self._move(chain_key, expected, to, head=head, now=now, fence=fence, **extra):
            return False
        self._conn.execute(
            delete(MARKS).where(
                and_(MARKS.c.chain_key == chain_key, MARKS.c.block_number > to.number)
            )
        )
        self._mark(chain_key, to)
        self._replace_sightings(chain_key, ())
        return True

    # ------------------------------------------------------------------ internals

    def _move(
        self,
        chain_key: str,
        expected: Mark,
        to: Mark,
        *,
        head: int,
        now: int,
        fence: Fence,
        **extra: Any,
    ) -> bool:
        """The checkpoint from `expected` to `to`, only if it is still `expected` and the
        fence holds (a compare-and-set: one row or none)."""
        guard = and_(
            WATCH.c.chain_key == chain_key,
            WATCH.c.block_number == expected.number,
            WATCH.c.block_hash == expected.hash,
            fence_holds(fence),
        )
        values = {
            "block_number": to.number,
            "block_hash": to.hash,
            "block_time": to.time,
            "head_number": head,
            "head_seen_at": now,
            "updated_at": now,
            **extra,
        }
        return bool(self._conn.execute(update(WATCH).where(guard).values(**values)).rowcount == 1)

    def _holds(self, fence: Fence) -> bool:
        return self._conn.execute(select(fence_holds(fence))).scalar_one() is True

    def _mark(self, chain_key: str, block: Mark) -> None:
        self._conn.execute(
            delete(MARKS).where(
                and_(MARKS.c.chain_key == chain_key, MARKS.c.block_number == block.number)
            )
        )
        self._conn.execute(
            insert(MARKS).values(
                chain_key=chain_key,
                block_number=block.number,
                block_hash=block.hash,
                block_time=block.time,
            )
        )

    def _prune_marks(self, chain_key: str, keep: int) -> None:
        kept = (
            select(MARKS.c.block_number)
            .where(MARKS.c.chain_key == chain_key)
            .order_by(MARKS.c.block_number.desc())
            .limit(1)
            .offset(max(0, keep - 1))
        )
        oldest_kept = self._conn.execute(kept).scalar()
        if oldest_kept is not None:
            self._conn.execute(
                delete(MARKS).where(
                    and_(MARKS.c.chain_key == chain_key, MARKS.c.block_number < oldest_kept)
                )
            )

    def _replace_sightings(self, chain_key: str, sightings: Iterable[Sighting]) -> None:
        self._conn.execute(delete(SIGHTINGS).where(SIGHTINGS.c.chain_key == chain_key))
        rows = [
            {
                "chain_key": chain_key,
                "block_number": s.block_number,
                "log_index": s.log_index,
                "block_hash": s.block_hash,
                "tx_hash": s.tx_hash,
                "kind": s.kind,
                "lock_id": s.lock_id,
                "hashlock": s.hashlock,
            }
            for s in sightings
        ]
        if rows:
            self._conn.execute(insert(SIGHTINGS), rows)


def _checkpoint(row: RowMapping) -> Checkpoint:
    return Checkpoint(
        chain_key=str(row["chain_key"]),
        block=Mark(int(row["block_number"]), str(row["block_hash"]), int(row["block_time"])),
        head_number=int(row["head_number"]),
        head_seen_at=int(row["head_seen_at"]),
        reorgs=int(row["reorgs"]),
        updated_at=int(row["updated_at"]),
    )
