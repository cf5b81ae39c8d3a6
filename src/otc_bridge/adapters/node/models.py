"""Typed views of the node's payloads, with money as integer µRTC."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from otc_bridge.domain.rustchain import transfer_i64


class JobStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    DISPUTED = "disputed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def holds_escrow(self) -> bool:
        """Whether the poster's RTC still sits in `agent_escrow` in this state."""
        return self in _HOLDING


_HOLDING = frozenset({JobStatus.OPEN, JobStatus.CLAIMED, JobStatus.DELIVERED, JobStatus.DISPUTED})


class TxPhase(StrEnum):
    """A transfer's status as `/wallet/transfer` reports it (`phase`)."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    VOIDED = "voided"


class TxState(StrEnum):
    """A transfer's status as `/wallet/tx/<hash>` reports it."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    FAILED = "failed"  # a voided row
    NOT_FOUND = "not_found"


def _int(value: Any, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _opt_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class Job:
    job_id: str
    status: JobStatus
    poster_wallet: str
    worker_wallet: str | None
    reward_i64: int | None
    escrow_i64: int | None
    platform_fee_i64: int | None
    created_at: int | None
    expires_at: int | None
    title: str | None = None

    @classmethod
    def from_node(cls, raw: dict[str, Any]) -> Job:
        """Parse a job from `GET /agent/jobs/<id>` (full) or a list item (no i64 fields)."""
        return cls(
            job_id=str(raw.get("job_id", "")),
            status=JobStatus(str(raw.get("status", ""))),
            poster_wallet=str(raw.get("poster_wallet", "")),
            worker_wallet=_opt_str(raw.get("worker_wallet")) or None,
            reward_i64=_opt_int(raw.get("reward_i64")),
            escrow_i64=_opt_int(raw.get("escrow_i64")),
            platform_fee_i64=_opt_int(raw.get("platform_fee_i64")),
            created_at=_opt_int(raw.get("created_at")),
            expires_at=_opt_int(raw.get("expires_at")),
            title=_opt_str(raw.get("title")),
        )


@dataclass(frozen=True, slots=True)
class CreatedJob:
    job_id: str
    expires_at: int
    reward_i64: int
    escrow_i64: int


@dataclass(frozen=True, slots=True)
class StepDone:
    """A job lifecycle step is in effect: by this call, or (resolved_by_read) earlier."""

    job_id: str
    status: JobStatus
    resolved_by_read: bool = False
    job: Job | None = None
    paid_i64: int | None = None  # accept: the reward the node actually paid


@dataclass(frozen=True, slots=True)
class TransferReceipt:
    phase: TxPhase
    tx_hash: str
    pending_id: int | None
    confirms_at: int | None
    replayed: bool

    @classmethod
    def from_node(cls, raw: dict[str, Any]) -> TransferReceipt:
        return cls(
            phase=TxPhase(str(raw.get("phase", "pending"))),
            tx_hash=str(raw.get("tx_hash", "")),
            pending_id=_opt_int(raw.get("pending_id")),
            confirms_at=_opt_int(raw.get("confirms_at")),
            replayed="already pending" in str(raw.get("message", "")),
        )


@dataclass(frozen=True, slots=True)
class TxStatus:
    tx_hash: str
    state: TxState
    confirmations: int = 0


@dataclass(frozen=True, slots=True)
class PendingItem:
    id: int
    from_miner: str
    to_miner: str
    amount_i64: int
    reason: str
    status: str
    tx_hash: str
    confirms_at: int | None
    voided_by: str | None
    voided_reason: str | None

    @classmethod
    def from_node(cls, raw: dict[str, Any]) -> PendingItem:
        return cls(
            id=_int(raw.get("id")),
            from_miner=str(raw.get("from_miner", "")),
            to_miner=str(raw.get("to_miner", "")),
            amount_i64=transfer_i64(raw.get("amount_rtc", 0)),
            reason=str(raw.get("reason", "")),
            status=str(raw.get("status", "")),
            tx_hash=str(raw.get("tx_hash", "")),
            confirms_at=_opt_int(raw.get("confirms_at")),
            voided_by=_opt_str(raw.get("voided_by")),
            voided_reason=_opt_str(raw.get("voided_reason")),
        )
