"""The shared test vectors: fresh from the Python domain code, and reproduced byte for
byte by the page's JavaScript modules (`web/test/*.test.ts`, run by node's test runner)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.vectors import generate

WEB = Path(__file__).resolve().parents[2] / "web"


def test_vectors_are_fresh() -> None:
    assert generate.PATH.read_text() == generate.render(), (
        "tests/vectors/wallet_auth.json is stale: run `.venv/bin/python -m tests.vectors.generate`"
    )


def test_vectors_cover_the_edge_cases_the_page_meets() -> None:
    data = generate.vectors()
    cases = data["wallet_auth"]
    assert any("htlc_hash" in c["bound"] for c in cases)
    assert any(c["action"] == "match_order" and "htlc_hash" not in c["bound"] for c in cases)
    assert any(not c["wallet"].isascii() for c in cases)
    assert any(c["wallet"] != c["canonical_wallet"] for c in cases)  # upper-case hex
    assert any("\\u" in c["message"] for c in cases)  # escaped non-ASCII in the signed bytes
    hashes = [o["typed"]["htlc_hash"] for o in data["create_orders"]]
    assert any(h and h.isupper() for h in hashes)  # the page lower-cases what it signs


def test_the_page_modules_reproduce_the_vectors() -> None:
    npm = shutil.which("npm")
    assert npm is not None, "npm is required (Node.js): the page's modules are tested with node"
    assert (WEB / "node_modules").is_dir(), "web/node_modules is missing: run `make web`"
    run = subprocess.run(
        [npm, "test", "--silent"], cwd=WEB, capture_output=True, text=True, timeout=300
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    passed = re.search(r"^# pass (\d+)$", output, re.MULTILINE)
    failed = re.search(r"^# fail (\d+)$", output, re.MULTILINE)
    assert passed is not None, output
    assert failed is not None, output
    assert int(failed.group(1)) == 0, output
    assert int(passed.group(1)) >= 30, output  # the suites ran, not an empty glob
