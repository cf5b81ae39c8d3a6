"""`/docs`: the interactive API documentation, served from this origin only (its Swagger
UI files from a pinned package, never a CDN), under a strict Content-Security-Policy.
tests/browser/test_docs.py renders it in chromium."""

from __future__ import annotations

import re

from otc_bridge.api.docs import ASSETS
from tests.support.bridge import RunningBridge


def test_docs_load_nothing_from_another_origin(bridge: RunningBridge) -> None:
    http = bridge.client.http
    page = http.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'"):
        assert directive in csp
    assert "connect-src 'self';" in csp
    assert "unsafe" not in csp
    assert "<script>" not in page.text  # no inline code: the CSP would refuse it
    assert " style=" not in page.text
    links = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert links, "the page names its files"
    for link in links:
        assert link.startswith("/") or link == "data:,", f"{link} is not on this origin"
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "init.js", "docs.css"):
        assert f"/docs/{name}" in links
        asset = http.get(f"/docs/{name}")
        assert asset.status_code == 200, name
        assert asset.headers["content-type"] == ASSETS[name][1]
        assert asset.headers["x-content-type-options"] == "nosniff"
    assert http.get("/docs/../web.py").status_code == 404
    assert http.get("/docs/index.j2").json() == {"error": "Not Found"}
    init = http.get("/docs/init.js").text
    assert 'url: "/openapi.json"' in init
    assert "validatorUrl: null" in init  # the badge would send the document elsewhere


def test_the_page_and_the_docs_link_to_each_other(bridge: RunningBridge) -> None:
    assert 'href="/docs"' in bridge.client.http.get("/").text
    assert 'href="/"' in bridge.client.http.get("/docs").text
