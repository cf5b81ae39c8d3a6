"""What one exchange with the node is, however it travels: the request as it goes on
the wire, the reply as it comes off it, the failure that leaves no reply, and the TLS
context. `transport.py` reads replies; `http_pool.py` and `httpx_exchange.py` carry them."""

from __future__ import annotations

import os
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import certifi
import httpx


@dataclass(frozen=True, slots=True)
class WireRequest:
    method: str
    target: str  # the encoded path and query, as sent on the request line
    headers: list[tuple[str, str]]
    body: bytes | None


@dataclass(frozen=True, slots=True)
class RawReply:
    """A reply as it came off the wire: status, headers (names lower-cased), body."""

    status: int
    headers: list[tuple[str, str]]
    content: bytes


class NoReply(Exception):
    """The exchange ended without a reply; `reason` is the `Lost` reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Exchange(Protocol):
    def send(self, request: WireRequest) -> RawReply:
        """One request, one reply; raises `NoReply` when there is no reply."""
        ...

    def close(self) -> None: ...


_PLAIN = re.compile(r"[A-Za-z0-9\-._~/]*")
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9\-._~]*")


def request_target(base_path: str, path: str, params: Mapping[str, str | int] | None) -> str:
    """The request line's target as httpx.Client built it from its base URL, `path` and
    `params` (percent-encoding, `+` for spaces, `true`/`false`). Plain ids and values take
    a shortcut with the same result; anything else is left to httpx's own encoding."""
    plain = _PLAIN.fullmatch(path) is not None and all(
        _PLAIN_VALUE.fullmatch(key) is not None
        and not isinstance(value, bool)
        and (isinstance(value, int) or _PLAIN_VALUE.fullmatch(value) is not None)
        for key, value in (params or {}).items()
    )
    if plain:
        target = base_path + path.lstrip("/")
        if params:
            target += "?" + "&".join(f"{key}={value}" for key, value in params.items())
        return target
    url = httpx.URL(path)
    if params is not None:
        url = url.copy_merge_params(params)
    return base_path + url.raw_path.decode("ascii").lstrip("/")


def ssl_context(verify: bool | str) -> ssl.SSLContext:
    """The context httpx 0.28 built for `verify` (httpx._config.create_ssl_context, with
    the environment trusted, as httpx.Client did by default)."""
    if verify is True:
        if os.environ.get("SSL_CERT_FILE"):
            context = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
        elif os.environ.get("SSL_CERT_DIR"):
            context = ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
        else:
            context = ssl.create_default_context(cafile=certifi.where())
    elif verify is False:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif os.path.isdir(verify):
        context = ssl.create_default_context(capath=verify)
    else:
        context = ssl.create_default_context(cafile=verify)
    context.set_alpn_protocols(["http/1.1"])  # as httpcore set it
    return context
