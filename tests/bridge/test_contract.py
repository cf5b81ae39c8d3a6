"""The contract test: every reply of every route in /openapi.json, success and error,
validated against the schema the document publishes for that route and status.

A tour drives every published route with real requests against a devnode (successes,
and each refusal a client can cause: bad input, bad signatures, unknown orders, wrong
states, an expired order, a body over the size limit, node faults), and checks each
reply with `tests.support.contract.Contract` (jsonschema). A status a route answers
without publishing it, or a member its schema does not list, fails the test. The
property test (`test_property_routes.py`) runs every fuzzed reply through the same check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from otc_bridge.api.app import create_app
from otc_bridge.bootstrap import build
from otc_bridge.clientlib.wallet import Secret, Wallet
from otc_bridge.config import Settings
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.devnet.process import DevnodeProcess
from tests.support.bridge import RunningBridge, bridge_env, running_bridge
from tests.support.chain import lock_on_chain, make_final
from tests.support.contract import Contract, ContractError

EVM = "0x" + "11" * 20
QUOTE_TX = "0x" + "cd" * 32


class Tour:
    """Requests through one bridge, each reply checked against the contract."""

    def __init__(
        self, bridge: RunningBridge, devnet: DevnetControl, chain: Devchain | None = None
    ) -> None:
        self.bridge = bridge
        self.devnet = devnet
        self.chain = chain
        self.client = bridge.client
        self.http = bridge.client.http
        self.contract = Contract(self.http.get("/openapi.json").json())

    def checked(self, method: str, template: str, response: httpx.Response) -> httpx.Response:
        self.contract.check(method, template, response)
        return response

    def get(self, template: str, path: str, **params: Any) -> httpx.Response:
        return self.checked("GET", template, self.http.get(path, params=params))

    def post(self, template: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.checked("POST", template, self.http.post(path, **kwargs))

    def funded(self, rtc: str = "100") -> Wallet:
        wallet = Wallet()
        self.devnet.faucet(wallet.address, rtc)
        return wallet

    def sell(self, seller: Wallet, secret: Secret) -> str:
        created = self.checked(
            "POST",
            "/api/orders",
            self.client.create_order(
                seller, side="sell", amount_rtc="2", price_per_rtc="0.1", htlc_hash=secret.hash
            ),
        )
        assert created.status_code == 201, created.text
        return str(created.json()["order_id"])

    def buy(self, maker: Wallet, ttl: int | None = None) -> str:
        created = self.checked(
            "POST",
            "/api/orders",
            self.client.create_order(
                maker, side="buy", amount_rtc="1", price_per_rtc="0.1", ttl_seconds=ttl
            ),
        )
        assert created.status_code == 201, created.text
        return str(created.json()["order_id"])


@pytest.fixture
def tour(bridge: RunningBridge, devnet: DevnetControl, devchain: Devchain) -> Tour:
    return Tour(bridge, devnet, devchain)


def lose_the_escrow_lock(devnet: DevnetControl) -> None:
    """The node locks the escrow but its answer is lost, and so is the lookup by title:
    the lock's outcome is unknown (503; the worker resolves it later)."""
    devnet.add_fault("POST /agent/jobs", "drop")
    devnet.add_fault("GET /agent/jobs", "gateway_error")


def statuses(response: httpx.Response, *expected: int) -> None:
    assert response.status_code in expected, f"{response.status_code} {response.text}"


