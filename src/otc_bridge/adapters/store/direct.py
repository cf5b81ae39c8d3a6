"""Hot statements run straight on the unit of work's DBAPI connection.

A settlement makes about sixty statements (each status change writes the order, its
history row, the webhook fan-out and, on PostgreSQL, a NOTIFY). Through SQLAlchemy's
execution layer each one costs ~60 µs of CPU before the database sees it (execution
context, events, parameter and result objects) against ~10 µs for the driver's own
`execute`: most of the API's CPU per settlement, profiled. A `Direct` statement is the
same SQLAlchemy construct, compiled by SQLAlchemy once per dialect and set of parameter
names, then run with the driver's `execute` on the connection the unit of work holds, so
it shares its transaction exactly as `Connection.execute` would.

What SQLAlchemy would have done around the call is kept: parameters go through their
types' bind processors (`BigUnits` → decimal string), result values through their result
processors, and a driver error is raised as SQLAlchemy's exception (an `IntegrityError`
stays an `IntegrityError`). What a hot statement must not need is refused when it is
compiled: parameters expanded at run time (`IN` of a list) and column defaults computed
by the execution layer (pass those columns).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql.expression import Executable

Processor = Callable[[Any], Any] | None
_MAX_SHAPES = 256  # compiled forms kept per statement (parameter-name sets seen)


@dataclass(frozen=True, slots=True)
class _Bind:
    name: str
    required: bool  # no value of its own: the caller must give one
    default: Any
    process: Processor


def _bind(parameter: Any, name: str, dialect: Dialect) -> _Bind:
    return _Bind(
        name,
        parameter.required,
        parameter.effective_value,
        parameter.type.dialect_impl(dialect).bind_processor(dialect),
    )


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    positional: bool
    binds: tuple[_Bind, ...]  # in the statement's order (positional drivers)
    columns: tuple[str, ...]  # the result's column names
    results: tuple[Processor, ...]  # one per result column
    # When every parameter comes from the caller as is (no default, no processing): the
    # driver's parameters straight from the caller's mapping, without the loop below.
    plain: Callable[[Mapping[str, Any]], Any] | None


class Row(dict[str, Any]):
    """One result row by column name (what `order_from_row` and friends take)."""


class DirectResult:
    def __init__(self, rowcount: int, rows: list[Row]) -> None:
        self.rowcount = rowcount
        self.rows = rows

    def first(self) -> Row | None:
        return self.rows[0] if self.rows else None

    def scalar(self) -> Any:
        return next(iter(self.rows[0].values())) if self.rows else None


class Direct:
    """A statement built once at import, compiled at first use per dialect."""

    def __init__(self, statement: Executable, *, returns_rows: bool = False) -> None:
        self._statement: Any = statement
        self._returns_rows = returns_rows
        self._compiled: dict[tuple[str, tuple[str, ...]], _Compiled] = {}

    def run(self, conn: Connection, params: Mapping[str, Any]) -> DirectResult:
        dialect = conn.dialect
        key = (dialect.name, tuple(params))
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compile(dialect, tuple(params))
        values = compiled.plain(params) if compiled.plain else _parameters(compiled, params)
        driver = conn.connection.driver_connection
        assert driver is not None  # a unit of work holds a live connection
        try:
            cursor = driver.execute(compiled.sql, values)
            try:
                rows = (
                    [self._row(compiled, raw) for raw in cursor.fetchall()]
                    if (compiled.columns)
                    else []
                )
                rowcount = cursor.rowcount
            finally:
                cursor.close()
        except dialect.loaded_dbapi.Error as exc:
            raise _as_sqlalchemy(exc, dialect, compiled.sql, values) from exc
        return DirectResult(rowcount, rows)

    @staticmethod
    def _row(compiled: _Compiled, raw: Sequence[Any]) -> Row:
        return Row(
            (name, value if process is None or value is None else process(value))
            for name, process, value in zip(compiled.columns, compiled.results, raw, strict=True)
        )

    def _compile(self, dialect: Dialect, names: tuple[str, ...]) -> _Compiled:
        # The parameter names choose an INSERT's or UPDATE's columns when the statement
        # does not name them itself; given for anything else, SQLAlchemy would apply them
        # to a data-modifying part inside it too (an UPDATE in a WITH would also SET every
        # column that happens to share a parameter's name).
        keys = list(names) if self._statement.is_dml else None
        compiled: Any = self._statement.compile(dialect=dialect, column_keys=keys)
        if compiled.post_compile_params or compiled.literal_execute_params:
            raise ValueError("a direct statement cannot expand parameters at run time")
        if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
            raise ValueError("a direct statement must be given every column with a default")
        if dialect.positional:
            order = list(compiled.positiontup)
        else:  # named: each name once
            order = list(dict.fromkeys(compiled.bind_names.values()))
        binds = tuple(_bind(compiled.binds[name], name, dialect) for name in order)
        columns: tuple[str, ...] = ()
        results: tuple[Processor, ...] = ()
        if self._returns_rows:
            exported = list(self._statement.exported_columns)
            columns = tuple(column.key for column in exported)
            results = tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in exported
            )
        shape = _Compiled(
            compiled.string, dialect.positional, binds, columns, results, _plain(binds, dialect)
        )
        if len(self._compiled) >= _MAX_SHAPES:
            self._compiled.clear()
        self._compiled[(dialect.name, names)] = shape
        return shape


def driver_execute(conn: Connection, sql: str) -> None:
    """Run a statement without parameters or results on the driver (`BEGIN IMMEDIATE`)."""
    dialect = conn.dialect
    driver = conn.connection.driver_connection
    assert driver is not None  # a unit of work holds a live connection
    try:
        driver.execute(sql).close()
    except dialect.loaded_dbapi.Error as exc:
        raise _as_sqlalchemy(exc, dialect, sql, ()) from exc


def _as_sqlalchemy(exc: Exception, dialect: Dialect, sql: str, values: Any) -> StatementError:
    """A driver's error as SQLAlchemy raises it (an IntegrityError stays one)."""
    return DBAPIError.instance(sql, values, exc, dialect.loaded_dbapi.Error, dialect=dialect)


def _plain(binds: tuple[_Bind, ...], dialect: Dialect) -> Callable[[Mapping[str, Any]], Any] | None:
    if not binds or not all(bind.required and bind.process is None for bind in binds):
        return None
    if not dialect.positional:  # a named driver takes what it needs from the mapping
        required = frozenset(bind.name for bind in binds)

        def as_given(params: Mapping[str, Any]) -> Mapping[str, Any]:
            missing = required - params.keys()
            if missing:
                raise KeyError(f"a value is required for the parameter {min(missing)!r}")
            return params

        return as_given
    pick = operator.itemgetter(*(bind.name for bind in binds))
    if len(binds) == 1:
        return lambda params: (pick(params),)
    return pick


def _parameters(compiled: _Compiled, params: Mapping[str, Any]) -> Any:
    values = []
    for bind in compiled.binds:
        if bind.name in params:
            value = params[bind.name]
        elif bind.required:
            raise KeyError(f"a value is required for the parameter {bind.name!r}")
        else:
            value = bind.default
        if bind.process is not None and value is not None:
            value = bind.process(value)
        values.append(value)
    if compiled.positional:
        return tuple(values)
    return {bind.name: value for bind, value in zip(compiled.binds, values, strict=True)}
