"""One HTTP exchange with the node, reduced to a reply or a lost exchange.

Only transport concerns live here: timeouts, JSON-or-not bodies, request ids, and the
admin rate limiter's 429, which is waited out (Retry-After) within a budget because the
node applies nothing to a request it rate-limits, and which paces the admin calls that
follow it until its Retry-After has run out. Once a 429 has told the node's limit and
window, an admin call that would exceed this process's own count of that window
(admin_window.py) is not sent either: it is answered as the node would answer it.

How a request travels. The settlement path is CPU-bound and makes 6 node requests per
order; through `httpx.Client` each cost about 800 µs of CPU, most of it in httpx's own
layers (request and URL models, auth/redirect wrappers, the response model) and in
httpcore's pure-Python h11 parsing. So production sends through `KeepAlivePool`
(http_pool.py), a small keep-alive pool of HTTP/1.1 connections driven by http11.py (one
`sendall` per request, the reply parsed by httptools' llhttp: about a sixth of that CPU,
where the standard library's `http.client`, used before, took a third;
`bench/node_transport.py`), chosen over `httpcore.ConnectionPool` used directly (about
half): it keeps everything the httpx client did, each property pinned by
tests/adapters/test_node_transport.py against real sockets:

* TLS: the same `ssl.SSLContext` httpx built from `verify` (True: certifi's bundle, or
  SSL_CERT_FILE / SSL_CERT_DIR; a CA bundle path: that file or directory; False: no
  check), host name checked, ALPN `http/1.1`; the handshake runs under the connect timeout.
* Timeouts: the connect timeout covers the TCP connect and the TLS handshake; the read
  timeout bounds every socket operation after it (each read and each write), as httpx's
  `Timeout(read, connect=...)` did; waiting for a free connection is bounded by it too.
* No redirect is followed (nothing here follows one: a 3xx is a `Reply`).
* At most 64 connections, 32 kept idle, shared by any number of threads (a connection
  serves one exchange at a time); an idle connection is dropped after 2 s or as soon as
  the server has closed it (its socket is readable while idle).
* Any failure after the request may have left is `Lost` (`timeout: ReadTimeout`,
  `transport: RemoteProtocolError: ...`), with the names httpx used; the connection is
  then discarded. Nothing is retried here: whether a lost request was applied is the
  caller's question (it re-reads the node).

What reaches the node is built once for both paths (`WireRequest`, wire.py): the same target (path
and query encoded as httpx encoded them), the same JSON bytes, the same headers but for
httpx's `User-Agent`, `Connection: keep-alive` (HTTP/1.1's default anyway) and
`Accept-Encoding` (so replies come uncompressed and need no decoder). What comes back
is read by one function (`_reply`), whichever way it travelled: production's pool, or
`HttpxExchange` (httpx_exchange.py) for an injected `httpx.BaseTransport` (the unit tests'
`httpx.MockTransport`) and for a proxy named by HTTP(S)_PROXY / ALL_PROXY (honoured as
httpx.Client honoured it, through httpx's own proxy transport).
"""

from __future__ import annotations

import codecs
import email.message
import json as jsonlib
import math
import time
import uuid
from base64 import b64encode
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import httpx

from otc_bridge import __version__
from otc_bridge.adapters.node.admin_window import AdminWindow, Slot, bucket_of, limit_from
from otc_bridge.adapters.node.http_pool import KeepAlivePool
from otc_bridge.adapters.node.httpx_exchange import HttpxExchange, proxy_transport
from otc_bridge.adapters.node.wire import (
    Exchange,
    NoReply,
    RawReply,
    WireRequest,
    request_target,
    ssl_context,
)

RATE_LIMIT_CODE = "ADMIN_RATE_LIMIT"
MAX_CONNECTIONS = 64
MAX_IDLE_CONNECTIONS = 32
# Idle connections are dropped after 2 s, before a server's usual 5 s keep-alive closes
# them: a request on a just-closed one is lost (the node may not have seen it, and the
# step must then be re-read instead of known).
IDLE_EXPIRY_SECONDS = 2.0
USER_AGENT = f"otc-bridge/{__version__}"


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


# ----------------------------------------------------------------- one exchange


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    """A header's value, repeated ones joined with ", " (as httpx.Headers.get did)."""
    values = [value for key, value in headers if key == name]
    return ", ".join(values) if values else None


