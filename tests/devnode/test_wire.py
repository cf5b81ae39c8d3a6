"""Flask-level behaviour: HTML 404/405, OPTIONS/HEAD, request ids, the 1 MB limit, JSON shape."""

from __future__ import annotations

import re

from tests.conftest import Devnode

NOT_FOUND = (
    "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"
    "<p>The requested URL was not found on the server. If you entered the URL manually please "
    "check your spelling and try again.</p>\n"
)
METHOD_NOT_ALLOWED = (
    "<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n"
    "<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n"
)


def test_unknown_route_is_werkzeugs_html_404(devnode: Devnode) -> None:
    for path in ("/nope", "/agent/jobs/", "/wallet/tx/", "/wallet/tx/a/b", "/pending"):
        response = devnode.http.get(path)
        assert response.status_code == 404, path
        assert response.text == NOT_FOUND
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


def test_wrong_method_is_html_405_with_allow(devnode: Devnode) -> None:
    response = devnode.http.put("/agent/jobs")
    assert response.status_code == 405
    assert response.text == METHOD_NOT_ALLOWED
    assert response.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    response = devnode.http.get("/wallet/transfer")
    assert response.status_code == 405
    assert response.headers["allow"] == "OPTIONS, POST"
    assert devnode.http.post("/wallet/balance").headers["allow"] == "GET, HEAD, OPTIONS"


def test_options_and_head_are_automatic(devnode: Devnode) -> None:
    options = devnode.http.options("/pending/confirm")
    assert options.status_code == 200
    assert options.headers["allow"] == "OPTIONS, POST"
    assert options.content == b""
    head = devnode.http.head("/wallet/balance", params={"miner_id": "alice"})
    assert head.status_code == 200
    assert head.content == b""


def test_request_id_is_echoed_or_generated(devnode: Devnode) -> None:
    echoed = devnode.http.get("/wallet/balance?miner_id=a", headers={"X-Request-Id": "trace-42"})
    assert echoed.headers["x-request-id"] == "trace-42"
    fresh = devnode.http.get("/wallet/balance?miner_id=a", headers={"X-Request-Id": ""})
    assert re.fullmatch(r"[0-9a-f]{32}", fresh.headers["x-request-id"])


def test_body_over_one_megabyte_is_413_with_dash_request_id(devnode: Devnode) -> None:
    big = b'{"x": "' + b"a" * (1024 * 1024) + b'"}'
    response = devnode.http.post(
        "/agent/jobs",
        content=big,
        headers={"Content-Type": "application/json", "X-Request-Id": "mine"},
    )
    assert response.status_code == 413
    assert response.json() == {
        "ok": False,
        "code": "REQUEST_TOO_LARGE",
        "error": "request body exceeds the 1 MB limit",
    }
    assert response.headers["x-request-id"] == "-"
    # Exactly 1 MB is still accepted (it is not JSON of a job, so the job rules answer).
    exact = devnode.http.post(
        "/agent/jobs", content=b" " * (1024 * 1024), headers={"Content-Type": "application/json"}
    )
    assert exact.status_code == 400
    assert exact.json() == {"error": "JSON body required"}


def test_json_is_flask_shaped_sorted_compact_ascii(devnode: Devnode) -> None:
    devnode.control.add_fault("POST /agent/jobs/*/cancel", "state_race")
    response = devnode.http.post("/agent/jobs/job_x/cancel", json={"poster_wallet": "p"})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/json"
    assert response.content == (
        b'{"code":"STATE_RACE","error":"Job state changed under concurrent request '
        b'\\u2014 please retry"}\n'
    )


def test_bodies_are_read_like_get_json_silent(devnode: Devnode) -> None:
    """A wrong content type or broken JSON is "no body", never a parse error."""
    plain = devnode.http.post(
        "/agent/jobs", content=b'{"poster_wallet": "a"}', headers={"Content-Type": "text/plain"}
    )
    assert (plain.status_code, plain.json()) == (400, {"error": "JSON body required"})
    broken = devnode.http.post(
        "/agent/jobs", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert broken.json() == {"error": "JSON body required"}
    vendor = devnode.http.post(
        "/agent/jobs", content=b"[1]", headers={"Content-Type": "application/vnd.x+json"}
    )
    assert vendor.json() == {"error": "JSON object required"}
    lifecycle = devnode.http.post("/agent/jobs/job_x/claim")
    assert lifecycle.json() == {"error": "worker_wallet required"}


def test_unstorable_json_is_read_as_no_body(devnode: Devnode) -> None:
    """A string with an unpaired surrogate (escaped or raw) cannot reach SQLite, and nesting
    past the recursion limit breaks the parser: both count as no JSON body (a devnode
    choice; the node would fail with a 500), while a proper surrogate pair is fine."""
    json_type = {"Content-Type": "application/json"}
    for body in (
        b'{"poster_wallet": "a\\ud800"}',
        '{"poster_wallet": "a\ud800"}'.encode("utf-8", "surrogatepass"),
        b"[" * 100_000 + b"]" * 100_000,
    ):
        response = devnode.http.post("/agent/jobs", content=body, headers=json_type)
        assert (response.status_code, response.json()) == (400, {"error": "JSON body required"})
    transfer = devnode.http.post(
        "/wallet/transfer",
        content=b'{"from_miner": "\\udc00", "to_miner": "b", "amount_rtc": 1}',
        headers={**json_type, **devnode.admin()},
    )
    assert transfer.json() == {"error": "invalid_json_body", "details": {}}
    paired = devnode.http.post(
        "/agent/jobs", content=b'{"poster_wallet": "\\ud83d\\ude00"}', headers=json_type
    )
    assert paired.json() == {"error": "title must be at least 5 characters"}
