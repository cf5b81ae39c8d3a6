"""The committed ABI and bytecode are exactly what the pinned compiler makes of contracts/.

Rebuilds everything into a temporary folder with `scripts/build_contracts.mjs` (the npm
solc that package-lock.json pins) and compares byte for byte. After editing a contract,
run `make contracts` and commit the artifacts with the source.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from otc_bridge.adapters.evm.compiled import DEV_USDC, HTLC, load_artifact

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = Path("src/otc_bridge/adapters/evm/artifacts")
TEST_ONLY = Path("tests/contracts/artifacts")


def pinned_version(package: str) -> str:
    lock = json.loads((ROOT / "package-lock.json").read_text())
    version: str = lock["packages"][f"node_modules/{package}"]["version"]
    return version


def test_committed_artifacts_match_a_fresh_build(tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node is not None, "node is required to rebuild the contracts (see the Makefile)"
    assert (ROOT / "node_modules" / "solc").is_dir(), "run `make node_modules/.installed` first"
    subprocess.run(
        [node, "scripts/build_contracts.mjs", "--out-root", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    for folder in (SHIPPED, TEST_ONLY):
        fresh = {p.name: p.read_bytes() for p in (tmp_path / folder).glob("*.json")}
        committed = {p.name: p.read_bytes() for p in (ROOT / folder).glob("*.json")}
        assert sorted(committed) == sorted(fresh), f"{folder}: artifact set differs"
        stale = [name for name in fresh if fresh[name] != committed[name]]
        assert not stale, f"{folder}: {stale} differ from contracts/ (run `make contracts`)"


def test_shipped_artifacts_name_the_pinned_compiler_and_fork() -> None:
    for name in (HTLC, DEV_USDC):
        compiler = load_artifact(name).compiler
        assert compiler["solc"].startswith(pinned_version("solc") + "+")
        assert compiler["evmVersion"] == "cancun"
        assert compiler["optimizer"] == {"enabled": True, "runs": 200}


def test_contracts_import_the_pinned_openzeppelin() -> None:
    assert pinned_version("@openzeppelin/contracts") == "5.7.0"
    assert pinned_version("@foundry-rs/anvil") == "1.7.1"
    package = json.loads((ROOT / "package.json").read_text())
    for name, version in package["devDependencies"].items():
        assert version == pinned_version(name), f"{name} is not pinned exactly"
