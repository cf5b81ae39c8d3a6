"""No input makes the devnode fail: arbitrary bodies, content types, queries, path values
and headers get a 4xx or a success, never an HTML 500, and a 4xx changes nothing in the
ledger.

The one 500 allowed is RIP-302's own: its handlers catch every exception and answer
`500 {"error": "Internal error"}` having committed nothing, and some inputs do raise on the
node (an `offset` beyond SQLite's integer range, say), so the devnode answers them the same.

Two probes: the signed-transfer body, field by field, starting from a real signed and
funded transfer (so the later checks are reached, not just the preflight); and every route
of the route table with arbitrary requests. `OTC_PROPERTY_EXAMPLES` sets the examples per
probe (default 60: 180 signed bodies, 30 requests per route).

Left out of the every-route probe, because they change the node on purpose: adding faults
(which inject 500s), bulk history fill (up to a million rows), moving the clock, and
setting the simulated latency (up to a minute per reply).
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from otc_bridge.devnet.devnode.routes import build_router
from tests.conftest import Devnode, scaffold_ip
from tests.devnode.signed_wallet import RECEIVER, Wallet

EXAMPLES = 3 * int(os.environ.get("OTC_PROPERTY_EXAMPLES", "60"))
PROBE_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    phases=[phase for phase in Phase if phase is not Phase.explain],
)
EXCLUDED = {
    ("POST", "/devnet/faults"),
    ("POST", "/devnet/pending/fill"),
    ("POST", "/devnet/clock"),
    ("POST", "/devnet/latency"),
}
ROUTES = sorted(
    (route.method, route.pattern)
    for route in build_router().routes()
    if (route.method, route.pattern) not in EXCLUDED
)
RIP302_ROUTES = {
    (route.method, route.pattern) for route in build_router().routes() if route.json_errors
}
RIP302_ERROR = {"error": "Internal error"}

DROP = object()
SURROGATES = st.sampled_from(["\ud800", "a\udfff", "\udc00\ud800"])
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([2**63, -(2**63) - 1, 10**30, 10**4000])
    | st.floats()  # NaN and ±Infinity too: the node's JSON parser accepts them
    | st.text(max_size=20)
    | SURROGATES
    | st.sampled_from(["1e999999", "-0", "0x10", "１０", " 5 ", "NaN", "1e-7"])
)
# The values that break parsers: non-finite and out-of-range numbers, wrong types, blanks.
EDGES = st.sampled_from(
    [
        *(float("inf"), float("-inf"), float("nan"), 2**63, -(2**63) - 1, 10**30, -1, 0, 0.5),
        *("", " ", "1e999999", "NaN", "-0", True, False, None, [], {}, [1], {"a": 1}),
    ]
)
JSON_VALUES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
# The fields each route reads, so drawn objects reach past "field required" refusals.
ROUTE_FIELDS = {
    "/wallet/transfer": ["from_miner", "to_miner", "amount_rtc", "reason", "idempotency_key"],
    "/pending/confirm": ["limit"],
    "/pending/void": ["pending_id", "tx_hash", "reason", "voided_by"],
    "/agent/jobs": [
        "poster_wallet", "title", "description", "category", "reward_rtc", "ttl_seconds", "tags"
    ],
    "/claim": ["worker_wallet"],
    "/deliver": ["worker_wallet", "deliverable_url", "result_summary", "deliverable_hash"],
    "/accept": ["poster_wallet", "rating"],
    "/dispute": ["poster_wallet", "reason"],
    "/cancel": ["poster_wallet"],
    "/devnet/faucet": ["wallet", "amount_rtc"],
    "/devnet/scheduler": [
        "enabled", "interval_seconds", "batch_limit", "confirmation_delay_seconds"
    ],
    "/devnet/scheduler/tick": ["limit"],
}  # fmt: skip


def body_strategy(pattern: str) -> st.SearchStrategy[Any]:
    """Objects of the route's own fields (mostly), or any JSON, or raw bytes."""
    fields = next(
        (names for suffix, names in ROUTE_FIELDS.items() if pattern.endswith(suffix)), ["x"]
    )
    values = EDGES | EDGES | JSON_VALUES
    objects = st.dictionaries(st.sampled_from(fields) | st.text(max_size=5), values)
    return objects | objects | objects | JSON_VALUES | st.binary(max_size=40)


