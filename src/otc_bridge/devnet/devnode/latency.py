"""Simulated network latency on the node API, so benchmarks see the real node's round trips.

Every answer on a node path (everything outside `/devnet/*`, errors and injected faults
included) is held for `latency_ms + uniform(0, jitter_ms)` milliseconds after the handler
has run and committed, as if the reply crossed a slow link. The `/devnet/*` control routes
answer at once, so test scaffolding and readiness probes stay fast.

The hold is an `asyncio.sleep` on the server's event loop (the devnode is one uvicorn
process with one loop and no threads), so requests in flight overlap: eight concurrent
requests at 50 ms take about 50 ms, not 400.

Set at start-up by `DEVNODE_LATENCY_MS` and `DEVNODE_LATENCY_JITTER_MS` (default 0 and 0),
and at run time by `POST /devnet/latency {"latency_ms": …, "jitter_ms": …}` (either field
may be left out; `GET` shows both; `/devnet/reset` restores the start-up values).
"""

from __future__ import annotations

import asyncio
import math
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from otc_bridge.devnet.devnode.wire import Reply, Request, json_reply

if TYPE_CHECKING:
    from otc_bridge.devnet.devnode.node import Node

MAX_LATENCY_MS = 60_000.0  # a minute per request is already far past any real node


def is_node_path(path: str) -> bool:
    """True for the node's API; the devnet's own control routes are never delayed."""
    return not (path == "/devnet" or path.startswith("/devnet/"))


@dataclass
class Latency:
    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def seconds(self) -> float:
        """The hold for one reply: the fixed part plus a uniform draw of the jitter."""
        extra = self.rng.uniform(0.0, self.jitter_ms) if self.jitter_ms else 0.0
        return (self.latency_ms + extra) / 1000

    async def hold(self, path: str) -> None:
        if is_node_path(path) and (self.latency_ms or self.jitter_ms):
            await asyncio.sleep(self.seconds())

    def to_dict(self) -> dict[str, object]:
        return {"ok": True, "latency_ms": self.latency_ms, "jitter_ms": self.jitter_ms}


def milliseconds(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number of milliseconds")
    if not 0 <= value <= MAX_LATENCY_MS:
        raise ValueError(f"{name} must be between 0 and {MAX_LATENCY_MS:g}")
    return float(value)


def get_latency(node: Node, req: Request) -> Reply:
    return json_reply(node.latency.to_dict())


def set_latency(node: Node, req: Request) -> Reply:
    data = req.get_json() if req.body.strip() else {}
    if not isinstance(data, dict):
        return json_reply({"ok": False, "error": "JSON object required"}, 400)
    try:
        # Both are checked before either changes, so a refusal changes nothing.
        changes = {
            name: milliseconds(data[name], name)
            for name in ("latency_ms", "jitter_ms")
            if name in data
        }
    except ValueError as exc:
        return json_reply({"ok": False, "error": str(exc)}, 400)
    node.latency.latency_ms = changes.get("latency_ms", node.latency.latency_ms)
    node.latency.jitter_ms = changes.get("jitter_ms", node.latency.jitter_ms)
    return json_reply(node.latency.to_dict())
