"""What operators are shown of the chain watchers: per chain, the checkpoint, the head
last seen, the lag between them, when it last polled, re-orgs that rewound it, who holds
its lease, and the HTLC events seen in blocks that are not final yet; per order, its
chain's watcher and the sightings of its lock (`otc-bridge watcher status`, `orders
explain`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from otc_bridge.adapters.evm.config import EvmChain, EvmSettings
from otc_bridge.adapters.store.chain_watch import Checkpoint, Sighting
from otc_bridge.adapters.store.store import Store
from otc_bridge.domain.order import Order
from otc_bridge.settlement.lease import Lease
from otc_bridge.settlement.watch.config import WatcherSettings
from otc_bridge.settlement.watch.follower import chain_key, lease_name


@dataclass(frozen=True, slots=True)
class WatchedChain:
    pairs: tuple[str, ...]
    chain: EvmChain

    @property
    def key(self) -> str:
        return chain_key(self.chain)


class WatchStatus:
    def __init__(self, *, store: Store, evm: EvmSettings, settings: WatcherSettings) -> None:
        self.store = store
        self.settings = settings
        chains: dict[str, WatchedChain] = {}
        for pair, config in sorted(evm.pairs.items()):
            key = chain_key(config.chain)
            known = chains.get(key)
            pairs = (*known.pairs, pair) if known else (pair,)
            chains[key] = WatchedChain(pairs, config.chain)
        self.chains = chains
        self._by_pair = {pair: key for key, watched in chains.items() for pair in watched.pairs}

    def chains_status(self, now: int) -> list[dict[str, Any]]:
        with self.store.read() as uow:
            checkpoints = {c.chain_key: c for c in uow.chain_watch.checkpoints()}
            sightings = {key: uow.chain_watch.sightings(key) for key in self.chains}
        return [
            self._chain(watched, checkpoints.get(key), sightings[key], now)
            for key, watched in self.chains.items()
        ]

    def for_order(self, order: Order, now: int) -> dict[str, Any] | None:
        """The order's chain's watcher, and what it saw of the order's lock that is not
        final yet (None for a pair with no watched chain)."""
        key = self._by_pair.get(order.pair)
        if key is None:
            return None
        hashlock = "0x" + order.htlc_hash if order.htlc_hash else None
        lock_id = order.quote_lock.lock_id if order.quote_lock else None
        with self.store.read() as uow:
            checkpoint = uow.chain_watch.checkpoint(key)
            seen = uow.chain_watch.sightings(key)
        mine = [s for s in seen if (hashlock and s.hashlock == hashlock) or s.lock_id == lock_id]
        return self._chain(self.chains[key], checkpoint, mine, now, leases=False)

    def _chain(
        self,
        watched: WatchedChain,
        checkpoint: Checkpoint | None,
        sightings: list[Sighting],
        now: int,
        *,
        leases: bool = True,
    ) -> dict[str, Any]:
        view: dict[str, Any] = {
            "chain_id": watched.chain.chain_id,
            "htlc_contract": watched.chain.htlc_contract,
            "pairs": list(watched.pairs),
            "finality_confirmations": watched.chain.finality_confirmations,
            "enabled": self.settings.enabled,
            "checkpoint_block": checkpoint.block.number if checkpoint else None,
            "checkpoint_hash": checkpoint.block.hash if checkpoint else None,
            "head_block": checkpoint.head_number if checkpoint else None,
            "lag_blocks": checkpoint.lag if checkpoint else None,
            "last_poll_at": checkpoint.head_seen_at if checkpoint else None,
            "seconds_since_poll": max(0, now - checkpoint.head_seen_at) if checkpoint else None,
            "rewinds": checkpoint.reorgs if checkpoint else 0,
            "sightings": [_sighting(s, checkpoint) for s in sightings],
        }
        if leases:
            holding = Lease(self.store, lease_name(watched.chain), ttl_seconds=1).holding()
            view["lease_holder"] = holding.holder if holding else None
        return view


def _sighting(s: Sighting, checkpoint: Checkpoint | None) -> dict[str, Any]:
    head = checkpoint.head_number if checkpoint else s.block_number
    return {
        "kind": s.kind,
        "lock_id": s.lock_id,
        "tx_hash": s.tx_hash,
        "block_number": s.block_number,
        "confirmations": head - s.block_number + 1,
    }


def chain_lines(view: Mapping[str, Any]) -> list[str]:
    """A chain's status in plain words (the CLI's text output)."""
    pairs = ", ".join(view["pairs"])
    if view["checkpoint_block"] is None:
        state = "not started yet (no worker has polled it)"
    else:
        state = (
            f"checkpoint block {view['checkpoint_block']}, head {view['head_block']}, "
            f"lag {view['lag_blocks']} block(s) (finality {view['finality_confirmations']}), "
            f"last poll {view['seconds_since_poll']}s ago, rewinds {view['rewinds']}"
        )
    lines = [f"chain {view['chain_id']} ({pairs}), HTLC {view['htlc_contract']}: {state}"]
    if not view["enabled"]:
        lines.append("  the watcher is off (OTC_WATCHER_DISABLED): the driver alone settles")
    if "lease_holder" in view:
        lines.append(f"  lease: {view['lease_holder'] or 'free (no worker is watching now)'}")
    for s in view["sightings"]:
        lines.append(
            f"  seen, not final: {s['kind']} {s['lock_id']} in block {s['block_number']} "
            f"({s['confirmations']} confirmation(s)), tx {s['tx_hash']}"
        )
    return lines
