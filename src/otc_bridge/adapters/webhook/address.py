"""Where a webhook may point: an http(s) URL of bounded length, without credentials,
whose host resolves only to public addresses.

Outside the devnet a webhook must not reach into the bridge's own network (loopback,
private, link-local, shared, multicast or reserved ranges, IPv4 addresses hidden in
IPv6 forms included): the bridge would otherwise be a proxy into it (SSRF). The host is
resolved when the webhook is registered and again for every delivery, and the delivery
connects to the very address that was checked, so a DNS answer that changes in between
(DNS rebinding) cannot redirect it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
SCHEMES = {"http": 80, "https": 443}
NAT64 = ipaddress.ip_network("64:ff9b::/96")

Resolver = Callable[[str, int], list[str]]  # (host, port) -> addresses


class WebhookUrlError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class WebhookUrl:
    url: str
    scheme: str
    host: str  # lower case, IDNA-encoded; an IPv6 literal without brackets
    port: int
    netloc: str  # as written (the Host header)

    @property
    def host_is_address(self) -> bool:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True


def parse(raw: str) -> WebhookUrl:
    """Check the URL's form; raise WebhookUrlError."""
    if len(raw) > MAX_URL_LENGTH:
        raise WebhookUrlError(
            "webhook_url_too_long", f"the URL is longer than {MAX_URL_LENGTH} characters"
        )
    if not raw.isascii() or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in raw):
        raise WebhookUrlError(
            "webhook_url_invalid", "the URL must be ASCII without spaces (percent-encode it)"
        )
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as err:
        raise WebhookUrlError("webhook_url_invalid", f"the URL does not parse: {err}") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise WebhookUrlError("webhook_url_scheme_not_allowed", "the URL must be http or https")
    if not parts.hostname:
        raise WebhookUrlError("webhook_url_invalid", "the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlError(
            "webhook_url_invalid", "the URL must not carry credentials (user:password@)"
        )
    if parts.fragment:
        raise WebhookUrlError("webhook_url_invalid", "the URL must not carry a #fragment")
    return WebhookUrl(
        url=raw,
        scheme=scheme,
        host=parts.hostname.lower(),
        port=port if port is not None else SCHEMES[scheme],
        netloc=parts.netloc,
    )


def is_public(address: str) -> bool:
    """Whether an address is on the public internet (IPv4 inside IPv6 judged as IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone id is not public
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return is_public(str(embedded))
    return ip.is_global and not ip.is_multicast


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[str] = []
    for *_, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in found:
            found.append(address)
    return found


def resolve(target: WebhookUrl, *, resolver: Resolver, allow_private: bool) -> list[str]:
    """The addresses to connect to, every one of them public unless `allow_private`
    (the devnet); raise WebhookUrlError."""
    try:
        addresses = resolver(target.host, target.port)
    except socket.gaierror as err:
        if err.errno == socket.EAI_AGAIN:  # the resolver cannot answer now: try later
            raise WebhookUrlError(
                "webhook_dns_unavailable", f"{target.host} cannot be resolved now: {err}"
            ) from None
        raise WebhookUrlError(
            "webhook_url_unresolvable", f"{target.host} does not resolve: {err}"
        ) from None
    except (OSError, UnicodeError) as err:
        raise WebhookUrlError(
            "webhook_url_unresolvable", f"{target.host} does not resolve: {err}"
        ) from None
    if not addresses:
        raise WebhookUrlError("webhook_url_unresolvable", f"{target.host} does not resolve")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise WebhookUrlError(
                    "webhook_url_not_public",
                    f"{target.host} resolves to {address}, which is not a public address",
                )
    return addresses
