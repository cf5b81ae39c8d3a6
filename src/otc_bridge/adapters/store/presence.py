"""Whether a database URL names a bridge database, asked without creating one.

Every process of the bridge creates and migrates its database at start (`make_engine`
makes the SQLite file's folder, `upgrade` the schema). An operator command must not: run
against the wrong settings it would create an empty database and report a false
all-clear ("0 orders in settlement_recovery"). So it asks first, read-only.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from otc_bridge.adapters.store.engine import is_sqlite

SCHEMA_TABLES = ("alembic_version", "orders")


def shown(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (SQLAlchemyError, ValueError):
        return "(an unreadable database URL)"


def sqlite_path(url: str) -> Path | None:
    """The file a SQLite URL names (None for an in-memory database)."""
    database = make_url(url).database
    return None if database in {None, "", ":memory:"} else Path(str(database))


def database_problem(url: str) -> str | None:
    """Why `url` names no bridge database, in words; None when it names one."""
    try:
        if is_sqlite(url):
            path = sqlite_path(url)
            if path is None:
                return "an in-memory database holds no orders"
            if not path.is_file():
                return f"there is no database file at {path.resolve()}"
        engine = create_engine(url, poolclass=NullPool)
    except (SQLAlchemyError, ValueError) as err:
        return f"{shown(url)} is not a usable database URL ({err})"
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
    except SQLAlchemyError as err:
        reason = str(getattr(err, "orig", err)).strip().splitlines()[0]
        return f"the database {shown(url)} cannot be opened: {reason}"
    finally:
        engine.dispose()
    if not set(SCHEMA_TABLES) <= tables:
        return f"the database {shown(url)} holds no otc-bridge schema"
    return None
