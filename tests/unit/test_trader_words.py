"""How `otc` says the bridge's refusals, amounts and times (trader_cli/words.py)."""

from __future__ import annotations

import pytest

from otc_bridge.trader_cli.words import format_units, refusal_words, when


def test_a_refusal_names_its_status_and_code_then_says_it_in_words() -> None:
    body = {
        "error": "quote_locked",
        "message": "the buyer's quote lock is verified and can still be claimed",
        "hint": "wait for refundable_at",
    }
    assert refusal_words(409, body, "5") == [
        "the bridge refused (409 quote_locked): the quote is locked on-chain, so the order "
        "cannot be cancelled",
        "the buyer's quote lock is verified and can still be claimed",
        "hint: wait for refundable_at",
        "try again in 5 s",
    ]


def test_a_reference_error_string_is_shown_once() -> None:
    assert refusal_words(404, {"error": "Order not found"}, None) == [
        "the bridge refused (404 Order not found)"
    ]


@pytest.mark.parametrize(
    ("amount", "decimals", "shown"),
    [
        (10**16, 18, "0.01"),
        (5_000_000, 6, "5"),
        (1, 18, "0.000000000000000001"),
        (0, 6, "0"),
        (-1_500_000, 6, "-1.5"),
        (12, 0, "12"),
    ],
)
def test_base_units_are_shown_exactly(amount: int, decimals: int, shown: str) -> None:
    assert format_units(amount, decimals) == shown


def test_times_say_how_far_away_they_are() -> None:
    assert when(None) == "—"
    assert when(0) == "1970-01-01 00:00:00 UTC"
    assert when(3_725, 0) == "1970-01-01 01:02:05 UTC (in 1h 2m)"
    assert when(0, 90) == "1970-01-01 00:00:00 UTC (1m 30s ago)"
    assert when(2 * 86_400 + 3_600, 0).endswith("(in 2d 1h)")
