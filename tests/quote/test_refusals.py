"""Every bad lock is refused with the check it failed named, and nothing moves: not the
order (status, version, history), not a micro-RTC on the node. A lock that is only not
final yet is refused as retryable and accepted once its block is final.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from otc_bridge.clientlib.wallet import Secret
from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.devnet.process import DevnodeProcess
from tests.quote.world import (
    DAY,
    HOUR,
    POLICY,
    ChainTrader,
    Snapshot,
    Trade,
    chain_now,
    quote_bridge_env,
)
from tests.support.bridge import RunningBridge, running_bridge

Terms = Callable[[Trade], dict[str, Any]]


def assert_refused(
    trade: Trade, answer: httpx.Response, status: int, code: str, before: Snapshot
) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    assert body["error"] == code, body
    assert body["message"], body
    assert Snapshot.take(trade) == before, "a refused lock moved something"
    return body


BAD_LOCKS: list[Any] = [
    pytest.param(
        "RTC/ETH", lambda t: {"amount": t.total - 1}, "amount_too_low", id="too-little-ETH"
    ),
    pytest.param(
        "RTC/USDC", lambda t: {"amount": t.total - 1}, "amount_too_low", id="too-little-USDC"
    ),
    pytest.param(
        "RTC/ETH",
        lambda t: {"receiver": t.b_chain.address},
        "wrong_receiver",
        id="wrong-receiver",
    ),
    pytest.param(
        "RTC/USDC",
        lambda t: {"token": t.chain.info.usdc_token if t.pair == "RTC/ETH" else None},
        "wrong_token",
        id="ETH-for-USDC",
    ),
    pytest.param(
        "RTC/ETH",
        lambda t: {"token": t.chain.info.usdc_token, "amount": 10**6},
        "wrong_token",
        id="USDC-for-ETH",
    ),
    pytest.param(
        "RTC/ETH",
        lambda t: {"by": ChainTrader.fresh(t.chain)},
        "wrong_sender",
        id="wrong-sender",
    ),
    pytest.param(
        "RTC/USDC",
        lambda t: {"timelock": chain_now(t.chain) + POLICY.quote_timelock_min - 5 * 60},
        "timelock_too_short",
        id="timelock-too-short",
    ),
    pytest.param(
        "RTC/ETH",
        lambda t: {"timelock": chain_now(t.chain) + POLICY.quote_timelock_max + HOUR},
        "timelock_too_long",
        id="timelock-too-long",
    ),
]


@pytest.mark.parametrize(("pair", "terms", "code"), BAD_LOCKS)
def test_a_bad_lock_is_refused_and_moves_nothing(
    bridge: RunningBridge,
    devnet: DevnetControl,
    chain: Devchain,
    pair: str,
    terms: Terms,
    code: str,
) -> None:
    trade = Trade.open(bridge, devnet, chain, side="sell", pair=pair)
    made = trade.lock(**terms(trade))
    chain.control.mine(chain.info.finality_confirmations)  # final: only the terms are wrong
    before = Snapshot.take(trade)
    body = assert_refused(trade, trade.report(made), 422, code, before)
    assert body["observed"], body
    assert body["expected"], body
    # By its id the same lock is refused the same way.
    assert_refused(trade, trade.report(lock_id=made.lock_id), 422, code, before)


def test_a_wrong_hashlock_is_refused_and_the_right_lock_still_counts(
    bridge: RunningBridge, devnet: DevnetControl, chain: Devchain
) -> None:
    trade = Trade.open(bridge, devnet, chain, side="buy", pair="RTC/ETH")
    made = trade.lock(hashlock=Secret().hash)
    chain.control.mine(chain.info.finality_confirmations)
    before = Snapshot.take(trade)
    body = assert_refused(trade, trade.report(made), 422, "wrong_hashlock", before)
    assert trade.secret.hash in body["expected"]
    trade.lock_verified()  # the order's hashlock was never spent: B locks again, rightly


def test_a_lock_not_yet_final_is_refused_then_accepted_once_final(
    bridge: RunningBridge, devnet: DevnetControl, chain: Devchain
) -> None:
    trade = Trade.open(bridge, devnet, chain, side="sell", pair="RTC/USDC")
    made = trade.lock()  # its block is the head: one confirmation of the two needed
    before = Snapshot.take(trade)
    answer = trade.report(made)
    assert_refused(trade, answer, 409, "not_final", before)
    assert int(answer.headers["Retry-After"]) > 0
    chain.control.mine(1)
    accepted = trade.report(made)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["order"]["status"] == "quote_locked"
    # Reporting it again changes nothing and says so (idempotent).
    version = trade.order()["version"]
    again = trade.report(lock_id=made.lock_id)
    assert again.status_code == 200, again.text
    assert trade.order()["version"] == version


def test_one_lock_backs_one_order_only(
    bridge: RunningBridge, devnet: DevnetControl, chain: Devchain
) -> None:
    """Two sell orders with the same terms and hashlock, matched by the same B: B's one
    lock counts for the first order it is reported for, and is refused for the other."""
    first = Trade.open(bridge, devnet, chain, side="sell", pair="RTC/ETH")
    second = Trade.open(
        bridge,
        devnet,
        chain,
        side="sell",
        pair="RTC/ETH",
        secret=first.secret,
        s_chain=first.s_chain,
        b_chain=first.b_chain,
    )
    made = first.lock_verified()
    before = Snapshot.take(second)
    assert_refused(second, second.report(made), 409, "lock_already_used", before)
    assert_refused(second, second.report(lock_id=made.lock_id), 409, "lock_already_used", before)
    assert first.order()["status"] == "quote_locked"


def test_a_lock_mined_after_the_match_deadline_is_refused(
    bridge: RunningBridge, devnet: DevnetControl, chain: Devchain
) -> None:
    trade = Trade.open(bridge, devnet, chain, side="buy", pair="RTC/USDC")
    deadline = trade.order()["deadlines"]["match_deadline"]
    trade.advance_to(deadline + 1)  # node, bridge and chain; no reconcile pass runs
    made = trade.lock()
    assert chain_now(chain) > deadline
    chain.control.mine(chain.info.finality_confirmations)
    before = Snapshot.take(trade)
    assert before.status == "matched"
    assert_refused(trade, trade.report(made), 422, "lock_too_late", before)


def test_a_timelock_past_the_escrow_is_refused(
    node: DevnodeProcess, devnet: DevnetControl, chain: Devchain, tmp_path: Path
) -> None:
    """The default window (24 h) always ends before the escrow does (that is what the
    escrow's TTL is computed from). A pair configured with a longer window than the
    escrow covers still gets no lock that outlives the escrow minus the margin."""
    env = {
        **quote_bridge_env(node, tmp_path, chain),
        "OTC_RTC_ETH_TIMELOCK_MAX_SECONDS": str(3 * DAY),
    }
    with running_bridge(env) as bridge:
        trade = Trade.open(bridge, devnet, chain, side="sell", pair="RTC/ETH", ttl_seconds=HOUR)
        expires = trade.order()["deadlines"]["escrow_expires_at"]
        made = trade.lock(timelock=expires - POLICY.settlement_margin + 60)
        chain.control.mine(chain.info.finality_confirmations)
        before = Snapshot.take(trade)
        assert_refused(trade, trade.report(made), 422, "timelock_after_escrow", before)


def test_a_lock_for_an_order_that_is_not_matched_is_refused(
    bridge: RunningBridge, devnet: DevnetControl, chain: Devchain
) -> None:
    trade = Trade.new(bridge, devnet, chain, side="sell", pair="RTC/ETH")
    trade.create()  # open: nobody matched it
    made = trade.lock()
    chain.control.mine(chain.info.finality_confirmations)
    before = Snapshot.take(trade)
    assert_refused(trade, trade.report(made), 409, "order_not_matched", before)


@pytest.mark.parametrize("key", ["quote_tx", "lock_id"])
def test_a_lock_that_is_not_on_the_chain_is_refused(
    bridge: RunningBridge, devnet: DevnetControl, chain: Devchain, key: str
) -> None:
    trade = Trade.open(bridge, devnet, chain, side="sell", pair="RTC/ETH")
    before = Snapshot.take(trade)
    unknown = "0x" + secrets.token_hex(32)
    assert_refused(trade, trade.report(None, **{key: unknown}), 422, "lock_not_found", before)


@pytest.mark.parametrize(
    "body",
    [{}, {"quote_tx": "0x" + "ab" * 32, "lock_id": "0x" + "cd" * 32}, {"quote_tx": "0x12"}],
    ids=["neither", "both", "malformed"],
)
def test_a_malformed_lock_report_is_a_400(
    bridge: RunningBridge, devnet: DevnetControl, chain: Devchain, body: dict[str, str]
) -> None:
    trade = Trade.open(bridge, devnet, chain, side="sell", pair="RTC/ETH")
    before = Snapshot.take(trade)
    answer = trade.client.http.post(f"/api/orders/{trade.order_id}/lock", json=body)
    assert answer.status_code == 400, answer.text
    assert Snapshot.take(trade) == before