def test_every_reply_of_every_route_matches_its_published_schema(tour: Tour) -> None:
    orders, one, events = "/api/orders", "/api/orders/{order_id}", "/api/orders/{order_id}/events"
    match, confirm = "/api/orders/{order_id}/match", "/api/orders/{order_id}/confirm"
    cancel = "/api/orders/{order_id}/cancel"
    unknown = "otc_" + "f" * 16
    seller, buyer, secret = tour.funded(), tour.funded(), Secret()

    # create: 201 (sell with S's hashlock, buy), 400, 401, 409, 413, 503 (outcome unknown)
    sold = tour.sell(seller, secret)
    bought = tour.buy(tour.funded())
    statuses(tour.post(orders, orders), 400)
    statuses(tour.post(orders, orders, json={"side": "buy", "wallet": "RTC" + "0" * 40}), 400)
    body = {"side": "buy", "amount_rtc": "1", "price_per_rtc": "1", "wallet": "RTC" + "0" * 40,
            "eth_address": EVM}  # fmt: skip
    statuses(tour.post(orders, orders, json={**body, "wallet_auth": {"public_key": "a"}}), 401)
    statuses(tour.post(orders, orders, content=b"x" * 70_000), 413)
    statuses(tour.checked("POST", orders, tour.client.create_order(
        tour.funded(), side="sell", amount_rtc="1", price_per_rtc="0.1", pair="RTC/ERG"
    )), 409)  # fmt: skip  # pair_disabled: RTC/ERG's quote leg is not verified by default
    lose_the_escrow_lock(tour.devnet)
    statuses(tour.checked("POST", orders, tour.client.create_order(
        tour.funded(), side="sell", amount_rtc="1", price_per_rtc="0.1"
    )), 503)  # fmt: skip

    # reads of the book and of one order
    statuses(tour.get(orders, orders), 200)
    statuses(tour.get(orders, orders, limit="x"), 400)
    statuses(tour.get(one, f"{orders}/{sold}"), 200)
    statuses(tour.get(one, f"{orders}/{unknown}"), 404)
    statuses(tour.get(events, f"{orders}/{sold}/events"), 200)
    statuses(tour.get(events, f"{orders}/{sold}/events", after="-1"), 400)
    statuses(tour.get(events, f"{orders}/{unknown}/events"), 404)

    # match: 200, 400, 401, 404, 409, 410, 503
    statuses(tour.checked("POST", match, tour.client.match(buyer, sold, eth_address=EVM)), 200)
    statuses(tour.post(match, f"{orders}/{sold}/match", json={}), 400)
    statuses(tour.post(match, f"{orders}/{sold}/match", json={"wallet": buyer.address}), 401)
    statuses(tour.checked("POST", match, tour.client.match(Wallet(), unknown)), 404)
    statuses(tour.checked("POST", match, tour.client.match(Wallet(), sold)), 409)
    lose_the_escrow_lock(tour.devnet)
    statuses(tour.checked("POST", match, tour.client.match(
        tour.funded(), bought, htlc_hash=Secret().hash
    )), 503)  # fmt: skip

    # lock: 400, 404, 409 (not matched; not final), 422 (no such lock), 200 (and again)
    lock = "/api/orders/{order_id}/lock"
    statuses(tour.post(lock, f"{orders}/{sold}/lock", json={}), 400)
    statuses(tour.post(lock, f"{orders}/{unknown}/lock", json={"quote_tx": QUOTE_TX}), 404)
    statuses(tour.post(lock, f"{orders}/{bought}/lock", json={"quote_tx": QUOTE_TX}), 409)
    statuses(tour.post(lock, f"{orders}/{sold}/lock", json={"quote_tx": QUOTE_TX}), 422)
    assert tour.chain is not None
    made = lock_on_chain(tour.chain, tour.client.order(sold), now=tour.client.now())
    reported = {"quote_tx": made.tx.tx_hash}
    statuses(tour.post(lock, f"{orders}/{sold}/lock", json=reported), 409)  # not final yet
    make_final(tour.chain)
    statuses(tour.post(lock, f"{orders}/{sold}/lock", json=reported), 200)
    statuses(tour.post(lock, f"{orders}/{sold}/lock", json={"lock_id": made.lock_id}), 200)

    # confirm: 200, 400, 403, 404, 409
    path = f"{orders}/{sold}/confirm"
    statuses(tour.post(confirm, path, json={"quote_tx": QUOTE_TX}), 400)
    wrong = {"wallet": buyer.address, "secret": secret.hex, "quote_tx": QUOTE_TX}
    statuses(tour.post(confirm, path, json=wrong), 403)
    statuses(tour.post(confirm, f"{orders}/{unknown}/confirm", json=wrong), 404)
    statuses(tour.post(confirm, f"{orders}/{bought}/confirm", json=wrong), 409)
    good = {"wallet": seller.address, "secret": secret.hex, "quote_tx": QUOTE_TX}
    statuses(tour.post(confirm, path, json=good), 200)

    # cancel: 200, 400, 401, 403, 404, 409
    maker = tour.funded()
    fresh = tour.buy(maker)
    statuses(tour.post(cancel, f"{orders}/{fresh}/cancel", json={}), 400)
    statuses(tour.post(cancel, f"{orders}/{fresh}/cancel", json={"wallet": maker.address}), 401)
    statuses(tour.checked("POST", cancel, tour.client.cancel(Wallet(), fresh)), 403)
    statuses(tour.checked("POST", cancel, tour.client.cancel(maker, unknown)), 404)
    statuses(tour.checked("POST", cancel, tour.client.cancel(seller, sold)), 409)
    statuses(tour.checked("POST", cancel, tour.client.cancel(maker, fresh)), 200)

    # the market, operations
    for template in ("/api/trades", "/api/orderbook", "/api/stats", "/api/pairs"):
        statuses(tour.get(template, template), 200)
    statuses(tour.get("/api/trades", "/api/trades", limit="0"), 400)
    statuses(tour.get("/api/orderbook", "/api/orderbook", pair="XRP/USD"), 400)
    statuses(tour.get("/healthz", "/healthz"), 200)
    tour.devnet.add_fault("GET /wallet/tx/*", "gateway_error")
    statuses(tour.get("/healthz", "/healthz"), 503)
    statuses(tour.get("/metrics", "/metrics"), 200)
    statuses(tour.post("/admin/reconcile", "/admin/reconcile"), 401)
    key = tour.bridge.container.settings.admin_key or ""
    admin = {"X-Admin-Key": key}
    statuses(tour.post("/admin/reconcile", "/admin/reconcile", headers=admin), 200)

    # the push channels: streams and webhooks
    push_tour(tour, fresh, maker)

    # an order past its lifetime (last: the clock only moves forward)
    late = tour.buy(tour.funded(), ttl=3600)
    tour.devnet.advance_clock(3601)
    statuses(tour.checked("POST", match, tour.client.match(tour.funded(), late)), 410)

    seen = {(method, template) for method, template, _ in tour.contract.seen}
    assert seen == tour.contract.routes(), "published routes the tour never reached"
    for method, template in tour.contract.routes():
        unseen = tour.contract.published(method, template) - {
            status for m, t, status in tour.contract.seen if (m, t) == (method, template)
        }
        # What the tour cannot cause on a healthy devnet: a per-client rate limit (429),
        # the node's admin transport (503 on confirm, covered by its own test below).
        assert unseen <= {413, 429, 503}, f"{method} {template} never answered {unseen}"


