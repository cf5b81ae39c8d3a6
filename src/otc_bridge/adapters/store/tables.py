"""The bridge's tables as SQLAlchemy Core handles, for the repositories and read models."""

from __future__ import annotations

from otc_bridge.adapters.store.schema import Base

ORDERS = Base.metadata.tables["orders"]
EVENTS = Base.metadata.tables["order_events"]
TRADES = Base.metadata.tables["trades"]
SIGNATURES = Base.metadata.tables["used_signatures"]
RATES = Base.metadata.tables["rate_counters"]
LEASES = Base.metadata.tables["leases"]
ALERTS = Base.metadata.tables["alert_outbox"]
WEBHOOKS = Base.metadata.tables["webhooks"]
DELIVERIES = Base.metadata.tables["webhook_deliveries"]
READ_VERSIONS = Base.metadata.tables["read_versions"]
