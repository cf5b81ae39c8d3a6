"""Prometheus metrics, safe with several processes per host.

Counters and histograms are recorded where things happen (transitions, node calls,
settlement steps, reconciler passes, HTTP requests). With PROMETHEUS_MULTIPROC_DIR set
(`otc-bridge serve` sets it for its workers), every process writes its samples there and
`/metrics` aggregates them. Gauges that describe the database (orders by state, alerts
pending, reconciler lag) are read from it at scrape time, so they are right however many
processes run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from otc_bridge.adapters.node.transport import CallRecord
    from otc_bridge.adapters.store.chain_watch import Checkpoint
    from otc_bridge.adapters.store.store import Store
    from otc_bridge.domain.clock import Clock
    from otc_bridge.domain.order import Order

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
PHASE_BUCKETS = (1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400)

TRANSITIONS = Counter(
    "otc_transitions_total", "Order state transitions", ["from_state", "to_state", "cause"]
)
STEP_SECONDS = Histogram(
    "otc_settlement_step_seconds",
    "Duration of one external settlement step (node call)",
    ["step"],
    buckets=LATENCY_BUCKETS,
)
PHASE_SECONDS = Histogram(
    "otc_settlement_phase_seconds",
    "Time between settlement milestones (confirm, payout queued, payout confirmed)",
    ["phase"],
    buckets=PHASE_BUCKETS,
)
NODE_SECONDS = Histogram(
    "otc_node_request_seconds",
    "RustChain node request latency",
    ["route", "outcome"],
    buckets=LATENCY_BUCKETS,
)
NODE_ERRORS = Counter(
    "otc_node_errors_total", "Node requests that failed, by kind", ["route", "kind"]
)
RECONCILE_SECONDS = Histogram(
    "otc_reconcile_pass_seconds", "Reconciler pass duration", buckets=LATENCY_BUCKETS
)
RECONCILE_PASSES = Counter("otc_reconcile_passes_total", "Reconciler passes", ["result"])
RECONCILE_ORDERS = Counter(
    "otc_reconcile_orders_total", "Orders handled by reconciler passes", ["outcome"]
)
# SQLite only: how long each unit of work queued for the write gate (one writer at a time
# across the threads and processes sharing the file), in finer buckets than a request's.
STORE_WRITE_WAIT = Histogram(
    "otc_store_write_wait_seconds",
    "Time a write waited for the SQLite write gate",
    buckets=(0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
)
HTTP_SECONDS = Histogram(
    "otc_http_request_seconds",
    "API request latency",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
)
# The push channels (streams per API process; webhook deliveries by outcome).
STREAMS_OPEN = Gauge(
    "otc_streams_open", "Event streams open", ["kind"], multiprocess_mode="livesum"
)
WEBHOOK_DELIVERIES = Counter(
    "otc_webhook_deliveries_total", "Webhook delivery attempts by outcome", ["outcome"]
)

# The chain watcher (settlement/watch): per chain id; its checkpoint, head and lag are
# database gauges (DatabaseCollector), right whichever process holds the chain's lease.
WATCHER_POLLS = Counter(
    "otc_watcher_polls_total", "Chain watcher polls by result", ["chain", "result"]
)
WATCHER_RPC_CALLS = Counter(
    "otc_watcher_rpc_calls_total", "JSON-RPC calls the chain watcher made", ["chain"]
)
WATCHER_EVENTS = Counter(
    "otc_watcher_events_total",
    "Final HTLC events the chain watcher handled, by kind and outcome",
    ["chain", "kind", "outcome"],
)
WATCHER_REORGS = Counter(
    "otc_watcher_reorgs_total",
    "Re-orgs the chain watcher met (unfinal: a sighting vanished; during_poll: the chain "
    "moved under a read; rewind: the checkpoint's block was replaced)",
    ["chain", "kind"],
)

# What each transition closes, for the phase histogram, and when that phase started.
_PHASES = {
    "quote_locked": "match_to_quote_lock",
    "settling": "match_to_confirm",
    "payout_pending": "confirm_to_payout_queued",
    "completed": "payout_confirmation_lag",
}
_PHASE_START: dict[str, Callable[[Order], int | None]] = {
    "quote_locked": lambda o: o.match.matched_at if o.match else None,
    "settling": lambda o: o.match.matched_at if o.match else None,
    "payout_pending": lambda o: o.reveal.at if o.reveal else None,
    "completed": lambda o: o.payout.queued_at if o.payout else None,
}


def record_transition(order: Order, target: str, cause: str, at: int) -> None:
    TRANSITIONS.labels(order.status.value, target, cause).inc()
    if order.status.value == target:
        return
    phase = _PHASES.get(target)
    started = _PHASE_START[target](order) if phase else None
    if phase and started is not None:
        PHASE_SECONDS.labels(phase).observe(max(0, at - started))
    if target == "completed" and order.reveal is not None:
        PHASE_SECONDS.labels("confirm_to_completed").observe(max(0, at - order.reveal.at))


def record_node_call(call: CallRecord) -> None:
    NODE_SECONDS.labels(call.route, call.outcome).observe(call.seconds)
    if call.outcome in {"lost", "5xx", "rate_limited"}:
        NODE_ERRORS.labels(call.route, call.outcome).inc()


class timed:
    def __init__(self, histogram: Histogram, *labels: str) -> None:
        self._metric = histogram.labels(*labels) if labels else histogram
        self._started = 0.0

    def __enter__(self) -> None:
        self._started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self._metric.observe(time.perf_counter() - self._started)


class DatabaseCollector(Collector):
    """Gauges read from the database at scrape time."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def collect(self) -> Iterator[Any]:
        from otc_bridge.domain.states import Status

        now = self.clock.now()
        with self.store.read() as uow:
            by_state = uow.market.counts_by_status()
            alerts = uow.alerts.pending_count()
            deliveries = uow.deliveries.pending_count()
            oldest_due = uow.market.oldest_due(now)
            watched = uow.chain_watch.checkpoints()
        orders = GaugeMetricFamily("otc_orders", "Orders by state", labels=["state"])
        for status in Status:
            orders.add_metric([status.value], by_state.get(status.value, 0))
        yield orders
        yield GaugeMetricFamily("otc_alerts_pending", "Alerts not yet delivered", value=alerts)
        yield GaugeMetricFamily(
            "otc_webhook_deliveries_pending",
            "Webhook deliveries not yet accepted nor given up",
            value=deliveries,
        )
        yield GaugeMetricFamily(
            "otc_reconcile_lag_seconds",
            "How overdue the most overdue automatic action is (0: nothing due)",
            value=max(0, now - oldest_due) if oldest_due is not None else 0,
        )
        yield from _watcher_gauges(watched)


