"""What a node call can come back with.

Every call ends in exactly one of three results, and the difference between the last two
is the whole point of this adapter:

* `Ok`: the node did what was asked (or had already done it, as a fresh read showed).
* `Rejected`: the node answered definitively and applied nothing (a validation error, a
  state conflict it reported, a rate limit it kept up past our budget). `retryable` says
  whether the same call may succeed later.
* `Unknown`: we cannot tell whether the node applied the call (a timeout, a dropped
  connection, a proxy's 5xx). Never treat this as failure: resolve it by reading the
  node's state before doing anything irreversible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar

from otc_bridge.adapters.node.models import Job

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Ok(Generic[T]):
    value: T


@dataclass(frozen=True, slots=True)
class Rejected:
    status: int
    error: str
    code: str | None = None
    retryable: bool = False
    retry_after: float | None = None
    job: Job | None = None
    body: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Unknown:
    reason: str
    request_id: str | None = None
    job: Job | None = None


NodeResult: TypeAlias = Ok[T] | Rejected | Unknown
