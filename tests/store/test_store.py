"""The store's guarantees: guarded transitions, a tamper-evident append-only history, the
order's groups mapped to its columns and back, the request guards, the health ping."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from otc_bridge.adapters.store.engine import make_engine, sqlite_url
from otc_bridge.adapters.store.migrate import alembic_config, upgrade
from otc_bridge.adapters.store.orders import prepare
from otc_bridge.adapters.store.rows import order_columns, order_from_row
from otc_bridge.adapters.store.store import Store
from otc_bridge.domain import transitions
from otc_bridge.domain.deadlines import DeadlinePolicy
from otc_bridge.domain.errors import LockAlreadyUsed
from otc_bridge.domain.hashing import GENESIS, event_hash
from otc_bridge.domain.move import Move, Step, step, transition
from otc_bridge.domain.order import (
    Escrow,
    EscrowJob,
    Hashlock,
    Match,
    Order,
    Payout,
    QuoteLock,
    Refund,
    Reveal,
    SecretOrigin,
    trade_id,
)
from otc_bridge.domain.settling import (
    Evidence,
    complete,
    escrow_progressed,
    payout_queued,
    payout_requested,
    reveal,
)
from otc_bridge.domain.states import Cause, IllegalTransition, Status
from tests.support.databases import fresh_database_url


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    engine = make_engine(fresh_database_url(tmp_path))
    upgrade(engine)
    yield Store(engine)
    engine.dispose()


WriteMove = Callable[[Store, Move, str, int], "Order | None"]


def in_a_unit_of_work(store: Store, move: Move, actor: str, at: int) -> Order | None:
    with store.write() as uow:
        return uow.orders.transition(move, actor=actor, at=at)


def as_its_own_transaction(store: Store, move: Move, actor: str, at: int) -> Order | None:
    """How the settlement writes a move (one statement on PostgreSQL)."""
    return store.transition(prepare(move, actor=actor, at=at))


@pytest.fixture(params=[in_a_unit_of_work, as_its_own_transaction], ids=["uow", "own"])
def write_move(request: pytest.FixtureRequest) -> WriteMove:
    """The two ways a move is written: each must keep every guarantee tested here."""
    move: WriteMove = request.param
    return move


def new_order(order_id: str = "otc_0001", status: Status = Status.OPEN) -> Order:
    return Order(
        order_id=order_id,
        side="buy",
        pair="RTC/USDC",
        maker_wallet="RTC" + "a" * 40,
        maker_eth_address=None,
        amount_micro_rtc=2_010_000,
        price_per_rtc_nano_quote=100_000_000,
        total_quote_nano=201_000_000,
        total_quote_base=201_000,
        status=status,
        version=0,
        history_hash="",
        created_at=1_000,
        ttl_seconds=3_600,
        expires_at=4_600,
    )


def test_migrations_are_idempotent_and_reach_head(tmp_path: Path) -> None:
    engine = make_engine(fresh_database_url(tmp_path))
    upgrade(engine)
    upgrade(engine)
    with engine.connect() as conn:
        # The newest revision, whatever its number (revisions are renumbered at merges).
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
        if engine.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


def test_migrations_build_exactly_the_models_schema(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from otc_bridge.adapters.store.schema import Base

    engine = make_engine(fresh_database_url(tmp_path))
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def match(order: Order, at: int) -> Move:
    lock = Hashlock("ab" * 32, SecretOrigin.CLIENT)
    return transitions.match(
        order, "RTC" + "b" * 40, None, hashlock=lock, at=at, lock_window=3600, grace=120
    )


def test_transition_is_a_compare_and_set(store: Store, write_move: WriteMove) -> None:
    with store.write() as uow:
        created = uow.orders.insert(new_order(), actor="maker", at=1_000, refs={})
    inserted = store.read_version("RTC/USDC")
    matched = write_move(store, match(created, 1_001), "taker", 1_001)
    assert matched is not None
    assert matched.version == 2
    assert matched.status is Status.MATCHING
    assert store.read_version("RTC/USDC") == inserted + 1  # the order left the book
    stale = transitions.cancel(created, at=1_002, grace=120)
    # a second writer holding the stale snapshot loses, and writes nothing
    assert write_move(store, stale, "m", 1_002) is None
    with store.read() as uow:
        stored = uow.orders.get("otc_0001")
        events = uow.orders.events("otc_0001")
    assert stored == matched
    assert [e.to_status for e in events] == ["open", "matching"]
    assert store.read_version("RTC/USDC") == inserted + 1


def test_transitions_outside_the_table_are_refused(store: Store) -> None:
    with store.write() as uow:
        created = uow.orders.insert(new_order(), actor="maker", at=1_000, refs={})
    forged = Move(created, replace(created, status=Status.COMPLETED), Cause.PAYOUT_CONFIRMED)
    with store.write() as uow, pytest.raises(IllegalTransition):
        uow.orders.transition(forged, actor="x", at=1_001)
    with pytest.raises(IllegalTransition):  # the domain refuses to build one, too
        transition(created, replace(created, status=Status.COMPLETED), Cause.PAYOUT_CONFIRMED)
    with store.read() as uow:
        assert uow.orders.get(created.order_id) == created


def test_history_is_hash_chained_and_carries_refs(store: Store, write_move: WriteMove) -> None:
    with store.write() as uow:
        order = uow.orders.insert(new_order(), actor="maker", at=1_000, refs={"ttl": 3600})
    matched = write_move(store, match(order, 1_005), "taker", 1_005)
    assert matched is not None
    progress = step(matched, matched, Step.ESCROW_CLAIMED, {"job_id": "j"})
    order = write_move(store, progress, "taker", 1_006)  # type: ignore[assignment]
    with store.read() as uow:
        events = uow.orders.events(order.order_id)
    assert [e.seq for e in events] == [1, 2, 3]
    assert [(e.from_status, e.to_status, e.cause) for e in events] == [
        (None, "open", "create"),
        ("open", "matching", "match"),
        ("matching", "matching", "step"),
    ]
    assert events[0].refs == {"ttl": 3600}
    assert events[2].refs == {"step": "escrow_claimed", "job_id": "j"}
    previous = GENESIS
    for event in events:
        assert event.prev_hash == previous
        assert event.hash == event_hash(previous, event.hashed_body())
        previous = event.hash
    assert order.history_hash == previous


def test_the_domain_moves_carry_an_order_to_completed_and_its_trade_once(
    store: Store, write_move: WriteMove
) -> None:
    with store.write() as uow:
        order = uow.orders.insert(new_order(), actor="maker", at=1_000, refs={})
    secret = "cd" * 32
    moves: list[Callable[[Order], Move]] = [
        lambda o: match(o, 1_001),
        lambda o: transitions.escrow_locked(o, "job_1", 9_999, at=1_002, lock_window=3600),
        lambda o: reveal(o, "sealed", Evidence("0xquote", {"verified": False}), at=1_003, grace=9),
        lambda o: escrow_progressed(o, Step.ESCROW_CLAIMED, "claimed", {}),
        lambda o: escrow_progressed(o, Step.ESCROW_DELIVERED, "delivered", {}),
        lambda o: escrow_progressed(o, Step.ESCROW_ACCEPTED, "completed", {}, released_i64=7),
        payout_requested,
        lambda o: payout_queued(
            o, tx_hash="t", phase="pending", pending_id=5, confirms_at=None, at=1_004, next_at=9
        ),
        lambda o: complete(o, secret, Cause.PAYOUT_CONFIRMED, at=1_005, refs={}),
    ]
    for build in moves:
        moved = write_move(store, build(order), "a", 1_000)
        assert moved is not None
        order = moved
    assert order.status is Status.COMPLETED
    assert order.hashlock is not None
    assert order.hashlock.preimage == secret
    with store.read() as uow:
        trades = uow.market.trades(pair=None, limit=10, offset=0)
        assert uow.orders.get(order.order_id) == order
    assert [(t.trade_id, t.quote_tx, t.rtc_tx) for t in trades] == [
        (trade_id(order.order_id), "0xquote", order.payout.tx_hash if order.payout else None)
    ]


QUOTE_LOCK = QuoteLock(
    lock_id="0x" + "11" * 32,
    tx_hash="0x" + "22" * 32,
    block_number=12,
    block_hash="0x" + "33" * 32,
    amount=10**30,  # more than a BIGINT holds (18-decimal tokens)
    timelock=40_000,
    sender="0x" + "b" * 40,
    receiver="0x" + "a" * 40,
    verified_at=2_000,
)


def test_one_quote_lock_backs_one_order_only(store: Store, write_move: WriteMove) -> None:
    """The unique index on the lock id: a second order verified with the same lock is
    refused as LockAlreadyUsed, and nothing of it is written."""
    matched_orders = []
    for order_id in ("otc_0001", "otc_0002"):
        with store.write() as uow:
            created = uow.orders.insert(new_order(order_id), actor="maker", at=1_000, refs={})
        with store.write() as uow:
            intent = uow.orders.transition(match(created, 1_001), actor="taker", at=1_001)
        assert intent is not None
        locked = transitions.escrow_locked(
            intent, "job_" + order_id, 9_999_999, at=1_002, lock_window=3600
        )
        with store.write() as uow:
            moved = uow.orders.transition(locked, actor="taker", at=1_002)
        assert moved is not None
        matched_orders.append(moved)
    second = matched_orders[1]
    policy = DeadlinePolicy()
    verify = [transitions.lock_verified(o, QUOTE_LOCK, policy, at=2_000) for o in matched_orders]
    assert write_move(store, verify[0], "b", 2_000) is not None
    with pytest.raises(LockAlreadyUsed):
        write_move(store, verify[1], "b", 2_001)
    with store.read() as uow:
        assert uow.orders.by_quote_lock(QUOTE_LOCK.lock_id) == "otc_0001"
        again = uow.orders.get("otc_0002")
        stored = uow.orders.get("otc_0001")
    assert again == second  # untouched: still matched, same version
    assert stored is not None
    assert stored.quote_lock == QUOTE_LOCK


def test_every_group_survives_the_flat_columns() -> None:
    bare = replace(new_order(), version=3, history_hash="h" * 64)
    full = replace(
        bare,
        status=Status.SETTLEMENT_RECOVERY,
        escrow=Escrow(
            "RTC" + "a" * 40,
            "OTC Bridge Escrow: otc_0001",
            1_000,
            EscrowJob("job_1", "completed", 9_999, 2_010_000, 2_110_500, 2_010_000),
        ),
        hashlock=Hashlock("ab" * 32, SecretOrigin.SERVER, sealed="sealed", preimage="cd" * 32),
        match=Match("RTC" + "b" * 40, "0x" + "11" * 20, matched_at=1_001, deadline=4_601),
        reveal=Reveal(1_002, "0xquote"),
        payout=Payout(2, "otc_payout:otc_0001:2", "f" * 32, 7, 1_003, 1_100),
        refund=Refund(Status.CANCELLED, 1_004),
        quote_lock=QUOTE_LOCK,
        quote_timelock=QUOTE_LOCK.timelock,
        claim_deadline=4_601,
        completed_at=None,
        closed_at=1_005,
        recovery_reason="why",
    )
    intent = replace(bare, status=Status.OPENING, escrow=Escrow("RTC" + "a" * 40, "t", 1_000))
    for order in (bare, full, intent):
        assert order_from_row(order_columns(order)) == order


def test_history_rows_cannot_be_edited_or_deleted(store: Store) -> None:
    with store.write() as uow:
        uow.orders.insert(new_order(), actor="maker", at=1_000, refs={})
    for statement in ("UPDATE order_events SET actor = 'forged'", "DELETE FROM order_events"):
        with pytest.raises(DatabaseError, match="append-only"), store.engine.begin() as conn:
            conn.execute(text(statement))


def test_a_signature_is_accepted_once(store: Store) -> None:
    with store.write() as uow:
        guards = uow.guards
        assert guards.use_signature("d" * 64, wallet="w", action="create_order", valid_until=10)
        assert not guards.use_signature("d" * 64, wallet="w", action="create_order", valid_until=10)
    with store.write() as uow:
        assert uow.guards.prune_signatures(now=11) == 1
        assert uow.guards.use_signature("d" * 64, wallet="w", action="create_order", valid_until=20)


def test_rate_counters_count_per_bucket_and_window(store: Store) -> None:
    with store.write() as uow:
        counts = [uow.guards.hit_rate_counter("ip:1.2.3.4", 60) for _ in range(3)]
        other = uow.guards.hit_rate_counter("ip:1.2.3.4", 120)
    assert counts == [1, 2, 3]
    assert other == 1


def test_ping_answers_for_a_live_database_and_not_for_a_dead_one(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "ping.sqlite3"))
    upgrade(engine)
    assert Store(engine).ping()
    engine.dispose()
    missing = tmp_path / "gone" / "db.sqlite3"
    dead = Store(make_engine(sqlite_url(missing)))
    missing.parent.rmdir()  # the folder (and so the file) cannot be opened any more
    assert not dead.ping()


def commit_setting(store: Store, *, durable: bool) -> str | None:
    """synchronous_commit in the transaction that counted a request (None on SQLite,
    which has no such thing)."""
    with store.write() as uow:
        uow.guards.hit_rate_counter("ip:1.2.3.4", 60, durable=durable)
        if uow.conn.dialect.name != "postgresql":
            return None
        return str(uow.conn.exec_driver_sql("SHOW synchronous_commit").scalar_one())


def test_only_a_count_marked_not_durable_skips_waiting_for_the_disk(store: Store) -> None:
    """A rate limiter's count may be acknowledged before PostgreSQL's WAL reaches the
    disk; every other write (and the next one on the same pooled connection) waits."""
    before = commit_setting(store, durable=True)
    relaxed = commit_setting(store, durable=False)
    after = commit_setting(store, durable=True)
    if store.engine.dialect.name == "postgresql":
        assert (before, relaxed, after) == ("on", "off", "on")
    else:
        assert (before, relaxed, after) == (None, None, None)


def test_a_signature_used_and_its_wallet_counted_in_one_go(store: Store) -> None:
    """What a signed request's check writes (one statement on PostgreSQL, in autocommit):
    the wallet's count when the signature is new; None, and nothing counted, for a replay."""

    def use(digest: str) -> int | None:
        with store.guards() as guards:
            return guards.use_signature_and_count(
                digest,
                wallet="w",
                action="match",
                valid_until=10,
                bucket="wallet:w",
                window_start=60,
            )

    assert [use("a" * 64), use("b" * 64), use("a" * 64), use("c" * 64)] == [1, 2, None, 3]
    with store.read() as uow:
        assert uow.guards.rate_count("wallet:w", 60) == 3


