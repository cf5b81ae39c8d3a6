"""`/docs`: interactive API documentation (Swagger UI) that works offline.

Swagger UI's files come from the pinned `swagger-ui-bundle-v2` package, never from a CDN;
the page and its start-up script are ours (`static/docs/`). Everything is served from
this origin under the same strict Content-Security-Policy as the trading page (scripts
and styles from here only, no inline code, no eval, connections to this bridge only).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from otc_bridge.api.web import REVALIDATE, content_security_policy

OURS = Path(__file__).parent / "static" / "docs"
SWAGGER = Path(str(swagger_ui_path))
ASSETS: dict[str, tuple[Path, str]] = {
    "swagger-ui-bundle.js": (SWAGGER / "swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    "swagger-ui.css": (SWAGGER / "swagger-ui.css", "text/css; charset=utf-8"),
    "init.js": (OURS / "init.js", "text/javascript; charset=utf-8"),
    "docs.css": (OURS / "docs.css", "text/css; charset=utf-8"),
}

router = APIRouter(include_in_schema=False)


@router.api_route("/docs", methods=["GET", "HEAD"])
def docs_page() -> Response:
    return HTMLResponse(
        (OURS / "index.html").read_text(encoding="utf-8"),
        headers={"Cache-Control": REVALIDATE, "Content-Security-Policy": content_security_policy()},
    )


@router.api_route("/docs/{name}", methods=["GET", "HEAD"])
def docs_asset(name: str) -> Response:
    found = ASSETS.get(name)
    if found is None:
        return JSONResponse({"error": "Not Found"}, status_code=404)
    path, media_type = found
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": REVALIDATE})
