"""docs/trader-cli.md's devnet walkthrough, pasted into bash as a user pastes it: the real
`otc` console script in subprocesses, both parties in one shell, against anvil, the
devnode and the bridge (their URLs put in place of `make run`'s)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.trader.conftest import Stack

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "trader-cli.md"
VENV_BIN = Path(sys.executable).parent
RTC = 10**6


def walkthrough() -> str:
    text = GUIDE.read_text()
    section = text.split("## A whole swap on the devnet", 1)[1]
    found = re.search(r"^```sh\n(.*?)^```", section, re.M | re.S)
    assert found is not None, "the walkthrough block is missing"
    return found.group(1)


def test_the_guide_s_walkthrough_swaps_10_rtc_for_eth(stack: Stack, tmp_path: Path) -> None:
    script = walkthrough().replace("http://127.0.0.1:8099", stack.node.url)
    accounts = set(re.findall(r"OTC_EVM_ACCOUNT=(0x[0-9a-fA-F]{40})", script))
    assert accounts <= set(stack.chain.info.accounts)  # the devnet's own accounts
    env = {
        "PATH": f"{VENV_BIN}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "OTC_BRIDGE_URL": stack.bridge.url,
        "OTC_NODE_URL": stack.node.url,
        "LANG": os.environ.get("LANG", "C.UTF-8"),
    }
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, (done.stdout, done.stderr)
    order_id = re.findall(r"(otc_[0-9a-f]{16}) ended: completed", done.stdout)
    assert len(order_id) == 1, done.stdout
    order = stack.bridge.client.order(order_id[0])
    assert order["status"] == "completed"
    assert order["amount_micro_rtc"] == 10 * RTC
    buyer = order["taker_wallet"]
    assert stack.devnet.balance_i64(buyer) == 10 * RTC  # the devnode's ledger
    assert re.search(r"^RTC\s+10\s", done.stdout, re.M)  # what `buyer balance` printed
