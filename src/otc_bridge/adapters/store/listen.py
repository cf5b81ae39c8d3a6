"""LISTEN for the store's commit notifications (`publish.py`) on PostgreSQL.

One dedicated connection per API process (never one per stream), on the event loop: each
notification's payload goes to `on_payload`. After every (re)connection `on_payload("")`
is called once, meaning "anything may have changed": notifications sent while no
connection listened are lost, so the caller polls once. A lost connection is retried;
the caller's regular polling covers the gap. SQLite has no such channel (`listener_for`
answers None) and its streams poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Engine

from otc_bridge.adapters.store.publish import CHANNEL

log = logging.getLogger(__name__)

Listener = Callable[[Callable[[str], None], asyncio.Event], Coroutine[Any, Any, None]]


def listener_for(engine: Engine, *, retry_seconds: float = 5.0) -> Listener | None:
    if engine.dialect.name != "postgresql":
        return None
    dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    async def listen(on_payload: Callable[[str], None], stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
                    await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
                    on_payload("")
                    async for note in conn.notifies():
                        on_payload(note.payload)
            except psycopg.Error as err:
                log.warning("LISTEN %s lost (%s); streams poll meanwhile", CHANNEL, err)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), retry_seconds)

    return listen
