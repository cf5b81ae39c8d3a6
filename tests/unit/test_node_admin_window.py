"""The transport's own count of the node's admin rate-limiter window, on a fake clock.

The node is replaced by `httpx.MockTransport` running the node's sliding window (limit
3 per 10 s, per bucket, refused requests not counted, 429 bodies stating both), so what
an operator would see is what the node would count: the 429s it sent, and the requests
that never reached it.
"""

from __future__ import annotations

from collections import Counter, deque

import httpx

from otc_bridge.adapters.node.admin_window import (
    FORGET_AFTER_WINDOWS,
    PENDING_BUCKET,
    TRANSFER_BUCKET,
    AdminWindow,
    Slot,
    bucket_of,
    limit_from,
)
from otc_bridge.adapters.node.transport import NodeTransport, Reply

LIMIT, WINDOW = 3, 10


class FakeNode:
    """The node's admin limiter (spec §0): at most `limit` counted requests per bucket
    in any `window` seconds of `clock`; a refused request is not counted."""

    def __init__(self, clock: list[float], limit: int = LIMIT, window: int = WINDOW) -> None:
        self.clock, self.limit, self.window = clock, limit, window
        self.hits: dict[str, deque[float]] = {}
        self.answers: Counter[int] = Counter()
        self.sent: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.sent.append(path)
        now = self.clock[0]
        hits = self.hits.setdefault(bucket_of(path), deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            self.answers[429] += 1
            body = {
                "ok": False,
                "error": "rate_limited",
                "code": "ADMIN_RATE_LIMIT",
                "limit": self.limit,
                "window_seconds": self.window,
            }
            retry = max(1, int(hits[0] + self.window - now))
            return httpx.Response(429, headers={"Retry-After": str(retry)}, json=body)
        hits.append(now)
        self.answers[200] += 1
        return httpx.Response(200, json={"ok": True})


def transport(node: FakeNode, slept: list[float] | None = None) -> NodeTransport:
    """The bridge's transport on the fake clock: a sleep moves it, as time would."""
    waits = slept if slept is not None else []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        node.clock[0] += seconds

    return NodeTransport(
        "http://127.0.0.1:8099",
        timeout_seconds=5,
        connect_timeout_seconds=1,
        verify=True,
        transport=httpx.MockTransport(node.handler),
        sleep=sleep,
        monotonic=lambda: node.clock[0],
        clock=lambda: node.clock[0],
    )


def transfer(bridge: NodeTransport, budget: float = 0.0) -> Reply:
    reply = bridge.call("POST", "/wallet/transfer", route="t", admin=True, rate_limit_budget=budget)
    assert isinstance(reply, Reply)
    return reply


def taught(bridge: NodeTransport) -> None:
    """The node's limit of 3 learned: the 4th transfer of the window met its 429."""
    for _ in range(4):
        transfer(bridge)


# ------------------------------------------------------------------ the window alone


def test_window_refuses_the_limit_plus_first_request_until_the_oldest_leaves() -> None:
    window = AdminWindow()
    window.learn(3, 10.0, now=100)
    for at in (100, 101, 102):
        slot = window.reserve(TRANSFER_BUCKET, at)
        assert isinstance(slot, Slot)
        window.counted(slot, at)
    # The 4th: the oldest (100) leaves the node's window at 110, this count's at 111.
    assert window.reserve(TRANSFER_BUCKET, 103) == 8.0
    assert window.reserve(TRANSFER_BUCKET, 110.5) == 0.5
    assert isinstance(window.reserve(PENDING_BUCKET, 103), Slot)  # another bucket
    assert isinstance(window.reserve(TRANSFER_BUCKET, 111), Slot)
    assert window.reserve(TRANSFER_BUCKET, 111) == 1.0  # 101 leaves at 112


def test_window_counts_from_the_reply_and_not_the_refused() -> None:
    window = AdminWindow()
    window.learn(2, 10.0, now=0)
    slow = window.reserve(TRANSFER_BUCKET, 0)
    refused = window.reserve(TRANSFER_BUCKET, 0)
    assert isinstance(slow, Slot)
    assert isinstance(refused, Slot)
    assert window.reserve(TRANSFER_BUCKET, 0) == 11.0  # two in flight fill the window
    window.refused(refused)  # the node's 429: not counted by the node either
    window.counted(slow, 4)  # its reply came at 4: the node counted it by then
    assert isinstance(window.reserve(TRANSFER_BUCKET, 4), Slot)
    assert window.reserve(TRANSFER_BUCKET, 4) == 11.0  # the slow one leaves at 4 + 10 + 1


def test_window_refuses_nothing_before_a_429_has_stated_the_limit() -> None:
    window = AdminWindow()
    assert all(isinstance(window.reserve(TRANSFER_BUCKET, 0), Slot) for _ in range(100))
    window.learn(3, 10.0, now=5)  # the 100 sent are still counted against it
    assert window.reserve(TRANSFER_BUCKET, 5) == 6.0


def test_window_forgets_the_limit_after_windows_without_a_429() -> None:
    window = AdminWindow()
    window.learn(1, 10.0, now=0)
    assert isinstance(window.reserve(TRANSFER_BUCKET, 0), Slot)
    later = FORGET_AFTER_WINDOWS * 10.0
    for at in range(11, int(later), 11):  # one request per window: the limit is kept
        assert isinstance(window.reserve(TRANSFER_BUCKET, at), Slot)
        assert isinstance(window.reserve(TRANSFER_BUCKET, at), float)
    assert window.limit is not None
    assert isinstance(window.reserve(TRANSFER_BUCKET, later + 1), Slot)
    assert isinstance(window.reserve(TRANSFER_BUCKET, later + 1), Slot)  # forgotten
    assert window.limit is None


def test_limit_is_read_only_from_a_429_body_that_states_both_numbers() -> None:
    assert limit_from({"limit": 12, "window_seconds": 60}) == (12, 60.0)
    assert limit_from({"code": "ADMIN_RATE_LIMIT"}) is None
    assert limit_from({"limit": True, "window_seconds": 60}) is None
    assert limit_from({"limit": 0, "window_seconds": 60}) is None
    assert limit_from({"limit": 12, "window_seconds": "60"}) is None
    assert limit_from(None) is None
    assert bucket_of("/pending/confirm") == bucket_of("/pending/list") == PENDING_BUCKET
    assert bucket_of("/wallet/transfer") == TRANSFER_BUCKET


# ------------------------------------------------------------------ through the transport


def test_after_one_429_a_full_window_is_foreseen_and_never_sent() -> None:
    """The first window meets the node's one 429 (it tells the limit); every window
    after it sends exactly the limit and answers the rest without a request."""
    clock = [1000.0]
    node = FakeNode(clock)
    bridge = transport(node)
    first = [transfer(bridge).status for _ in range(5)]
    assert first == [200, 200, 200, 429, 429]
    assert node.answers == {200: 3, 429: 1}  # the 5th was paced by the Retry-After
    for _ in range(4):  # later windows, as the reconciler's passes see them
        clock[0] += WINDOW + 1
        sent_before, answers_before = len(node.sent), node.answers.copy()
        replies = [transfer(bridge) for _ in range(5)]
        assert [r.status for r in replies] == [200, 200, 200, 429, 429]
        assert node.answers - answers_before == {200: 3}  # no 429 from the node
        assert len(node.sent) - sent_before == 3
        assert all(r.is_admin_rate_limit for r in replies[3:])
        assert [r.retry_after for r in replies[3:]] == [11.0, 11.0]  # until the oldest leaves


def test_a_foreseen_refusal_waits_within_its_budget_then_sends() -> None:
    clock, slept = [0.0], list[float]()
    node = FakeNode(clock)
    bridge = transport(node, slept)
    taught(bridge)
    clock[0] = 20.0
    for _ in range(3):  # at 20, 21 and 22
        assert transfer(bridge).status == 200
        clock[0] += 1
    waiting = transfer(bridge, budget=20)  # at 23: 8 s until the one of 20 leaves the count
    assert slept == [8.0]
    assert waiting.status == 200  # sent once the wait was over, and let through
    refused = transfer(bridge, budget=0.5)  # at 31: the one of 21 leaves at 32
    assert refused.is_admin_rate_limit
    assert refused.retry_after == 1.0
    assert slept == [8.0]
    assert node.answers[429] == 1  # only the first window's, which told the limit


def test_buckets_are_counted_apart() -> None:
    clock = [0.0]
    node = FakeNode(clock)
    bridge = transport(node)
    taught(bridge)
    clock[0] += WINDOW + 1
    for _ in range(3):
        assert transfer(bridge).status == 200
    pending = [bridge.call("POST", "/pending/confirm", route="c", admin=True) for _ in range(4)] + [
        bridge.call("GET", "/pending/list", route="l", admin=True)
    ]
    statuses = [r.status for r in pending if isinstance(r, Reply)]
    assert statuses == [200, 200, 200, 429, 429]  # its own limit of 3, foreseen
    assert node.answers[429] == 1  # only the first window's


def test_other_clients_of_the_same_ip_are_met_by_the_nodes_429_as_before() -> None:
    clock, slept = [0.0], list[float]()
    node = FakeNode(clock)
    bridge = transport(node, slept)
    taught(bridge)
    clock[0] += WINDOW + 1
    node.hits[TRANSFER_BUCKET].extend([clock[0]] * 2)  # another process took two
    assert transfer(bridge).status == 200
    refused = transfer(bridge)
    assert refused.is_admin_rate_limit
    assert refused.retry_after == WINDOW
    assert node.answers[429] == 2
    paced = transfer(bridge)  # held by the node's Retry-After, as before this count
    assert paced.is_admin_rate_limit
    assert node.answers[429] == 2


def test_a_limit_raised_on_the_node_is_used_after_the_learned_one_is_forgotten() -> None:
    clock = [0.0]
    node = FakeNode(clock)
    bridge = transport(node)
    taught(bridge)
    node.limit = 100  # the operator raised it (and the node kept its count)
    clock[0] += WINDOW + 1
    assert [transfer(bridge).status for _ in range(5)] == [200, 200, 200, 429, 429]
    clock[0] += FORGET_AFTER_WINDOWS * WINDOW
    assert [transfer(bridge).status for _ in range(10)] == [200] * 10
    assert node.answers[429] == 1
