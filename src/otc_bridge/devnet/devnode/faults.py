"""Injected faults (node spec §6.2), matched per request by method and path glob.

A fault is created with `POST /devnet/faults`:
`{"endpoint": "[METHOD ]/path/glob", "kind": ..., "times": 1, "skip": 0, ...}`. Matching
requests first use up `skip` (they pass untouched), then the next `times` requests get the
fault. At most one fault applies to a request: the oldest active match.

Kinds, and what the handler does under them:
* before the handler, nothing applied: `html_500`, `json_500`, `rate_limit` (429 with
  `Retry-After: retry_after`), `state_race` (409 STATE_RACE);
* after the handler has run and committed: `drop` (`drop_mode` "close": the status line
  and headers go out, then the connection closes before the body; "hang": nothing is sent
  for `delay_seconds` or until the client goes away, then the connection closes), `delay`
  (the real reply after `delay_seconds`), `gateway_error` (nginx's HTML 502 or 504), `void`
  (a newly queued pending row is voided as an admin would; the reply is the normal one).

Faults live in memory (a restart clears them). The nginx page of `gateway_error` carries no
`X-Request-Id`, since the node never produced that answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from otc_bridge.devnet.devnode.admin import rate_limited
from otc_bridge.devnet.devnode.settings import Settings
from otc_bridge.devnet.devnode.wire import (
    Reply,
    internal_error_html,
    internal_error_json,
    json_reply,
)

STATE_RACE_ERROR = "Job state changed under concurrent request — please retry"

BEFORE_HANDLER = frozenset({"html_500", "json_500", "rate_limit", "state_race"})
AFTER_HANDLER = frozenset({"drop", "delay", "gateway_error", "void"})
KINDS = BEFORE_HANDLER | AFTER_HANDLER
MAX_DELAY_SECONDS = 3600.0

ASGISend = Callable[[dict[str, Any]], Awaitable[None]]
ASGIReceive = Callable[[], Awaitable[dict[str, Any]]]


class FaultSpecError(ValueError):
    """A `POST /devnet/faults` body that does not describe a fault."""


def state_race() -> Reply:
    return json_reply({"error": STATE_RACE_ERROR, "code": "STATE_RACE"}, 409)


@dataclass
class Fault:
    id: int
    endpoint: str
    method: str | None
    path_glob: str
    kind: str
    times: int
    skip: int
    remaining: int
    skip_remaining: int
    hits: int = 0
    delay_seconds: float = 0.0
    drop_mode: str = "close"
    status: int = 502
    retry_after: int = 1
    voided_by: str = "admin"
    reason: str = "admin_void"

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return fnmatch.fnmatchcase(path, self.path_glob)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "endpoint": self.endpoint,
            "method": self.method,
            "path": self.path_glob,
            "kind": self.kind,
            "times": self.times,
            "skip": self.skip,
            "remaining": self.remaining,
            "skip_remaining": self.skip_remaining,
            "hits": self.hits,
            "active": self.remaining > 0,
        }
        if self.kind == "drop":
            out.update(drop_mode=self.drop_mode, delay_seconds=self.delay_seconds)
        elif self.kind == "delay":
            out["delay_seconds"] = self.delay_seconds
        elif self.kind == "gateway_error":
            out["status"] = self.status
        elif self.kind == "rate_limit":
            out["retry_after"] = self.retry_after
        elif self.kind == "void":
            out.update(voided_by=self.voided_by, reason=self.reason)
        return out

    def reply_instead(self, settings: Settings) -> Reply:
        """The answer of a before-handler fault."""
        if self.kind == "html_500":
            return internal_error_html()
        if self.kind == "json_500":
            return internal_error_json()
        if self.kind == "rate_limit":
            return rate_limited(settings, self.retry_after)
        return state_race()


def _int_field(spec: Mapping[str, Any], name: str, default: int, minimum: int) -> int:
    value = spec.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise FaultSpecError(f"{name} must be an integer >= {minimum}")
    return value


def _seconds_field(spec: Mapping[str, Any], name: str, default: float) -> float:
    value = spec.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FaultSpecError(f"{name} must be a number of seconds")
    if not 0 <= value <= MAX_DELAY_SECONDS:
        raise FaultSpecError(f"{name} must be between 0 and {MAX_DELAY_SECONDS:g}")
    return float(value)


def _str_field(spec: Mapping[str, Any], name: str, default: str) -> str:
    value = spec.get(name, default)
    if not isinstance(value, str):
        raise FaultSpecError(f"{name} must be a string")
    return value


def parse_endpoint(endpoint: object) -> tuple[str | None, str]:
    """`"POST /agent/jobs/*/accept"` → ("POST", glob); `"/pending/*"` → (None, glob)."""
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise FaultSpecError("endpoint must be a string like 'POST /wallet/transfer'")
    head, _, rest = endpoint.strip().partition(" ")
    method, glob = (head, rest.strip()) if rest and head.isalpha() else (None, head)
    if method is not None and not method.isupper():
        raise FaultSpecError("the method in endpoint must be upper case")
    if not glob.startswith("/"):
        raise FaultSpecError("the path in endpoint must start with '/'")
    return method, glob


class FaultRegistry:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._next_id = 1

    def add(self, spec: object) -> Fault:
        if not isinstance(spec, dict):
            raise FaultSpecError("JSON object required")
        method, glob = parse_endpoint(spec.get("endpoint"))
        kind = spec.get("kind")
        if kind not in KINDS:
            raise FaultSpecError(f"kind must be one of: {sorted(KINDS)}")
        times = _int_field(spec, "times", 1, 1)
        skip = _int_field(spec, "skip", 0, 0)
        fault = Fault(
            id=self._next_id,
            endpoint=spec["endpoint"].strip(),
            method=method,
            path_glob=glob,
            kind=kind,
            times=times,
            skip=skip,
            remaining=times,
            skip_remaining=skip,
        )
        if kind == "drop":
            fault.drop_mode = _str_field(spec, "drop_mode", "close")
            if fault.drop_mode not in ("close", "hang"):
                raise FaultSpecError("drop_mode must be 'close' or 'hang'")
            fault.delay_seconds = _seconds_field(spec, "delay_seconds", 30.0)
        elif kind == "delay":
            fault.delay_seconds = _seconds_field(spec, "delay_seconds", 5.0)
        elif kind == "gateway_error":
            fault.status = _int_field(spec, "status", 502, 0)
            if fault.status not in (502, 504):
                raise FaultSpecError("status must be 502 or 504")
        elif kind == "rate_limit":
            fault.retry_after = _int_field(spec, "retry_after", 1, 1)
        elif kind == "void":
            fault.voided_by = _str_field(spec, "voided_by", "admin")
            fault.reason = _str_field(spec, "reason", "admin_void")
        self._faults.append(fault)
        self._next_id += 1
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The fault this request gets, with its counters updated; None if it passes."""
        for fault in self._faults:
            if fault.remaining <= 0 or not fault.matches(method, path):
                continue
            if fault.skip_remaining > 0:
                fault.skip_remaining -= 1
                continue
            fault.remaining -= 1
            fault.hits += 1
            return fault
        return None

    def list(self) -> list[dict[str, Any]]:
        return [fault.to_dict() for fault in self._faults]

    def remove(self, fault_id: int) -> bool:
        before = len(self._faults)
        self._faults = [fault for fault in self._faults if fault.id != fault_id]
        return len(self._faults) < before

    def clear(self) -> int:
        count = len(self._faults)
        self._faults = []
        return count


async def wait_for_disconnect(receive: ASGIReceive, timeout: float) -> bool:
    """True if the client went away within `timeout` seconds (the body was already read)."""

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(disconnected(), timeout)
        return True
    return False
