"""Operators: orders driven into `settlement_recovery` for real, then listed, explained
and resolved with the `otc-bridge` command run as a subprocess (as an operator runs it).

Every resolution is refused without a real reason or outside `settlement_recovery`, and
the reason and the operator land in the order's public history.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from otc_bridge.devnet.control import DevnetControl
from otc_bridge.devnet.process import DevnodeProcess
from otc_bridge.domain.rustchain import WORKER_WALLET, idempotent_tx_hash
from tests.settlement.conftest import (
    Trade,
    admin_headers,
    confirm,
    history,
    node_payouts,
    open_trade,
    otc_cli,
    otc_cli_all,
    settle_on_node,
)
from tests.support.bridge import RunningBridge, bridge_env

THIRD_PARTY = "RTC" + "3" * 40
REASON = "escrow job claimed by a third party on the node; refund the seller"


def recovery_by_third_party_claim(
    bridge: RunningBridge, devnet: DevnetControl, node: DevnodeProcess, amount: str
) -> Trade:
    """Someone else claims the escrow job on the node (RIP-302 has no auth) before the
    seller confirms: settlement cannot release it and hands the order to an operator."""
    trade = open_trade(bridge.client, devnet, amount)
    job_id = bridge.client.order(trade.order_id)["escrow_job_id"]
    claimed = httpx.post(
        f"{node.url}/agent/jobs/{job_id}/claim", json={"worker_wallet": THIRD_PARTY}
    )
    assert claimed.status_code == 200, claimed.text
    answer = confirm(bridge.client, trade)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "settlement_recovery"
    assert body["rtc_transfer_status"] == "manual_recovery_required"
    assert body["ok"] is False
    assert "htlc_secret" not in body
    assert bridge.client.order(trade.order_id)["status"] == "settlement_recovery"
    return trade


def recovery_by_voided_payout(
    bridge: RunningBridge, devnet: DevnetControl, node: DevnodeProcess, amount: str
) -> Trade:
    """The payout is voided on the node, and the worker wallet no longer holds what a
    re-drive needs: the reconciler hands the order to an operator."""
    trade = open_trade(bridge.client, devnet, amount)
    queued = confirm(bridge.client, trade).json()
    assert queued["status"] == "payout_pending"
    voided = httpx.post(
        f"{node.url}/pending/void",
        json={"tx_hash": queued["rtc_transfer_tx_hash"], "reason": "operator test void"},
        headers=admin_headers(node),
    )
    assert voided.status_code == 200, voided.text
    drain_worker_wallet(devnet, node)
    summary = bridge.run_worker()
    assert summary["recovered"] == 1, summary
    order = bridge.client.order(trade.order_id)
    assert order["status"] == "settlement_recovery"
    return trade


def drain_worker_wallet(devnet: DevnetControl, node: DevnodeProcess) -> None:
    """Move everything otc_bridge_worker holds elsewhere (confirmed on the node)."""
    held = devnet.balance_i64(WORKER_WALLET)
    if held:
        moved = httpx.post(
            f"{node.url}/wallet/transfer",
            json={
                "from_miner": WORKER_WALLET,
                "to_miner": "devnet_drain_sink",
                "amount_rtc": f"{held / 1e6:.6f}",
                "reason": "drain for an operator test",
            },
            headers=admin_headers(node),
        )
        assert moved.status_code == 200, moved.text
    settle_on_node(devnet)
    assert devnet.balance_i64(WORKER_WALLET) == 0


def events(bridge: RunningBridge, order_id: str) -> list[dict[str, Any]]:
    return history(bridge.client, order_id)


def cli_env(node: DevnodeProcess, tmp_path: Path) -> dict[str, str]:
    return bridge_env(node, tmp_path)  # the same database, key file and node as `bridge`


def resolve(
    order_id: str,
    action: str,
    reason: str | None = REASON,
    operator: str = "alice",
    *,
    force: bool = False,
) -> tuple[str, ...]:
    argv: tuple[str, ...] = ("orders", "resolve", order_id, "--action", action)
    argv = (*argv, "--operator", operator, *(["--force"] if force else []))
    return argv if reason is None else (*argv, "--reason", reason)


def test_third_party_claim_is_explained_listed_and_refunded_by_an_operator(
    bridge: RunningBridge, devnet: DevnetControl, node: DevnodeProcess, tmp_path: Path
) -> None:
    env = cli_env(node, tmp_path)
    trade = recovery_by_third_party_claim(bridge, devnet, node, "6")
    order_id = trade.order_id
    assert (
        "critical",
        "Escrow taken out of the bridge's hands during settlement",
    ) in [(level, title) for level, title, _ in bridge.alerts()]

    listed, explained, alerts = otc_cli_all(
        env,
        ("orders", "list", "--status", "settlement_recovery", "--json"),
        ("orders", "explain", order_id, "--json"),
        ("alerts", "list"),
    )
    assert alerts.returncode == 0, alerts.stderr
    assert "critical" in alerts.stdout
    assert "Escrow taken out of the bridge's hands during settlement" in alerts.stdout
    assert order_id in alerts.stdout
    assert listed.returncode == 0, listed.stderr
    assert [(o["order_id"], o["status"]) for o in json.loads(listed.stdout)] == [
        (order_id, "settlement_recovery")
    ]
    assert explained.returncode == 0, explained.stderr
    facts = json.loads(explained.stdout)
    assert facts["order"]["status"] == "settlement_recovery"
    assert facts["order"]["order_id"] == order_id
    assert facts["deadlines"]["escrow_expires_at"] == facts["order"]["escrow_expires_at"]
    assert facts["deadlines"]["match_deadline"] is not None
    job = facts["node"]["escrow_job"]
    assert (job["status"], job["worker_wallet"]) == ("claimed", THIRD_PARTY)
    assert "operator" in facts["next_automatic_action"]
    assert facts["recovery_reason"].startswith("escrow job is claimed")
    assert [h["to"] for h in facts["history"]][-2:] == ["settling", "settlement_recovery"]
    assert facts["history"][-1]["cause"] == "escrow_lost"
    assert facts["payout"]["key"] is None  # nothing was ever sent to the buyer

    # Refusals (exit code 2) change nothing; nor is an order outside recovery resolved.
    other = open_trade(bridge.client, devnet, "1")
    before = events(bridge, order_id)
    other_before = events(bridge, other.order_id)
    short, missing, redrive, not_recovery = otc_cli_all(
        env,
        resolve(order_id, "refund", reason="oops"),
        resolve(order_id, "refund", reason=None),
        resolve(order_id, "redrive"),
        resolve(other.order_id, "complete"),
    )
    assert not_recovery.returncode == 2
    assert (
        "only settlement_recovery orders are resolved by hand (current: quote_locked)"
        in not_recovery.stderr
    )
    assert events(bridge, other.order_id) == other_before
    assert short.returncode == 2
    assert "a reason of at least 8 characters is required" in short.stderr
    assert missing.returncode == 2
    assert "--reason" in missing.stderr
    assert redrive.returncode == 2  # the escrow never reached the worker wallet
    assert "never released" in redrive.stderr
    assert events(bridge, order_id) == before
    assert bridge.client.order(order_id)["status"] == "settlement_recovery"

    # S revealed the preimage at confirm, so S may have claimed the quote leg: a refund
    # is refused unless the operator, having checked the quote chain, forces it.
    unforced = otc_cli(env, *resolve(order_id, "refund"))
    assert unforced.returncode == 2
    assert "revealed the preimage" in unforced.stderr
    assert events(bridge, order_id) == before

    # The refund: the job still holds S's escrow, claimed by the third party. The node
    # cancels a claimed job only once it is overdue, so the refund waits for its expiry.
    resolved = otc_cli(env, *resolve(order_id, "refund", force=True))
    assert resolved.returncode == 0, resolved.stderr
    assert f"{order_id} is now refund_pending" in resolved.stdout
    operator_event = next(e for e in events(bridge, order_id) if e["cause"] == "operator")
    assert operator_event["actor"] == "operator:alice"
    assert operator_event["refs"] == {"reason": REASON, "action": "refund", "force": True}
    assert operator_event["to"] == "refund_pending"
    assert devnet.balance_i64(trade.seller.address) == 100_000_000 - 6_300_000  # escrowed

    devnet.advance_clock(bridge.client.order(order_id)["escrow_expires_at"] - devnet.now() + 1)
    reconciled = otc_cli(env, "reconcile", "--json")
    assert reconciled.returncode == 0, reconciled.stderr
    summary = json.loads(reconciled.stdout)
    assert summary["refunded"] == 1
    assert summary["skipped_locked"] == 0
    assert {"promoted", "recovered", "due", "errors", "lease_lost", "by_status"} <= set(summary)
    assert bridge.client.order(order_id)["status"] == "cancelled"
    assert devnet.balance_i64(trade.seller.address) == 100_000_000  # the whole escrow, fee too
    assert devnet.balance_i64(trade.buyer.address) == 0
    assert [e["to"] for e in events(bridge, order_id)][-3:] == [
        "settlement_recovery",
        "refund_pending",
        "cancelled",
    ]
    assert (
        "warning",
        "Escrow claimed by a third party; the refund waits for the job to expire",
    ) in [(level, title) for level, title, _ in bridge.alerts()]


def test_operator_completes_an_order_whose_buyer_was_paid_outside_the_bridge(
    bridge: RunningBridge, devnet: DevnetControl, node: DevnodeProcess, tmp_path: Path
) -> None:
    env = cli_env(node, tmp_path)
    trade = recovery_by_third_party_claim(bridge, devnet, node, "2")
    reason = "buyer paid 2 RTC by hand from the treasury, ticket OPS-17"
    done = otc_cli(env, *resolve(trade.order_id, "complete", reason, operator="bob"))
    assert done.returncode == 0, done.stderr
    assert f"{trade.order_id} is now completed" in done.stdout
    order = bridge.client.order(trade.order_id)
    assert order["status"] == "completed"
    assert order["htlc_secret"] == trade.secret.hex  # released with the completion
    last = events(bridge, trade.order_id)[-1]
    assert (last["to"], last["cause"], last["actor"]) == ("completed", "operator", "operator:bob")
    assert last["refs"]["reason"] == reason
    trades = bridge.client.http.get("/api/trades").json()["trades"]
    assert [t["order_id"] for t in trades] == [trade.order_id]
    again = otc_cli(env, *resolve(trade.order_id, "complete", reason, operator="bob"))
    assert again.returncode == 2
    assert "only settlement_recovery orders are resolved by hand (current: completed)" in (
        again.stderr
    )


def test_voided_payout_the_worker_cannot_cover_is_redriven_after_a_top_up(
    bridge: RunningBridge, devnet: DevnetControl, node: DevnodeProcess, tmp_path: Path
) -> None:
    env = cli_env(node, tmp_path)
    trade = open_trade(bridge.client, devnet, "5")
    assert confirm(bridge.client, trade).json()["status"] == "payout_pending"

    # The payout is voided and the worker wallet drained: the re-drive cannot be covered.
    first_key = f"otc_payout:{trade.order_id}"
    voided = httpx.post(
        f"{node.url}/pending/void",
        json={"tx_hash": idempotent_tx_hash(first_key)},
        headers=admin_headers(node),
    )
    assert voided.status_code == 200, voided.text
    drain_worker_wallet(devnet, node)
    assert bridge.run_worker()["recovered"] == 1
    assert bridge.client.order(trade.order_id)["status"] == "settlement_recovery"
    titles = [title for _, title, _ in bridge.alerts()]
    assert "Payout voided; re-driving under a new key" in titles
    assert "Voided payout cannot be re-driven: the worker wallet is short" in titles
    facts = json.loads(otc_cli(env, "orders", "explain", trade.order_id, "--json").stdout)
    assert facts["payout"]["attempt"] == 1
    assert facts["payout"]["key"] == f"{first_key}:1"
    assert facts["recovery_reason"] == "payout voided and otc_bridge_worker cannot cover a re-drive"

    # A re-drive while the wallet is still short goes back to recovery, paying nothing.
    short = otc_cli(env, *resolve(trade.order_id, "redrive"))
    assert short.returncode == 0, short.stderr
    assert "is now settlement_recovery" in short.stdout

    devnet.faucet(WORKER_WALLET, "5")  # the operator tops the worker wallet up
    reason = "worker wallet topped up with 5 RTC; pay the buyer again"
    redriven = otc_cli(env, *resolve(trade.order_id, "redrive", reason))
    assert redriven.returncode == 0, redriven.stderr
    assert f"{trade.order_id} is now payout_pending" in redriven.stdout
    operator_events = [e for e in events(bridge, trade.order_id) if e["cause"] == "operator"]
    assert [e["refs"]["reason"] for e in operator_events] == [REASON, reason]
    assert {e["actor"] for e in operator_events} == {"operator:alice"}
    assert operator_events[-1]["refs"]["key"] == f"{first_key}:3"

    settle_on_node(devnet)
    assert bridge.run_worker()["promoted"] == 1
    order = bridge.client.order(trade.order_id)
    assert order["status"] == "completed"
    assert devnet.balance_i64(trade.buyer.address) == 5_000_000  # paid once
    payouts = node_payouts(node, trade.buyer.address)
    assert sorted((p["status"], p["tx_hash"]) for p in payouts) == sorted(
        [
            ("voided", idempotent_tx_hash(first_key)),
            ("confirmed", idempotent_tx_hash(f"{first_key}:3")),
        ]
    )


def test_refund_is_refused_once_the_escrow_was_released_to_the_worker_wallet(
    bridge: RunningBridge, devnet: DevnetControl, node: DevnodeProcess, tmp_path: Path
) -> None:
    """`refund` gives S's escrow back "only while the node job still holds it" (the
    operators' contract). After a voided payout the job is completed: the RTC sits in
    otc_bridge_worker, and a refund can only bounce back with a false alarm."""
    env = cli_env(node, tmp_path)
    trade = recovery_by_voided_payout(bridge, devnet, node, "3")
    before = events(bridge, trade.order_id)
    refused = otc_cli(env, *resolve(trade.order_id, "refund"))
    after = events(bridge, trade.order_id)
    alarms = [title for _, title, _ in bridge.alerts()]
    # Whatever happened, pay the buyer so the test leaves no order behind.
    devnet.faucet(WORKER_WALLET, "3")
    bridge.container.operators.resolve(
        trade.order_id, "redrive", reason="clean up after the test", operator="test"
    )
    bridge.container.settlement.drive(trade.order_id, actor="test", budget_seconds=10)
    settle_on_node(devnet)
    bridge.run_worker()
    assert bridge.client.order(trade.order_id)["status"] == "completed"
    assert refused.returncode == 2, (refused.stdout, refused.stderr, after[len(before) :])
    assert after == before
    assert "Escrow released to a third party before the refund" not in alarms


def test_refund_of_an_order_whose_quote_lock_can_still_be_claimed_needs_force(
    tmp_path: Path,
) -> None:
    """I5 for operators: an order that had a verified quote lock (and no reveal) is not
    refunded before its refundable_at unless forced: B's lock may still be claimed."""
    from dataclasses import replace

    from sqlalchemy import text

    from otc_bridge.bootstrap import build
    from otc_bridge.config import Settings
    from otc_bridge.domain.order import Escrow, EscrowJob, Match, Order, QuoteLock
    from otc_bridge.domain.states import Status
    from otc_bridge.services.errors import Conflict

    settings = Settings.from_env(
        {"OTC_DB_PATH": str(tmp_path / "db.sqlite3"), "OTC_DATA_DIR": str(tmp_path)}
    )
    container = build(settings)
    try:
        now = container.clock.now()
        t_q = now + 6 * 3600
        order = Order(
            order_id="otc_00000000000000aa",
            side="sell",
            pair="RTC/USDC",
            maker_wallet="RTC" + "a" * 40,
            maker_eth_address="0x" + "a" * 40,
            amount_micro_rtc=1_000_000,
            price_per_rtc_nano_quote=100_000_000,
            total_quote_nano=100_000_000,
            total_quote_base=100_000,
            status=Status.SETTLEMENT_RECOVERY,
            version=0,
            history_hash="",
            created_at=now,
            ttl_seconds=3600,
            expires_at=now + 3600,
            escrow=Escrow("RTC" + "a" * 40, "t", now, EscrowJob("job_x", "open", now + 9 * 86400)),
            match=Match("RTC" + "b" * 40, "0x" + "b" * 40, matched_at=now, deadline=now + 3600),
            quote_lock=QuoteLock(
                "0x" + "11" * 32,
                "0x" + "22" * 32,
                5,
                "0x" + "33" * 32,
                100_000,
                t_q,
                "0x" + "b" * 40,
                "0x" + "a" * 40,
                now,
            ),
            quote_timelock=t_q,
            refundable_at=t_q + 600,
        )
        with container.store.write() as uow:  # created open, then put where a crash left it
            uow.orders.insert(replace(order, status=Status.OPEN), actor="test", at=now, refs={})
        with container.store.engine.begin() as conn:
            conn.execute(text("UPDATE orders SET status = 'settlement_recovery'"))
        ops = container.operators
        with pytest.raises(Conflict, match=f"refundable_at={t_q + 600}"):
            ops.resolve(order.order_id, "refund", reason=REASON, operator="alice")
        moved = ops.resolve(order.order_id, "refund", reason=REASON, operator="alice", force=True)
        assert moved.status is Status.REFUND_PENDING
    finally:
        container.close()


