"""Operator alerts. The driver raises them; where they go is configured by entry points."""

from __future__ import annotations

import logging
from typing import Any, Protocol

log = logging.getLogger("otc_bridge.alerts")


class Alerts(Protocol):
    def raise_alert(self, level: str, title: str, fields: dict[str, Any]) -> None: ...


class LogAlerts:
    """Alerts to the log only (tests and the embedded default without a webhook)."""

    def __init__(self) -> None:
        self.raised: list[tuple[str, str, dict[str, Any]]] = []

    def raise_alert(self, level: str, title: str, fields: dict[str, Any]) -> None:
        self.raised.append((level, title, fields))
        log.warning("ALERT %s: %s %s", level.upper(), title, fields)
