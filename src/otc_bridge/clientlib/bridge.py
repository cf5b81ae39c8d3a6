"""A typed client for the bridge's HTTP API that signs what it sends.

Signatures carry a timestamp the bridge accepts only near its own clock (300 s behind,
30 s ahead). Without `clock=`, the client signs with the server's time: it learns the
offset from the `X-Server-Time` header of every answer, and a signed request refused as
`wallet_auth_timestamp_expired` (nothing changed) is signed again, once, with the
`server_time` that refusal carries. So a client keeps working after the devnet's clock
moves (`POST /devnet/clock`) or when the machine's clock is off. With `clock=`, that
clock is used as given and nothing is retried.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import httpx

from otc_bridge.clientlib.server_clock import ServerClock
from otc_bridge.clientlib.sse import EventStream
from otc_bridge.clientlib.wallet import Wallet
from otc_bridge.domain.deadlines import DeadlinePolicy
from otc_bridge.domain.money import parse_decimal, to_units

TIMESTAMP_EXPIRED = "wallet_auth_timestamp_expired"


class BridgeClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        clock: Callable[[], int] | None = None,
        **kwargs: Any,
    ) -> None:
        hooks = dict(kwargs.pop("event_hooks", None) or {})
        self.server_clock: ServerClock | None = None
        self.now: Callable[[], int]
        if clock is None:
            self.server_clock = ServerClock()
            hooks["response"] = [*hooks.get("response", []), self.server_clock.observe]
            self.now = self.server_clock.now
        else:
            self.now = clock
        # Idle connections go before the bridge's (uvicorn's) 5 s keep-alive closes them:
        # a request sent on one it has just closed fails without an answer.
        kwargs.setdefault("limits", httpx.Limits(keepalive_expiry=2.0))
        self.http = httpx.Client(base_url=base_url, timeout=timeout, event_hooks=hooks, **kwargs)

    def _signed(
        self, send: Callable[[int], httpx.Response], timestamp: int | None = None
    ) -> httpx.Response:
        """Send a request signed at `timestamp` (default: now); once more, signed with
        the server's time, if the bridge refused the time and this client keeps it."""
        response = send(self.now() if timestamp is None else timestamp)
        if timestamp is None and self.server_clock is not None and _time_refused(response):
            self.server_clock.learn(response.json()["server_time"])
            response = send(self.now())
        return response

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> BridgeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def create_order(
        self,
        wallet: Wallet,
        *,
        side: str,
        amount_rtc: str,
        price_per_rtc: str,
        pair: str = "RTC/USDC",
        ttl_seconds: int | None = None,
        eth_address: str = "",
        htlc_hash: str | None = None,
        timestamp: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST /api/orders, signing the terms exactly as the bridge will read them."""
        ttl = DeadlinePolicy().clamp_reference_ttl(ttl_seconds or 7 * 86400)
        bound: dict[str, object] = {
            "side": side.lower(),
            "pair": pair.upper(),
            "amount_micro_rtc": to_units(parse_decimal(amount_rtc), 6),
            "price_per_rtc_nano_quote": to_units(parse_decimal(price_per_rtc), 9),
            "ttl_seconds": ttl,
            "eth_address": eth_address,
        }
        body: dict[str, Any] = {
            "side": side,
            "pair": pair,
            "wallet": wallet.address,
            "amount_rtc": amount_rtc,
            "price_per_rtc": price_per_rtc,
            "eth_address": eth_address,
        }
        if ttl_seconds is not None:
            body["ttl_seconds"] = ttl_seconds
        if htlc_hash is not None:
            bound["htlc_hash"] = htlc_hash
            body["htlc_hash"] = htlc_hash

        def send(at: int) -> httpx.Response:
            auth = wallet.wallet_auth("create_order", "create_order", bound, timestamp=at)
            return self.http.post(
                "/api/orders", json={**body, "wallet_auth": auth}, headers=headers
            )

        return self._signed(send, timestamp)

    def match(
        self,
        wallet: Wallet,
        order_id: str,
        *,
        eth_address: str = "",
        htlc_hash: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        bound: dict[str, object] = {"eth_address": eth_address}
        body: dict[str, Any] = {"wallet": wallet.address, "eth_address": eth_address}
        if htlc_hash is not None:
            bound["htlc_hash"] = htlc_hash
            body["htlc_hash"] = htlc_hash

        def send(at: int) -> httpx.Response:
            auth = wallet.wallet_auth("match_order", order_id, bound, timestamp=at)
            path = f"/api/orders/{order_id}/match"
            return self.http.post(path, json={**body, "wallet_auth": auth}, headers=headers)

        return self._signed(send)

    def cancel(
        self, wallet: Wallet, order_id: str, *, headers: dict[str, str] | None = None
    ) -> httpx.Response:

        def send(at: int) -> httpx.Response:
            auth = wallet.wallet_auth("cancel_order", order_id, {}, timestamp=at)
            body = {"wallet": wallet.address, "wallet_auth": auth}
            return self.http.post(f"/api/orders/{order_id}/cancel", json=body, headers=headers)

        return self._signed(send)

    def confirm(self, order_id: str, *, wallet: str, secret: str, quote_tx: str) -> httpx.Response:
        body = {"wallet": wallet, "secret": secret, "quote_tx": quote_tx}
        return self.http.post(f"/api/orders/{order_id}/confirm", json=body)

    def report_lock(
        self, order_id: str, *, quote_tx: str | None = None, lock_id: str | None = None
    ) -> httpx.Response:
        """POST /api/orders/{id}/lock: B's quote lock, by its transaction or its id
        (unsigned: the bridge reads it from the chain)."""
        body = {"quote_tx": quote_tx} if quote_tx is not None else {"lock_id": lock_id}
        return self.http.post(f"/api/orders/{order_id}/lock", json=body)

    def order(self, order_id: str) -> dict[str, Any]:
        response = self.http.get(f"/api/orders/{order_id}")
        response.raise_for_status()
        found: dict[str, Any] = response.json()["order"]
        return found

    def events(self, order_id: str) -> list[dict[str, Any]]:
        response = self.http.get(f"/api/orders/{order_id}/events")
        response.raise_for_status()
        found: list[dict[str, Any]] = response.json()["events"]
        return found

    # ------------------------------------------------------------------ push

    def order_stream(
        self,
        order_id: str,
        *,
        last_event_id: str | None = None,
        after: int | None = None,
        headers: dict[str, str] | None = None,
        read_timeout: float | None = 60.0,
    ) -> AbstractContextManager[EventStream]:
        """GET /api/orders/{id}/stream, open until the block ends (or the stream does)."""
        params = {} if after is None else {"after": str(after)}
        path = f"/api/orders/{order_id}/stream"
        return self._stream(path, params, last_event_id, headers, read_timeout)

    def market_stream(
        self,
        pair: str,
        *,
        last_event_id: str | None = None,
        headers: dict[str, str] | None = None,
        read_timeout: float | None = 60.0,
    ) -> AbstractContextManager[EventStream]:
        """GET /api/stream?pair=, open until the block ends."""
        params = {"pair": pair}
        return self._stream("/api/stream", params, last_event_id, headers, read_timeout)

    @contextmanager
    def _stream(
        self,
        path: str,
        params: dict[str, str],
        last_event_id: str | None,
        headers: dict[str, str] | None,
        read_timeout: float | None,
    ) -> Iterator[EventStream]:
        sent = dict(headers or {})
        if last_event_id is not None:
            sent["Last-Event-ID"] = last_event_id
        timeout = httpx.Timeout(10.0, read=read_timeout)
        with self.http.stream("GET", path, params=params, headers=sent, timeout=timeout) as r:
            yield EventStream(r)

    def register_webhook(self, wallet: Wallet, url: str) -> httpx.Response:
        def send(ts: int) -> httpx.Response:
            auth = wallet.wallet_auth(
                "register_webhook", "register_webhook", {"url": url}, timestamp=ts
            )
            body = {"wallet": wallet.address, "url": url, "wallet_auth": auth}
            return self.http.post("/api/webhooks", json=body)

        return self._signed(send)

    def list_webhooks(self, wallet: Wallet) -> httpx.Response:
        def send(ts: int) -> httpx.Response:
            auth = wallet.wallet_auth("list_webhooks", "list_webhooks", {}, timestamp=ts)
            body = {"wallet": wallet.address, "wallet_auth": auth}
            return self.http.post("/api/webhooks/list", json=body)

        return self._signed(send)

    def remove_webhook(self, wallet: Wallet, webhook_id: str) -> httpx.Response:
        def send(ts: int) -> httpx.Response:
            auth = wallet.wallet_auth("remove_webhook", webhook_id, {}, timestamp=ts)
            body = {"wallet": wallet.address, "wallet_auth": auth}
            return self.http.post(f"/api/webhooks/{webhook_id}/remove", json=body)

        return self._signed(send)


def _time_refused(response: httpx.Response) -> bool:
    if response.status_code != 401:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return (
        isinstance(body, dict)
        and body.get("error") == TIMESTAMP_EXPIRED
        and isinstance(body.get("server_time"), int)
    )
