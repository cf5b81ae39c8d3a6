"""Money as integers in each currency's base units.

Floats never touch a money path: input is parsed as a decimal and converted to base units
(µRTC for RTC, wei for ETH, USDC's 6-decimal units, nanoERG); output is an exact decimal
string or, for wire compatibility with the reference bridge, a float *view* computed from
the integer.
"""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

RTC_DECIMALS = 6
MICRO_PER_RTC = 10**RTC_DECIMALS

# Enough precision for any amount we accept (≤ 10^12 whole units at 18 decimals) with
# room to spare; overflowing exponents like "1e999999" are rejected, not rounded.
_PRECISION = 60
_MAX_ADJUSTED_EXPONENT = 30
# The longest number text read as money: far beyond any amount accepted, far short of
# what would cost real work to parse.
MAX_NUMBER_CHARS = 64
# What `Decimal()` reads, in ASCII only: it would also take "１０" (full-width digits),
# "١٠" or "1_000", which no client means as an amount.
_DECIMAL_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


class MoneyError(ValueError):
    """A money value that cannot be represented. `code` is a stable error string."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def parse_decimal(value: object) -> Decimal:
    """Parse a JSON number or numeric string as an exact, finite decimal.

    Booleans are rejected (JSON `true` is not an amount). Floats are converted through
    `str()`, which is how the reference bridge and the node read them, so `2.01` means
    2.01 and not 2.0099999999999997868. Only ASCII decimal notation is read (signs and
    exponents included, surrounding blanks ignored), at most MAX_NUMBER_CHARS long.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise MoneyError("not_a_number")
    text = value.strip() if isinstance(value, str) else str(value)
    if len(text) > MAX_NUMBER_CHARS:
        raise MoneyError("too_long")
    if not text.isascii():
        raise MoneyError("not_ascii")
    if not _DECIMAL_TEXT.fullmatch(text):
        if text.lstrip("+-").lower() in {"inf", "infinity", "nan", "snan"}:
            raise MoneyError("not_finite")
        raise MoneyError("not_a_number")
    try:
        result = Decimal(text)
    except (InvalidOperation, ValueError):
        raise MoneyError("not_a_number") from None
    if not result.is_finite():
        raise MoneyError("not_finite")
    if result != 0 and abs(result.adjusted()) > _MAX_ADJUSTED_EXPONENT:
        raise MoneyError("out_of_range")
    return result


def to_units(amount: Decimal, decimals: int, *, rounding: str = ROUND_HALF_UP) -> int:
    """Convert a decimal amount to integer base units with an explicit rounding rule."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        scaled = amount.scaleb(decimals)
        return int(scaled.to_integral_value(rounding=rounding))


def format_units(units: int, decimals: int) -> str:
    """Exact decimal string of `units` base units, without trailing zeros: 2010000 µ → '2.01'."""
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 10**decimals)
    if decimals == 0 or frac == 0:
        return f"{sign}{whole}"
    digits = str(frac).rjust(decimals, "0").rstrip("0")
    return f"{sign}{whole}.{digits}"


def units_to_float(units: int, decimals: int) -> float:
    """A float view for wire compatibility only; never read back into a money path."""
    return float(format_units(units, decimals))


def rtc_to_micro(amount: Decimal, *, rounding: str = ROUND_HALF_UP) -> int:
    return to_units(amount, RTC_DECIMALS, rounding=rounding)


def micro_to_rtc_str(micro: int) -> str:
    return format_units(micro, RTC_DECIMALS)


def micro_to_rtc_float(micro: int) -> float:
    return units_to_float(micro, RTC_DECIMALS)


__all__ = [
    "MAX_NUMBER_CHARS",
    "MICRO_PER_RTC",
    "ROUND_DOWN",
    "ROUND_HALF_UP",
    "RTC_DECIMALS",
    "MoneyError",
    "format_units",
    "micro_to_rtc_float",
    "micro_to_rtc_str",
    "parse_decimal",
    "rtc_to_micro",
    "to_units",
    "units_to_float",
]