def test_active_escrows_count_a_wallets_jobs_the_node_still_holds(store: Store) -> None:
    """What the create path checks against the node's cap of active jobs per wallet: an
    escrow counts until its order ends or its job has (completed, cancelled, expired)."""
    poster = "RTC" + "e" * 40

    def escrowed(order_id: str, status: Status, job_state: str | None) -> Order:
        job = None if job_state is None else EscrowJob(f"job_{order_id}", job_state)
        return replace(
            new_order(order_id, status),
            side="sell",
            maker_wallet=poster,
            escrow=Escrow(poster=poster, title=order_id, requested_at=1_000, job=job),
        )

    with store.write() as uow:
        uow.orders.insert(escrowed("otc_0a01", Status.OPEN, "open"), actor="m", at=1, refs={})
        uow.orders.insert(escrowed("otc_0a02", Status.OPENING, None), actor="m", at=1, refs={})
        uow.orders.insert(escrowed("otc_0a03", Status.OPEN, "completed"), actor="m", at=1, refs={})
        uow.orders.insert(new_order("otc_0a04"), actor="m", at=1, refs={})  # no escrow
    with store.read() as uow:
        assert uow.orders.active_escrows(poster) == 2
        assert uow.orders.active_escrows("RTC" + "f" * 40) == 0
