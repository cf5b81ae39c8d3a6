"""Which address a request really comes from.

Forwarding headers are believed only from a configured trusted proxy; anyone else could
write any address there and dodge per-IP limits (the reference trusted X-Real-IP from
everyone, audit D14).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_proxies(entries: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


def _trusted(address: str, proxies: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def client_ip(peer: str | None, headers: Mapping[str, str], proxies: tuple[Network, ...]) -> str:
    peer = peer or "unknown"
    if not proxies or not _trusted(peer, proxies):
        return peer
    forwarded = headers.get("x-forwarded-for")
    if forwarded:
        # Walk from the right: the first hop our own proxies did not add is the client.
        for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
            if not _trusted(hop, proxies):
                return hop
    real = headers.get("x-real-ip", "").strip()
    return real or peer
