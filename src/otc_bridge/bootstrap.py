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
from otc_bridge.adapters.webhook.sender import WebhookSender
from otc_bridge.config import Settings
from otc_bridge.domain.clock import Clock, SystemClock
from otc_bridge.domain.money import micro_to_rtc_float
from otc_bridge.domain.pairs import PAIRS
from otc_bridge.domain.rustchain import MAX_REWARD_MICRO
from otc_bridge.observability import metrics
from otc_bridge.services.admin import AdminGate
from otc_bridge.services.auth import Authenticator
from otc_bridge.services.exchange import Exchange
from otc_bridge.services.feed import Feed
from otc_bridge.services.market import Market
from otc_bridge.services.operators import Operators
from otc_bridge.services.ratelimit import RateLimiter
from otc_bridge.services.validation import MAX_PRICE_NANO, MIN_ORDER_MICRO
from otc_bridge.services.watch_status import WatchStatus
from otc_bridge.services.webhooks import WebhookRegistry
from otc_bridge.settlement.alerts import Alerts
from otc_bridge.settlement.driver import SettlementDriver
from otc_bridge.settlement.evm_quote_chain import evm_quote_chains
from otc_bridge.settlement.flows import Settlement
from otc_bridge.settlement.outbox import AlertDispatcher, OutboxAlerts
from otc_bridge.settlement.quote_chains import QuoteChains
from otc_bridge.settlement.reconciler import Reconciler
from otc_bridge.settlement.toolkit import DriverPolicy, Toolkit
from otc_bridge.settlement.watch.build import build_watchers
from otc_bridge.settlement.watch.watcher import Watchers
from otc_bridge.settlement.webhook_delivery import RetryPolicy, WebhookDelivery


@dataclass
class Container:
    settings: Settings
    store: Store
    node: NodeClient
    clock: Clock
    alerts: Alerts
    settlement: Settlement
    chains: QuoteChains
    exchange: Exchange
    market: Market
    reconciler: Reconciler
    operators: Operators
    dispatcher: AlertDispatcher
    limiter: RateLimiter
    admin: AdminGate
    feed: Feed  # what the event streams read
    webhooks: WebhookRegistry
    webhook_delivery: WebhookDelivery
    watchers: Watchers  # a chain watcher per configured quote chain (none when off)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _delivery_thread: threading.Thread | None = None

    def start_reconciler(self) -> bool:
        """The seed's startup pass and timer, in a background thread; False when the
        settings turn automatic reconciliation off."""
        settings = self.settings
        if self._thread is not None:
            return True
        if settings.reconcile_disabled or settings.reconcile_interval_seconds <= 0:
            return False
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.reconciler.run_forever,
            args=(self._stop, settings.reconcile_interval_seconds),
            name="otc-reconciler",
            daemon=True,
        )
        self._thread.start()
        return True

    def start_webhook_delivery(self) -> None:
        """Trader webhook deliveries, in a background thread (every worker, and the API
        process when it runs the embedded worker); safe to run in many processes."""
        if self._delivery_thread is not None:
            return
        self._stop.clear()
        self._delivery_thread = threading.Thread(
            target=self.webhook_delivery.run_forever,
            args=(self._stop, self.settings.webhooks.poll_seconds),
            name="otc-webhooks",
            daemon=True,
        )
        self._delivery_thread.start()

    def start_watchers(self) -> int:
        """The chain watchers, a thread per chain (every worker, and the API process when
        it runs the embedded worker); each polls only while it holds its chain's lease.
        Returns how many chains are watched."""
        self.watchers.start(self._stop)
        return len(self.watchers.chains)

    def close(self) -> None:
        self._stop.set()
        for thread in (self._thread, self._delivery_thread):
            if thread is not None:
                thread.join(timeout=60)
        self._thread = self._delivery_thread = None
        self.watchers.join(timeout=60)
        self.webhook_delivery.close()
        self.dispatcher.close()
        self.node.close()
        self.store.dispose()


def pair_info(settings: Settings, chains: QuoteChains) -> dict[str, dict[str, Any]]:
    return {name: _pair_info(settings, chains, name) for name in PAIRS}


