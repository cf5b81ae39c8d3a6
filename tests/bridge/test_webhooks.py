"""Trader webhooks: registration (signed, capped, public addresses only outside the
devnet), deliveries of every event of the wallet's orders through the outbox (at least
once, in order per order, signed, retried with backoff, given up with an alert), and
the operators' alert webhook signed the same way.

The receiver is a real HTTP server on loopback (so these bridges run with the devnet's
`OTC_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=1`, except where the refusal itself is tested).
Signatures are checked with the ten lines docs/api.md gives receivers, run as written.
Deliveries are made by the worker's delivery pass, called here by hand; backoff is
waited out on the devnet's clock.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from otc_bridge.clientlib.wallet import Wallet
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.process import DevnodeProcess
from tests.support.bridge import RunningBridge, bridge_env, running_bridge
from tests.support.push import BookOrder, docs_verifier
from tests.support.webhook_receiver import Received, Receiver

verify = docs_verifier()


@pytest.fixture
def hooked(node: DevnodeProcess, devnet: DevnetControl, tmp_path: Path) -> Iterator[RunningBridge]:
    env = bridge_env(node, tmp_path, OTC_WEBHOOK_ALLOW_PRIVATE_ADDRESSES="1")
    with running_bridge(env) as bridge:
        yield bridge


def register(bridge: RunningBridge, wallet: Wallet, url: str) -> dict[str, object]:
    answer = bridge.client.register_webhook(wallet, url)
    assert answer.status_code == 201, answer.text
    body: dict[str, object] = answer.json()
    return body


def deliver_everything(bridge: RunningBridge, devnet: DevnetControl) -> None:
    """Worker passes until nothing is pending, waiting out each backoff on the clock."""
    for _ in range(30):
        bridge.container.webhook_delivery.deliver_due()
        with bridge.container.store.read() as uow:
            if uow.deliveries.pending_count() == 0:
                return
        devnet.advance_clock(60)
    raise AssertionError("deliveries still pending")


def event_ids(posts: list[Received]) -> list[str]:
    return [p.headers["x-otc-event-id"] for p in posts]


def test_a_receiver_that_fails_twice_then_succeeds_gets_each_event_once_signed(
    hooked: RunningBridge, devnet: DevnetControl
) -> None:
    maker = Wallet()
    with Receiver(statuses=(500, 503)) as receiver:
        hook = register(hooked, maker, receiver.url)
        secret = str(hook["secret"])
        assert secret.startswith("whsec_")
        order = BookOrder.create(hooked.client, devnet, hooked.run_worker, maker=maker)
        order.match()
        order.drive_to_end()
        history = order.history()
        assert receiver.received() == []  # nothing is sent inside a request
        deliver_everything(hooked, devnet)
        posts = receiver.received()

    ids = [f"{order.order_id}:{e['seq']}" for e in history]
    accepted = [p for p in posts if p.accepted]
    assert event_ids(accepted) == ids  # each event accepted exactly once, in order
    assert event_ids(posts) == [ids[0]] * 3 + ids[1:]  # the first one after two failures
    assert [p.headers["x-otc-delivery-attempt"] for p in posts[:3]] == ["1", "2", "3"]
    assert len({p.body for p in posts[:3]}) == 1  # a retry is the same bytes
    for post, event in zip(accepted, history, strict=True):
        assert verify(secret, post.headers["x-otc-signature"], post.body)
        assert post.headers["x-otc-webhook-id"] == hook["webhook_id"]
        assert post.headers["content-type"] == "application/json"
        assert post.json() == {
            "id": f"{order.order_id}:{event['seq']}",
            "type": "order.event",
            "webhook_id": hook["webhook_id"],
            "order_id": order.order_id,
            "event": event,
        }
    first = accepted[0]
    tampered = first.body.replace(b'"to":"open"', b'"to":"completed"')
    assert tampered != first.body
    assert not verify(secret, first.headers["x-otc-signature"], tampered)
    assert not verify("whsec_another", first.headers["x-otc-signature"], first.body)
    old = first.headers["x-otc-signature"].replace("t=", "t=1", 1)  # another time
    assert not verify(secret, old, first.body)

    listed = hooked.client.list_webhooks(maker).json()
    assert listed["webhooks"] == [
        {
            "webhook_id": hook["webhook_id"],
            "url": receiver.url,
            "created_at": hook["created_at"],
            "pending": 0,
            "delivered": len(history),
            "failed": 0,
            "last_delivered_at": listed["webhooks"][0]["last_delivered_at"],
            "last_error": None,
        }
    ]
    assert "secret" not in json.dumps(listed)


def test_the_taker_is_told_from_its_match_on(hooked: RunningBridge, devnet: DevnetControl) -> None:
    seller = Wallet()
    with Receiver() as receiver:
        register(hooked, seller, receiver.url)
        order = BookOrder.create(hooked.client, devnet, hooked.run_worker)
        order.match(seller=seller)
        deliver_everything(hooked, devnet)
        history = order.history()
        received = [p.json()["event"] for p in receiver.received()]
    assert [e["seq"] for e in received] == [e["seq"] for e in history[1:]]  # not the create
    assert received[0]["cause"] == "match"
    assert received == history[1:]


def test_a_delivery_given_up_alerts_the_operators_and_does_not_block_the_next(
    node: DevnodeProcess, devnet: DevnetControl, tmp_path: Path
) -> None:
    env = bridge_env(
        node,
        tmp_path,
        OTC_WEBHOOK_ALLOW_PRIVATE_ADDRESSES="1",
        OTC_WEBHOOK_MAX_ATTEMPTS="3",
    )
    maker = Wallet()
    with running_bridge(env) as bridge, Receiver(statuses=(500, 500, 500)) as receiver:
        hook = register(bridge, maker, receiver.url)
        order = BookOrder.create(bridge.client, devnet, bridge.run_worker, maker=maker)
        order.match()
        deliver_everything(bridge, devnet)
        posts = receiver.received()
        listed = bridge.client.list_webhooks(maker).json()["webhooks"][0]
        alerts = bridge.alerts()
    ids = event_ids(posts)
    assert ids[:3] == [f"{order.order_id}:1"] * 3  # three attempts, then given up
    assert ids[3:] == [f"{order.order_id}:{seq}" for seq in (2, 3)]  # the rest go on
    assert (listed["failed"], listed["delivered"], listed["pending"]) == (1, 2, 0)
    assert listed["last_error"] == "http 500: receiver unavailable"
    [(level, title, fields)] = alerts
    assert (level, title) == ("warning", "Webhook deliveries given up")
    assert fields["webhook_id"] == hook["webhook_id"]
    assert fields["event_id"] == f"{order.order_id}:1"
    assert fields["attempts"] == 3
    assert fields["host"] == "127.0.0.1"
    assert receiver.url not in json.dumps(fields)  # a URL may hold a token: not in alerts


def test_the_webhook_cap_answers_429_and_removal_frees_a_place(
    node: DevnodeProcess, devnet: DevnetControl, tmp_path: Path
) -> None:
    env = bridge_env(
        node, tmp_path, OTC_WEBHOOK_ALLOW_PRIVATE_ADDRESSES="1", OTC_WEBHOOKS_PER_WALLET="2"
    )
    wallet, stranger = Wallet(), Wallet()
    with running_bridge(env) as bridge:
        client = bridge.client
        first = register(bridge, wallet, "http://127.0.0.1:9/one")
        register(bridge, wallet, "http://127.0.0.1:9/two")
        refused = client.register_webhook(wallet, "http://127.0.0.1:9/three")
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"] == "webhook_limit_reached"
        assert refused.json()["limit"] == 2
        listed = client.list_webhooks(wallet).json()
        assert sorted(h["url"] for h in listed["webhooks"]) == [
            "http://127.0.0.1:9/one",
            "http://127.0.0.1:9/two",
        ]
        assert listed["max_webhooks"] == 2
        # Another wallet cannot see or remove it: not found, as if it did not exist.
        assert client.remove_webhook(stranger, str(first["webhook_id"])).status_code == 404
        assert client.list_webhooks(stranger).json()["webhooks"] == []
        removed = client.remove_webhook(wallet, str(first["webhook_id"]))
        assert removed.json() == {"ok": True, "webhook_id": first["webhook_id"], "removed": True}
        devnet.advance_clock(1)  # the same request in the same second signs the same
        assert client.remove_webhook(wallet, str(first["webhook_id"])).status_code == 404
        register(bridge, wallet, "http://127.0.0.1:9/three")


def test_two_workers_at_once_deliver_each_event_once(
    node: DevnodeProcess, devnet: DevnetControl, tmp_path: Path
) -> None:
    """Worker A is posting the first event to a slow receiver when worker B (another
    process on the same database) runs: B must not post what A claimed, nor the events
    behind it (one order's events go in order)."""
    env = bridge_env(node, tmp_path, OTC_WEBHOOK_ALLOW_PRIVATE_ADDRESSES="1")
    answer = threading.Event()
    maker = Wallet()
    with (
        Receiver(hold_first=answer) as receiver,
        running_bridge(env) as first,
        running_bridge(env) as second,
    ):
        register(first, maker, receiver.url)
        order = BookOrder.create(first.client, devnet, first.run_worker, maker=maker)
        order.match()
        slow = threading.Thread(target=first.container.webhook_delivery.deliver_due)
        slow.start()
        try:
            assert receiver.arrived.wait(30), "worker A's POST never came"
            passed = second.container.webhook_delivery.deliver_due()
            assert (passed.delivered, passed.retried) == (0, 0)
            assert len(receiver.received()) == 1
        finally:
            answer.set()
            slow.join(timeout=30)
        deliver_everything(second, devnet)
        ids = event_ids(receiver.received())
        history = order.history()
    assert ids == [f"{order.order_id}:{e['seq']}" for e in history]


def test_removing_a_webhook_drops_what_was_not_delivered(
    hooked: RunningBridge, devnet: DevnetControl
) -> None:
    maker = Wallet()
    with Receiver() as receiver:
        hook = register(hooked, maker, receiver.url)
        BookOrder.create(hooked.client, devnet, hooked.run_worker, maker=maker).match()
        with hooked.container.store.read() as uow:
            assert uow.deliveries.pending_count() == 3
        removed = hooked.client.remove_webhook(maker, str(hook["webhook_id"]))
        assert removed.status_code == 200, removed.text
        with hooked.container.store.read() as uow:
            assert uow.deliveries.pending_count() == 0
        hooked.container.webhook_delivery.deliver_due()
        assert receiver.received() == []


PRIVATE_OR_MALFORMED = [
    ("http://127.0.0.1:8080/hook", "webhook_url_not_public"),
    ("http://localhost/hook", "webhook_url_not_public"),
    ("http://10.1.2.3/hook", "webhook_url_not_public"),
    ("http://192.168.1.10/hook", "webhook_url_not_public"),
    ("http://169.254.169.254/latest/meta-data", "webhook_url_not_public"),
    ("http://100.64.0.1/hook", "webhook_url_not_public"),
    ("http://0.0.0.0/hook", "webhook_url_not_public"),
    ("http://[::1]/hook", "webhook_url_not_public"),
    ("http://[fe80::1]/hook", "webhook_url_not_public"),
    ("http://[::ffff:10.0.0.1]/hook", "webhook_url_not_public"),
    ("http://[64:ff9b::7f00:1]/hook", "webhook_url_not_public"),
    ("ftp://93.184.215.14/hook", "webhook_url_scheme_not_allowed"),
    ("javascript:alert(1)", "webhook_url_scheme_not_allowed"),
    ("https://user:pw@93.184.215.14/hook", "webhook_url_invalid"),
    ("https://93.184.215.14/hook#x", "webhook_url_invalid"),
    ("https://93.184.215.14/a b", "webhook_url_invalid"),
    ("https://[::1/hook", "webhook_url_invalid"),
    ("https:///hook", "webhook_url_invalid"),
    ("https://93.184.215.14/" + "a" * 2048, "webhook_url_too_long"),
    ("https://no-such-host.invalid/hook", "webhook_url_unresolvable"),
]


def test_outside_the_devnet_webhooks_must_point_at_public_addresses(
    bridge: RunningBridge,
) -> None:
    wallet = Wallet()
    for url, error in PRIVATE_OR_MALFORMED:
        answer = bridge.client.register_webhook(wallet, url)
        assert answer.status_code == 400, (url, answer.text)
        assert answer.json()["error"] == error, (url, answer.json())
        assert answer.json()["message"]
    assert bridge.client.list_webhooks(wallet).json()["webhooks"] == []  # nothing stored
    # A public address is accepted (nothing is sent to it until an event happens).
    accepted = register(bridge, wallet, "https://93.184.215.14/otc/hook?token=abc")
    assert accepted["url"] == "https://93.184.215.14/otc/hook?token=abc"


def test_the_operators_alert_webhook_is_signed_when_it_has_a_secret(
    node: DevnodeProcess, tmp_path: Path
) -> None:
    secret = "whsec_operators-own-secret"
    with Receiver() as receiver:
        env = bridge_env(
            node,
            tmp_path,
            RC_SOPHIACHECK_WEBHOOK=receiver.url,
            RC_SOPHIACHECK_WEBHOOK_SECRET=secret,
        )
        with running_bridge(env) as bridge:
            bridge.container.alerts.raise_alert("critical", "Test alert", {"order_id": "otc_1"})
            assert bridge.container.dispatcher.deliver_due() == 1
        [post] = receiver.received()
    assert verify(secret, post.headers["x-otc-signature"], post.body)
    assert post.headers["x-otc-event-id"].startswith("alert:")
    embed = post.json()["embeds"][0]  # the body keeps its shape
    assert (embed["title"], embed["description"]) == ("OTC Bridge CRITICAL", "Test alert")
    assert abs(int(post.headers["x-otc-signature"].split(",")[0][2:]) - time.time()) < 60
