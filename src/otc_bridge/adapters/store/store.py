"""The bridge's database as units of work, one repository per aggregate.

`Store.write()` opens a unit of work that may change state (on SQLite it takes the write
lock up front); `Store.read()` one that only reads. No node or chain call ever happens
inside a unit of work: the pattern everywhere is read, call out, then a short guarded
write. A unit of work holds:

* `orders`: orders with their hash-chained history and trades (`adapters/store/orders.py`);
* `guards`: used signatures and rate counters;
* `leases`: the fenced leases singleton workers hold;
* `alerts`: the alert outbox;
* `market`: the read models (book, open orders, trades, statistics);
* `webhooks` and `deliveries`: trader webhooks and their delivery outbox;
* `feed`: what the event streams poll;
* `chain_watch`: the chain watchers' checkpoints, marks and unfinal sightings.

A unit of work that changed what the market reads show bumps those pairs' read versions
before it commits (`read_versions.py`), which is what lets the API cache those answers.

Every status change goes through `orders.transition(move)` (or `Store.transition`, the
same writes as their own transaction: one statement on PostgreSQL, `pg_transition.py`);
each history row it writes is published to the push channels in the same transaction
(`publish.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from functools import cached_property

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from otc_bridge.adapters.store import pg_transition, read_versions
from otc_bridge.adapters.store.alert_outbox import AlertOutbox
from otc_bridge.adapters.store.chain_watch import ChainWatch
from otc_bridge.adapters.store.connections import KeptConnections
from otc_bridge.adapters.store.feed import FeedQueries
from otc_bridge.adapters.store.guards import RequestGuards
from otc_bridge.adapters.store.leases import Fence, Leases
from otc_bridge.adapters.store.orders import Committed, Orders, Prepared
from otc_bridge.adapters.store.queries import MarketQueries
from otc_bridge.adapters.store.webhook_outbox import WebhookOutbox
from otc_bridge.adapters.store.webhooks import Webhooks
from otc_bridge.adapters.store.write_gate import write_gate_for
from otc_bridge.domain.order import Order

__all__ = ["Fence", "Store", "TransitionHook", "UnitOfWork"]

TransitionHook = Callable[[Order, str, str, int], None]


class UnitOfWork:
    """The repositories of one transaction, each made when first used (most units of
    work touch one or two of them)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.committed: list[Committed] = []  # transitions written, reported after commit
        self.touched: set[str] = set()  # pairs whose read version this unit of work bumps

    @cached_property
    def orders(self) -> Orders:
        return Orders(self.conn, self.committed, self.touched)

    @cached_property
    def guards(self) -> RequestGuards:
        return RequestGuards(self.conn)

    @cached_property
    def leases(self) -> Leases:
        return Leases(self.conn)

    @cached_property
    def alerts(self) -> AlertOutbox:
        return AlertOutbox(self.conn)

    @cached_property
    def market(self) -> MarketQueries:
        return MarketQueries(self.conn)

    @cached_property
    def webhooks(self) -> Webhooks:
        return Webhooks(self.conn)

    @cached_property
    def deliveries(self) -> WebhookOutbox:
        return WebhookOutbox(self.conn)

    @cached_property
    def feed(self) -> FeedQueries:
        return FeedQueries(self.conn)

    @cached_property
    def chain_watch(self) -> ChainWatch:
        return ChainWatch(self.conn)


class Store:
    def __init__(
        self,
        engine: Engine,
        *,
        on_transition: TransitionHook | None = None,
        on_write_wait: Callable[[float], None] | None = None,
    ) -> None:
        self.engine = engine
        self.on_transition = on_transition  # told of each committed transition (metrics)
        self._observers: list[TransitionHook] = []
        # SQLite: writers queue instead of back off; `on_write_wait` hears each one's wait
        self._gate = write_gate_for(engine, on_wait=on_write_wait)
        self._versions = read_versions.VersionReader(engine)
        keep = getattr(engine.pool, "size", lambda: 1)()  # the pool's, not its overflow
        self._connections = KeptConnections(engine, keep=keep)
        self._postgres = engine.dialect.name == "postgresql"

    def observe(self, hook: TransitionHook) -> None:
        """Also tell `hook` of each transition this process commits, after the commit (the
        event streams of this process wake at once, without waiting for their poll)."""
        self._observers.append(hook)

    @contextmanager
    def write(self) -> Iterator[UnitOfWork]:
        """One unit of work that writes, committed when the block ends."""
        gate = self._gate() if self._gate is not None else nullcontext()
        # The connection is taken before the gate and given back after it: the gate is
        # held for the transaction only (SQLite's writers queue behind it).
        with self._connections.connection(write=True) as conn, gate:
            uow = UnitOfWork(conn)
            with conn.begin():
                yield uow
                if uow.touched:  # last, so a PostgreSQL row lock lasts only the commit
                    read_versions.bump(conn, uow.touched)
        self._tell(uow.committed)

    def transition(self, move: Prepared, *, fence: Fence | None = None) -> Order | None:
        """Write one move as its own transaction: `orders.transition` in a unit of work
        or, on PostgreSQL, the same writes as one statement (pg_transition.py). The order
        after the move, or None if it (or `fence`'s lease) changed since it was read."""
        if not self._postgres or not pg_transition.fits(move):
            with self.write() as uow:
                return uow.orders.transition(move, fence=fence)
        with self._connections.connection(write=True, autocommit=True) as conn:
            after = pg_transition.run(conn, move, fence)
        if after is not None:
            before = move.move.before
            self._tell([(before, move.move.target.value, move.move.history_cause, move.event.at)])
        return after

    @contextmanager
    def guards(self) -> Iterator[RequestGuards]:
        """The request guards (used signatures, rate counts) for a request's checks, each
        of which is one statement (`RequestGuards.use_signature_and_count` is one on
        PostgreSQL): there each runs in autocommit, its own transaction, without BEGIN
        and COMMIT round trips; on SQLite they share one write unit of work."""
        if not self._postgres:
            with self.write() as uow:
                yield uow.guards
            return
        with self._connections.connection(write=True, autocommit=True) as conn:
            yield RequestGuards(conn)

    def _tell(self, committed: list[Committed]) -> None:
        hooks = [self.on_transition] if self.on_transition is not None else []
        for hook in [*hooks, *self._observers]:
            for order, target, cause, at in committed:
                hook(order, target, cause, at)

    @contextmanager
    def read(self) -> Iterator[UnitOfWork]:
        """A unit of work that only reads. On PostgreSQL its statements run in autocommit:
        at READ COMMITTED each has its own snapshot either way, and BEGIN and COMMIT
        would be two round trips that change nothing a reader sees."""
        with (
            self._connections.connection(write=False, autocommit=self._postgres) as conn,
            conn.begin(),
        ):
            yield UnitOfWork(conn)

    def read_version(self, pair: str | None) -> int:
        """The market's read version of a pair (None: of every pair), in one primary-key
        read outside any unit of work, on a connection kept for it (`read_versions.py`)."""
        return self._versions(pair)

    def ping(self) -> bool:
        """Whether the database answers a trivial query (the health check)."""
        try:
            with self.engine.connect().execution_options(write=False) as conn, conn.begin():
                conn.execute(text("SELECT 1"))
        except Exception:  # reported, not raised: this is the health check's question
            return False
        return True

    def dispose(self) -> None:
        self._versions.close()
        self._connections.close()
        self.engine.dispose()
        if self._gate is not None:
            self._gate.close()
