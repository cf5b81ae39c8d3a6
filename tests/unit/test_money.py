from decimal import ROUND_DOWN, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from otc_bridge.domain.money import (
    MoneyError,
    format_units,
    micro_to_rtc_str,
    parse_decimal,
    rtc_to_micro,
    to_units,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2.01", Decimal("2.01")),
        (2.01, Decimal("2.01")),
        (7, Decimal(7)),
        (" 0.1 ", Decimal("0.1")),
    ],
)
def test_parse_decimal_reads_exact_decimals(raw: object, expected: Decimal) -> None:
    assert parse_decimal(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (True, "not_a_number"),
        (None, "not_a_number"),
        ([1], "not_a_number"),
        ("abc", "not_a_number"),
        ("", "not_a_number"),
        ("NaN", "not_finite"),
        ("Infinity", "not_finite"),
        ("1e999999", "out_of_range"),
        ("1e-999999", "out_of_range"),
    ],
)
def test_parse_decimal_rejects_with_stable_codes(raw: object, code: str) -> None:
    with pytest.raises(MoneyError) as err:
        parse_decimal(raw)
    assert err.value.code == code


def test_to_units_rounds_half_up_by_default_and_down_when_asked() -> None:
    assert rtc_to_micro(Decimal("0.0000005")) == 1
    assert rtc_to_micro(Decimal("0.0000004")) == 0
    assert to_units(Decimal("1.9999999"), 6, rounding=ROUND_DOWN) == 1_999_999
    assert to_units(Decimal("1.5"), 18) == 1_500_000_000_000_000_000


def test_format_units_is_exact_and_trims_zeros() -> None:
    assert micro_to_rtc_str(2_010_000) == "2.01"
    assert micro_to_rtc_str(1) == "0.000001"
    assert micro_to_rtc_str(5_000_000) == "5"
    assert format_units(-1_500, 3) == "-1.5"
    assert format_units(42, 0) == "42"


@given(st.integers(min_value=0, max_value=10**24), st.sampled_from([0, 6, 9, 18]))
def test_format_then_parse_round_trips(units: int, decimals: int) -> None:
    assert to_units(parse_decimal(format_units(units, decimals)), decimals) == units
