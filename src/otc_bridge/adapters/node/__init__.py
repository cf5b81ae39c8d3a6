"""Adapter for the RustChain node's HTTP API (see `client.NodeClient`)."""

from otc_bridge.adapters.node.client import NodeClient
from otc_bridge.adapters.node.config import NodeConfig
from otc_bridge.adapters.node.models import (
    CreatedJob,
    Job,
    JobStatus,
    PendingItem,
    StepDone,
    TransferReceipt,
    TxPhase,
    TxState,
    TxStatus,
)
from otc_bridge.adapters.node.results import NodeResult, Ok, Rejected, Unknown

__all__ = [
    "CreatedJob",
    "Job",
    "JobStatus",
    "NodeClient",
    "NodeConfig",
    "NodeResult",
    "Ok",
    "PendingItem",
    "Rejected",
    "StepDone",
    "TransferReceipt",
    "TxPhase",
    "TxState",
    "TxStatus",
    "Unknown",
]
