"""The store's guarantees: guarded transitions, a tamper-evident append-only history."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from otc_bridge.adapters.store.engine import make_engine
from otc_bridge.adapters.store.migrate import upgrade
from otc_bridge.adapters.store.store import Store
from otc_bridge.domain.hashing import GENESIS, event_hash
from otc_bridge.domain.order import Order
from otc_bridge.domain.states import Cause, IllegalTransition, Status
from tests.support.databases import fresh_database_url


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    engine = make_engine(fresh_database_url(tmp_path))
    upgrade(engine)
    yield Store(engine)
    engine.dispose()


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
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0004"
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


def test_transition_is_a_compare_and_set(store: Store) -> None:
    with store.write() as tx:
        created = tx.insert_order(new_order(), actor="maker", at=1_000)
    with store.write() as tx:
        matched = tx.transition(created, Status.MATCHING, Cause.MATCH, actor="taker", at=1_001)
    assert matched is not None
    assert matched.version == 2
    with store.write() as tx:  # a second writer holding the stale snapshot loses
        assert tx.transition(created, Status.CANCELLED, Cause.CANCEL, actor="m", at=1_002) is None
    with store.read() as tx:
        stored = tx.get("otc_0001")
    assert stored == matched


def test_transitions_outside_the_table_are_refused(store: Store) -> None:
    with store.write() as tx:
        created = tx.insert_order(new_order(), actor="maker", at=1_000)
    with store.write() as tx, pytest.raises(IllegalTransition):
        tx.transition(created, Status.COMPLETED, Cause.PAYOUT_CONFIRMED, actor="x", at=1_001)


def test_history_is_hash_chained_and_carries_refs(store: Store) -> None:
    with store.write() as tx:
        order = tx.insert_order(new_order(), actor="maker", at=1_000)
    with store.write() as tx:
        order = tx.transition(  # type: ignore[assignment]
            order, Status.MATCHING, Cause.MATCH, actor="taker", at=1_005, refs={"ip": None}
        )
        order = tx.record_step(  # type: ignore[assignment]
            order,
            "escrow_requested",
            actor="taker",
            at=1_006,
            refs={"title": "t"},
            escrow_title="t",
        )
    with store.read() as tx:
        events = tx.events(order.order_id)
    assert [e.seq for e in events] == [1, 2, 3]
    assert [(e.from_status, e.to_status) for e in events] == [
        (None, "open"),
        ("open", "matching"),
        ("matching", "matching"),
    ]
    assert events[2].refs == {"step": "escrow_requested", "title": "t"}
    previous = GENESIS
    for event in events:
        assert event.prev_hash == previous
        assert event.hash == event_hash(previous, event.hashed_body())
        previous = event.hash
    assert order.history_hash == previous


def test_history_rows_cannot_be_edited_or_deleted(store: Store) -> None:
    with store.write() as tx:
        tx.insert_order(new_order(), actor="maker", at=1_000)
    for statement in ("UPDATE order_events SET actor = 'forged'", "DELETE FROM order_events"):
        with pytest.raises(DatabaseError, match="append-only"), store.write() as tx:
            tx.conn.execute(text(statement))


def test_a_signature_is_accepted_once(store: Store) -> None:
    with store.write() as tx:
        assert tx.use_signature("d" * 64, wallet="w", action="create_order", valid_until=10)
        assert not tx.use_signature("d" * 64, wallet="w", action="create_order", valid_until=10)
    with store.write() as tx:
        assert tx.prune_signatures(now=11) == 1
        assert tx.use_signature("d" * 64, wallet="w", action="create_order", valid_until=20)


def test_rate_counters_count_per_bucket_and_window(store: Store) -> None:
    with store.write() as tx:
        counts = [tx.hit_rate_counter("ip:1.2.3.4", 60) for _ in range(3)]
        other = tx.hit_rate_counter("ip:1.2.3.4", 120)
    assert counts == [1, 2, 3]
    assert other == 1


def test_unknown_fields_are_refused(store: Store) -> None:
    with store.write() as tx:
        order = tx.insert_order(new_order(), actor="maker", at=1_000)
        with pytest.raises(TypeError):
            tx.record_step(order, "x", actor="a", at=1, not_a_field=1)
    assert replace(order, version=1) == order
