"""A bridge process's chain watchers, wired: a reader, effects into `Settlement`, a
follower and a lease per configured chain (pairs on one chain share its watcher)."""

from __future__ import annotations

from otc_bridge.adapters.evm.config import EvmSettings
from otc_bridge.adapters.evm.reader import EvmReader
from otc_bridge.adapters.store.store import Store
from otc_bridge.domain.clock import Clock
from otc_bridge.settlement.alerts import Alerts
from otc_bridge.settlement.flows import Settlement
from otc_bridge.settlement.lease import Lease
from otc_bridge.settlement.watch.config import WatcherSettings
from otc_bridge.settlement.watch.effects import SettlementEffects
from otc_bridge.settlement.watch.follower import ChainFollower, lease_name
from otc_bridge.settlement.watch.watcher import ChainWatcher, Watchers


def build_watchers(
    evm: EvmSettings,
    settings: WatcherSettings,
    *,
    store: Store,
    clock: Clock,
    settlement: Settlement,
    alerts: Alerts | None = None,
) -> Watchers:
    """A watcher per configured chain (pairs on one chain share it); none when off."""
    if not settings.enabled:
        return Watchers()
    watchers = Watchers()
    for chain in evm.chains():
        pairs = [
            symbol
            for symbol, config in evm.pairs.items()
            if config.chain.chain_id == chain.chain_id
            and config.chain.htlc_contract == chain.htlc_contract
        ]
        reader = EvmReader(chain)
        effects = SettlementEffects(
            settlement=settlement,
            store=store,
            clock=clock,
            pairs=pairs,
            budget_seconds=settings.drive_budget_seconds,
            label=str(chain.chain_id),
        )
        follower = ChainFollower(
            reader=reader,
            store=store,
            clock=clock,
            effects=effects,
            settings=settings,
            alerts=alerts,
        )
        lease = Lease(store, lease_name(chain), ttl_seconds=settings.lease_seconds)
        watchers.chains.append(ChainWatcher(follower, lease, settings))
    return watchers
