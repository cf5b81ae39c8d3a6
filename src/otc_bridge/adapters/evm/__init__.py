"""The EVM quote leg: settings (`config`), the reader the bridge verifies locks with
(`reader.EvmReader`), the writer clients lock, claim and refund with
(`writer.HtlcWriter`), and the shipped contract artifacts (`compiled`, reading `artifacts/`)."""

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
from otc_bridge.adapters.evm.writer import HtlcWriteError, HtlcWriter, LockMade, TxOutcome

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
