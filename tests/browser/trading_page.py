"""The trading page as the browser tests drive it: what a person clicks and reads, plus
the accessibility check (axe-core) and screenshots of each screen."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.support.bridge import RunningBridge

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"
AXE_PATH = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = {"serious", "critical"}


@cache
def axe_source() -> str:
    if not AXE_PATH.is_file():
        raise FileNotFoundError(f"{AXE_PATH} is missing: run `make web` (npm ci in web/)")
    return AXE_PATH.read_text()


class TradingPage:
    def __init__(
        self,
        page: Page,
        bridge: RunningBridge,
        bodies: list[str],
        test: str,
        sent: list[tuple[str, str]] | None = None,
    ) -> None:
        self.page = page
        self.bridge = bridge
        self.sent_bodies = bodies
        self.sent = sent if sent is not None else []
        self.test = re.sub(r"[^A-Za-z0-9_.-]+", "_", test)

    # --- navigation ------------------------------------------------------------------------

    def open(self, query: str = "") -> TradingPage:
        self.page.goto(f"{self.bridge.url}/{query}")
        expect(self.page.locator("body")).to_have_attribute("data-ready", "true")
        expect(self.page.locator("#freshness")).to_have_attribute("data-state", "fresh")
        return self

    def reload(self) -> TradingPage:
        self.page.reload()
        expect(self.page.locator("body")).to_have_attribute("data-ready", "true")
        return self

    def sent_to_bridge(self) -> list[str]:
        """The bodies of the requests the page sent to the bridge (not to the chain RPC)."""
        return [body for url, body in self.sent if url.startswith(self.bridge.url + "/")]

    def by_id(self, element_id: str) -> Locator:
        return self.page.locator(f"#{element_id}")

    # --- key panel -------------------------------------------------------------------------

    def create_key(self) -> str:
        self.by_id("create-key").click()
        return self.address()

    def address(self) -> str:
        address = self.by_id("key-address")
        expect(address).to_have_text(re.compile(r"^RTC[0-9a-f]{40}$"))
        return address.inner_text()

    def export_seed(self) -> str:
        self.by_id("show-key").click()
        seed = self.by_id("export-seed")
        expect(seed).to_be_visible()
        return seed.input_value()

    def remove_key(self) -> None:
        self.by_id("remove-key").click()
        self.by_id("remove-yes").click()
        expect(self.by_id("create-key")).to_be_focused()

    def import_seed(self, seed: str) -> str:
        self.by_id("import-seed").fill(seed)
        self.by_id("import-key").click()
        return self.address()

    # --- order form ------------------------------------------------------------------------

    def fill_order(
        self, *, side: str, amount: str, price: str, address: str, ttl: int | None = None
    ) -> None:
        self.by_id(f"side-{side}").check()
        self.by_id("amount").fill(amount)
        self.by_id("price").fill(price)
        self.by_id("quote-address").fill(address)
        if ttl is not None:
            self.by_id("ttl").select_option(str(ttl))

    def place_order(self) -> Locator:
        """Submit and wait for the bridge's answer (or the page's refusal)."""
        self.by_id("place-order").click()
        result = self.by_id("order-result")
        expect(result).to_have_attribute("data-kind", re.compile("^(ok|error)$"))
        expect(result).to_be_focused()
        return result

    def placed_order_id(self) -> str:
        order_id = self.by_id("placed-order-id")
        expect(order_id).to_have_text(re.compile(r"^otc_[0-9a-f]{16}$"))
        return order_id.inner_text()

    # --- the swap ----------------------------------------------------------------------------

    def use_dev_wallet(self, account: str) -> None:
        """The built-in provider over the dev chain's unlocked accounts, with `account`."""
        self.by_id("wallet-provider").select_option("devchain")
        self.by_id("wallet-account").select_option(account)
        expect(self.by_id("wallet-balance")).to_be_visible()

    def save_secret(self, order_id: str) -> str:
        """The backup prompt of the order's swap secret: read it, then confirm it is saved."""
        box = self.by_id(f"secret-{order_id}")
        expect(box).to_be_visible()
        secret = box.input_value()
        prompt = self.page.get_by_role("region", name=f"Swap secret, {order_id}")
        prompt.get_by_role("button", name="I have saved it").click()
        expect(box).to_have_count(0)
        return secret

    def take(self, order_id: str, address: str) -> None:
        self.page.locator(f'button[data-take="{order_id}"]').click()
        expect(self.by_id("take-address")).to_be_focused()
        self.by_id("take-address").fill(address)
        self.screen("take-form")
        self.by_id("take-submit").click()
        self.expect_order(order_id)

    def open_order(self, order_id: str) -> None:
        self.page.locator(f'#my-orders-list a[href="#order/{order_id}"]').click()
        self.expect_order(order_id)

    def expect_order(self, order_id: str) -> None:
        expect(self.by_id("order-detail-heading")).to_have_text(f"Order {order_id}")

    def expect_status(self, status: str, timeout: float = 30_000) -> None:
        expect(self.by_id("order-status")).to_have_attribute("data-status", status, timeout=timeout)

    def expect_next(self, code: str, timeout: float = 30_000) -> None:
        expect(self.page.locator("section.next-action")).to_have_attribute(
            "data-code", code, timeout=timeout
        )

    def act(self, button_id: str, timeout: float = 60_000) -> Locator:
        """Click an order action and wait for its outcome (ok or error) in the result."""
        result = self.by_id("action-result")
        done = int(result.get_attribute("data-actions") or "0")
        self.by_id(button_id).click()
        expect(result).to_have_attribute("data-actions", str(done + 1), timeout=timeout)
        expect(result).to_have_attribute("data-kind", re.compile("^(ok|error)$"))
        return result

    # --- checks and artifacts ----------------------------------------------------------------

    def assert_accessible(self, screen: str) -> None:
        """axe-core finds no serious or critical violation on what the page shows now."""
        violations: list[dict[str, Any]] = self.page.evaluate(
            """async () => {
                const result = await axe.run(document, { resultTypes: ["violations"] });
                return result.violations.map((v) => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
                }));
            }"""
        )
        blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
        assert blocking == [], f"axe on {screen}: {json.dumps(blocking, indent=1)}"

    def screenshot(self, screen: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.test}--{screen}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def picture(self, name: str, element_id: str | None = None) -> Path:
        """The window as a person sees it (no scrolling), or one element: for the README."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.test}--{name}.png"
        if element_id is None:
            self.page.screenshot(path=str(path))
        else:
            self.by_id(element_id).screenshot(path=str(path))
        return path

    def screen(self, name: str) -> Path:
        """One screen the suite records: accessible, and saved as a screenshot."""
        self.assert_accessible(name)
        return self.screenshot(name)
