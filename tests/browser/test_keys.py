"""Keys in the page: created, exported and imported in the format the Python client uses,
and kept in the browser only after the trader agreed."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from otc_bridge.clientlib.wallet import Wallet
from tests.browser.trading_page import TradingPage


def local_storage_size(page: TradingPage) -> int:
    size: int = page.page.evaluate("() => localStorage.length")
    return size


def test_export_then_import_gives_the_same_address_as_the_python_client(
    trading_page: TradingPage,
) -> None:
    page = trading_page.open()
    address = page.create_key()
    prompt = page.by_id("key-backup-prompt")
    expect(prompt).to_contain_text("Back up your key now")
    expect(page.by_id("key-backup-title")).to_be_focused()
    page.screen("key-created")

    seed = page.export_seed()
    assert re.fullmatch(r"[0-9a-f]{64}", seed)
    assert Wallet.from_seed(bytes.fromhex(seed)).address == address  # the CLI's key too
    page.screen("key-export")
    page.by_id("key-saved").click()
    expect(prompt).to_have_count(0)

    page.remove_key()
    expect(page.by_id("key-address")).to_have_count(0)
    page.by_id("import-seed").fill("not a key")
    page.by_id("import-key").click()
    expect(page.by_id("import-error")).to_have_text(
        "A key is 64 hexadecimal characters (0-9, a-f)."
    )
    expect(page.by_id("import-seed")).to_have_attribute("aria-invalid", "true")
    page.screen("key-import-refused")
    assert page.import_seed(" 0x" + seed.upper() + " ") == address
    expect(page.by_id("key-backup-prompt")).to_have_count(0)  # an imported key is a backup
    assert local_storage_size(page) == 0, "nothing is stored without the trader's consent"


def test_a_key_is_kept_in_the_browser_only_after_consent(trading_page: TradingPage) -> None:
    page = trading_page.open()
    address = page.create_key()
    page.reload()
    expect(page.by_id("create-key")).to_be_visible()  # not kept: gone with the reload
    assert local_storage_size(page) == 0

    address = page.create_key()
    expect(page.by_id("key-storage")).to_contain_text("Kept in this tab only")
    page.by_id("keep-key").click()
    expect(page.by_id("consent-title")).to_be_focused()
    expect(page.page.locator("[aria-labelledby=consent-title]")).to_contain_text(
        "can take a key kept here"
    )
    page.screen("key-consent")
    page.by_id("consent-yes").click()
    expect(page.by_id("key-storage")).to_contain_text("Kept in this browser")
    page.reload()
    assert page.address() == address
    expect(page.by_id("key-backup-prompt")).to_be_visible()  # still not backed up

    page.by_id("forget-key").click()
    expect(page.by_id("key-storage")).to_contain_text("Kept in this tab only")
    assert local_storage_size(page) == 0
    page.reload()
    expect(page.by_id("create-key")).to_be_visible()
