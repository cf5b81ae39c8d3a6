"""Statements run on the driver directly (adapters/store/direct.py) behave as SQLAlchemy's
`Connection.execute` would: same transaction, same types, same exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from otc_bridge.adapters.store.direct import Direct
from otc_bridge.adapters.store.engine import make_engine
from otc_bridge.adapters.store.migrate import upgrade
from otc_bridge.adapters.store.tables import ORDERS, SIGNATURES, TRADES
from tests.support.databases import fresh_database_url

_SIGN = Direct(insert(SIGNATURES))
_SIGNED = Direct(
    select(SIGNATURES.c.wallet, SIGNATURES.c.valid_until).where(
        SIGNATURES.c.signature_digest == bindparam("digest")
    ),
    returns_rows=True,
)
_TRADE = Direct(insert(TRADES))
_TRADE_TOTAL = Direct(
    select(TRADES.c.total_quote_base).where(TRADES.c.trade_id == bindparam("trade_id")),
    returns_rows=True,
)
_EXTEND = Direct(
    update(SIGNATURES).where(SIGNATURES.c.wallet == bindparam("w_wallet")),
)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(fresh_database_url(tmp_path))
    upgrade(engine)
    yield engine
    engine.dispose()


def _signature(digest: str, valid_until: int = 100) -> dict[str, object]:
    return {"signature_digest": digest, "wallet": "RTCw", "action": "x", "valid_until": valid_until}


def test_rows_come_back_by_column_name_and_a_missing_row_is_none(engine: Engine) -> None:
    with engine.connect() as conn, conn.begin():
        _SIGN.run(conn, _signature("a" * 64, 7))
        row = _SIGNED.run(conn, {"digest": "a" * 64}).first()
        missing = _SIGNED.run(conn, {"digest": "b" * 64})
    assert row == {"wallet": "RTCw", "valid_until": 7}
    assert missing.first() is None
    assert missing.scalar() is None


def test_it_writes_in_the_callers_transaction(engine: Engine) -> None:
    def fail_after_writing() -> None:
        with engine.connect() as conn, conn.begin():
            _SIGN.run(conn, _signature("c" * 64))
            raise RuntimeError("the unit of work fails after the write")

    with pytest.raises(RuntimeError):
        fail_after_writing()
    with engine.connect() as conn, conn.begin():
        assert _SIGNED.run(conn, {"digest": "c" * 64}).first() is None


def test_types_process_values_both_ways(engine: Engine) -> None:
    """`BigUnits` stores an amount beyond 64 bits as its decimal string and reads an int."""
    big = 2**200 + 1
    trade = {
        "trade_id": "t" * 40,
        "order_id": "o" * 20,
        "pair": "RTC/ETH",
        "side": "sell",
        "maker_wallet": "RTCm",
        "taker_wallet": "RTCt",
        "amount_micro_rtc": 5,
        "price_per_rtc_nano_quote": 7,
        "total_quote_nano": 35,
        "total_quote_base": big,
        "quote_tx": None,
        "rtc_tx": None,
        "completed_at": 9,
    }
    with engine.connect() as conn, conn.begin():
        _TRADE.run(conn, trade)
        total = _TRADE_TOTAL.run(conn, {"trade_id": "t" * 40}).scalar()
        stored = conn.exec_driver_sql("SELECT total_quote_base FROM trades").scalar_one()
    assert isinstance(total, int)
    assert total == big
    assert stored == str(big)


def test_a_constraint_violation_is_sqlalchemys_integrity_error(engine: Engine) -> None:
    with engine.connect() as conn, conn.begin():
        _SIGN.run(conn, _signature("d" * 64))
        with pytest.raises(IntegrityError):
            _SIGN.run(conn, _signature("d" * 64))


def test_rowcount_says_how_many_rows_an_update_changed(engine: Engine) -> None:
    with engine.connect() as conn, conn.begin():
        _SIGN.run(conn, _signature("e" * 64))
        _SIGN.run(conn, _signature("f" * 64))
        assert _EXTEND.run(conn, {"valid_until": 500, "w_wallet": "RTCw"}).rowcount == 2
        assert _EXTEND.run(conn, {"valid_until": 500, "w_wallet": "RTCnobody"}).rowcount == 0
        assert _SIGNED.run(conn, {"digest": "f" * 64}).first() == {
            "wallet": "RTCw",
            "valid_until": 500,
        }


def test_a_parameter_without_a_value_is_refused_before_the_database(engine: Engine) -> None:
    with engine.connect() as conn, conn.begin(), pytest.raises(KeyError, match="w_wallet"):
        _EXTEND.run(conn, {"valid_until": 1})


def test_what_the_execution_layer_would_fill_in_is_refused(engine: Engine) -> None:
    expanding = Direct(select(SIGNATURES.c.wallet).where(SIGNATURES.c.action.in_(["a", "b"])))
    defaulted = Direct(insert(ORDERS))  # payout_attempt has a column default
    with engine.connect() as conn, conn.begin():
        with pytest.raises(ValueError, match="expand"):
            expanding.run(conn, {})
        with pytest.raises(ValueError, match="default"):
            defaulted.run(conn, {"order_id": "o"})
