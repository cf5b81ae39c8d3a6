"""The trading page: `/` and its bundle under `/app/`, built from `web/` by the Makefile.

The page is static files; this module only serves them with the right content types,
cache headers (content-hashed names are immutable, everything else revalidates) and a
strict Content-Security-Policy: scripts and styles from this origin only, no inline code,
no eval, and connections to this bridge plus the quote chains' RPC URLs the pairs name.
A bridge whose bundle was never built answers `/` with a page saying so in plain words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

STATIC = Path(__file__).parent / "static"
APP_DIR = STATIC / "app"
UNBUILT_PAGE = STATIC / "index.html"

_ASSET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_HASHED = re.compile(r"-[A-Z0-9]{8}\.(?:js|css)$")  # esbuild's [name]-[hash] output
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
}
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def content_security_policy(connect: Iterable[str] = ()) -> str:
    sources = " ".join(["'self'", *sorted(set(connect))])
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src {sources}",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def rpc_origins(pair_info: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The origins of the quote chains' RPC URLs: the page may talk to them, nothing else."""
    origins = []
    for info in pair_info.values():
        parts = urlsplit(str(info.get("rpc_url") or ""))
        if parts.scheme in {"http", "https"} and parts.netloc:
            origins.append(f"{parts.scheme}://{parts.netloc}")
    return origins


def _page_headers(request: Request) -> dict[str, str]:
    container = getattr(request.app.state, "container", None)
    market = getattr(container, "market", None)
    pair_info = getattr(market, "pair_info", {}) or {}
    return {
        "Cache-Control": REVALIDATE,
        "Content-Security-Policy": content_security_policy(rpc_origins(pair_info)),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    }


def build_router(app_dir: Path = APP_DIR, unbuilt_page: Path = UNBUILT_PAGE) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.api_route("/", methods=["GET", "HEAD"])
    def page(request: Request) -> Response:
        built = app_dir / "index.html"
        headers = _page_headers(request)
        if built.is_file():
            return HTMLResponse(built.read_text(encoding="utf-8"), headers=headers)
        # Served, but not built: say so instead of a page whose scripts all 404.
        return HTMLResponse(
            unbuilt_page.read_text(encoding="utf-8"), status_code=503, headers=headers
        )

    @router.api_route("/app/{name}", methods=["GET", "HEAD"])
    def asset(name: str) -> Response:
        path = app_dir / name
        suffix = path.suffix
        if not _ASSET_NAME.fullmatch(name) or suffix not in _TYPES or not path.is_file():
            return JSONResponse({"error": "Not Found"}, status_code=404)
        cache = IMMUTABLE if _HASHED.search(name) else REVALIDATE
        return FileResponse(
            path,
            media_type=_TYPES[suffix],
            headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"},
        )

    return router


router = build_router()