def _watcher_gauges(watched: list[Checkpoint]) -> Iterator[Any]:
    gauges = {
        "head": GaugeMetricFamily(
            "otc_watcher_head_block", "The quote chain's head at the last poll", labels=["chain"]
        ),
        "checkpoint": GaugeMetricFamily(
            "otc_watcher_checkpoint_block",
            "The last block whose events the chain watcher acted on",
            labels=["chain"],
        ),
        "lag": GaugeMetricFamily(
            "otc_watcher_lag_blocks", "Blocks between the checkpoint and the head", labels=["chain"]
        ),
        "rewinds": GaugeMetricFamily(
            "otc_watcher_rewinds", "Re-orgs that rewound the checkpoint (ever)", labels=["chain"]
        ),
        "polled": GaugeMetricFamily(
            "otc_watcher_last_poll_timestamp_seconds",
            "When the chain watcher last recorded a poll (Unix seconds)",
            labels=["chain"],
        ),
    }
    for checkpoint in watched:
        label = [checkpoint.chain_key.split(":")[0]]
        gauges["head"].add_metric(label, checkpoint.head_number)
        gauges["checkpoint"].add_metric(label, checkpoint.block.number)
        gauges["lag"].add_metric(label, checkpoint.lag)
        gauges["rewinds"].add_metric(label, checkpoint.reorgs)
        gauges["polled"].add_metric(label, checkpoint.head_seen_at)
    yield from gauges.values()


def render(store: Store, clock: Clock) -> tuple[bytes, str]:
    """The /metrics body: every process's samples plus the database gauges."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        for collector in list(REGISTRY._collector_to_names):
            registry.register(collector)
    registry.register(DatabaseCollector(store, clock))
    return generate_latest(registry), CONTENT_TYPE_LATEST