HEX = st.binary(max_size=70).map(bytes.hex)
PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "from_address": st.sampled_from(["RTC" + "A" * 40, "bcn_agent01", "RTC" + "g" * 40]),
    "to_address": st.sampled_from([RECEIVER, "bcn_someone", "RTC", "RTC" + "c" * 39]),
    "amount_rtc": st.sampled_from([1, "1", 0.000001, "0.0000001", 10**12, "1e999999"]),
    "fee_rtc": st.sampled_from([0, 0.5, "0", -1, "1e999999", None]),
    "nonce": st.integers(min_value=-5, max_value=2**70) | st.sampled_from(["7", "1.0", " 9"]),
    "signature": HEX | st.sampled_from(["zz", "ab cd", " " * 3]),
    "public_key": HEX | st.sampled_from(["zz", "ab cd", "0" * 63]),
    "memo": st.text(max_size=100) | SURROGATES,
    "chain_id": st.sampled_from(["rustchain-mainnet-v2", "other", "bad chain!", "", 5]),
}


@st.composite
def signed_changes(draw: st.DrawFn) -> dict[str, Any]:
    """One to three fields of a valid body dropped or replaced; the rest stay valid, so each
    example reaches the check its changed fields test."""
    names = draw(st.lists(st.sampled_from(sorted(PLAUSIBLE)), min_size=1, max_size=3, unique=True))
    return {name: draw(st.just(DROP) | PLAUSIBLE[name] | JSON_VALUES, label=name) for name in names}


def encode(value: Any, raw_utf8: bool) -> bytes:
    """JSON bytes; `raw_utf8` writes non-ASCII (lone surrogates included) unescaped."""
    text = json.dumps(value, ensure_ascii=not raw_utf8)
    return text.encode("utf-8", "surrogatepass")


def ledger(node: Devnode) -> dict[str, Any]:
    state: dict[str, Any] = node.control.ledger()
    return {key: state[key] for key in ("balances", "pending_pool", "escrow", "total_supply_i64")}


def assert_no_server_error(
    node: Devnode, response: Any, before: dict[str, Any], *, rip302: bool = False
) -> None:
    if rip302 and response.status_code == 500:
        assert response.json() == RIP302_ERROR
    else:
        assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert ledger(node) == before, response.text


@PROBE_SETTINGS
@given(changes=signed_changes(), raw_utf8=st.booleans())
def test_signed_transfer_bodies_never_fail_the_node(
    devnode: Devnode, changes: dict[str, Any], raw_utf8: bool
) -> None:
    wallet = Wallet()
    devnode.control.faucet(wallet.address, 3)
    body = wallet.body(1, 1, chain_id="rustchain-mainnet-v2")
    for name, change in changes.items():
        if change is DROP:
            body.pop(name, None)
        else:
            body[name] = change
    before = ledger(devnode)
    response = devnode.http.post(
        "/wallet/transfer/signed",
        content=encode(body, raw_utf8),
        headers={"content-type": "application/json"},
    )
    assert_no_server_error(devnode, response, before)
    assert response.headers["content-type"] == "application/json"


REQUEST = st.fixed_dictionaries(
    {
        "method": st.sampled_from([None, None, None, "GET", "POST", "HEAD", "OPTIONS", "PATCH"]),
        "segment": st.text(min_size=1, max_size=30) | st.sampled_from(["job_1", "1", "0" * 32]),
        "query": st.dictionaries(
            st.sampled_from(["miner_id", "address", "status", "limit", "offset", "min_reward"]),
            st.text(max_size=12) | st.integers().map(str),
            max_size=3,
        ),
        "raw_utf8": st.booleans(),
        "content_type": st.sampled_from(
            ["application/json", "application/json", "text/plain", "application/x+json"]
        ),
        "admin": st.sampled_from([True, True, True, False]),
    }
)


@pytest.mark.parametrize("route", ROUTES, ids=[" ".join(route) for route in ROUTES])
@settings(PROBE_SETTINGS, max_examples=max(10, EXAMPLES // 6))
@given(plan=REQUEST, data=st.data())
def test_no_request_to_any_route_fails_the_node(
    devnode: Devnode, route: tuple[str, str], plan: dict[str, Any], data: st.DataObject
) -> None:
    method, pattern = route
    path = pattern
    while "<" in path:  # every path parameter gets the drawn value
        head, _, rest = path.partition("<")
        path = head + quote(plan["segment"], safe="") + rest.partition(">")[2]
    if plan["query"]:
        path += "?" + urlencode(plan["query"])
    body = data.draw(body_strategy(pattern), label="body")
    content = body if isinstance(body, bytes) else encode(body, plan["raw_utf8"])
    headers = {"content-type": plan["content_type"], "X-Real-IP": scaffold_ip()}
    if plan["admin"]:
        headers["X-Admin-Key"] = devnode.admin_key
    before = ledger(devnode)
    response = devnode.http.request(
        plan["method"] or method, path, content=content, headers=headers
    )
    assert_no_server_error(devnode, response, before, rip302=route in RIP302_ROUTES)
