"""`/docs` in chromium: Swagger UI renders every route of /openapi.json from this origin
alone, under the strict Content-Security-Policy (a violation is a console error, which
the `trading_page` fixture fails on, as it fails on any request beyond the bridge)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.trading_page import TradingPage

# Swagger UI parses the whole /openapi.json before it draws anything: on a loaded machine
# its first render alone can pass Playwright's default 5 s.
FIRST_RENDER_MS = 30_000


def test_the_api_docs_render_offline_under_the_strict_policy(trading_page: TradingPage) -> None:
    page = trading_page.page
    bridge = trading_page.bridge
    page.goto(f"{bridge.url}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text(
        "otc-bridge", timeout=FIRST_RENDER_MS
    )
    document = bridge.client.http.get("/openapi.json").json()
    # Swagger UI draws one block per operation: the routes and the webhook we send
    # (OpenAPI's top-level `webhooks`) alike.
    described = [*document["paths"].values(), *document.get("webhooks", {}).values()]
    operations = sum(len(methods) for methods in described)
    assert document.get("webhooks"), "the outgoing webhook is documented"
    expect(page.locator(".opblock")).to_have_count(operations)
    page.locator(".opblock-summary", has_text="/api/pairs").first.click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    answered = page.locator(".live-responses-table tbody .response-col_status").first
    expect(answered).to_have_text("200")
    trading_page.screenshot("docs")


def test_the_page_links_to_the_docs(trading_page: TradingPage) -> None:
    trading_page.open()
    trading_page.page.get_by_role("link", name="documentation").click()
    expect(trading_page.page).to_have_url(f"{trading_page.bridge.url}/docs")
    expect(trading_page.page.locator(".swagger-ui .info")).to_be_visible(timeout=FIRST_RENDER_MS)
