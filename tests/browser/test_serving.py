"""How the bridge serves the page: `/` and `/app/*` with their content types, cache
headers and Content-Security-Policy, and a plain-words page when the bundle is not built."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import httpx
from fastapi import FastAPI

from otc_bridge.api.web import (
    APP_DIR,
    UNBUILT_PAGE,
    build_router,
    content_security_policy,
    rpc_origins,
)
from otc_bridge.devnet.devchain.harness import Devchain
from tests.support.bridge import RunningBridge


def test_the_page_is_served_with_a_strict_content_security_policy(
    bridge: RunningBridge, chain: Devchain
) -> None:
    http = bridge.client.http
    page = http.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert re.search(r"<title>RustChain OTC Bridge[^<]*</title>", page.text)
    assert "<h1>RustChain OTC Bridge</h1>" in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self';" in csp
    assert "style-src 'self';" in csp
    # The bridge, and the quote chain's public RPC /api/pairs names: nothing else.
    assert f"connect-src 'self' {chain.rpc_url.rstrip('/')};" in csp
    assert "unsafe" not in csp
    assert "default-src 'none'" in csp
    assert page.headers["cache-control"] == "no-cache"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "<script>" not in page.text
    assert " style=" not in page.text

    manifest = json.loads((APP_DIR / "manifest.json").read_text())
    script = http.get(f"/app/{manifest['script']}")
    assert script.status_code == 200
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert f'src="/app/{manifest["script"]}"' in page.text
    style = http.get(f"/app/{manifest['style']}")
    assert style.headers["content-type"] == "text/css; charset=utf-8"
    assert http.get("/app/manifest.json").headers["cache-control"] == "no-cache"
    assert http.head("/").status_code == 200  # monitors and link checkers ask HEAD


def test_only_the_bundle_files_are_served(bridge: RunningBridge) -> None:
    http = bridge.client.http
    for path in ("/app/index.html", "/app/nope.js", "/app/..%2Fweb.py", "/app/.built"):
        answer = http.get(path)
        assert answer.status_code == 404, path
        assert answer.json() == {"error": "Not Found"}  # as for any unknown path


def test_an_unbuilt_page_says_so_in_plain_words(tmp_path: Path) -> None:
    app = FastAPI()
    app.include_router(build_router(tmp_path, UNBUILT_PAGE))

    async def get_page() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bridge") as client:
            return await client.get("/")

    # In a thread of its own: Playwright's sync API keeps an event loop in this one.
    with ThreadPoolExecutor(1) as pool:
        page = pool.submit(anyio.run, get_page).result()
    assert page.status_code == 503
    assert "RustChain OTC Bridge" in page.text
    assert "The trading page has not been built on this server." in page.text
    assert "make web" in page.text
    assert "<script" not in page.text


def test_the_page_may_connect_to_the_configured_chain_rpc_only() -> None:
    pairs: dict[str, dict[str, str | None]] = {
        "RTC/ETH": {"rpc_url": "http://127.0.0.1:8545/"},
        "RTC/USDC": {"rpc_url": "http://127.0.0.1:8545/rpc"},
        "RTC/ERG": {"rpc_url": None},
    }
    csp = content_security_policy(rpc_origins(pairs))
    assert "connect-src 'self' http://127.0.0.1:8545;" in csp
