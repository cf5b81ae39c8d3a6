"""The crash matrix: SIGKILL the bridge at every step boundary of settlement, cancel,
expiry and match timeout, restart it, and check the order still ends where it must.

For each scenario of `tests.crash.scenarios` and each boundary it passes (before and
after every node call, after every commit, the n-th pass of a repeated one included), a
fresh `otc-bridge serve` process on a fresh database runs the scenario with
`OTC_CRASH_AT=<boundary>` until it kills itself there. The test checks the exit was
SIGKILL at exactly that boundary, restarts the process without the setting, lets the
clients and the clock carry the trade on, and verifies the end state: the expected
status, money to the µRTC per wallet (I1, I2), the secret gated (I3), liveness without an
operator (I7), the history's hash chain, and the devnode's conservation checks.

The boundaries are listed in `scenarios.BOUNDARIES` so that every xdist worker collects
the same tests; `test_traced_boundaries_match_the_checked_in_list` re-traces each
scenario and fails when the code's boundaries and the list part ways. The table of cases
is printed at the end of the run and written to `$OTC_WRITE_CRASH_TABLE` (see conftest).
"""

from __future__ import annotations

import contextlib
import json
import signal
from collections.abc import Callable
from pprint import pformat

import pytest

from tests.crash.conftest import ROW
from tests.crash.scenarios import (
    BOUNDARIES,
    EXPIRY,
    SCENARIOS,
    SELL,
    CaseReport,
    Crashed,
    Harness,
    by_request,
    run_crash_case,
    run_traced,
    split_boundary,
)

pytestmark = pytest.mark.slow


def _case_id(scenario: str, boundary: str) -> str:
    return f"{scenario}-{boundary.replace('->', '_to_').replace('#', '_pass')}"


def _crashed_at(scenario: str) -> tuple[str, ...]:
    """The boundaries a scenario's cases crash at: all it passes, or those it names."""
    only = SCENARIOS[scenario].crash_at
    return BOUNDARIES[scenario] if only is None else only


CASES = [
    pytest.param(scenario, boundary, id=_case_id(scenario, boundary))
    for scenario in BOUNDARIES
    for boundary in _crashed_at(scenario)
]


@pytest.mark.parametrize(("scenario", "boundary"), CASES)
def test_sigkill_at_boundary_then_restart_ends_right(
    scenario: str, boundary: str, harness: Harness, record_property: Callable[[str, object], None]
) -> None:
    try:
        report = run_crash_case(SCENARIOS[scenario], boundary, harness)
    except BaseException as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        failed = CaseReport(scenario, boundary, "?", f"FAILED: {reason}", [])
        record_property(ROW, failed.as_json())
        raise
    record_property(ROW, report.as_json())


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_traced_boundaries_match_the_checked_in_list(
    scenario: str, harness: Harness, record_property: Callable[[str, object], None]
) -> None:
    """The crash-free run of each scenario ends right too, and passes exactly the
    boundaries the matrix is parametrized with."""
    traced, report = run_traced(SCENARIOS[scenario], harness)
    record_property(ROW, report.as_json())
    listed = BOUNDARIES[scenario]
    assert traced == listed, (
        f"the {scenario!r} scenario's crash boundaries changed: missing from the code "
        f"{sorted(set(listed) - set(traced))}, new in the code {sorted(set(traced) - set(listed))}."
        f" Update BOUNDARIES[{scenario!r}] in tests/crash/scenarios.py to:\n{pformat(traced)}"
    )


def test_case_ids_are_unique_and_every_boundary_names_its_pass() -> None:
    ids = [param.id for param in CASES]
    assert len(ids) == len(set(ids))
    for scenario, boundaries in BOUNDARIES.items():
        assert set(_crashed_at(scenario)) <= set(boundaries), scenario
        assert len(boundaries) == len(set(boundaries))
        for boundary in boundaries:
            name, nth = split_boundary(boundary)
            previous = name if nth == 2 else f"{name}#{nth - 1}"
            assert nth == 1 or boundaries.index(previous) < boundaries.index(boundary)
    assert json.loads(CaseReport("s", "b", "c", "o", ["k"]).as_json())["checks"] == ["k"]


