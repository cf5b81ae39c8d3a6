"""Operator alerts. The driver raises them; where they go is configured by entry points."""

from __future__ import annotations

import logging
from typing import Any, Protocol

log = logging.getLogger("otc_bridge.alerts")


class Alerts(Protocol):
    def raise_alert(
        self, level: str, title: str, fields: dict[str, Any], *, key: str | None = None
    ) -> None:
        """`key` names the event, so that seeing it again alerts no more; without one,
        an alert is one per order and title (a condition an order stays in is seen on
        every pass). An alert of no order that can recur for distinct events must pass
        its own key, or only its first occurrence would ever be alerted."""
        ...


class LogAlerts:
    """Alerts to the log only (tests and the embedded default without a webhook)."""

    def __init__(self) -> None:
        self.raised: list[tuple[str, str, dict[str, Any]]] = []

    def raise_alert(
        self, level: str, title: str, fields: dict[str, Any], *, key: str | None = None
    ) -> None:
        self.raised.append((level, title, fields))
        log.warning("ALERT %s: %s %s", level.upper(), title, fields)
