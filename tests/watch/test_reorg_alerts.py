"""Re-orgs past the watcher's finality depth, as operators see them in
`otc-bridge alerts list --json`: each re-org that replaced a block the watcher had acted
on alerts once, the second and every later one too (not only the first of the chain),
and the same re-org found again by a restarted worker adds none."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from otc_bridge.devnet.bridge_process import BridgeProcess
from otc_bridge.settlement.watch.follower import PollResult
from tests.settlement.conftest import otc_cli
from tests.support.forked import ForkedBridgeProcess
from tests.watch.conftest import Swaps

REORG = "quote chain re-organised past the watcher's finality depth"


def reorg_alerts(swaps: Swaps) -> list[dict[str, Any]]:
    """The re-org alerts as an operator lists them, oldest first."""
    done = otc_cli(swaps.env, "alerts", "list", "--json")
    assert done.returncode == 0, done.stderr
    return sorted(
        (a for a in json.loads(done.stdout) if a["title"] == REORG),
        key=lambda a: a["alert_id"],
    )


def checkpoint(swaps: Swaps) -> tuple[int, str, int]:
    """The chain's checkpoint: block number, block hash, re-orgs counted."""
    with swaps.bridge.container.store.read() as uow:
        (found,) = uow.chain_watch.checkpoints()
    return found.block.number, found.block.hash, found.reorgs


def deep_reorg(swaps: Swaps) -> tuple[int, str]:
    """Replace the last three blocks (the checkpoint's own among them, finality 2) and let
    the watcher find it; returns the replaced checkpoint block (number, old hash)."""
    number, old_hash, _ = checkpoint(swaps)
    swaps.devchain.control.reorg(3)
    results = [r.result for r in swaps.watch()]
    assert PollResult.REWOUND in results, results
    return number, old_hash


def test_every_deep_reorg_alerts_once_not_only_the_first(swaps: Swaps) -> None:
    swaps.devchain.control.mine(4)
    swaps.watch()
    assert reorg_alerts(swaps) == []

    first = deep_reorg(swaps)
    # The chain goes on, and is re-organised past finality again at the same height: a
    # distinct re-org (another block replaced) of the same chain.
    second = deep_reorg(swaps)
    assert second[0] == first[0]
    assert second[1] != first[1]
    swaps.devchain.control.mine(4)
    swaps.watch()
    third = deep_reorg(swaps)
    assert third[0] > first[0]
    assert checkpoint(swaps)[2] == 3

    alerts = reorg_alerts(swaps)
    assert [(a["fields"]["checkpoint"], a["fields"]["replaced_hash"]) for a in alerts] == [
        first,
        second,
        third,
    ]
    for alert in alerts:
        assert alert["level"] == "critical"
        assert alert["fields"]["chain_id"] == swaps.devchain.info.chain_id
        assert alert["fields"]["finality_confirmations"] == 2
        assert alert["fields"]["rewound_to"] < alert["fields"]["checkpoint"]


WORKER_ENV = {
    "OTC_RECONCILE_DISABLED": "1",
    "OTC_WATCHER_POLL_SECONDS": "0.2",
    "OTC_WATCHER_LEASE_SECONDS": "3",
    "OTC_LOG_FORMAT": "text",
}


def worker(swaps: Swaps, state: Path) -> BridgeProcess:
    """An `otc-bridge worker` of the bridge (same database, same chain)."""
    return ForkedBridgeProcess(state, env={**swaps.env, **WORKER_ENV}, command="worker")


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 90) -> None:
    """Poll an observable condition until it holds (a bounded loop, not a guess)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def test_a_reorg_found_again_after_a_restart_alerts_once(swaps: Swaps, tmp_path: Path) -> None:
    swaps.devchain.control.mine(4)
    swaps.watch()
    replaced, replaced_hash, _ = checkpoint(swaps)
    swaps.devchain.control.reorg(3)
    # A worker finds the re-org, alerts, and is killed before its rewind commits: the
    # checkpoint still names the replaced block, so the next worker finds it again.
    first = worker(swaps, tmp_path / "first")
    first.start(extra_env={"OTC_CRASH_AT": "watch.rewind_found"})
    try:
        assert first.wait(timeout=60) == -9, "the worker was not killed in its rewind"
    finally:
        first.kill()
    assert checkpoint(swaps) == (replaced, replaced_hash, 0)
    (alert,) = reorg_alerts(swaps)

    second = worker(swaps, tmp_path / "second").start()
    try:
        wait_for(lambda: checkpoint(swaps)[2] == 1, "the restarted worker's rewind")
    finally:
        second.stop()
    assert reorg_alerts(swaps) == [alert]
    assert (alert["fields"]["checkpoint"], alert["fields"]["replaced_hash"]) == (
        replaced,
        replaced_hash,
    )
