"""Durable alerts: queued in the database, delivered to a webhook with retries.

An alert is a row first (so a crash cannot lose it), one per order and condition (so a
condition seen on every pass alerts once) unless its raiser names the event with a key of
its own (an alert of no order that can happen again: each deep re-org of a chain), then a
POST to `RC_SOPHIACHECK_WEBHOOK` in the reference's Discord-embed shape, retried with
backoff until it is accepted. Without a webhook, alerts are logged and marked delivered.
With `RC_SOPHIACHECK_WEBHOOK_SECRET` set, each POST is signed the way trader webhooks are
(`X-OTC-Signature`, docs/api.md), with the event id `alert:<id>`; the body is the same
either way.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from otc_bridge.adapters.store.alert_outbox import Alert
from otc_bridge.adapters.store.store import Store
from otc_bridge.domain.clock import Clock
from otc_bridge.domain.webhook_signature import EVENT_ID_HEADER, SIGNATURE_HEADER, sign

log = logging.getLogger("otc_bridge.alerts")
COLORS = {"info": 3447003, "warning": 16776960, "critical": 16711680}
MAX_BACKOFF = 3600


class OutboxAlerts:
    """The driver's `Alerts`: one row per event key, by default per (order, title)."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def raise_alert(
        self, level: str, title: str, fields: dict[str, Any], *, key: str | None = None
    ) -> None:
        dedupe_key = (key or f"{fields.get('order_id', '-')}:{title}")[:200]
        with self.store.write() as uow:
            fresh = uow.alerts.enqueue(
                dedupe_key=dedupe_key,
                level=level,
                title=title,
                fields=fields,
                now=self.clock.now(),
            )
        if fresh:
            log.warning("ALERT %s: %s %s", level.upper(), title, fields)


class AlertDispatcher:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        webhook: str | None,
        secret: str | None = None,
        transport: httpx.BaseTransport | None = None,
        wallclock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.clock = clock
        self.webhook = webhook
        self.secret = secret
        self.wallclock = wallclock  # signature timestamps: receivers check them against theirs
        self._http = httpx.Client(timeout=5.0, transport=transport)

    def close(self) -> None:
        self._http.close()

    def deliver_due(self, *, limit: int = 50) -> int:
        """Deliver what is due; returns how many were accepted."""
        now = self.clock.now()
        with self.store.read() as uow:
            due = uow.alerts.due(now, limit=limit)
        delivered = 0
        for row in due:
            with self.store.write() as uow:
                mine = uow.alerts.claim(
                    row.alert_id, seen_next_attempt=row.next_attempt_at, until=now + 60
                )
            if not mine:
                continue  # another process is delivering it
            error = self._post(row)
            backoff = min(MAX_BACKOFF, 30 * 2 ** min(row.attempts, 10))
            with self.store.write() as uow:
                uow.alerts.mark(
                    row.alert_id,
                    delivered_at=None if error else now,
                    next_attempt_at=now + backoff,
                    error=error,
                )
            delivered += error is None
        return delivered

    def _post(self, row: Alert) -> str | None:
        if not self.webhook:
            return None  # logged when raised; nothing more to deliver
        fields = row.fields
        embed = {
            "title": f"OTC Bridge {row.level.upper()}",
            "description": row.title,
            "color": COLORS.get(row.level, COLORS["info"]),
            "fields": [
                {"name": str(k), "value": str(v), "inline": True} for k, v in fields.items()
            ],
            "timestamp": datetime.fromtimestamp(row.created_at, UTC).isoformat(),
        }
        body = json.dumps({"embeds": [embed]}, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", EVENT_ID_HEADER: f"alert:{row.alert_id}"}
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(self.secret, int(self.wallclock()), body)
        try:
            response = self._http.post(self.webhook, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:500]
        if response.status_code >= 300:
            return f"http {response.status_code}: {response.text[:200]}"
        return None
