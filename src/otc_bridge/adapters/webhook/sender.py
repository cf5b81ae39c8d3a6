"""One webhook delivery: a signed POST to an address checked just before it is made.

The request goes to the checked IP address itself (the Host header and, for https, the
TLS server name and certificate check keep the URL's host name), never through a proxy
from the environment and never after a redirect, so nothing but the checked address is
ever contacted. Any 2xx answer accepts the delivery; the answer's body is not read
beyond a short excerpt for the error text.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from otc_bridge import __version__
from otc_bridge.adapters.webhook.address import (
    Resolver,
    WebhookUrlError,
    parse,
    resolve,
    system_resolver,
)

USER_AGENT = f"otc-bridge-webhooks/{__version__}"
EXCERPT_BYTES = 200


class WebhookSender:
    def __init__(
        self,
        *,
        allow_private: bool,
        timeout_seconds: float,
        resolver: Resolver = system_resolver,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.resolver = resolver
        self._http = httpx.Client(
            timeout=timeout_seconds, follow_redirects=False, trust_env=False, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> str | None:
        """None when the receiver accepted the delivery, else what went wrong."""
        try:
            target = parse(url)
            address = resolve(target, resolver=self.resolver, allow_private=self.allow_private)[0]
        except WebhookUrlError as err:
            return f"{err.code}: {err.message}"
        pinned = httpx.URL(url).copy_with(host=address)
        extensions = {}
        if target.scheme == "https" and not target.host_is_address:
            extensions["sni_hostname"] = target.host  # SNI and the certificate's name
        sent = {
            **headers,
            "Host": target.netloc,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
        }
        try:
            with self._http.stream(
                "POST", pinned, content=body, headers=sent, extensions=extensions
            ) as response:
                if 200 <= response.status_code < 300:
                    return None
                return f"http {response.status_code}: {_excerpt(response)}"
        except httpx.HTTPError as err:
            return f"{type(err).__name__}: {err}"[:500]


def _excerpt(response: httpx.Response) -> str:
    taken = b""
    for chunk in response.iter_bytes():
        taken += chunk
        if len(taken) >= EXCERPT_BYTES:
            break
    return taken[:EXCERPT_BYTES].decode("utf-8", "replace")
