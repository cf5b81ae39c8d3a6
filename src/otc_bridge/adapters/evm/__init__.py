"""The EVM quote leg: settings (`config`), the reader the bridge verifies locks with
(`reader.EvmReader`), the writer clients lock, claim and refund with
(`writer.HtlcWriter`), and the shipped contract artifacts (`compiled`, reading `artifacts/`).

The writer's names are imported from here on first use only: `writer` imports web3.py
(over a second of CPU), which a bridge process without EVM pairs never needs, and one
with them only once it reads its chain (`EvmReader` connects on its first read).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from otc_bridge.adapters.evm.config import EvmChain, EvmPairConfig, EvmSettings, from_env
from otc_bridge.adapters.evm.reader import EvmReader
from otc_bridge.adapters.evm.results import (
    BlockRef,
    ChainHealth,
    ClaimedEvent,
    Found,
    HtlcEvent,
    LockedEvent,
    LockResult,
    LockSighting,
    LogPosition,
    Missing,
    NotFinal,
    Ok,
    OnChainLock,
    RefundedEvent,
    Unreachable,
)

if TYPE_CHECKING:
    from otc_bridge.adapters.evm.writer import HtlcWriteError, HtlcWriter, LockMade, TxOutcome

_WRITER_NAMES = frozenset({"HtlcWriteError", "HtlcWriter", "LockMade", "TxOutcome"})


def __getattr__(name: str) -> Any:
    if name in _WRITER_NAMES:
        return getattr(import_module("otc_bridge.adapters.evm.writer"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BlockRef",
    "ChainHealth",
    "ClaimedEvent",
    "EvmChain",
    "EvmPairConfig",
    "EvmReader",
    "EvmSettings",
    "Found",
    "HtlcEvent",
    "HtlcWriteError",
    "HtlcWriter",
    "LockMade",
    "LockResult",
    "LockSighting",
    "LockedEvent",
    "LogPosition",
    "Missing",
    "NotFinal",
    "Ok",
    "OnChainLock",
    "RefundedEvent",
    "TxOutcome",
    "Unreachable",
    "from_env",
]