def _pair_info(settings: Settings, chains: QuoteChains, name: str) -> dict[str, Any]:
    """What a client needs to trade a pair: whether it is enabled (and why not), and for
    an EVM pair the chain, contract, token and RPC to lock with, and the timelock window."""
    policy = settings.deadlines
    pair = PAIRS[name]
    config = settings.evm.for_pair(name) if name in settings.evm.pairs else None
    chain = config.chain if config is not None else None
    low = (config.timelock_min_seconds if config else None) or policy.quote_timelock_min
    high = (config.timelock_max_seconds if config else None) or policy.quote_timelock_max
    reason = chains.disabled_reason(name)
    return {
        "pair": name,
        "quote_currency": pair.quote_currency,
        "decimals": config.decimals if config is not None else pair.decimals,
        "chain": pair.chain,
        "enabled": reason is None,
        "disabled_reason": reason,
        "chain_id": chain.chain_id if chain else None,
        "htlc_contract": chain.htlc_contract if chain else None,
        "token_address": config.token_address if config else None,
        "rpc_url": config.public_rpc_url if config else None,
        "finality_confirmations": chain.finality_confirmations if chain else None,
        "timelock_min_seconds": low,
        "timelock_max_seconds": high,
        "quote_verification": chains.policy(name).value,
        "timelock_window": {
            "min_seconds": low,
            "max_seconds": high,
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


def build(
    settings: Settings,
    *,
    alerts: Alerts | None = None,
    clock: Clock | None = None,
    create_secret_key: bool = True,
) -> Container:
    """The object graph; `create_secret_key=False` for operator commands, which use the
    bridge's key and never make one (see SecretBox.from_settings)."""
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
    upgrade(engine)
    store = Store(
        engine,
        on_transition=metrics.record_transition,
        on_write_wait=metrics.STORE_WRITE_WAIT.observe,
    )
    if clock is None:
        clock = OffsetFileClock(settings.clock_file) if settings.clock_file else SystemClock()
    node = NodeClient(settings.node, observer=metrics.record_node_call, clock=clock.now)
    alerts = alerts or OutboxAlerts(store, clock)
    box = SecretBox.from_settings(
        settings.secret_key, settings.secret_key_file, create=create_secret_key
    )
    chains = evm_quote_chains(settings.evm, erg_policy=settings.rtc_erg_quote_policy)
    kit = Toolkit(
        chains=chains,
        store=store,
        node=node,
        clock=clock,
        alerts=alerts,
        secret_box=box,
        policy=DriverPolicy(
            deadlines=settings.deadlines,
            grace_seconds=settings.grace_seconds,
            retry_seconds=settings.retry_seconds,
            payout_poll_seconds=settings.payout_poll_seconds,
        ),
    )
    settlement = Settlement(kit, SettlementDriver(kit))
    dispatcher = AlertDispatcher(
        store, clock, webhook=settings.alert_webhook, secret=settings.webhooks.alert_secret
    )
    limiter = RateLimiter(store, clock, window_seconds=settings.rate_limits.window_seconds)
    auth = Authenticator(settings=settings, store=store, clock=clock, limiter=limiter)
    exchange = Exchange(
        settings=settings,
        store=store,
        node=node,
        clock=clock,
        settlement=settlement,
        secret_box=box,
        auth=auth,
        chains=chains,
    )
    market = Market(store=store, clock=clock, pair_info=pair_info(settings, chains))
    hooks = settings.webhooks
    delivery = WebhookDelivery(
        store=store,
        clock=clock,
        box=box,
        sender=WebhookSender(
            allow_private=hooks.allow_private_addresses, timeout_seconds=hooks.timeout_seconds
        ),
        policy=RetryPolicy(
            base_seconds=hooks.backoff_base_seconds,
            max_seconds=hooks.backoff_max_seconds,
            max_attempts=hooks.max_attempts,
        ),
        claim_seconds=int(hooks.timeout_seconds) + 60,
    )
    return Container(
        settings=settings,
        store=store,
        node=node,
        clock=clock,
        alerts=alerts,
        settlement=settlement,
        chains=chains,
        exchange=exchange,
        market=market,
        reconciler=Reconciler(
            store=store,
            settlement=settlement,
            clock=clock,
            dispatcher=dispatcher,
            lease_seconds=settings.reconcile_lease_seconds,
            batch=settings.reconcile_batch,
        ),
        operators=Operators(
            store=store,
            node=node,
            clock=clock,
            settlement=settlement,
            watch=WatchStatus(store=store, evm=settings.evm, settings=settings.watcher),
        ),
        dispatcher=dispatcher,
        limiter=limiter,
        admin=AdminGate(
            key=settings.admin_key,
            limiter=RateLimiter(
                store, clock, window_seconds=settings.rate_limits.admin_window_seconds
            ),
            max_failures=settings.rate_limits.admin_failures,
        ),
        feed=Feed(store=store, market=market),
        webhooks=WebhookRegistry(settings=hooks, store=store, clock=clock, auth=auth, box=box),
        webhook_delivery=delivery,
        watchers=build_watchers(
            settings.evm,
            settings.watcher,
            store=store,
            clock=clock,
            settlement=settlement,
            alerts=alerts,
        ),
    )
