"""The webhooks repository: each trader wallet's callback URLs, with their delivery
figures for the wallet's own listing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import and_, delete, func, insert, select, text
from sqlalchemy.engine import Connection

from otc_bridge.adapters.store.tables import DELIVERIES, WEBHOOKS


@dataclass(frozen=True, slots=True)
class Webhook:
    webhook_id: str
    wallet: str  # canonical
    url: str
    secret_sealed: str
    created_at: int


@dataclass(frozen=True, slots=True)
class WebhookFigures:
    """A webhook and how its deliveries are going."""

    webhook: Webhook
    pending: int
    delivered: int
    failed: int  # given up
    last_delivered_at: int | None
    last_error: str | None  # of the most recent attempt that failed, if any


def _lock_key(wallet: str) -> int:
    """A signed 64-bit advisory-lock key for one wallet."""
    return int.from_bytes(
        hashlib.sha256(b"webhooks:" + wallet.encode()).digest()[:8], "big", signed=True
    )


class Webhooks:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def lock_wallet(self, wallet: str) -> None:
        """Serialise registrations of one wallet until the transaction ends, so the
        per-wallet cap holds under concurrent requests. SQLite's write transactions are
        serial already (BEGIN IMMEDIATE); PostgreSQL takes an advisory lock."""
        if self._conn.dialect.name == "postgresql":
            self._conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(wallet)})

    def count(self, wallet: str) -> int:
        stmt = select(func.count()).select_from(WEBHOOKS).where(WEBHOOKS.c.wallet == wallet)
        return int(self._conn.execute(stmt).scalar_one())

    def add(self, webhook: Webhook) -> None:
        self._conn.execute(
            insert(WEBHOOKS).values(
                webhook_id=webhook.webhook_id,
                wallet=webhook.wallet,
                url=webhook.url,
                secret_sealed=webhook.secret_sealed,
                created_at=webhook.created_at,
            )
        )

    def get(self, webhook_id: str) -> Webhook | None:
        row = self._conn.execute(
            select(WEBHOOKS).where(WEBHOOKS.c.webhook_id == webhook_id)
        ).first()
        return None if row is None else Webhook(**row._mapping)

    def remove(self, webhook_id: str) -> bool:
        """Forget the webhook and every delivery not yet made to it."""
        self._conn.execute(delete(DELIVERIES).where(DELIVERIES.c.webhook_id == webhook_id))
        result = self._conn.execute(delete(WEBHOOKS).where(WEBHOOKS.c.webhook_id == webhook_id))
        return result.rowcount == 1

    def of_wallet(self, wallet: str) -> list[WebhookFigures]:
        rows = self._conn.execute(
            select(WEBHOOKS)
            .where(WEBHOOKS.c.wallet == wallet)
            .order_by(WEBHOOKS.c.created_at, WEBHOOKS.c.webhook_id)
        )
        return [self._figures(Webhook(**row._mapping)) for row in rows]

    def _figures(self, webhook: Webhook) -> WebhookFigures:
        mine = DELIVERIES.c.webhook_id == webhook.webhook_id
        states = select(DELIVERIES.c.state, func.count()).where(mine).group_by(DELIVERIES.c.state)
        counts: dict[str, int] = {row[0]: int(row[1]) for row in self._conn.execute(states)}
        last_delivered = self._conn.execute(
            select(func.max(DELIVERIES.c.finished_at)).where(
                and_(mine, DELIVERIES.c.state == "delivered")
            )
        ).scalar()
        last_error = self._conn.execute(
            select(DELIVERIES.c.last_error)
            .where(and_(mine, DELIVERIES.c.last_error.is_not(None)))
            .order_by(DELIVERIES.c.delivery_id.desc())
            .limit(1)
        ).scalar()
        return WebhookFigures(
            webhook=webhook,
            pending=int(counts.get("pending", 0)),
            delivered=int(counts.get("delivered", 0)),
            failed=int(counts.get("failed", 0)),
            last_delivered_at=None if last_delivered is None else int(last_delivered),
            last_error=last_error,
        )
