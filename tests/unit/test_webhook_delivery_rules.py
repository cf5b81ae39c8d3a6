"""Unit tests of the webhook rules: the signature scheme, the backoff, the URL and address
checks, and the sender's pinning to the checked address (a fake resolver and httpx's
MockTransport stand in for DNS and the receiver)."""

from __future__ import annotations

import random
import socket

import httpx
import pytest

from otc_bridge.adapters.webhook.address import (
    WebhookUrlError,
    is_public,
    parse,
    resolve,
)
from otc_bridge.adapters.webhook.sender import WebhookSender
from otc_bridge.domain.webhook_signature import new_secret, sign, verify
from otc_bridge.settlement.webhook_delivery import RetryPolicy
from tests.support.push import docs_verifier

BODY = b'{"id":"otc_1:1","type":"order.event"}'


def test_a_signature_covers_the_body_and_the_time_and_nothing_else_verifies() -> None:
    secret = new_secret()
    header = sign(secret, 1_700_000_000, BODY)
    assert header.startswith("t=1700000000,v1=")
    assert len(header.split("v1=")[1]) == 64
    assert verify(secret, header, BODY, now=1_700_000_100)
    assert not verify(secret, header, BODY + b" ", now=1_700_000_100)  # the body
    assert not verify(new_secret(), header, BODY, now=1_700_000_100)  # the key
    assert not verify(secret, header, BODY, now=1_700_000_301)  # too old: a replay
    assert not verify(secret, header, BODY, now=1_699_999_699)  # too far ahead
    moved = header.replace("t=1700000000", "t=1700000001")  # the time is inside the MAC
    assert not verify(secret, moved, BODY, now=1_700_000_100)
    assert not verify(secret, "v1=" + header.split("v1=")[1], BODY, now=1_700_000_100)
    assert not verify(secret, "", BODY, now=1_700_000_100)
    rotated = f"{header},v1={'0' * 64}"  # several v1: any one matching is enough
    assert verify(secret, rotated, BODY, now=1_700_000_100)


def test_the_docs_verifier_agrees_with_the_bridge() -> None:
    import time

    docs = docs_verifier()
    secret, now = new_secret(), int(time.time())
    header = sign(secret, now, BODY)
    assert docs(secret, header, BODY)
    assert not docs(secret, header, BODY.replace(b"1", b"2"))
    assert not docs(secret, sign(secret, now - 301, BODY), BODY)
    assert not docs(secret, "t=abc,v1=00", BODY)


def test_the_backoff_doubles_is_capped_and_jittered_down_to_half() -> None:
    policy = RetryPolicy(base_seconds=10, max_seconds=3600, max_attempts=20)
    rng = random.Random(7)
    for made, ceiling in [(1, 10), (2, 20), (3, 40), (9, 2560), (10, 3600), (19, 3600)]:
        delays = {policy.delay(made, rng) for _ in range(200)}
        assert min(delays) >= ceiling // 2, (made, delays)
        assert max(delays) <= ceiling, (made, delays)
        assert len(delays) > 1  # jittered: receivers are not hit in lockstep


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://example.com/" + "x" * 2030, "webhook_url_too_long"),
        ("gopher://example.com/", "webhook_url_scheme_not_allowed"),
        ("example.com/hook", "webhook_url_scheme_not_allowed"),
        ("http:///x", "webhook_url_invalid"),
        ("http://a:b@example.com/", "webhook_url_invalid"),
        ("http://example.com/#f", "webhook_url_invalid"),
        ("http://example.com:99999/", "webhook_url_invalid"),
        ("http://exa mple.com/", "webhook_url_invalid"),
        ("http://exämple.com/", "webhook_url_invalid"),
        ("http://example.com/\n", "webhook_url_invalid"),
    ],
)
def test_malformed_urls(url: str, code: str) -> None:
    with pytest.raises(WebhookUrlError) as refused:
        parse(url)
    assert refused.value.code == code


def test_a_url_keeps_its_host_and_port() -> None:
    target = parse("HTTPS://Hooks.Example.com:8443/otc?x=1")
    assert (target.scheme, target.host, target.port) == ("https", "hooks.example.com", 8443)
    assert target.netloc == "Hooks.Example.com:8443"
    assert parse("http://[2606:4700::1111]/").host == "2606:4700::1111"
    assert parse("http://example.com/").port == 80


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 (an address judged, never bound)
        ("255.255.255.255", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("::", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:93.184.215.14", True),
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("ff02::1", False),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public(address) is public


def test_every_resolved_address_must_be_public() -> None:
    target = parse("https://hooks.example.com/otc")

    def split_horizon(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "10.0.0.7"]

    with pytest.raises(WebhookUrlError) as refused:
        resolve(target, resolver=split_horizon, allow_private=False)
    assert refused.value.code == "webhook_url_not_public"
    assert "10.0.0.7" in refused.value.message
    assert resolve(target, resolver=split_horizon, allow_private=True)[0] == "93.184.215.14"

    def broken(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(WebhookUrlError) as unresolved:
        resolve(target, resolver=broken, allow_private=False)
    assert unresolved.value.code == "webhook_url_unresolvable"

    def no_name(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    def no_answer(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    with pytest.raises(WebhookUrlError) as missing:
        resolve(target, resolver=no_name, allow_private=False)
    assert missing.value.code == "webhook_url_unresolvable"
    with pytest.raises(WebhookUrlError) as later:  # the registration answers 503
        resolve(target, resolver=no_answer, allow_private=False)
    assert later.value.code == "webhook_dns_unavailable"


class Answers:
    """What DNS says, changeable between calls (a rebinding attacker's name server)."""

    def __init__(self, address: str) -> None:
        self.address = address

    def __call__(self, host: str, port: int) -> list[str]:
        return [self.address]


def test_the_sender_connects_to_the_address_it_checked_keeping_the_host_name() -> None:
    seen: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    dns = Answers("93.184.215.14")
    sender = WebhookSender(
        allow_private=False,
        timeout_seconds=5,
        resolver=dns,
        transport=httpx.MockTransport(receiver),
    )
    assert sender.post("https://hooks.example.com:8443/otc?k=v", BODY, {"X-Test": "1"}) is None
    [request] = seen
    assert request.url.host == "93.184.215.14"  # pinned: no second lookup by the client
    assert (request.url.port, request.url.path, request.url.query) == (8443, "/otc", b"k=v")
    assert request.headers["host"] == "hooks.example.com:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.com"  # TLS name and cert
    assert request.headers["x-test"] == "1"
    assert request.content == BODY

    dns.address = "127.0.0.1"  # the name now points inside: refused, nothing is sent
    error = sender.post("https://hooks.example.com:8443/otc", BODY, {})
    assert str(error).startswith("webhook_url_not_public")
    assert len(seen) == 1
    sender.close()


def test_the_sender_reports_what_went_wrong_and_follows_no_redirect() -> None:
    def receiver(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/moved":
            return httpx.Response(302, headers={"Location": "http://127.0.0.1/"})
        return httpx.Response(500, content=b"x" * 10_000)

    sender = WebhookSender(
        allow_private=False,
        timeout_seconds=5,
        resolver=Answers("93.184.215.14"),
        transport=httpx.MockTransport(receiver),
    )
    assert sender.post("http://hooks.example.com/moved", BODY, {}) == "http 302: "
    failed = sender.post("http://hooks.example.com/down", BODY, {})
    assert str(failed).startswith("http 500: xxx")
    assert len(str(failed)) < 300
    sender.close()
