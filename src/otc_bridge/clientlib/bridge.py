"""A typed client for the bridge's HTTP API that signs what it sends."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import httpx

from otc_bridge.clientlib.sse import EventStream
from otc_bridge.clientlib.wallet import Wallet
from otc_bridge.domain.deadlines import DeadlinePolicy
from otc_bridge.domain.money import parse_decimal, to_units


class BridgeClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        clock: Callable[[], int] | None = None,
        **kwargs: Any,
    ) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=timeout, **kwargs)
        self.now = clock or (lambda: int(time.time()))  # signatures carry the server's time

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
        body["wallet_auth"] = wallet.wallet_auth(
            "create_order", "create_order", bound, timestamp=timestamp or self.now()
        )
        return self.http.post("/api/orders", json=body, headers=headers)

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
        body["wallet_auth"] = wallet.wallet_auth(
            "match_order", order_id, bound, timestamp=self.now()
        )
        return self.http.post(f"/api/orders/{order_id}/match", json=body, headers=headers)

    def cancel(
        self, wallet: Wallet, order_id: str, *, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        body = {
            "wallet": wallet.address,
            "wallet_auth": wallet.wallet_auth("cancel_order", order_id, {}, timestamp=self.now()),
        }
        return self.http.post(f"/api/orders/{order_id}/cancel", json=body, headers=headers)

    def confirm(self, order_id: str, *, wallet: str, secret: str, quote_tx: str) -> httpx.Response:
        body = {"wallet": wallet, "secret": secret, "quote_tx": quote_tx}
        return self.http.post(f"/api/orders/{order_id}/confirm", json=body)

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
        body = {
            "wallet": wallet.address,
            "url": url,
            "wallet_auth": wallet.wallet_auth(
                "register_webhook", "register_webhook", {"url": url}, timestamp=self.now()
            ),
        }
        return self.http.post("/api/webhooks", json=body)

    def list_webhooks(self, wallet: Wallet) -> httpx.Response:
        auth = wallet.wallet_auth("list_webhooks", "list_webhooks", {}, timestamp=self.now())
        return self.http.post(
            "/api/webhooks/list", json={"wallet": wallet.address, "wallet_auth": auth}
        )

    def remove_webhook(self, wallet: Wallet, webhook_id: str) -> httpx.Response:
        auth = wallet.wallet_auth("remove_webhook", webhook_id, {}, timestamp=self.now())
        return self.http.post(
            f"/api/webhooks/{webhook_id}/remove",
            json={"wallet": wallet.address, "wallet_auth": auth},
        )
