"""A small werkzeug-like router: exact paths, `<name>` segments, HEAD/OPTIONS, 404 vs 405."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from otc_bridge.devnet.devnode.wire import Reply, Request

if TYPE_CHECKING:
    from otc_bridge.devnet.devnode.node import Node

Handler = Callable[["Node", Request], Reply]

_SEGMENT = re.compile(r"<([a-z_]+)>")


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str  # as added, e.g. "/agent/jobs/<job_id>/claim"
    handler: Handler
    regex: re.Pattern[str]
    # RIP-302 answers `500 {"error": "Internal error"}`; everything else werkzeug's HTML 500.
    json_errors: bool


@dataclass(frozen=True)
class Match:
    route: Route | None
    params: dict[str, str]
    allowed: frozenset[str]  # methods the path answers to (for 405 and OPTIONS)


class Router:
    def __init__(self) -> None:
        self._static: dict[str, list[Route]] = {}  # most paths: one dict lookup
        self._dynamic: list[Route] = []

    def add(
        self, method: str, pattern: str, handler: Handler, *, json_errors: bool = False
    ) -> None:
        # werkzeug's default converter: one or more characters, no slash.
        parts = _SEGMENT.split(pattern)  # static, name, static, name, ...
        regex = "".join(
            re.escape(part) if index % 2 == 0 else f"(?P<{part}>[^/]+)"
            for index, part in enumerate(parts)
        )
        route = Route(method, pattern, handler, re.compile(regex), json_errors)
        if len(parts) == 1:
            self._static.setdefault(pattern, []).append(route)
        else:
            self._dynamic.append(route)

    def routes(self) -> list[Route]:
        """Every route, in the order added within each kind (static, then dynamic)."""
        return [route for routes in self._static.values() for route in routes] + self._dynamic

    def resolve(self, method: str, path: str) -> Match:
        wanted = "GET" if method == "HEAD" else method
        allowed: set[str] = set()
        found: Route | None = None
        params: dict[str, str] = {}
        candidates: list[tuple[Route, dict[str, str]]] = [
            (route, {}) for route in self._static.get(path, [])
        ]
        for route in self._dynamic:
            hit = route.regex.fullmatch(path)
            if hit is not None:
                candidates.append((route, hit.groupdict()))
        for route, groups in candidates:
            allowed.add(route.method)
            if found is None and route.method == wanted:
                found, params = route, groups
        if allowed:
            allowed.add("OPTIONS")
            if "GET" in allowed:
                allowed.add("HEAD")
        return Match(found, params, frozenset(allowed))
