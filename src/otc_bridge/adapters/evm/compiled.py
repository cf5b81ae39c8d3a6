"""The compiled contracts this package ships (ABI + bytecode), as committed by
`scripts/build_contracts.mjs` into `artifacts/`.

    htlc = load_artifact("HTLC")
    htlc.abi, htlc.bytecode

A test rebuilds them from `contracts/` and fails if these files differ, so the ABI used
here is always the one of the source in the repository.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

HTLC = "HTLC"
DEV_USDC = "DevUSDC"


@dataclass(frozen=True, slots=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str  # 0x-prefixed creation code
    deployed_bytecode: str
    compiler: dict[str, Any]


def artifact_from_file(path: Path) -> Artifact:
    return _parse(json.loads(path.read_text(encoding="utf-8")))


@cache
def load_artifact(name: str) -> Artifact:
    """One of the shipped artifacts (`HTLC`, `DevUSDC`)."""
    text = resources.files(__package__).joinpath("artifacts", f"{name}.json").read_text("utf-8")
    return _parse(json.loads(text))


def _parse(data: dict[str, Any]) -> Artifact:
    return Artifact(
        name=data["contractName"],
        abi=data["abi"],
        bytecode=data["bytecode"],
        deployed_bytecode=data["deployedBytecode"],
        compiler=data["compiler"],
    )
