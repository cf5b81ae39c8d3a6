"""The browser suite: the trading page in Debian's chromium, driven by Playwright, against
a real devnode and bridge.

* `node`: one devnode for the suite whose payouts confirm at the next scheduler tick (no
  day-long clock jump, so the page's signatures, made with the browser's clock, stay
  inside the bridge's 300 s window). Tests use fresh wallets and compare balance deltas.
* `bridge`, `devnet`: as in tests/support (a fresh bridge database per test).
* `browser`: one chromium per worker, launched from /usr/bin/chromium (never a browser
  Playwright downloads), headless, sandbox off (root in CI), no background network.
* `page`: a fresh context per test that may talk to the bridge only: any other request is
  refused and fails the test, as do console errors and uncaught exceptions (a CSP
  violation is a console error). axe-core is loaded into it from web/node_modules.

Under CI=true a skipped browser test fails the run: the suite must really run there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    Request,
    Response,
    Route,
    ViewportSize,
    sync_playwright,
)

from otc_bridge.api.web import APP_DIR
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.devnet.process import DevnodeProcess
from tests.browser.trading_page import ARTIFACTS, TradingPage, axe_source
from tests.support.bridge import RunningBridge
from tests.support.fixtures import bridge, chained_node, devnet

__all__ = ["bridge", "devnet"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_HTTP_STATUS_LOG = "Failed to load resource: the server responded with a status of"
_skipped: list[str] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and "tests/browser/" in report.nodeid:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if (
        os.environ.get("CI") == "true"
        and _skipped
        and os.environ.get("PYTEST_XDIST_WORKER") is None
    ):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if os.environ.get("CI") == "true" and _skipped:
        terminalreporter.write_line(
            f"** CI: {len(_skipped)} browser test(s) skipped; the browser suite must run **",
            red=True,
        )
    if ARTIFACTS.is_dir() and any(ARTIFACTS.iterdir()):
        terminalreporter.write_line(f"browser screenshots: {ARTIFACTS}")


@pytest.fixture(scope="session")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnodeProcess]:
    env = {"RC_CONFIRMATION_DELAY_SECONDS": "0"}
    with (  # the EVM pairs take orders only with their chain configured
        Devchain(tmp_path_factory.mktemp("chain")) as chain,
        chained_node(tmp_path_factory.mktemp("devnode"), chain, env) as proc,
    ):
        yield proc


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get)")
    if not (APP_DIR / "index.html").is_file():
        pytest.fail(f"the page is not built ({APP_DIR}): run `make web`")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    launched = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
    )
    yield launched
    launched.close()


class PageProblems:
    """What a page did that a healthy page never does."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.foreign_requests: list[str] = []
        self.failed_loads: list[str] = []
        self.bodies: list[str] = []  # every request body the page sent

    def console(self, message: ConsoleMessage) -> None:
        # Chromium logs every HTTP error status as a console error; an API refusal is the
        # bridge's answer, which the tests check themselves (see `response`).
        if message.type == "error" and not message.text.startswith(_HTTP_STATUS_LOG):
            self.console_errors.append(message.text)

    def response(self, response: Response) -> None:
        path = urlsplit(response.url).path
        if response.status >= 400 and not path.startswith("/api/"):
            self.failed_loads.append(f"{response.status} {response.url}")

    def request(self, request: Request) -> None:
        if request.post_data:
            self.bodies.append(request.post_data)

    def check(self) -> None:
        assert self.foreign_requests == [], "the page tried to reach beyond the bridge"
        assert self.failed_loads == [], "the page failed to load its own files"
        assert self.page_errors == [], "uncaught exceptions in the page"
        assert self.console_errors == [], "console errors (CSP violations show up here)"


@pytest.fixture
def trading_page(
    browser: Browser, bridge: RunningBridge, request: pytest.FixtureRequest
) -> Iterator[TradingPage]:
    viewport = cast(ViewportSize, getattr(request, "param", {"width": 1280, "height": 900}))
    context = browser.new_context(viewport=viewport, locale="en-GB", timezone_id="UTC")
    context.add_init_script(script=axe_source())  # via CDP, so the page's CSP still holds
    problems = PageProblems(bridge.url)

    def gate(route: Route, routed_request: Request) -> None:
        if routed_request.url.startswith(bridge.url + "/"):
            route.continue_()
        else:
            problems.foreign_requests.append(routed_request.url)
            route.abort()

    context.route("**/*", gate)
    page: Page = context.new_page()
    page.on("console", problems.console)
    page.on("pageerror", lambda err: problems.page_errors.append(str(err)))
    page.on("request", problems.request)
    page.on("response", problems.response)
    try:
        yield TradingPage(page, bridge, problems.bodies, request.node.name)
        problems.check()
    finally:
        context.close()
