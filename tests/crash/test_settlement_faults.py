"""Settlement under the devnode faults of the node spec §6.2.

Each test drives a trade (settlement, or a cancel, expiry or match timeout where the
fault hits a refund) through the in-thread bridge with a fault injected on the devnode,
and checks that the order reaches the right end state with the ledger conserved, B paid
exactly once or S refunded exactly once (`Session.verify`, see `scenarios`):

* a lost answer after the node committed (`drop`, and nginx's `gateway_error`) and a
  failure that applied nothing (`html_500`, `json_500`, `state_race`) on escrow create,
  claim, deliver, accept, cancel and the payout transfer;
* the admin limiter's 429 on the payout, within the adapter's budget and beyond it;
* a payout voided by an admin (fault, or `/pending/void`) and by the node itself at
  confirm time (the worker's float drained first), the latter resolved by an operator;
* a stalled confirmation scheduler;
* a third party claiming or cancelling the escrow job before confirm;
* the escrow job expired lazily by an outsider's `GET /agent/jobs` while the order is open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from otc_bridge.devnet.control import DevnetControl, FaultKind
from otc_bridge.devnet.devchain.harness import Devchain
from otc_bridge.devnet.process import DevnodeProcess
from otc_bridge.domain.rustchain import WORKER_WALLET, idempotent_tx_hash, job_reward_wire
from tests.crash.scenarios import (
    AMOUNT_I64,
    AMOUNT_RTC,
    BUY,
    CANCEL,
    ESCROW_I64,
    EXPIRY,
    FUNDS_I64,
    MATCH_TIMEOUT,
    SELL,
    Observer,
    Scenario,
    Session,
)
from tests.support.bridge import RunningBridge

NewSession = Callable[[Scenario], Session]

CREATE = "POST /agent/jobs"
CLAIM = "POST /agent/jobs/*/claim"
DELIVER = "POST /agent/jobs/*/deliver"
ACCEPT = "POST /agent/jobs/*/accept"
CANCEL_JOB = "POST /agent/jobs/*/cancel"
TRANSFER = "POST /wallet/transfer"
LOST: list[FaultKind] = ["drop", "gateway_error"]  # applied, answer lost
FAILED: list[FaultKind] = ["html_500", "json_500"]  # nothing applied
RACE: list[FaultKind] = ["state_race"]  # 409 STATE_RACE, nothing applied
SCAFFOLD_IP = "10.254.1.1"  # the test's own admin calls: not the bridge's rate bucket


@pytest.fixture
def sessions(
    bridge: RunningBridge, devnet: DevnetControl, node: DevnodeProcess, chain: Devchain
) -> Iterator[NewSession]:
    observer = Observer(bridge.container.settings.database_url)
    made: list[Session] = []

    def start(scenario: Scenario) -> Session:
        session = Session(
            scenario,
            bridge_url=bridge.url,
            devnet=devnet,
            node_url=node.url,
            admin_key=node.admin_key,
            observer=observer,
            chain=chain,
        )
        made.append(session)
        return session

    try:
        yield start
    finally:
        for session in made:
            session.close()
        observer.close()


def hits(devnet: DevnetControl, fault: dict[str, Any]) -> int:
    return next(int(f["hits"]) for f in devnet.faults() if f["id"] == fault["id"])


def causes(session: Session) -> list[tuple[str, str]]:
    assert session.order_id is not None
    return [(e["to"], e["cause"]) for e in session.events(session.order_id)]


def admin(node: DevnodeProcess) -> dict[str, str]:
    return {"X-Admin-Key": node.admin_key, "X-Real-IP": SCAFFOLD_IP}


def job_of(node: DevnodeProcess, job_id: str) -> dict[str, Any]:
    job: dict[str, Any] = httpx.get(f"{node.url}/agent/jobs/{job_id}", timeout=30).json()["job"]
    return job


def settle_to(session: Session, status: str) -> dict[str, Any]:
    """Create, match, lock and confirm, and check where it stands."""
    session.create()
    session.match()
    session.lock()
    session.confirm()
    assert session.confirm_answer is not None
    assert session.confirm_answer["status"] == status, session.confirm_answer
    assert session.order_id is not None
    return session.read_order(session.order_id)


# ------------------------------------------------------------------ lost answers, 5xx, races


NAMES = {
    CREATE: "create",
    CLAIM: "claim",
    DELIVER: "deliver",
    ACCEPT: "accept",
    TRANSFER: "transfer",
}
SETTLE_FAULTS = [
    pytest.param(scenario, endpoint, kind, id=f"{scenario.key}-{NAMES[endpoint]}-{kind}")
    for endpoint in (CREATE, CLAIM, DELIVER, ACCEPT, TRANSFER)
    for kind in (*LOST, *FAILED, *(RACE if endpoint in (CLAIM, DELIVER, ACCEPT) else ()))
    for scenario in ((SELL, BUY) if endpoint == CREATE else (SELL,))
]


@pytest.mark.parametrize(("scenario", "endpoint", "kind"), SETTLE_FAULTS)
def test_settlement_ends_completed_once_through_a_node_fault(
    sessions: NewSession,
    devnet: DevnetControl,
    scenario: Scenario,
    endpoint: str,
    kind: FaultKind,
) -> None:
    fault = devnet.add_fault(endpoint, kind)
    session = sessions(scenario)
    session.play()
    assert hits(devnet, fault) == 1
    session.verify()
    lost = kind in LOST  # the node applied the call: a read of the job shows it done
    if endpoint == CREATE:  # the escrow: at create (sell) or at match (buy, the taker's)
        action = "create" if scenario is SELL else "match"
        answer = {"html_500": 503, "json_500": 400}.get(kind)
        answers = [note for note in session.notes if " answered " in note]
        assert answers == ([] if lost else [f"{action} answered {answer}"])
        assert len(session.others) == (1 if action == "create" and not lost else 0)
        return
    assert session.confirm_answer is not None
    answered = "payout_pending" if lost and endpoint != TRANSFER else "settling"
    assert session.confirm_answer["status"] == answered  # a refusal is retried later
    if lost and endpoint != TRANSFER:
        step = {CLAIM: "escrow_claimed", DELIVER: "escrow_delivered", ACCEPT: "escrow_accepted"}
        assert session.order_id is not None
        done = [
            e for e in session.events(session.order_id) if e["refs"].get("step") == step[endpoint]
        ]
        assert [e["refs"]["read"] for e in done] == [True]


REFUND_FAULTS = [
    pytest.param(scenario, kind, id=f"{scenario.key}-{kind}")
    for scenario in (CANCEL, EXPIRY, MATCH_TIMEOUT)
    for kind in (*LOST, *FAILED, *RACE)
]


@pytest.mark.parametrize(("scenario", "kind"), REFUND_FAULTS)
def test_refund_ends_once_through_a_fault_on_the_escrow_cancel(
    sessions: NewSession, devnet: DevnetControl, scenario: Scenario, kind: FaultKind
) -> None:
    fault = devnet.add_fault(CANCEL_JOB, kind)
    session = sessions(scenario)
    session.play()
    assert hits(devnet, fault) == 1
    session.verify()
    assert causes(session)[-1][1] == "refund_confirmed"
    if scenario is CANCEL:  # a lost answer is resolved by reading the job, in the request
        answered = "cancelled" if kind in LOST else "refund_pending"
        assert session.cancel_answer is not None
        assert session.cancel_answer["status"] == answered


# ------------------------------------------------------------------ 429 on the payout


def test_rate_limited_payout_is_waited_out_within_the_adapters_budget(
    sessions: NewSession, devnet: DevnetControl
) -> None:
    fault = devnet.add_fault(TRANSFER, "rate_limit", retry_after=1)
    session = sessions(SELL)
    settle_to(session, "payout_pending")  # the adapter waited 1 s and sent again
    assert hits(devnet, fault) == 1
    session.play()
    session.verify()


def test_rate_limited_payout_beyond_the_budget_is_rescheduled_not_failed(
    sessions: NewSession, devnet: DevnetControl, bridge: RunningBridge
) -> None:
    fault = devnet.add_fault(TRANSFER, "rate_limit", retry_after=600)  # budget: 30 s
    session = sessions(SELL)
    order = settle_to(session, "settling")
    assert session.confirm_answer is not None
    assert session.confirm_answer["rtc_transfer_status"] == "queued"
    assert order["deadlines"]["next_action_at"] >= devnet.now() + 590  # the node's Retry-After
    assert hits(devnet, fault) == 1
    assert not [a for a in bridge.alerts() if a[0] == "critical"]
    session.play()
    session.verify()
    assert "settlement_recovery" not in [to for to, _ in causes(session)]


# ------------------------------------------------------------------ voids


def test_payout_voided_by_an_admin_at_queue_time_is_redriven_under_attempt_1(
    sessions: NewSession, devnet: DevnetControl, bridge: RunningBridge
) -> None:
    devnet.add_fault(TRANSFER, "void", voided_by="admin", reason="admin_void")
    session = sessions(SELL)
    settle_to(session, "payout_pending")  # queued, and voided at once by the node
    assert session.order_id is not None
    key = f"otc_payout:{session.order_id}:1"
    session.play()  # the next read of the payout finds it voided and re-drives it
    session.verify()
    _assert_redriven(session, bridge, voided_by="admin", key=key)


def test_payout_voided_through_pending_void_is_redriven_under_attempt_1(
    sessions: NewSession, devnet: DevnetControl, bridge: RunningBridge, node: DevnodeProcess
) -> None:
    session = sessions(SELL)
    order = settle_to(session, "payout_pending")
    voided = httpx.post(
        f"{node.url}/pending/void",
        json={"tx_hash": order["payout_tx_hash"], "reason": "ops review", "voided_by": "ops-ann"},
        headers=admin(node),
        timeout=30,
    )
    assert voided.status_code == 200, voided.text
    session.play()
    session.verify()
    assert session.order_id is not None
    _assert_redriven(session, bridge, voided_by="ops-ann", key=f"otc_payout:{session.order_id}:1")


@pytest.mark.parametrize("meanwhile", ["confirmed", "voided"])
def test_lost_payout_answer_then_the_node_moves_the_row_before_the_bridge_looks_again(
    sessions: NewSession,
    devnet: DevnetControl,
    bridge: RunningBridge,
    node: DevnodeProcess,
    meanwhile: str,
) -> None:
    """The transfer was queued but its answer lost; before the retry the scheduler
    confirms the row, or an admin voids it. The retry's replay reports the row's phase."""
    devnet.add_fault(TRANSFER, "drop")
    session = sessions(SELL)
    order = settle_to(session, "settling")
    assert session.order_id is not None
    if meanwhile == "confirmed":
        devnet.advance_clock(session.confirmation_delay() + 1)
        devnet.tick()
    else:
        voided = httpx.post(
            f"{node.url}/pending/void",
            json={"tx_hash": order["payout_tx_hash"], "voided_by": "ops-bo"},
            headers=admin(node),
            timeout=30,
        )
        assert voided.status_code == 200, voided.text
    session.play()
    session.verify()
    if meanwhile == "confirmed":
        assert [r["status"] for r in session.payouts_to_buyer()] == ["confirmed"]
    else:
        key = f"otc_payout:{order['order_id']}:1"
        _assert_redriven(session, bridge, voided_by="ops-bo", key=key)


def _assert_redriven(session: Session, bridge: RunningBridge, *, voided_by: str, key: str) -> None:
    assert session.order_id is not None
    rows = session.payouts_to_buyer()
    assert sorted(r["status"] for r in rows) == ["confirmed", "voided"]
    assert [r["voided_by"] for r in rows if r["status"] == "voided"] == [voided_by]
    order = session.read_order(session.order_id)
    assert order["payout_tx_hash"] == idempotent_tx_hash(key)
    redrive = [e for e in session.events(session.order_id) if e["cause"] == "payout_redriven"]
    assert [(e["refs"]["voided_key"], e["refs"]["key"]) for e in redrive] == [
        (f"otc_payout:{session.order_id}", key)
    ]
    mine = [(lvl, title) for lvl, title, f in bridge.alerts() if f["order_id"] == session.order_id]
    assert mine == [("warning", "Payout voided; re-driving under a new key")]


def test_system_void_at_confirm_goes_to_recovery_and_an_operator_redrive_completes_it(
    sessions: NewSession, devnet: DevnetControl, bridge: RunningBridge, node: DevnodeProcess
) -> None:
    session = sessions(SELL)
    settle_to(session, "payout_pending")
    assert session.order_id is not None
    order_id = session.order_id
    # Anyone may post a RIP-302 job as any poster: drain the worker's settled float into
    # one, so that the queued payout cannot be covered when the scheduler confirms it.
    float_i64 = devnet.balance_i64(WORKER_WALLET)
    reward_i64 = float_i64 * 100 // 105 // 10_000 * 10_000
    drain = httpx.post(
        f"{node.url}/agent/jobs",
        json={
            "poster_wallet": WORKER_WALLET,
            "title": "an outsider's job",
            "description": "posted as otc_bridge_worker: the node has no auth on jobs",
            "reward_rtc": job_reward_wire(reward_i64),
            "ttl_seconds": 86400,
        },
        timeout=30,
    )
    assert drain.status_code == 201, drain.text
    assert devnet.balance_i64(WORKER_WALLET) < AMOUNT_I64

    session.play()  # the scheduler voids the payout; the re-drive is refused: recovery
    order = session.read_order(order_id)
    assert order["status"] == "settlement_recovery"
    rows = session.payouts_to_buyer()
    assert [(r["status"], r["voided_by"]) for r in rows] == [("voided", "system")]
    assert devnet.balance_i64(session.buyer.address) == 0
    alerts = [(lvl, title) for lvl, title, f in bridge.alerts() if f["order_id"] == order_id]
    assert ("critical", "Voided payout cannot be re-driven: the worker wallet is short") in alerts
    assert bridge.run_worker()["promoted"] == 0  # nothing pays B behind the operator's back

    # The operator tops the float up and re-drives; the next passes complete the trade.
    devnet.faucet(WORKER_WALLET, AMOUNT_RTC)
    resolved = bridge.container.operators.resolve(
        order_id, "redrive", reason="worker float topped up after a system void", operator="ops"
    )
    assert resolved.status.value == "payout_pending"
    assert resolved.payout is not None
    assert resolved.payout.key == f"otc_payout:{order_id}:2"  # :1 was refused, never queued
    session.play()
    cancelled = httpx.post(
        f"{node.url}/agent/jobs/{drain.json()['job_id']}/cancel",
        json={"poster_wallet": WORKER_WALLET},
        timeout=30,
    )
    assert cancelled.status_code == 200, cancelled.text
    session.verify(worker_delta=AMOUNT_I64, critical_alerts=True)  # the top-up stays
    assert sorted(r["status"] for r in session.payouts_to_buyer()) == ["confirmed", "voided"]
    operator = [e for e in session.events(order_id) if e["cause"] == "operator"]
    assert [(e["actor"], e["refs"]["action"]) for e in operator] == [("operator:ops", "redrive")]


# ------------------------------------------------------------------ a stalled scheduler


def test_stalled_scheduler_keeps_the_payout_pending_until_it_runs_again(
    sessions: NewSession, devnet: DevnetControl
) -> None:
    devnet.configure_scheduler(enabled=False)
    session = sessions(SELL)
    settle_to(session, "payout_pending")
    assert session.order_id is not None
    for _ in range(3):  # long past confirms_at, no confirm pass: still queued
        devnet.advance_clock(session.confirmation_delay() + 1)
        session.reconcile()
        assert session.read_order(session.order_id)["status"] == "payout_pending"
        assert [r["status"] for r in session.payouts_to_buyer()] == ["pending"]
        assert devnet.balance_i64(session.buyer.address) == 0
    session.play()  # the scheduler runs again (one pass per wait), then a reconcile pass
    session.verify()


# ------------------------------------------------------------------ a third party on the job


@pytest.mark.parametrize("action", ["claim", "cancel"])
def test_third_party_acting_on_the_escrow_before_confirm_goes_to_recovery_never_pays_twice(
    sessions: NewSession,
    devnet: DevnetControl,
    bridge: RunningBridge,
    node: DevnodeProcess,
    action: str,
) -> None:
    session = sessions(SELL)
    session.create()
    session.match()
    session.lock()
    assert session.order_id is not None
    order = session.read_order(session.order_id)
    body = (
        {"worker_wallet": "mallory_worker"}
        if action == "claim"
        else {"poster_wallet": session.seller.address}  # no auth: anyone can name the poster
    )
    acted = httpx.post(
        f"{node.url}/agent/jobs/{order['escrow_job_id']}/{action}", json=body, timeout=30
    )
    assert acted.status_code == 200, acted.text
    session.confirm()
    assert session.confirm_answer is not None
    assert session.confirm_answer["status"] == "settlement_recovery"
    assert session.confirm_answer["rtc_transfer_status"] == "manual_recovery_required"
    for _ in range(3):  # later passes only watch: nothing is paid
        session.wait(session.read_order(session.order_id))
    order = session.read_order(session.order_id)
    assert order["status"] == "settlement_recovery"
    critical = [
        title
        for level, title, f in bridge.alerts()
        if level == "critical" and f["order_id"] == session.order_id
    ]
    assert critical == ["Escrow taken out of the bridge's hands during settlement"]
    assert session.payouts_to_buyer() == []
    assert devnet.balance_i64(session.buyer.address) == 0
    job = job_of(node, order["escrow_job_id"])
    seller = devnet.balance_i64(session.seller.address)
    if action == "claim":  # the escrow sits in the third party's claimed job
        assert job["status"] == "claimed"
        assert seller == FUNDS_I64 - ESCROW_I64
    else:  # the node refunded the poster
        assert job["status"] == "cancelled"
        assert seller == FUNDS_I64
    assert bridge.client.http.get("/api/trades").json()["trades"] == []
    devnet.assert_conserved()


@pytest.mark.parametrize("actions", [("claim",), ("claim", "deliver")], ids="+".join)
def test_third_party_on_the_escrow_of_an_open_order_delays_the_refund_s_is_refunded_once(
    sessions: NewSession,
    devnet: DevnetControl,
    bridge: RunningBridge,
    node: DevnodeProcess,
    actions: tuple[str, ...],
) -> None:
    """A claimed job can only be cancelled once overdue (the bridge comes back after its
    expiry); a delivered one is disputed, then cancelled."""
    session = sessions(CANCEL)
    session.create()
    assert session.order_id is not None
    job_id = session.read_order(session.order_id)["escrow_job_id"]
    for action in actions:
        body = {"worker_wallet": "mallory_worker", "result_summary": "nothing at all"}
        acted = httpx.post(f"{node.url}/agent/jobs/{job_id}/{action}", json=body, timeout=30)
        assert acted.status_code == 200, acted.text
    session.play()
    session.verify()
    job = job_of(node, job_id)
    alerts = [(lvl, t) for lvl, t, f in bridge.alerts() if f["order_id"] == session.order_id]
    if actions == ("claim",):
        assert job["status"] == "expired"
        assert alerts == [
            ("warning", "Escrow claimed by a third party; the refund waits for the job to expire")
        ]
    else:
        assert job["status"] == "cancelled"
        steps = [e["refs"].get("step") for e in session.events(session.order_id)]
        assert "escrow_disputed" in steps


# ------------------------------------------------------------------ an outsider's lazy expiry


@pytest.mark.parametrize("scenario", [EXPIRY, CANCEL], ids=["expired", "cancelled"])
def test_escrow_expired_by_an_outsider_while_open_ends_the_order_refunded_once(
    sessions: NewSession, devnet: DevnetControl, node: DevnodeProcess, scenario: Scenario
) -> None:
    session = sessions(scenario)
    session.create()
    assert session.order_id is not None
    order = session.read_order(session.order_id)
    assert order["status"] == "open"
    devnet.advance_clock(order["escrow_expires_at"] - devnet.now() + 1)
    listed = httpx.get(f"{node.url}/agent/jobs", params={"status": "open"}, timeout=30)
    assert listed.status_code == 200  # any reader fires the node's lazy expiry
    assert job_of(node, order["escrow_job_id"])["status"] == "expired"
    assert devnet.balance_i64(session.seller.address) == FUNDS_I64  # refunded by the node
    assert session.read_order(session.order_id)["status"] == "open"
    session.play()
    session.verify()
    last = session.events(session.order_id)[-1]
    assert (last["cause"], last["refs"]["job_status"]) == ("refund_confirmed", "expired")
