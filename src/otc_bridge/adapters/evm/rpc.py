"""The JSON-RPC connection: web3.py over HTTP with a timeout on every call, no silent
retries (the caller decides what a failure means), and a count of the calls made, so a
benchmark can report what one verification costs.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint, RPCResponse


class CountingHTTPProvider(HTTPProvider):
    def __init__(self, endpoint_uri: str, *, timeout: float) -> None:
        super().__init__(
            endpoint_uri,
            request_kwargs={"timeout": timeout},
            # web3's default retries a dead endpoint 5 times with backoff: a dead RPC
            # must come back as "unreachable" within one timeout instead.
            exception_retry_configuration=None,
        )
        self.calls: Counter[str] = Counter()

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        self.calls[str(method)] += 1
        return super().make_request(method, params)

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())


# Middleware a reader does without: "validation" asks eth_chainId before every
# eth_call and block read (two extra round trips per lock read; the reader checks the
# chain id itself), and "ens_name_to_address" resolves names we never pass.
READ_ONLY_DROPPED = ("validation", "ens_name_to_address")


def connect(rpc_url: str, *, timeout: float, read_only: bool = False) -> Web3:
    web3 = Web3(CountingHTTPProvider(rpc_url, timeout=timeout))
    if read_only:
        for name in READ_ONLY_DROPPED:
            web3.middleware_onion.remove(name)
    return web3


def call_counts(web3: Web3) -> Counter[str]:
    """RPC calls made through `web3` so far, by method (empty for other providers)."""
    provider = web3.provider
    return Counter(provider.calls) if isinstance(provider, CountingHTTPProvider) else Counter()