def test_a_pair_whose_quote_leg_cannot_be_verified_takes_no_orders(
    node: DevnodeProcess, devnet: DevnetControl, tmp_path: Path
) -> None:
    """docs/api.md: with no quote chain configured for the EVM pairs (and RTC/ERG on its
    default policy), every pair is shown disabled, with the reason, and create and match
    are refused with 409 pair_disabled before anything is escrowed."""
    env = bridge_env(node, tmp_path, OTC_EVM_RPC_URL="")
    with running_bridge(env) as bridge:
        tour = Tour(bridge, devnet)
        pairs = tour.get("/api/pairs", "/api/pairs").json()["pairs"]
        assert {p["pair"]: p["enabled"] for p in pairs} == {
            "RTC/ETH": False, "RTC/USDC": False, "RTC/ERG": False,
        }  # fmt: skip
        usdc = next(p for p in pairs if p["pair"] == "RTC/USDC")
        assert "OTC_RTC_USDC_RPC_URL" in usdc["disabled_reason"]
        erg = next(p for p in pairs if p["pair"] == "RTC/ERG")
        assert "OTC_RTC_ERG_QUOTE_POLICY=unverified" in erg["disabled_reason"]
        escrow_before = devnet.ledger()["escrow"]
        seller = tour.funded()
        refused = tour.checked("POST", "/api/orders", tour.client.create_order(
            seller, side="sell", amount_rtc="1", price_per_rtc="0.1"
        ))  # fmt: skip
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"] == "pair_disabled"
        assert devnet.ledger()["escrow"] == escrow_before
        assert tour.get("/api/orders", "/api/orders").json()["orders"] == []


def test_pairs_serve_the_chain_to_lock_on_and_healthz_each_chain(
    tour: Tour, devchain: Devchain
) -> None:
    pairs = {p["pair"]: p for p in tour.get("/api/pairs", "/api/pairs").json()["pairs"]}
    info = devchain.info
    usdc, eth = pairs["RTC/USDC"], pairs["RTC/ETH"]
    assert (usdc["enabled"], usdc["disabled_reason"]) == (True, None)
    assert usdc["chain_id"] == eth["chain_id"] == info.chain_id
    assert usdc["htlc_contract"] == eth["htlc_contract"] == info.htlc_contract
    assert (usdc["token_address"], eth["token_address"]) == (info.usdc_token, None)
    assert (usdc["decimals"], eth["decimals"]) == (info.usdc_decimals, 18)
    assert usdc["finality_confirmations"] == info.finality_confirmations
    assert usdc["quote_verification"] == "verified"
    assert usdc["timelock_min_seconds"] <= usdc["timelock_max_seconds"]
    assert pairs["RTC/ERG"]["enabled"] is False
    health = tour.get("/healthz", "/healthz").json()
    (chain,) = health["chains"]  # both EVM pairs share one chain
    assert chain["status"] == "ok"
    assert chain["chain_id"] == info.chain_id
    assert chain["head"] >= devchain.control.head().number - 1


