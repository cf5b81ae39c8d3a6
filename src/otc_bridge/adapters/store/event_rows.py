"""A history row of `order_events` read back as the domain's `OrderEvent`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from otc_bridge.domain.order import OrderEvent


def event_from_row(row: Mapping[Any, Any]) -> OrderEvent:
    return OrderEvent(
        order_id=row["order_id"],
        seq=row["seq"],
        from_status=row["from_status"],
        to_status=row["to_status"],
        cause=row["cause"],
        actor=row["actor"],
        refs=json.loads(row["refs"]),
        at=row["at"],
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )
