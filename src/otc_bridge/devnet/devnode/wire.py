"""HTTP requests and replies shaped like Flask/werkzeug's, so bodies match the node's bytes.

Flask's `jsonify` sorts keys, escapes non-ASCII (U+2014 → `\\u2014`), writes compact JSON
and ends with a newline; `get_json(silent=True)` returns None for a wrong content type or
bad JSON. Both are reproduced here.

One deliberate difference: a JSON string holding an unpaired surrogate (`"\\ud800"`) parses
in Python but cannot be stored (SQLite takes UTF-8), so on the node it would end in a 500
(HTML, or RIP-302's JSON one) wherever the string reaches the database. The devnode reads
such a body as bad JSON instead, so every route answers it with its own "no JSON body"
400. So is a body nested deeper than Python's recursion limit, which makes werkzeug's JSON
parser raise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

JSON_TYPE = "application/json"
HTML_TYPE = "text/html; charset=utf-8"

NOT_FOUND_HTML = (
    "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"
    "<p>The requested URL was not found on the server. If you entered the URL manually "
    "please check your spelling and try again.</p>\n"
)
METHOD_NOT_ALLOWED_HTML = (
    "<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n"
    "<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n"
)
INTERNAL_ERROR_HTML = (
    "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
    "<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was "
    "unable to complete your request. Either the server is overloaded or there is an error "
    "in the application.</p>\n"
)
NGINX_TITLES = {502: "502 Bad Gateway", 504: "504 Gateway Time-out"}

_UNSET = object()


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: tuple[tuple[str, str], ...] = ()
    # False for pages a proxy in front of the node would produce (no Flask hook ran).
    with_request_id: bool = True
    # Set by the transfer handlers when they queued a new row (the `void` fault uses it).
    created_pending_id: int | None = None


def json_reply(
    payload: object, status: int = 200, headers: tuple[tuple[str, str], ...] = ()
) -> Reply:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return Reply(status, (text + "\n").encode(), JSON_TYPE, headers)


def html_reply(status: int, text: str, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    return Reply(status, text.encode(), HTML_TYPE, headers)


def not_found() -> Reply:
    return html_reply(404, NOT_FOUND_HTML)


def method_not_allowed(allowed: frozenset[str]) -> Reply:
    return html_reply(405, METHOD_NOT_ALLOWED_HTML, (("Allow", ", ".join(sorted(allowed))),))


def options_reply(allowed: frozenset[str]) -> Reply:
    """Flask's automatic OPTIONS answer: 200, empty body, `Allow`."""
    return html_reply(200, "", (("Allow", ", ".join(sorted(allowed))),))


def internal_error_html() -> Reply:
    return html_reply(500, INTERNAL_ERROR_HTML)


def internal_error_json() -> Reply:
    """What every RIP-302 handler answers after rolling back."""
    return json_reply({"error": "Internal error"}, 500)


def too_large() -> Reply:
    return json_reply(
        {"ok": False, "code": "REQUEST_TOO_LARGE", "error": "request body exceeds the 1 MB limit"},
        413,
    )


def nginx_error(status: int) -> Reply:
    """The page nginx serves when the upstream failed: HTML, not the node's JSON."""
    title = NGINX_TITLES[status]
    page = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
    return Reply(status, page.encode(), "text/html", (("Server", "nginx"),), with_request_id=False)


def is_json_mimetype(content_type: str) -> bool:
    """werkzeug's `is_json`: application/json or application/*+json."""
    mimetype = content_type.split(";", 1)[0].strip().lower()
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


@dataclass
class Request:
    method: str
    path: str
    args: Mapping[str, str]
    headers: Mapping[str, str]  # lower-case names, first value wins
    body: bytes
    client_ip: str
    request_id: str
    params: dict[str, str] = field(default_factory=dict)
    _json: object = field(default=_UNSET, repr=False)

    def arg(self, name: str) -> str | None:
        return self.args.get(name)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def get_json(self) -> object:
        """`request.get_json(silent=True)`: the parsed body, or None."""
        if self._json is _UNSET:
            self._json = self._parse_json()
        return self._json

    def _parse_json(self) -> object:
        if not is_json_mimetype(self.headers.get("content-type", "")):
            return None
        try:
            data = json.loads(self.body)
            if may_hold_surrogates(self.body) and not storable(data):
                return None
        except (ValueError, RecursionError):  # bad JSON, bad encoding, absurd nesting
            return None
        return data


def may_hold_surrogates(body: bytes) -> bool:
    """False when the body cannot carry an unpaired surrogate: plain ASCII without `\\u`
    escapes (and without NULs, which mark a UTF-16/32 body). Keeps the walk off the hot path."""
    return not body.isascii() or b"\\u" in body or b"\x00" in body


def storable(value: object) -> bool:
    """True if every string in `value` (keys included) encodes as UTF-8."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, list):
        return all(storable(item) for item in value)
    if isinstance(value, dict):
        return all(storable(key) and storable(item) for key, item in value.items())
    return True
