"""Fixtures for the crash suites, and the crash matrix's table.

* `chain`: one dev chain (anvil, the HTLC and DevUSDC deployed) per module and xdist
  worker; B locks the quote leg on it and the bridge verifies the lock from it.
* `node`, `devnet`, `bridge`: one devnode per module and xdist worker, whose clock moves
  the chain's (faults cleared and conservation asserted around each test); a fresh
  in-thread bridge per test, configured for the chain as `make run` configures it.
* `harness`: a fresh `otc-bridge serve` subprocess on a fresh database (copied from a
  migrated template) against that devnode and chain.

Each crash-matrix test attaches its table row to its report (`user_properties`, which
xdist carries to the controller). The table is printed in the terminal summary, whatever
`-s` says, and written as Markdown to `$OTC_WRITE_CRASH_TABLE` when set:

    OTC_WRITE_CRASH_TABLE=docs/crash-matrix.md .venv/bin/pytest -n 2 tests/crash

Under xdist the controller loads this conftest only when it is on the command line's
path (as above, or `tests/crash/test_crash_matrix.py`); in a whole-suite run the tests
still run and check everything, but the controller prints no table.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.devnet.process import DevnodeProcess
from tests.crash.scenarios import BOUNDARIES, SCENARIOS, Harness, migrated_template
from tests.quote.conftest import bridge, chain, node
from tests.support.fixtures import devnet

__all__ = ["bridge", "bridge_template", "chain", "devnet", "harness", "node"]

ROW = "crash_matrix_row"
_rows: list[dict[str, Any]] = []


@pytest.fixture(scope="module")
def bridge_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_template(tmp_path_factory.mktemp("template") / "bridge.sqlite3")


@pytest.fixture
def harness(
    node: DevnodeProcess,
    devnet: DevnetControl,
    chain: Devchain,
    tmp_path: Path,
    bridge_template: Path,
) -> Iterator[Harness]:
    running = Harness(node, devnet, chain, tmp_path / "bridge", bridge_template)
    try:
        yield running
    finally:
        running.close()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when != "call":
        return
    for name, value in report.user_properties:
        if name == ROW:
            _rows.append(json.loads(str(value)))


def _order(row: dict[str, Any]) -> tuple[int, int]:
    keys = list(SCENARIOS)
    scenario = keys.index(row["scenario"]) if row["scenario"] in keys else len(keys)
    listed = BOUNDARIES.get(row["scenario"], ())
    boundary = listed.index(row["boundary"]) + 1 if row["boundary"] in listed else 0
    return scenario, boundary


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


CASES = (
    "Each row is one case. The bridge runs as a real `otc-bridge serve` process on "
    "a fresh database against the devnode and a dev chain (anvil, the HTLC and "
    "DevUSDC deployed), with no embedded worker (forked from a process that "
    "imported the bridge once, then started as a cold one would be: "
    "tests/support/forked.py). It is killed with SIGKILL the n-th time it passes "
    "the boundary (`OTC_CRASH_AT=<name>#<n>`: before or after a node call or a "
    "quote-chain read, or after a commit). The HTTP call in flight loses its "
    "answer, and the test checks that the process died with -9 exactly there. It is "
    "then restarted without the crash setting. The clients carry on from the "
    "order's state as `GET /api/orders/{id}` shows it. A client re-issues its "
    "action only while the order still stands where it was before that action. A "
    "maker that lost a create answer looks for its order on the book. B locks the "
    "quote leg (1 USDC) on the chain once, lets its block become final and reports "
    "it (`POST /api/orders/{id}/lock`); S confirms once the order is "
    "`quote_locked`, or claims on the chain instead. Each wait is a devnet clock "
    "advance to the order's `next_action_at` (the chain's clock moves with it, and "
    "blocks are mined until its final view shows the new time), one node scheduler "
    "pass and `POST /admin/reconcile`. The sell and buy settlements crash at every "
    "boundary they pass; the later scenarios only at the boundaries that are theirs "
    "(the rest of their run is the same code as the rows above)."
)
CHECKS = (
    "Checks on every case: I1 (B paid exactly once, or not at all; one confirmed "
    "payout row, none queued), I2 (S debited amount + 5 % fee exactly once, or "
    "whole again; the fee wallet and `otc_bridge_worker` moved by exactly that), I3 "
    "(no order read, confirm answer or history shows the preimage before "
    "`completed`; it is readable once completed), I4 (S's escrow moved towards B "
    "only after B's lock was verified: `quote_locked` by `lock_verified` before "
    "`settling`, the order holding that lock; B's and S's USDC on the chain exactly "
    "what the trade left), I7 (the order reaches the expected end state with no "
    "operator), the hash chain of every order's history, and the devnode's "
    "conservation checks. *Dead leader's lease taken over*: the crash hit a "
    "reconcile pass, so the dead process still held the reconciler lease; the "
    "restarted process (same host) took it over at once instead of waiting "
    "`OTC_RECONCILE_LEASE_SECONDS` out."
)


def _paragraph(text: str) -> list[str]:
    """`text` wrapped at 86 columns, never inside a code span."""
    kept = re.sub(r"`[^`]*`", lambda span: span.group(0).replace(" ", "\0"), text)
    lines = textwrap.wrap(kept, width=86, break_long_words=False, break_on_hyphens=False)
    return [line.replace("\0", " ") for line in lines]


def render_markdown(rows: list[dict[str, Any]]) -> str:
    rows = sorted(rows, key=_order)
    lines = [
        "# Crash matrix",
        "",
        "Generated by `tests/crash/test_crash_matrix.py`; do not edit by hand. Regenerate with",
        "",
        "    OTC_WRITE_CRASH_TABLE=docs/crash-matrix.md .venv/bin/pytest -n 2 tests/crash",
        "",
        *_paragraph(CASES),
        "",
        *_paragraph(CHECKS),
        "",
    ]
    for key, group in itertools.groupby(rows, key=lambda row: str(row["scenario"])):
        scenario = SCENARIOS.get(key)
        lines += [
            f"## {key}: {scenario.title if scenario else key}",
            "",
            f"Expected end state: `{scenario.expected if scenario else '?'}`.",
            "",
            "| # | boundary | answer lost | outcome | checks |",
            "|---|---|---|---|---|",
        ]
        for number, row in enumerate(group, start=1):
            lines.append(
                f"| {number} | `{row['boundary']}` | {row['crashed_in']} "
                f"| {_cell(row['outcome'])} | {_cell(', '.join(row['checks']))} |"
            )
        lines.append("")
    return "\n".join(lines)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or not _rows:
        return
    table = render_markdown(_rows)
    terminalreporter.section("crash matrix")
    for line in table.splitlines():
        terminalreporter.write_line(line)
    target = os.environ.get("OTC_WRITE_CRASH_TABLE")
    if target:
        Path(target).write_text(table)
        terminalreporter.write_line(f"crash matrix written to {target}")