def test_a_payout_voided_twice_alerts_the_operators_twice(
    bridge: RunningBridge, devnet: DevnetControl, node: DevnodeProcess
) -> None:
    """Each void of the order's payout is its own event: the second is alerted too (one
    alert per order and title would have hidden it)."""
    trade = open_trade(bridge.client, devnet, "5")
    assert confirm(bridge.client, trade).json()["status"] == "payout_pending"
    keys = [f"otc_payout:{trade.order_id}", f"otc_payout:{trade.order_id}:1"]
    for attempt, key in enumerate(keys, start=1):
        voided = httpx.post(
            f"{node.url}/pending/void",
            json={"tx_hash": idempotent_tx_hash(key)},
            headers=admin_headers(node),
        )
        assert voided.status_code == 200, voided.text
        resent = idempotent_tx_hash(f"otc_payout:{trade.order_id}:{attempt}")
        due = bridge.client.order(trade.order_id)["deadlines"]["next_action_at"]
        devnet.advance_clock(max(0, due - devnet.now()) + 1)  # the payout's next look
        for _ in range(3):  # the re-drive, then the payout sent under its new key
            bridge.run_worker()
            if bridge.client.order(trade.order_id)["payout_tx_hash"] == resent:
                break
        order = bridge.client.order(trade.order_id)
        assert (order["status"], order["payout_tx_hash"]) == ("payout_pending", resent)
    redriven = [
        f["voided_key"]
        for _, title, f in bridge.alerts()
        if title == "Payout voided; re-driving under a new key"
    ]
    assert redriven == keys
    bridge.run_worker()  # seen again on a later pass: no third alert
    assert len([a for a in bridge.alerts() if a[1].startswith("Payout voided")]) == 2
