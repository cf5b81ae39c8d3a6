"""The alert outbox's repository: alerts are rows first (written in the transaction that
raised them), delivered later by whichever process claims them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from otc_bridge.adapters.store.tables import ALERTS


@dataclass(frozen=True, slots=True)
class Alert:
    alert_id: int
    level: str
    title: str
    fields: dict[str, Any]
    created_at: int
    attempts: int
    next_attempt_at: int
    delivered_at: int | None
    last_error: str | None

    @classmethod
    def from_row(cls, row: Row[Any]) -> Alert:
        return cls(
            alert_id=int(row.alert_id),
            level=row.level,
            title=row.title,
            fields=json.loads(row.fields),
            created_at=int(row.created_at),
            attempts=int(row.attempts or 0),
            next_attempt_at=int(row.next_attempt_at),
            delivered_at=row.delivered_at,
            last_error=row.last_error,
        )


class AlertOutbox:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def enqueue(
        self, *, dedupe_key: str, level: str, title: str, fields: dict[str, Any], now: int
    ) -> bool:
        """Queue an alert once per dedupe key (a condition seen on every pass alerts once)."""
        try:
            with self._conn.begin_nested():
                self._conn.execute(
                    insert(ALERTS).values(
                        dedupe_key=dedupe_key,
                        level=level,
                        title=title,
                        fields=json.dumps(fields, sort_keys=True, default=str),
                        created_at=now,
                        attempts=0,
                        next_attempt_at=now,
                    )
                )
        except IntegrityError:
            return False
        return True

    def due(self, now: int, *, limit: int = 50) -> list[Alert]:
        rows = self._conn.execute(
            select(ALERTS)
            .where(and_(ALERTS.c.delivered_at.is_(None), ALERTS.c.next_attempt_at <= now))
            .order_by(ALERTS.c.alert_id)
            .limit(limit)
        )
        return [Alert.from_row(r) for r in rows]

    def claim(self, alert_id: int, *, seen_next_attempt: int, until: int) -> bool:
        """Take one alert for delivery: only one process posts it."""
        result = self._conn.execute(
            update(ALERTS)
            .where(
                and_(
                    ALERTS.c.alert_id == alert_id,
                    ALERTS.c.delivered_at.is_(None),
                    ALERTS.c.next_attempt_at == seen_next_attempt,
                )
            )
            .values(next_attempt_at=until)
        )
        return result.rowcount == 1

    def mark(
        self, alert_id: int, *, delivered_at: int | None, next_attempt_at: int, error: str | None
    ) -> None:
        self._conn.execute(
            update(ALERTS)
            .where(ALERTS.c.alert_id == alert_id)
            .values(
                attempts=ALERTS.c.attempts + 1,
                delivered_at=delivered_at,
                next_attempt_at=next_attempt_at,
                last_error=error,
            )
        )

    def pending_count(self) -> int:
        stmt = select(func.count()).select_from(ALERTS).where(ALERTS.c.delivered_at.is_(None))
        return int(self._conn.execute(stmt).scalar_one())

    def newest(self, *, limit: int = 50) -> list[Alert]:
        rows = self._conn.execute(select(ALERTS).order_by(ALERTS.c.alert_id.desc()).limit(limit))
        return [Alert.from_row(r) for r in rows]
