"""The page at phone width (360 px) and by keyboard alone: nothing wider than the screen,
a focus order that follows the page, and an order placed without a mouse."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.trading_page import TradingPage
from tests.support.bridge import RunningBridge

PHONE = {"width": 360, "height": 780}
BUYER_ADDR = "0x" + "bb" * 20


def focused_id(page: TradingPage) -> str:
    found: str = page.page.evaluate(
        "() => document.activeElement.id || document.activeElement.textContent.trim()"
    )
    return found


def tab_stops(page: TradingPage, count: int) -> list[str]:
    """Where focus lands on each of the next `count` presses of Tab."""
    stops = []
    for _ in range(count):
        page.page.keyboard.press("Tab")
        stops.append(focused_id(page))
    return stops


@pytest.mark.parametrize("trading_page", [PHONE], indirect=True)
def test_a_phone_user_places_an_order_with_the_keyboard_alone(
    trading_page: TradingPage, bridge: RunningBridge
) -> None:
    page = trading_page.open()
    width = page.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the page scrolls sideways on a phone"
    page.screen("phone-market")

    keys = page.page.keyboard
    assert tab_stops(page, 5) == [
        "Skip to the order form",
        "pair",
        "create-key",
        "import-seed",
        "import-key",
    ]

    page.by_id("create-key").focus()
    keys.press("Enter")
    address = page.address()
    expect(page.by_id("key-backup-title")).to_be_focused()

    page.by_id("side-sell").focus()
    keys.press("ArrowLeft")  # the radio group is one stop; arrows choose within it
    expect(page.by_id("side-buy")).to_be_checked()
    assert tab_stops(page, 5) == ["amount", "price", "quote-address", "ttl", "place-order"]

    page.by_id("amount").focus()
    keys.type("1.25")
    keys.press("Tab")
    keys.type("0.3")
    keys.press("Tab")
    keys.type(BUYER_ADDR)
    keys.press("Enter")  # submits the form from a field, as any form does
    result = page.by_id("order-result")
    expect(result).to_have_attribute("data-kind", "ok")
    expect(result).to_be_focused()
    order_id = page.placed_order_id()
    placed = bridge.client.order(order_id)
    assert (placed["maker_wallet"], placed["side"], placed["amount_micro_rtc"]) == (
        address,
        "buy",
        1_250_000,
    )
    width = page.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    page.screen("phone-order-placed")
