"""The browser suite: the trading page in Debian's chromium, driven by Playwright, against
a real devnode and bridge.

* `chain`: one real anvil for the suite (`Devchain`: HTLC and devnet USDC deployed, a
  block a second, 2 confirmations final), the quote chain of RTC/ETH and RTC/USDC.
* `node`: one devnode for the suite whose payouts confirm at the next scheduler tick; its
  clock moves the chain's along (one clock for all). Tests use fresh wallets and compare
  balance deltas; the page signs with the bridge's clock, so clock jumps are harmless.
* `bridge`: a fresh bridge database per test, verifying quote locks on `chain`;
  `devnet`: as in tests/support.
* `browser`: one chromium per worker, launched from /usr/bin/chromium (never a browser
  Playwright downloads), headless, sandbox off (root in CI), no background network.
* `page`: a fresh context per test that may talk to the bridge only: any other request is
  refused and fails the test, as do console errors and uncaught exceptions (a CSP
  violation is a console error). axe-core is loaded into it from web/node_modules.
  `trader` opens more such contexts: each trader of a swap has a browser of their own.

Under CI=true a skipped browser test fails the run: the suite must really run there.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
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
from tests.support.bridge import RunningBridge, bridge_env, running_bridge
from tests.support.fixtures import chained_node, devnet

__all__ = ["devnet"]

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
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devchain]:
    with Devchain(tmp_path_factory.mktemp("chain"), block_seconds=1) as started:
        yield started


@pytest.fixture(scope="session")
def node(tmp_path_factory: pytest.TempPathFactory, chain: Devchain) -> Iterator[DevnodeProcess]:
    env = {"RC_CONFIRMATION_DELAY_SECONDS": "0"}
    with chained_node(tmp_path_factory.mktemp("devnode"), chain, env) as proc:
        yield proc


@pytest.fixture
def bridge(node: DevnodeProcess, devnet: object, tmp_path: Path) -> Iterator[RunningBridge]:
    # bridge_env verifies RTC/ETH and RTC/USDC on the node's chain (`chain`).
    with running_bridge(bridge_env(node, tmp_path)) as running:
        yield running


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
        self.sent: list[tuple[str, str]] = []  # (url, body) of each

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
            self.sent.append((request.url, request.post_data))

    def check(self) -> None:
        assert self.foreign_requests == [], "the page tried to reach beyond the bridge"
        assert self.failed_loads == [], "the page failed to load its own files"
        assert self.page_errors == [], "uncaught exceptions in the page"
        assert self.console_errors == [], "console errors (CSP violations show up here)"


Opener = Callable[..., TradingPage]


@pytest.fixture
def trader(
    browser: Browser, bridge: RunningBridge, chain: Devchain, request: pytest.FixtureRequest
) -> Iterator[Opener]:
    """Opens a browser context of its own per call (one per trader); each is checked and
    closed when the test ends."""
    opened: list[tuple[BrowserContext, PageProblems]] = []
    allowed = (bridge.url + "/", chain.rpc_url.rstrip("/"))

    def open_one(name: str = "", viewport: ViewportSize | None = None) -> TradingPage:
        size = viewport or ViewportSize(width=1280, height=900)
        context = browser.new_context(viewport=size, locale="en-GB", timezone_id="UTC")
        context.add_init_script(script=axe_source())  # via CDP, so the page's CSP still holds
        problems = PageProblems(bridge.url)

        def gate(route: Route, routed_request: Request) -> None:
            # The bridge, and the pair's chain RPC that /api/pairs names: nothing else.
            if routed_request.url.startswith(allowed):
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
        opened.append((context, problems))
        label = request.node.name + (f"-{name}" if name else "")
        return TradingPage(page, bridge, problems.bodies, label, problems.sent)

    try:
        yield open_one
        for _, problems in opened:
            problems.check()
    finally:
        for context, _ in opened:
            context.close()


@pytest.fixture
def trading_page(trader: Opener, request: pytest.FixtureRequest) -> TradingPage:
    return trader(viewport=getattr(request, "param", None))
