"""One HTTP exchange with the node, reduced to a reply or a lost exchange.

Only transport concerns live here: timeouts, JSON-or-not bodies, request ids, and the
admin rate limiter's 429, which is waited out (Retry-After) within a budget because the
node applies nothing to a request it rate-limits, and which paces the admin calls that
follow it until its Retry-After has run out.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import httpx

RATE_LIMIT_CODE = "ADMIN_RATE_LIMIT"


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: dict[str, Any] | None  # the JSON object body, None for HTML or non-object JSON
    text: str
    request_id: str
    retry_after: float | None = None

    @property
    def is_json(self) -> bool:
        return self.body is not None

    @property
    def error(self) -> str:
        if self.body is None:
            return self.text[:200]
        value = self.body.get("error", "")
        return value if isinstance(value, str) else str(value)

    @property
    def code(self) -> str | None:
        if self.body is None:
            return None
        value = self.body.get("code")
        return value if isinstance(value, str) else None

    @property
    def is_admin_rate_limit(self) -> bool:
        return self.status == 429 and self.code == RATE_LIMIT_CODE


@dataclass(frozen=True, slots=True)
class Lost:
    """No usable reply: the node may or may not have applied the request."""

    reason: str
    request_id: str


@dataclass(frozen=True, slots=True)
class CallRecord:
    """What an observer (metrics, logs) learns about each exchange."""

    method: str
    route: str
    outcome: str  # "2xx", "4xx", "5xx", "rate_limited", "lost"
    seconds: float


Observer = Callable[[CallRecord], None]


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


def _outcome(reply: Reply | Lost) -> str:
    if isinstance(reply, Lost):
        return "lost"
    if reply.is_admin_rate_limit:
        return "rate_limited"
    return f"{reply.status // 100}xx"


class NodeTransport:
    def __init__(
        self,
        base_url: str,
        *,
        timeout_seconds: float,
        connect_timeout_seconds: float,
        verify: bool | str,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        observer: Observer | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout_seconds, connect=connect_timeout_seconds),
            verify=verify,
            transport=transport,
            follow_redirects=False,  # a redirected POST silently becomes a GET
            # Idle connections are dropped after 2 s, before a server's usual 5 s keep-alive
            # closes them: a request on a just-closed one is lost (the node may not have
            # seen it, and the step must then be re-read instead of known).
            limits=httpx.Limits(
                max_connections=64, max_keepalive_connections=32, keepalive_expiry=2.0
            ),
        )
        self._sleep = sleep
        self._monotonic = monotonic
        self._observer = observer
        # The admin limiter's last 429 and when its Retry-After runs out, on the bridge's
        # clock: the clock its orders are rescheduled by (on a devnet it jumps with the
        # devnode's, and so does the node's limiter window). No clock: no pacing.
        self._clock = clock
        self._admin_closed: tuple[float, Reply | None] = (0.0, None)

    def close(self) -> None:
        self._client.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        route: str,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        rate_limit_budget: float = 0.0,
        admin: bool = False,
    ) -> Reply | Lost:
        """Send once, waiting out admin 429s while `rate_limit_budget` seconds allow. An
        `admin` call made while the limiter's last Retry-After still runs is not sent:
        it waits the rest out within its budget, or answers that 429 at once (with the
        time left) so the caller reschedules without spending a request the node would
        refuse (a reconciler pass over many orders otherwise sends one per order)."""
        deadline = self._monotonic() + rate_limit_budget
        if admin:
            paced = self._paced(deadline)
            if paced is not None:
                return paced
        while True:
            reply = self._send(method, path, route=route, json=json, params=params, headers=headers)
            if not (isinstance(reply, Reply) and reply.is_admin_rate_limit):
                return reply
            wait = reply.retry_after if reply.retry_after is not None else 1.0
            if admin and self._clock is not None:
                self._admin_closed = (self._clock() + wait, reply)
            if self._monotonic() + wait > deadline:
                return reply
            self._sleep(wait)

    def _paced(self, deadline: float) -> Reply | None:
        """None once the admin limiter's last Retry-After has run out (waiting for it
        when the budget allows), else its 429 with the seconds left."""
        until, refused = self._admin_closed
        if refused is None or self._clock is None:
            return None
        left = until - self._clock()
        if left <= 0:
            return None
        if self._monotonic() + left <= deadline:
            self._sleep(left)
            return None
        return replace(refused, retry_after=float(math.ceil(left)))

    def _send(
        self,
        method: str,
        path: str,
        *,
        route: str,
        json: Mapping[str, Any] | None,
        params: Mapping[str, str | int] | None,
        headers: Mapping[str, str] | None,
    ) -> Reply | Lost:
        request_id = uuid.uuid4().hex
        if not self._client.base_url.host:
            return Lost("no node is named: RUSTCHAIN_NODE is not set", request_id)
        all_headers = {"X-Request-Id": request_id, **(headers or {})}
        started = self._monotonic()
        result: Reply | Lost
        try:
            response = self._client.request(
                method, path, json=json, params=params, headers=all_headers
            )
        except httpx.TimeoutException as exc:
            result = Lost(f"timeout: {type(exc).__name__}", request_id)
        except httpx.TransportError as exc:
            result = Lost(f"transport: {type(exc).__name__}: {exc}", request_id)
        else:
            body: dict[str, Any] | None = None
            if "json" in response.headers.get("content-type", ""):
                try:
                    parsed = response.json()
                except ValueError:
                    parsed = None
                body = parsed if isinstance(parsed, dict) else None
            result = Reply(
                status=response.status_code,
                body=body,
                text=response.text,
                request_id=response.headers.get("x-request-id", request_id),
                retry_after=_retry_after(response),
            )
        if self._observer is not None:
            self._observer(CallRecord(method, route, _outcome(result), self._monotonic() - started))
        return result
