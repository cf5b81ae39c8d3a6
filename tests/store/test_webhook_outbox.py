"""The webhook outbox in the store: a delivery row per webhook of the order's parties,
written with the event; due in order per (webhook, order); claimed by one worker only;
marked delivered, retried or given up with compare-and-set; requeued and pruned."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from otc_bridge.adapters.store.engine import make_engine
from otc_bridge.adapters.store.migrate import upgrade
from otc_bridge.adapters.store.orders import prepare
from otc_bridge.adapters.store.store import Store
from otc_bridge.adapters.store.webhooks import Webhook, WebhookFigures
from otc_bridge.domain import transitions
from otc_bridge.domain.order import Hashlock, Order, SecretOrigin
from otc_bridge.domain.states import Status
from tests.support.databases import fresh_database_url

MAKER, TAKER, STRANGER = "RTC" + "a" * 40, "RTC" + "b" * 40, "RTC" + "c" * 40


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    engine = make_engine(fresh_database_url(tmp_path))
    upgrade(engine)
    yield Store(engine)
    engine.dispose()


def hook(webhook_id: str, wallet: str) -> Webhook:
    return Webhook(webhook_id, wallet, f"https://example.com/{webhook_id}", "sealed", 1_000)


def order(order_id: str = "otc_0001") -> Order:
    return Order(
        order_id=order_id,
        side="buy",
        pair="RTC/USDC",
        maker_wallet=MAKER,
        maker_eth_address=None,
        amount_micro_rtc=1_000_000,
        price_per_rtc_nano_quote=100_000_000,
        total_quote_nano=100_000_000,
        total_quote_base=100_000,
        status=Status.OPEN,
        version=0,
        history_hash="",
        created_at=1_000,
        ttl_seconds=3_600,
        expires_at=4_600,
    )


def opened_and_matched(store: Store, order_id: str = "otc_0001") -> None:
    with store.write() as uow:
        created = uow.orders.insert(order(order_id), actor=MAKER, at=1_000, refs={})
    move = transitions.match(
        created,
        TAKER,
        None,
        hashlock=Hashlock("ab" * 32, SecretOrigin.CLIENT),
        at=1_001,
        lock_window=3600,
        grace=120,
    )
    # as the settlement writes a move (on PostgreSQL one statement: pg_transition.py)
    assert store.transition(prepare(move, actor=TAKER, at=1_001)) is not None


def due_keys(store: Store, now: int = 2_000) -> list[tuple[str, str, int]]:
    with store.read() as uow:
        return [
            (d.webhook_id, d.event.order_id, d.event.seq) for d in uow.deliveries.due(now, limit=50)
        ]


def test_each_event_is_queued_for_the_webhooks_of_its_parties_only(store: Store) -> None:
    with store.write() as uow:
        for webhook in (hook("wh_m", MAKER), hook("wh_t", TAKER), hook("wh_s", STRANGER)):
            uow.webhooks.add(webhook)
    opened_and_matched(store)
    with store.read() as uow:
        assert uow.deliveries.pending_count() == 3
    # The maker's webhook has both events, the taker's only the match (it was no party
    # before), the stranger's none; only the first event of each is due (order kept).
    assert due_keys(store) == [("wh_m", "otc_0001", 1), ("wh_t", "otc_0001", 2)]


def test_a_claim_is_a_compare_and_set_and_marks_need_the_claim(store: Store) -> None:
    with store.write() as uow:
        uow.webhooks.add(hook("wh_m", MAKER))
    opened_and_matched(store)
    with store.read() as uow:
        [row] = uow.deliveries.due(2_000, limit=10)
    assert row.event.seq == 1
    with store.write() as uow:  # two workers read the same row; one wins the claim
        assert uow.deliveries.claim(
            row.delivery_id, seen_next_attempt=row.next_attempt_at, until=2_060
        )
    with store.write() as uow:
        assert not uow.deliveries.claim(
            row.delivery_id, seen_next_attempt=row.next_attempt_at, until=2_061
        )
        assert not uow.deliveries.delivered(row.delivery_id, claimed_until=2_061, at=2_001)
    assert due_keys(store) == []  # claimed: not due, and the next event waits behind it
    with store.write() as uow:
        assert uow.deliveries.retry(
            row.delivery_id, claimed_until=2_060, next_attempt_at=2_100, error="http 500"
        )
    assert due_keys(store, now=2_099) == []
    with store.read() as uow:
        [again] = uow.deliveries.due(2_100, limit=10)
    assert (again.delivery_id, again.attempts) == (row.delivery_id, 1)
    with store.write() as uow:
        assert uow.deliveries.claim(again.delivery_id, seen_next_attempt=2_100, until=2_160)
        assert uow.deliveries.give_up(again.delivery_id, claimed_until=2_160, at=2_101, error="x")
    assert due_keys(store, now=3_000) == [("wh_m", "otc_0001", 2)]  # given up: the next goes
    [figures] = webhook_figures(store, MAKER)
    assert (figures.pending, figures.failed, figures.delivered, figures.last_error) == (
        1,
        1,
        0,
        "x",
    )

    with store.write() as uow:
        assert uow.deliveries.requeue_failed("wh_m", now=3_000) == 1
    assert due_keys(store, now=3_000) == [("wh_m", "otc_0001", 1)]


def webhook_figures(store: Store, wallet: str) -> list[WebhookFigures]:
    with store.read() as uow:
        return uow.webhooks.of_wallet(wallet)


def test_finished_deliveries_are_pruned_by_age_and_removal_takes_the_rest(store: Store) -> None:
    with store.write() as uow:
        uow.webhooks.add(hook("wh_m", MAKER))
    opened_and_matched(store)
    with store.read() as uow:
        [first] = uow.deliveries.due(2_000, limit=10)
    with store.write() as uow:
        uow.deliveries.claim(
            first.delivery_id, seen_next_attempt=first.next_attempt_at, until=2_060
        )
        uow.deliveries.delivered(first.delivery_id, claimed_until=2_060, at=2_001)
    with store.write() as uow:
        assert uow.deliveries.prune(delivered_before=2_001, failed_before=2_001) == 0
        assert uow.deliveries.prune(delivered_before=2_002, failed_before=0) == 1
        assert uow.deliveries.pending_count() == 1
        assert uow.webhooks.remove("wh_m")
        assert uow.deliveries.pending_count() == 0
        assert uow.webhooks.get("wh_m") is None
        assert not uow.webhooks.remove("wh_m")


def test_an_order_whose_wallets_have_no_webhook_queues_nothing(store: Store) -> None:
    opened_and_matched(store, "otc_0002")
    with store.read() as uow:
        assert uow.deliveries.pending_count() == 0
        assert uow.feed.versions(["otc_0002", "otc_none"]) == {"otc_0002": 2}
