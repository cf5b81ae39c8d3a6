"""Alembic environment: uses the caller's connection when given one (start-up), else
the URL in the config (the `alembic` command line)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from otc_bridge.adapters.store.schema import Base

target_metadata = Base.metadata
config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


run()
