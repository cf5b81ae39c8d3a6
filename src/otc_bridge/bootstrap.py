"""Wiring: builds the object graph every entry point (API, worker, CLI) runs on."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from otc_bridge.adapters.clock_file import OffsetFileClock
from otc_bridge.adapters.node import NodeClient
from otc_bridge.adapters.secret_box import SecretBox
from otc_bridge.adapters.store.engine import make_engine
from otc_bridge.adapters.store.migrate import upgrade
from otc_bridge.adapters.store.store import Store
from otc_bridge.config import Settings
from otc_bridge.domain.clock import Clock, SystemClock
from otc_bridge.domain.money import micro_to_rtc_float
from otc_bridge.domain.pairs import PAIRS
from otc_bridge.domain.rustchain import MAX_REWARD_MICRO
from otc_bridge.services.exchange import MAX_PRICE_NANO, MIN_ORDER_MICRO, Exchange
from otc_bridge.services.market import Market
from otc_bridge.services.ratelimit import RateLimiter
from otc_bridge.settlement.alerts import Alerts, LogAlerts
from otc_bridge.settlement.driver import DriverPolicy, SettlementDriver
from otc_bridge.settlement.worker import Worker


@dataclass
class Container:
    settings: Settings
    store: Store
    node: NodeClient
    clock: Clock
    alerts: Alerts
    driver: SettlementDriver
    exchange: Exchange
    market: Market
    worker: Worker
    limiter: RateLimiter
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start_worker(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.worker.run_forever,
            args=(self._stop, self.settings.worker_interval_seconds),
            name="otc-worker",
            daemon=True,
        )
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.node.close()
        self.store.dispose()


def pair_info(settings: Settings) -> dict[str, dict[str, Any]]:
    policy = settings.deadlines
    return {
        name: {
            "pair": name,
            "quote_currency": pair.quote_currency,
            "decimals": pair.decimals,
            "chain": pair.chain,
            "chain_id": None,
            "htlc_contract": None,
            "token_address": None,
            "rpc_url": None,
            "finality_confirmations": None,
            "quote_verification": "unavailable",
            "timelock_window": {
                "min_seconds": policy.quote_timelock_min,
                "max_seconds": policy.quote_timelock_max,
                "claim_margin_seconds": policy.claim_margin,
                "settlement_margin_seconds": policy.settlement_margin,
            },
            "lock_window_seconds": policy.lock_window,
            "limits": {
                "min_amount_rtc": micro_to_rtc_float(MIN_ORDER_MICRO),
                "max_amount_rtc": micro_to_rtc_float(MAX_REWARD_MICRO),
                "max_price": MAX_PRICE_NANO / 10**9,
                "max_ttl_seconds": policy.max_order_ttl,
            },
        }
        for name, pair in PAIRS.items()
    }


def build(
    settings: Settings, *, alerts: Alerts | None = None, clock: Clock | None = None
) -> Container:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    store = Store(engine)
    if clock is None:
        clock = OffsetFileClock(settings.clock_file) if settings.clock_file else SystemClock()
    node = NodeClient(settings.node)
    alerts = alerts or LogAlerts()
    driver = SettlementDriver(
        store=store,
        node=node,
        clock=clock,
        alerts=alerts,
        policy=DriverPolicy(
            deadlines=settings.deadlines,
            grace_seconds=settings.grace_seconds,
            retry_seconds=settings.retry_seconds,
        ),
    )
    limiter = RateLimiter(store, clock, window_seconds=settings.rate_limits.window_seconds)
    exchange = Exchange(
        settings=settings,
        store=store,
        node=node,
        clock=clock,
        driver=driver,
        secret_box=SecretBox.from_settings(settings.secret_key, settings.secret_key_file),
        limiter=limiter,
    )
    return Container(
        settings=settings,
        store=store,
        node=node,
        clock=clock,
        alerts=alerts,
        driver=driver,
        exchange=exchange,
        market=Market(store=store, clock=clock, pair_info=pair_info(settings)),
        worker=Worker(store=store, driver=driver, clock=clock),
        limiter=limiter,
    )