def test_the_contract_check_refuses_what_the_document_does_not_publish(tmp_path: Path) -> None:
    """The checker itself: an unpublished status, an undocumented member and a wrong type
    are all failures (so the tour cannot pass by checking nothing)."""
    settings = Settings.from_env({"OTC_DB_PATH": str(tmp_path / "db.sqlite3"),
                                  "OTC_DATA_DIR": str(tmp_path)})  # fmt: skip
    container = build(settings)
    try:
        contract = Contract(create_app(container, start_worker=False).openapi())
    finally:
        container.close()

    def reply(status: int, body: object, **headers: str) -> httpx.Response:
        every = {"X-Server-Time": "1700000000", "X-Request-Id": "r1"}
        return httpx.Response(status, json=body, headers={**every, **headers})

    contract.check("POST", "/api/orders/{order_id}/cancel", reply(404, {"error": "x"}))
    bare = httpx.Response(404, json={"error": "x"}, headers={"X-Request-Id": "r1"})
    with pytest.raises(ContractError, match=r"published headers \['X-Server-Time'\]"):
        contract.check("POST", "/api/orders/{order_id}/cancel", bare)
    with pytest.raises(ContractError, match=r"published headers \['Retry-After'\]"):
        contract.check("POST", "/api/orders/{order_id}/cancel", reply(429, {"error": "x"}))
    with pytest.raises(ContractError, match="no published reply for 410"):
        contract.check("POST", "/api/orders/{order_id}/cancel", reply(410, {"error": "x"}))
    with pytest.raises(ContractError, match="Additional properties"):
        contract.check("GET", "/api/orders/{order_id}", reply(404, {"error": "x", "why": 1}))
    with pytest.raises(ContractError, match="is not of type"):
        contract.check("GET", "/api/stats", reply(200, {"ok": True, "stats": []}))
    with pytest.raises(ContractError, match="not a published route"):
        contract.check("DELETE", "/api/orders", reply(200, {}))
    assert (
        contract.route_for("GET", "/api/orders/otc_1%2Fevents") == "/api/orders/{order_id}/events"
    )
    assert contract.route_for("GET", "/api/orders/") is None


def push_tour(tour: Tour, ended: str, maker: Wallet) -> None:
    """The order stream (of an order that has ended, so the reply ends too), the market
    stream (its first snapshot, then the client leaves), the webhook routes."""
    stream, unknown = "/api/orders/{order_id}/stream", "otc_" + "f" * 16
    path = f"/api/orders/{ended}/stream"
    whole = tour.get(stream, path)
    statuses(whole, 200)
    last = str(len(tour.client.events(ended)))
    assert whole.text.endswith(f'"status":"cancelled","last_seq":{last}}}\n\n'), whole.text
    statuses(tour.checked("GET", stream, tour.http.get(path, headers={"Last-Event-ID": last})), 204)
    statuses(tour.get(stream, path, after="-1"), 400)
    statuses(tour.get(stream, f"/api/orders/{unknown}/stream"), 404)
    with tour.client.market_stream("RTC/USDC") as market:
        first = next(market.events())
        opening = httpx.Response(
            market.status_code,
            headers=market.response.headers,
            content=f"id: {first.id}\nevent: {first.event}\ndata: {first.data}\n\n".encode(),
        )
    statuses(tour.checked("GET", "/api/stream", opening), 200)
    statuses(tour.get("/api/stream", "/api/stream", pair="RTC/BTC"), 400)

    hooks, listing = "/api/webhooks", "/api/webhooks/list"
    removal = "/api/webhooks/{webhook_id}/remove"
    url = "https://93.184.215.14/otc/hook"  # public: registered, never called here
    created = tour.checked("POST", hooks, tour.client.register_webhook(maker, url))
    statuses(created, 201)
    hook_id = created.json()["webhook_id"]
    statuses(tour.post(hooks, hooks, json={"wallet": maker.address}), 400)
    bad = {"wallet": maker.address, "url": url, "wallet_auth": {"public_key": "a"}}
    statuses(tour.post(hooks, hooks, json=bad), 401)
    statuses(tour.checked("POST", listing, tour.client.list_webhooks(maker)), 200)
    statuses(tour.post(listing, listing, json={}), 400)
    statuses(tour.post(listing, listing, json={"wallet": maker.address}), 401)
    gone = f"/api/webhooks/{hook_id}/remove"
    statuses(tour.post(removal, gone, json={}), 400)
    statuses(tour.post(removal, gone, json={"wallet": maker.address}), 401)
    statuses(tour.checked("POST", removal, tour.client.remove_webhook(Wallet(), hook_id)), 404)
    statuses(tour.checked("POST", removal, tour.client.remove_webhook(maker, hook_id)), 200)
