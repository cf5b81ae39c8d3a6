"""Trader webhooks: a wallet registers, lists and removes callback URLs for the orders
it is a party to, each request signed like an order (`domain.wallet_auth`).

| action | `order_id` in the signed message | bound fields |
|---|---|---|
| `register_webhook` | `"register_webhook"` | `url` (as sent, stripped) |
| `list_webhooks` | `"list_webhooks"` | none |
| `remove_webhook` | the webhook id | none |

A URL must be http(s), at most 2048 characters, without credentials or fragment, and
(outside the devnet) resolve only to public addresses; a wallet holds at most
`max_per_wallet` webhooks. The signing secret is returned once, at registration.
"""

from __future__ import annotations

import re
import secrets

from otc_bridge.adapters.secret_box import SecretBox
from otc_bridge.adapters.store.store import Store
from otc_bridge.adapters.store.webhooks import Webhook
from otc_bridge.adapters.webhook.address import (
    Resolver,
    WebhookUrl,
    WebhookUrlError,
    parse,
    resolve,
    system_resolver,
)
from otc_bridge.domain.clock import Clock
from otc_bridge.domain.webhook_signature import new_secret
from otc_bridge.push_config import WebhookSettings
from otc_bridge.services.auth import Authenticator
from otc_bridge.services.commands import ListWebhooks, RegisterWebhook, RemoveWebhook
from otc_bridge.services.errors import InvalidRequest, NotFound, TooManyRequests, Unavailable
from otc_bridge.services.results import RegisteredWebhook, WalletWebhooks

WEBHOOK_ID = re.compile(r"^wh_[0-9a-f]{16}$")


class WebhookRegistry:
    def __init__(
        self,
        *,
        settings: WebhookSettings,
        store: Store,
        clock: Clock,
        auth: Authenticator,
        box: SecretBox,
        resolver: Resolver = system_resolver,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.auth = auth
        self.box = box
        self.resolver = resolver

    def register(self, cmd: RegisterWebhook) -> RegisteredWebhook:
        target = self._form(cmd.url)
        wallet = self.auth.wallet(
            cmd.wallet, cmd.wallet_auth, "register_webhook", "register_webhook", {"url": cmd.url}
        )
        with self.store.read() as uow:
            self._below_cap(uow.webhooks.count(wallet))
        self._reachable(target)  # resolves the host: only for a signed request
        secret = new_secret()
        webhook = Webhook(
            webhook_id="wh_" + secrets.token_hex(8),
            wallet=wallet,
            url=target.url,
            secret_sealed=self.box.seal(secret),
            created_at=self.clock.now(),
        )
        with self.store.write() as uow:
            uow.webhooks.lock_wallet(wallet)
            self._below_cap(uow.webhooks.count(wallet))  # again, under the wallet's lock
            uow.webhooks.add(webhook)
        return RegisteredWebhook(webhook, secret)

    def remove(self, cmd: RemoveWebhook) -> str:
        wallet = self.auth.wallet(cmd.wallet, cmd.wallet_auth, "remove_webhook", cmd.webhook_id, {})
        if not WEBHOOK_ID.fullmatch(cmd.webhook_id):
            raise NotFound("Webhook not found")
        with self.store.write() as uow:
            found = uow.webhooks.get(cmd.webhook_id)
            # Another wallet's webhook is not found either: its existence is not shown.
            if found is None or found.wallet != wallet:
                raise NotFound("Webhook not found")
            uow.webhooks.remove(cmd.webhook_id)
        return cmd.webhook_id

    def list(self, cmd: ListWebhooks) -> WalletWebhooks:
        wallet = self.auth.wallet(cmd.wallet, cmd.wallet_auth, "list_webhooks", "list_webhooks", {})
        with self.store.read() as uow:
            figures = uow.webhooks.of_wallet(wallet)
        return WalletWebhooks(wallet, figures, self.settings.max_per_wallet)

    def _form(self, url: str) -> WebhookUrl:
        try:
            return parse(url)
        except WebhookUrlError as err:
            raise InvalidRequest(err.code, message=err.message) from None

    def _reachable(self, target: WebhookUrl) -> None:
        try:
            resolve(
                target,
                resolver=self.resolver,
                allow_private=self.settings.allow_private_addresses,
            )
        except WebhookUrlError as err:
            if err.code == "webhook_dns_unavailable":
                raise Unavailable(err.code, message=err.message) from None
            raise InvalidRequest(err.code, message=err.message) from None

    def _below_cap(self, count: int) -> None:
        cap = self.settings.max_per_wallet
        if count >= cap:
            raise TooManyRequests(
                "webhook_limit_reached",
                retry_after_seconds=3600,  # nothing frees a slot but the wallet's own removal
                limit=cap,
                message=f"a wallet may register at most {cap} webhooks; remove one first",
            )