def _retry_after(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


def _text(content: bytes, content_type: str) -> str:
    """The body as text, decoded as httpx's `Response.text` did: the charset the
    Content-Type names when Python knows it, else UTF-8, bad bytes replaced."""
    if not content:
        return ""
    encoding = "utf-8"
    if "charset" in content_type.lower():
        message = email.message.Message()
        message["content-type"] = content_type
        charset = message.get_content_charset(failobj=None)
        if charset:
            try:
                codecs.lookup(charset)
                encoding = charset
            except LookupError:
                pass
    return content.decode(encoding, errors="replace")


def _reply(raw: RawReply, request_id: str) -> Reply:
    """The one reading of a reply, whichever way it travelled."""
    content_type = _header(raw.headers, "content-type") or ""
    body: dict[str, Any] | None = None
    if "json" in content_type:
        try:
            parsed = jsonlib.loads(raw.content)
        except ValueError:
            parsed = None
        body = parsed if isinstance(parsed, dict) else None
    return Reply(
        status=raw.status,
        body=body,
        text=_text(raw.content, content_type),
        request_id=_header(raw.headers, "x-request-id") or request_id,
        retry_after=_retry_after(_header(raw.headers, "retry-after")),
    )


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
        base = httpx.URL(base_url.rstrip("/"))
        self._named = bool(base.host)
        base_path = base.raw_path.decode("ascii").split("?")[0]
        self._base_path = base_path if base_path.endswith("/") else base_path + "/"
        self._host_header = base.netloc.decode("ascii")
        self._fixed_headers = [("Host", self._host_header), ("Accept", "*/*")]
        self._fixed_headers.append(("User-Agent", USER_AGENT))
        if base.username or base.password:  # credentials in the URL: Basic, as httpx did
            userpass = f"{base.username}:{base.password}".encode()
            self._fixed_headers.append(("Authorization", f"Basic {b64encode(userpass).decode()}"))
        # Built even for a plain-HTTP node, as httpx did: a bad CA bundle fails at start.
        context = ssl_context(verify)
        self._exchange: Exchange
        limits = httpx.Limits(
            max_connections=MAX_CONNECTIONS,
            max_keepalive_connections=MAX_IDLE_CONNECTIONS,
            keepalive_expiry=IDLE_EXPIRY_SECONDS,
        )
        timeouts = {
            "connect": connect_timeout_seconds,
            "read": timeout_seconds,
            "write": timeout_seconds,
            "pool": timeout_seconds,
        }
        origin = f"{base.scheme}://{self._host_header}"
        proxied = proxy_transport(base, context, limits) if transport is None else None
        if transport is not None or proxied is not None or not self._named:
            chosen = transport or proxied or httpx.HTTPTransport(verify=context, limits=limits)
            self._exchange = HttpxExchange(chosen, origin, timeouts)
        elif base.scheme not in {"http", "https"}:
            self._exchange = HttpxExchange(httpx.HTTPTransport(verify=context), origin, timeouts)
        else:
            self._exchange = KeepAlivePool(
                scheme=base.scheme,
                host=base.raw_host.decode("ascii"),
                port=base.port or (443 if base.scheme == "https" else 80),
                context=context,
                connect_timeout=connect_timeout_seconds,
                read_timeout=timeout_seconds,
                max_connections=MAX_CONNECTIONS,
                max_idle=MAX_IDLE_CONNECTIONS,
                idle_expiry=IDLE_EXPIRY_SECONDS,
            )
        self._sleep = sleep
        self._monotonic = monotonic
        self._observer = observer
        # The admin limiter's last 429 and when its Retry-After runs out, on the bridge's
        # clock: the clock its orders are rescheduled by (on a devnet it jumps with the
        # devnode's, and so does the node's limiter window). No clock: no pacing.
        self._clock = clock
        self._admin_closed: tuple[float, Reply | None] = (0.0, None)
        # This process's admin requests per limiter bucket, and the limit and window the
        # node's last 429 stated (with the 429 itself, the answer to a foreseen refusal).
        self._window = AdminWindow()
        self._learned: Reply | None = None

    def close(self) -> None:
        self._exchange.close()

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
        refuse (a reconciler pass over many orders otherwise sends one per order). Nor is
        one that would be the (limit+1)-th of this process's requests in its bucket's
        window, once a 429 has stated the limit: it waits for the oldest to leave the
        window within its budget, or answers the same 429 with that wait."""
        deadline = self._monotonic() + rate_limit_budget
        counted = admin and self._clock is not None
        slot: Slot | None = None
        if admin:
            paced = self._paced(deadline)
            if paced is not None:
                return paced
            if counted:
                admitted = self._admit(bucket_of(path), deadline)
                if isinstance(admitted, Reply):
                    return admitted
                slot = admitted
        while True:
            if counted and slot is None:  # a retry after the node's own 429 was waited out
                slot = self._window.take(bucket_of(path), self._now())
            reply = self._send(method, path, route=route, json=json, params=params, headers=headers)
            refusal = reply if isinstance(reply, Reply) and reply.is_admin_rate_limit else None
            if slot is not None:
                self._settle(slot, refusal)
                slot = None
            if refusal is None:
                return reply
            wait = refusal.retry_after if refusal.retry_after is not None else 1.0
            if counted:
                self._admin_closed = (self._now() + wait, refusal)
            if self._monotonic() + wait > deadline:
                return refusal
            self._sleep(wait)

    def _admit(self, bucket: str, deadline: float) -> Slot | Reply:
        """A slot in the bucket's window when this process's count leaves room (waiting
        for one when the budget allows), else the node's last 429 with the wait. The
        check and the slot are one step, so concurrent calls cannot both take the last."""
        taken = self._window.reserve(bucket, self._now())
        if isinstance(taken, Slot):
            return taken
        learned = self._learned
        if self._monotonic() + taken <= deadline:
            # Wait, then take the slot without checking again: on a real clock the window
            # has moved by the wait; on a devnet's, which a sleep does not move, the node
            # answers as it would have without this count (its 429 is the fallback).
            self._sleep(taken)
        elif learned is not None:
            return replace(learned, retry_after=float(math.ceil(taken)))
        # (A limit is known but not yet its 429, another thread's, being recorded: there
        # is no answer to give, so the node gives it.)
        return self._window.take(bucket, self._now())

    def _now(self) -> float:
        assert self._clock is not None  # only admin calls with a clock are counted
        return self._clock()

    def _settle(self, slot: Slot, refusal: Reply | None) -> None:
        """Count the request (from its reply: the node counted it before answering), or,
        refused, drop it and learn the limit and window its 429 states."""
        now = self._now()
        if refusal is None:
            self._window.counted(slot, now)
            return
        self._window.refused(slot)
        stated = limit_from(refusal.body)
        if stated is not None:
            self._window.learn(*stated, now)
            self._learned = refusal

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

    def _request(
        self,
        method: str,
        path: str,
        request_id: str,
        json: Mapping[str, Any] | None,
        params: Mapping[str, str | int] | None,
        headers: Mapping[str, str] | None,
    ) -> WireRequest:
        """What goes on the wire, with the headers and body bytes httpx.Client sent
        (less its User-Agent and Accept-Encoding)."""
        all_headers = [*self._fixed_headers, ("X-Request-Id", request_id)]
        all_headers += (headers or {}).items()
        body: bytes | None = None
        if json is not None:
            body = jsonlib.dumps(
                json, ensure_ascii=False, separators=(",", ":"), allow_nan=False
            ).encode("utf-8")
            all_headers.append(("Content-Length", str(len(body))))
            all_headers.append(("Content-Type", "application/json"))
        elif method in {"POST", "PUT", "PATCH"}:
            all_headers.append(("Content-Length", "0"))
        return WireRequest(method, request_target(self._base_path, path, params), all_headers, body)

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
        if not self._named:
            return Lost("no node is named: RUSTCHAIN_NODE is not set", request_id)
        started = self._monotonic()
        result: Reply | Lost
        try:
            request = self._request(method, path, request_id, json, params, headers)
            result = _reply(self._exchange.send(request), request_id)
        except NoReply as failed:
            result = Lost(failed.reason, request_id)
        if self._observer is not None:
            self._observer(CallRecord(method, route, _outcome(result), self._monotonic() - started))
        return result
