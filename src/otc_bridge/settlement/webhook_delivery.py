"""Trader webhook deliveries, made by workers, never inside a request.

Each due row of the webhook outbox is claimed by one worker with a compare-and-set (as
alerts are), signed (`domain.webhook_signature`), posted to an address checked just
before (`adapters.webhook.sender`) and marked. Delivery is at least once: a worker that
dies mid-POST leaves its claim to run out, and the delivery is made again; receivers
de-duplicate on the event id (`<order_id>:<seq>`), which every attempt repeats with the
same body. A failed attempt n is retried after a random delay between half and all of
`base * 2^(n-1)` seconds (capped at `max`); after `max_attempts` the delivery is given
up and operators are alerted (at most one alert per webhook per hour).
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from otc_bridge.adapters.secret_box import SecretBox, SecretBoxError
from otc_bridge.adapters.store.store import Store, UnitOfWork
from otc_bridge.adapters.store.webhook_outbox import DueDelivery
from otc_bridge.adapters.webhook.sender import WebhookSender
from otc_bridge.domain.clock import Clock
from otc_bridge.domain.webhook_signature import (
    ATTEMPT_HEADER,
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    WEBHOOK_ID_HEADER,
    sign,
)
from otc_bridge.observability import metrics

log = logging.getLogger(__name__)
EVENT_TYPE = "order.event"
DAY = 86400
ALERT_TITLE = "Webhook deliveries given up"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base_seconds: int = 10
    max_seconds: int = 3600
    max_attempts: int = 20

    def delay(self, attempts_made: int, rng: random.Random) -> int:
        doubled: int = self.base_seconds * 2 ** min(max(attempts_made - 1, 0), 30)
        ceiling = min(self.max_seconds, doubled)
        return max(1, round(ceiling * rng.uniform(0.5, 1.0)))


@dataclass(slots=True)
class DeliveryPass:
    delivered: int = 0
    retried: int = 0
    gave_up: int = 0


def event_id(order_id: str, seq: int) -> str:
    return f"{order_id}:{seq}"


def delivery_body(row: DueDelivery) -> bytes:
    """The same bytes on every attempt: receivers may compare, and de-duplicate on `id`."""
    event = row.event
    body = {
        "id": event_id(event.order_id, event.seq),
        "type": EVENT_TYPE,
        "webhook_id": row.webhook_id,
        "order_id": event.order_id,
        "event": event.wire(),
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


class WebhookDelivery:
    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        box: SecretBox,
        sender: WebhookSender,
        policy: RetryPolicy,
        claim_seconds: int = 60,
        wallclock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.clock = clock  # schedules (the devnet's clock moves it)
        self.box = box
        self.sender = sender
        self.policy = policy
        self.claim_seconds = claim_seconds  # longer than one attempt can take
        self.wallclock = wallclock  # signature timestamps: receivers check them against theirs
        self.rng = rng or random.Random()
        self._last_prune = 0

    def close(self) -> None:
        self.sender.close()

    def deliver_due(self, *, limit: int = 100, budget_seconds: float = 30.0) -> DeliveryPass:
        """Deliver what is due, in rounds while they make progress (a delivered event may
        let the next event of its order go), within `budget_seconds`."""
        summary = DeliveryPass()
        deadline = time.monotonic() + budget_seconds
        while time.monotonic() < deadline:
            now = self.clock.now()
            with self.store.read() as uow:
                due = uow.deliveries.due(now, limit=limit)
            failing: set[str] = set()
            delivered_before = summary.delivered
            for row in due:
                if row.webhook_id in failing or time.monotonic() >= deadline:
                    continue  # one failed attempt per receiver per round is enough
                if not self._attempt(row, summary):
                    failing.add(row.webhook_id)
            if summary.delivered == delivered_before:
                break
        self._prune()
        return summary

    def _attempt(self, row: DueDelivery, summary: DeliveryPass) -> bool:
        now = self.clock.now()
        until = now + self.claim_seconds
        with self.store.write() as uow:
            mine = uow.deliveries.claim(
                row.delivery_id, seen_next_attempt=row.next_attempt_at, until=until
            )
        if not mine:
            return True  # another worker has it
        error = self._post(row)
        done = self.clock.now()
        with self.store.write() as uow:
            if error is None:
                uow.deliveries.delivered(row.delivery_id, claimed_until=until, at=done)
                summary.delivered += 1
                metrics.WEBHOOK_DELIVERIES.labels("delivered").inc()
                return True
            made = row.attempts + 1
            if made < self.policy.max_attempts:
                retry_at = done + self.policy.delay(made, self.rng)
                uow.deliveries.retry(
                    row.delivery_id, claimed_until=until, next_attempt_at=retry_at, error=error
                )
                summary.retried += 1
                metrics.WEBHOOK_DELIVERIES.labels("retried").inc()
                return False
            if uow.deliveries.give_up(row.delivery_id, claimed_until=until, at=done, error=error):
                self._alert(uow, row, done, made, error)
            summary.gave_up += 1
            metrics.WEBHOOK_DELIVERIES.labels("gave_up").inc()
        log.warning("webhook %s: gave up %s after %d attempts", row.webhook_id, row.event, made)
        return False

    def _post(self, row: DueDelivery) -> str | None:
        try:
            secret = self.box.open(row.secret_sealed)
        except SecretBoxError as err:
            return f"the webhook's secret cannot be read: {err}"
        body = delivery_body(row)
        headers = {
            SIGNATURE_HEADER: sign(secret, int(self.wallclock()), body),
            EVENT_ID_HEADER: event_id(row.event.order_id, row.event.seq),
            WEBHOOK_ID_HEADER: row.webhook_id,
            ATTEMPT_HEADER: str(row.attempts + 1),
        }
        return self.sender.post(row.url, body, headers)

    @staticmethod
    def _alert(uow: UnitOfWork, row: DueDelivery, at: int, attempts: int, error: str) -> None:
        uow.alerts.enqueue(
            dedupe_key=f"webhook:{row.webhook_id}:gave_up:{at // 3600}",
            level="warning",
            title=ALERT_TITLE,
            fields={
                "webhook_id": row.webhook_id,
                "wallet": row.wallet,
                "host": urlsplit(row.url).hostname or "?",  # not the URL: it may hold a token
                "event_id": event_id(row.event.order_id, row.event.seq),
                "attempts": attempts,
                "error": error[:300],
            },
            now=at,
        )

    def _prune(self) -> None:
        now = self.clock.now()
        if now - self._last_prune < 3600:
            return
        self._last_prune = now
        with self.store.write() as uow:
            uow.deliveries.prune(delivered_before=now - 7 * DAY, failed_before=now - 30 * DAY)

    def run_forever(self, stop: threading.Event, interval_seconds: float) -> None:
        while not stop.is_set():
            try:
                self.deliver_due()
            except Exception:
                log.exception("webhook delivery pass failed")
            stop.wait(interval_seconds)
