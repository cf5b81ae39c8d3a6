"""`make run` (`otc-bridge devnet`) starts a devnode and an anvil chain of its own: when
the runner dies, however it dies, they stop too, leaving no process holding the devnet's
ports (a killed runner used to leave both running, orphaned)."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from otc_bridge.devnet.devnet_process import DevnetProcess


@pytest.mark.timeout(300)
def test_the_devnode_and_chain_stop_with_a_killed_runner(tmp_path: Path) -> None:
    with DevnetProcess(tmp_path / "devnet", env={}) as devnet:
        assert devnet.pid is not None
        children = psutil.Process(devnet.pid).children()
        names = " ".join(" ".join(c.cmdline()) for c in children)
        assert "anvil" in names
        assert "devnode" in names
        devnet.kill()  # SIGKILL: no handler of the runner's runs
        _gone, alive = psutil.wait_procs(children, timeout=60)
        assert alive == []
