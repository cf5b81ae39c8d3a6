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
    def __init__(self, page: Page, bridge: RunningBridge, bodies: list[str], test: str) -> None:
        self.page = page
        self.bridge = bridge
        self.sent_bodies = bodies
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

    def screen(self, name: str) -> Path:
        """One screen the suite records: accessible, and saved as a screenshot."""
        self.assert_accessible(name)
        return self.screenshot(name)
