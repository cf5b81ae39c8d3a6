"""The README, walked as a new user walks it: a devnet started as `make run` starts it
(the runner in a subprocess, on free ports, with its own DEVNET_DIR), the README's Python
quick start pasted into Python, then every operator command the README lists, run in a
shell pointed at the devnet by `eval "$(otc-bridge devnet env)"`.

Nothing here knows what the README says beyond its shape: the ```python blocks run in
order in one session (`print(...)  # shown` lines must print what their comment shows),
and every `otc-bridge …` line of a ```sh block runs (`<order_id>` is the quick start's
order), except those that start a process or configure a production node. Each command
must say something, and what it says must fit what it was asked.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from otc_bridge.devnet.devnet_process import SETTING_PREFIXES, DevnetProcess

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
VENV_BIN = Path(sys.executable).parent
COMPLETION_SECONDS = 90.0  # the README says ~10 s; the devnet here confirms after 1 s
STARTS_A_PROCESS = re.compile(r"^otc-bridge (serve|worker|devnet|devnode)\b")


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README.read_text(), re.M | re.S)


def shown_prints(code: str) -> list[str]:
    """What the README says its prints show: the comment after a print(...) statement."""
    expected = []
    for statement in re.findall(r"^print\(.*?\)\s*#\s*(\S+)\s*$", code, re.M | re.S):
        expected.append(statement)
    return expected


def localised(code: str, devnet: DevnetProcess) -> str:
    return (
        code.replace("http://127.0.0.1:5580", devnet.url)
        .replace("http://127.0.0.1:8099", devnet.node_url)
        .replace("http://127.0.0.1:8545", devnet.chain_url)
    )


def operator_lines() -> list[str]:
    lines = []
    for block in blocks("sh"):
        for line in block.splitlines():
            command = line.split("#")[0].strip()
            if command.startswith("otc-bridge ") and not STARTS_A_PROCESS.match(command):
                lines.append(command)
    return lines


def wait_for_status(url: str, order_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + COMPLETION_SECONDS
    with httpx.Client(base_url=url, timeout=10) as http:
        while True:
            order: dict[str, Any] = http.get(f"/api/orders/{order_id}").json()["order"]
            if order["status"] == status or time.monotonic() > deadline:
                return order
            time.sleep(0.5)  # polling what the README tells the user to poll


def shell(command: str, home: Path, devnet: DevnetProcess) -> subprocess.CompletedProcess[str]:
    """`command` in a fresh shell of a user who has nothing set but the devnet's env."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(SETTING_PREFIXES) and k not in {"USER", "LOGNAME"}
    }
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["DEVNET_DIR"] = str(devnet.state_dir)
    script = f'eval "$(otc-bridge devnet env)" && {command}'
    return subprocess.run(
        ["bash", "-c", script],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def check_command(command: str, ran: subprocess.CompletedProcess[str], order_id: str) -> None:
    said = f"{command!r} -> {ran.returncode}\nstdout: {ran.stdout}\nstderr: {ran.stderr}"
    assert ran.stdout.strip() or ran.stderr.strip(), f"silent: {said}"
    args = command.split()[1:]
    if args[:2] == ["orders", "list"]:
        assert ran.returncode == 0, said
        assert re.search(r"(order\(s\)|No orders) in \w+ \(database sqlite:", ran.stdout), said
        if "completed" in args:
            assert order_id in ran.stdout, said
    elif args[:2] == ["orders", "explain"]:
        assert ran.returncode == 0, said
        assert f"{order_id}: completed" in ran.stdout, said
        assert "history:" in ran.stdout, said
    elif args[:2] == ["orders", "resolve"]:
        assert ran.returncode == 2, said  # the quick start's order settled by itself
        assert "only settlement_recovery orders are resolved by hand" in ran.stderr, said
    elif args[:2] == ["alerts", "list"]:
        assert ran.returncode == 0, said
        assert re.search(r"(alert\(s\)|No alerts) \(database sqlite:", ran.stdout), said
    elif args[:1] == ["reconcile"]:
        # The devnet's own reconciler passes every 3 s: this one may find its lease held.
        assert ran.returncode in {0, 3}, said
        done = ran.stdout.startswith("Reconcile pass done in ")
        assert done or ran.stdout.startswith("No pass was made: another process holds"), said
    else:
        assert ran.returncode == 0, said


@pytest.mark.timeout(600)
def test_the_readme_quick_start_and_its_operator_commands(tmp_path: Path) -> None:
    home = tmp_path / "home"  # where the user's shell runs: nothing may appear in it
    home.mkdir()
    env = {"RC_CONFIRMATION_DELAY_SECONDS": "1"}
    with DevnetProcess(tmp_path / "devnet", env=env) as devnet:
        banner = devnet.log_path.read_text()
        assert f"{devnet.url}   (the page: /, API docs: /docs" in banner
        assert 'eval "$(otc-bridge devnet env)"' in banner
        for name in ("OTC_DATABASE_URL", "RUSTCHAIN_NODE", "RC_ADMIN_KEY", "OTC_DATA_DIR",
                     "OTC_CLOCK_FILE", "OTC_EVM_RPC_URL"):  # fmt: skip
            assert f"export {name}=" in banner, name

        session: dict[str, Any] = {}
        printed = io.StringIO()
        expected: list[str] = []
        python = blocks("python")
        assert python, "the README has a Python quick start"
        for code in python:
            expected += shown_prints(code)
            with contextlib.redirect_stdout(printed):
                exec(compile(localised(code, devnet), str(README), "exec"), session)  # noqa: S102
        assert printed.getvalue().split() == expected

        order_id = session["order"]["order_id"]
        order = wait_for_status(devnet.url, order_id, "completed")
        assert order["status"] == "completed", order
        assert order["htlc_secret"], "the now public htlc_secret"
        # The quick start's quote leg was a real lock the bridge verified on the dev chain.
        assert order["quote_lock"] is not None, order
        causes = [e["cause"] for e in httpx.get(f"{devnet.url}/api/orders/{order_id}/events")
                  .json()["events"]]  # fmt: skip
        assert causes.index("lock_verified") < causes.index("confirm"), causes

        commands = operator_lines()
        assert any(c.startswith("otc-bridge orders explain") for c in commands)
        for command in commands:
            line = command.replace("<order_id>", order_id)
            check_command(line, shell(line, home, devnet), order_id)
    assert list(home.iterdir()) == [], "an operator command created files where it ran"