def test_a_restart_after_a_crash_mid_pass_recovers_without_waiting_out_the_lease(
    harness: Harness,
) -> None:
    """The restarted bridge reconciles at once (its startup pass, the admin trigger).
    Spec §6: the startup pass is how a restart recovers in-flight orders; I7: liveness
    within one reconciler interval once faults stop.

    A process killed inside a reconcile pass still holds the reconciler lease; a process
    of the same host takes over a lease whose holder is dead instead of waiting it out
    (other hosts wait for the lease, OTC_RECONCILE_LEASE_SECONDS, to run out). The matrix
    fast-forwards that lease (see `Observer.expire_lease_of`); this test does not.
    """
    boundary = "commit:open->refund_pending"  # reached inside the reconciler's pass
    name, nth = split_boundary(boundary)
    process = harness.process
    process.start({"OTC_CRASH_AT": f"{name}#{nth}"})
    session = harness.session(EXPIRY)
    try:
        with pytest.raises(Crashed):
            session.play()
        assert session.lost == "reconcile"
        assert process.wait(30) == -signal.SIGKILL
        process.restart()
        session.reconnect(process.url)
        before = len(session.summaries)
        with contextlib.suppress(AssertionError):  # judged below, by what the passes said
            session.play(max_steps=6)
        locked = [s for s in session.summaries[before:] if s["skipped_locked"]]
        assert not locked, (
            f"{len(locked)} of {len(session.summaries) - before} reconcile passes after the "
            "restart were skipped_locked: the killed process still holds the reconciler lease"
        )
        session.verify()
    finally:
        session.close()


def test_orders_a_killed_pass_had_taken_are_due_again_within_one_reconcile_interval(
    harness: Harness,
) -> None:
    """I7: once faults stop, an order ends within its deadlines plus one reconciler
    interval (OTC_RECONCILE_INTERVAL_SECONDS, 60 s by default).

    `claim_due_orders` takes the due orders of a pass by pushing their `next_action_at`
    to now + OTC_RECONCILE_LEASE_SECONDS (30 s), shorter than an interval: an order whose
    pass died before its step wrote its own time is due again within one interval.
    """
    process = harness.process
    session = harness.session(SELL)
    try:
        process.start()
        session.create()
        session.match()
        session.lock()
        session.confirm()  # payout queued
        process.stop()
        # The next payout read is the reconcile pass's: the one this process dies at.
        process.start({"OTC_CRASH_AT": "call:payout.status:before"})
        session.reconnect(process.url)
        with pytest.raises(Crashed):
            session.play()
        assert session.lost == "reconcile"
        assert process.wait(30) == -signal.SIGKILL
        crashed_at = harness.devnet.now()
        dead = process.pid
        assert dead is not None
        assert harness.observer.expire_lease_of(dead)
        process.restart()
        session.reconnect(process.url)
        harness.devnet.advance_clock(60 + 1)  # one reconcile interval after the crash
        summary = session.reconcile()
        assert session.order_id is not None
        order = session.read_order(session.order_id)
        next_at = order["deadlines"]["next_action_at"]
        assert order["status"] == "completed", (
            f"a reconcile interval after the crash the order is still {order['status']}: "
            f"its next_action_at is {next_at} (crash at {crashed_at}; pass: {summary})"
        )
        session.verify()
    finally:
        session.close()


def test_confirm_never_reads_a_payout_it_queued_for_later(harness: Harness) -> None:
    """A payout queued for the node's later confirmation (24 h) can only read `pending`
    until then: the confirm request skips the read, so the boundaries of a settlement do
    not depend on timing. The skip is decided by position (the step that queued the
    payout came just before, in the same drive), not by the clock: a node that takes over
    a second to queue it (here a 1.2 s delay on `/wallet/transfer`) changes nothing.
    """
    harness.devnet.add_fault("POST /wallet/transfer", "delay", delay_seconds=1.2)
    harness.process.start({"OTC_CRASH_TRACE": str(harness.trace)})
    session = harness.session(SELL)
    try:
        session.create()
        session.match()
        session.lock()
        session.confirm()
        assert session.confirm_answer is not None
        assert session.confirm_answer["status"] == "payout_pending"
    finally:
        session.close()
    in_confirm = [b for request, b in by_request(harness.passed()) if request == "confirm"]
    assert "call:payout.transfer:after" in in_confirm
    reads = [b for b in in_confirm if b.startswith("call:payout.status:")]
    assert not reads, f"the confirm read the payout it had just queued: {in_confirm}"
