"""The same exchange through an httpx transport: an injected one (the unit tests'
`httpx.MockTransport`), or httpx's proxy transport when the environment names a proxy."""

from __future__ import annotations

import ssl
import urllib.request
from collections.abc import Mapping

import httpx

from otc_bridge.adapters.node.wire import NoReply, RawReply, WireRequest


class HttpxExchange:
    """The same exchange through an httpx transport: an injected one (the unit tests'
    `httpx.MockTransport`), or httpx's proxy transport when the environment names one."""

    def __init__(
        self, transport: httpx.BaseTransport, origin: str, timeouts: Mapping[str, float]
    ) -> None:
        self._transport, self._origin = transport, origin
        self._extensions = {"timeout": dict(timeouts)}

    def send(self, request: WireRequest) -> RawReply:
        outgoing = httpx.Request(
            request.method,
            self._origin + request.target,
            headers=request.headers,
            content=request.body,
            extensions=self._extensions,
        )
        try:
            response = self._transport.handle_request(outgoing)
            try:
                content = response.read()
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            raise NoReply(f"timeout: {type(exc).__name__}") from exc
        except httpx.TransportError as exc:
            raise NoReply(f"transport: {type(exc).__name__}: {exc}") from exc
        headers = [(name.lower(), value) for name, value in response.headers.multi_items()]
        return RawReply(response.status_code, headers, content)

    def close(self) -> None:
        self._transport.close()


def proxy_transport(
    base: httpx.URL, context: ssl.SSLContext, limits: httpx.Limits
) -> httpx.BaseTransport | None:
    """httpx's transport for `base` when HTTP_PROXY / HTTPS_PROXY / ALL_PROXY (minus
    NO_PROXY) route it through a proxy, as httpx.Client did by default; else None."""
    proxies = urllib.request.getproxies()
    if not any(proxies.get(scheme) for scheme in ("http", "https", "all")):
        return None
    client = httpx.Client(verify=context, limits=limits, trust_env=True)
    chosen = client._transport_for_url(base)  # the choice httpx.Client made
    if chosen is client._transport:
        client.close()
        return None
    return chosen
